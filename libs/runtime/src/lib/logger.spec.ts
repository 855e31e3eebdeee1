import { ConfigError } from './env';
import { createJsonLogger } from './logger';

describe('createJsonLogger', () => {
  const saved = process.env['LOG_LEVEL'];

  afterEach(() => {
    process.env['LOG_LEVEL'] = saved;
  });

  it('accepts a known level', () => {
    process.env['LOG_LEVEL'] = 'debug';

    expect(() => createJsonLogger('test')).not.toThrow();
  });

  it('rejects an unknown level', () => {
    process.env['LOG_LEVEL'] = 'info';

    expect(() => createJsonLogger('test')).toThrow(ConfigError);
    expect(() => createJsonLogger('test')).toThrow(
      /LOG_LEVEL="info" is invalid: expected one of fatal, error/,
    );
  });
});
