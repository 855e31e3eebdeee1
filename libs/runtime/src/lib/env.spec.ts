import { ConfigError, EnvReader } from './env';

/** Runs `read` against `env` and returns the problems that `done()` reports. */
function problemsOf(env: NodeJS.ProcessEnv, read: (reader: EnvReader) => void): string[] {
  const reader = new EnvReader(env);
  read(reader);
  try {
    reader.done();
  } catch (error) {
    if (error instanceof ConfigError) {
      return error.problems;
    }
    throw error;
  }
  return [];
}

describe('EnvReader', () => {
  describe('string', () => {
    it('returns set value', () => {
      expect(new EnvReader({ HOST: 'db' }).string('HOST', 'localhost')).toBe('db');
    });

    it.each([
      ['unset', {}],
      ['empty', { HOST: '' }],
    ])('falls back when %s', (_kind, env) => {
      expect(new EnvReader(env).string('HOST', 'localhost')).toBe('localhost');
    });
  });

  describe('optionalString', () => {
    it('returns set value', () => {
      expect(new EnvReader({ TOKEN: 't' }).optionalString('TOKEN')).toBe('t');
    });

    it('returns undefined when empty', () => {
      expect(new EnvReader({ TOKEN: '' }).optionalString('TOKEN')).toBeUndefined();
    });
  });

  describe('number', () => {
    it('parses whole number', () => {
      expect(new EnvReader({ PORT: '8080' }).number('PORT', 3000)).toBe(8080);
    });

    it('falls back when unset', () => {
      expect(new EnvReader({}).number('PORT', 3000)).toBe(3000);
    });

    it('parses fraction when allowed', () => {
      const reader = new EnvReader({ SHARE: '0.5' });
      expect(reader.number('SHARE', 1, { integer: false })).toBe(0.5);
    });

    it('accepts range bounds', () => {
      const reader = new EnvReader({ LOW: '1', HIGH: '10' });
      expect(reader.number('LOW', 5, { min: 1, max: 10 })).toBe(1);
      expect(reader.number('HIGH', 5, { min: 1, max: 10 })).toBe(10);
    });

    it('falls back on invalid value', () => {
      expect(new EnvReader({ PORT: 'http' }).number('PORT', 3000)).toBe(3000);
    });

    it.each([
      ['text', 'http', 'PORT="http" is invalid: expected a whole number from 1 to 65535'],
      ['fraction', '80.5', 'PORT="80.5" is invalid: expected a whole number from 1 to 65535'],
      ['zero', '0', 'PORT="0" is invalid: expected a whole number from 1 to 65535'],
      ['too large', '70000', 'PORT="70000" is invalid: expected a whole number from 1 to 65535'],
      [
        'infinite',
        'Infinity',
        'PORT="Infinity" is invalid: expected a whole number from 1 to 65535',
      ],
    ])('reports %s value', (_kind, raw, problem) => {
      const problems = problemsOf({ PORT: raw }, (reader) => {
        reader.number('PORT', 3000, { min: 1, max: 65535 });
      });
      expect(problems).toEqual([problem]);
    });

    it('describes lower bound only', () => {
      const problems = problemsOf({ SIZE: '-1' }, (reader) => {
        reader.number('SIZE', 1, { min: 0 });
      });
      expect(problems).toEqual(['SIZE="-1" is invalid: expected a whole number of at least 0']);
    });

    it('describes upper bound only', () => {
      const problems = problemsOf({ SHARE: '2' }, (reader) => {
        reader.number('SHARE', 1, { max: 1, integer: false });
      });
      expect(problems).toEqual(['SHARE="2" is invalid: expected a number of at most 1']);
    });
  });

  describe('boolean', () => {
    it.each(['true', 'TRUE', '1', 'yes'])('reads %p as true', (raw) => {
      expect(new EnvReader({ DEBUG: raw }).boolean('DEBUG', false)).toBe(true);
    });

    it.each(['false', 'No', '0', 'no'])('reads %p as false', (raw) => {
      expect(new EnvReader({ DEBUG: raw }).boolean('DEBUG', true)).toBe(false);
    });

    it('falls back when unset', () => {
      expect(new EnvReader({}).boolean('DEBUG', true)).toBe(true);
    });

    it('reports invalid value', () => {
      const problems = problemsOf({ DEBUG: 'maybe' }, (reader) => {
        reader.boolean('DEBUG', false);
      });
      expect(problems).toEqual(['DEBUG="maybe" is invalid: expected true or false']);
    });
  });

  describe('oneOf', () => {
    const levels = ['debug', 'info'] as const;

    it('returns allowed value', () => {
      expect(new EnvReader({ LEVEL: 'debug' }).oneOf('LEVEL', levels, 'info')).toBe('debug');
    });

    it('falls back on invalid value', () => {
      expect(new EnvReader({ LEVEL: 'loud' }).oneOf('LEVEL', levels, 'info')).toBe('info');
    });

    it('reports invalid value', () => {
      const problems = problemsOf({ LEVEL: 'loud' }, (reader) => {
        reader.oneOf('LEVEL', levels, 'info');
      });
      expect(problems).toEqual(['LEVEL="loud" is invalid: expected one of debug, info']);
    });
  });

  describe('done', () => {
    it('passes without problems', () => {
      const reader = new EnvReader({ PORT: '80' });
      reader.number('PORT', 3000);
      expect(() => {
        reader.done();
      }).not.toThrow();
    });

    it('collects every problem', () => {
      const problems = problemsOf({ PORT: 'x', DEBUG: 'maybe', LEVEL: 'loud' }, (reader) => {
        reader.number('PORT', 3000);
        reader.boolean('DEBUG', false);
        reader.oneOf('LEVEL', ['info'], 'info');
        reader.report('CERT_FILE /missing.pem not found');
      });
      expect(problems).toEqual([
        'PORT="x" is invalid: expected a whole number',
        'DEBUG="maybe" is invalid: expected true or false',
        'LEVEL="loud" is invalid: expected one of info',
        'CERT_FILE /missing.pem not found',
      ]);
    });

    it('lists problems in message', () => {
      const reader = new EnvReader({ PORT: 'x', DEBUG: 'maybe' });
      reader.number('PORT', 3000);
      reader.boolean('DEBUG', false);
      expect(() => {
        reader.done();
      }).toThrow(
        'invalid configuration:\n' +
          '  - PORT="x" is invalid: expected a whole number\n' +
          '  - DEBUG="maybe" is invalid: expected true or false',
      );
    });
  });
});
