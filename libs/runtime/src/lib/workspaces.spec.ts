import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, EnvReader } from './env';
import { readWorkspaces, type Workspace } from './workspaces';

const API_KEY = '0a1b2c3d4e5f6a7b8c9d';

interface ReadResult {
  workspaces: Workspace[];
  problems: string[];
}

function read(env: NodeJS.ProcessEnv, fallback = ''): ReadResult {
  const reader = new EnvReader(env);
  const workspaces = readWorkspaces(reader, fallback);
  try {
    reader.done();
  } catch (error) {
    if (error instanceof ConfigError) {
      return { workspaces, problems: error.problems };
    }
    throw error;
  }
  return { workspaces, problems: [] };
}

describe('readWorkspaces', () => {
  describe('list form', () => {
    it('applies region and rate defaults', () => {
      const { workspaces } = read({ CIO_WORKSPACES: `site-1:${API_KEY}` });
      expect(workspaces).toEqual([
        { siteId: 'site-1', apiKey: API_KEY, region: 'us', rateLimit: 100 },
      ]);
    });

    it('reads region and rate', () => {
      const { workspaces } = read({ CIO_WORKSPACES: `site-1:${API_KEY}:eu:25.5` });
      expect(workspaces).toEqual([
        { siteId: 'site-1', apiKey: API_KEY, region: 'eu', rateLimit: 25.5 },
      ]);
    });

    it('reads several entries', () => {
      const { workspaces } = read({ CIO_WORKSPACES: ' a:k1 , b:k2:eu ,' });
      expect(workspaces.map((workspace) => workspace.siteId)).toEqual(['a', 'b']);
    });

    it('uses fallback when unset', () => {
      const { workspaces } = read({}, 'dev:devkey');
      expect(workspaces.map((workspace) => workspace.siteId)).toEqual(['dev']);
    });

    it('reports bad region', () => {
      const { problems } = read({ CIO_WORKSPACES: `a:k1,b:${API_KEY}:mars` });
      expect(problems).toEqual([
        'CIO_WORKSPACES entry 2: region "mars" is invalid: expected us or eu',
      ]);
    });

    it.each(['0', '-5'])('reports rate %s', (rate) => {
      const { problems } = read({ CIO_WORKSPACES: `a:${API_KEY}:us:${rate}` });
      expect(problems).toContain(
        `CIO_WORKSPACES entry 1: rate limit ${rate} is invalid: expected requests per second above 0`,
      );
    });

    it('drops entry with bad rate', () => {
      const { workspaces } = read({ CIO_WORKSPACES: `a:${API_KEY}:us:0` });
      expect(workspaces).toEqual([]);
    });

    it('names non-numeric rate', () => {
      const { problems } = read({ CIO_WORKSPACES: `a:${API_KEY}:us:fast` });
      expect(problems.join('\n')).toContain('"fast"');
    });

    it('reports missing API key', () => {
      const { problems } = read({ CIO_WORKSPACES: 'site-1' });
      expect(problems).toContain('CIO_WORKSPACES entry 1: API key is missing');
    });

    it('reports missing site id', () => {
      const { problems } = read({ CIO_WORKSPACES: `:${API_KEY}` });
      expect(problems).toContain('CIO_WORKSPACES entry 1: site id is missing');
    });

    it('reports empty list', () => {
      const { problems } = read({ CIO_WORKSPACES: ' , ' });
      expect(problems).toEqual([
        'no workspace is configured: set CIO_WORKSPACES=siteId:apiKey[:region[:rateLimit]]',
      ]);
    });

    it('reports duplicate site id', () => {
      const { problems } = read({ CIO_WORKSPACES: `a:${API_KEY},b:k2,a:k3:eu` });
      expect(problems).toEqual(['workspace a is configured twice: site ids must be unique']);
    });
  });

  describe('file form', () => {
    let directory: string;

    beforeEach(() => {
      directory = mkdtempSync(join(tmpdir(), 'workspaces-spec-'));
    });

    afterEach(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    function fileWith(text: string): string {
      const file = join(directory, 'workspaces.json');
      writeFileSync(file, text);
      return file;
    }

    it('reads workspaces', () => {
      const file = fileWith(
        JSON.stringify([
          { siteId: 'a', apiKey: API_KEY },
          { siteId: 'b', apiKey: 'k2', region: 'eu', rateLimit: 10 },
        ]),
      );
      expect(read({ CIO_WORKSPACES_FILE: file }).workspaces).toEqual([
        { siteId: 'a', apiKey: API_KEY, region: 'us', rateLimit: 100 },
        { siteId: 'b', apiKey: 'k2', region: 'eu', rateLimit: 10 },
      ]);
    });

    it('takes precedence over list', () => {
      const file = fileWith(JSON.stringify([{ siteId: 'from-file', apiKey: API_KEY }]));
      const { workspaces } = read({ CIO_WORKSPACES_FILE: file, CIO_WORKSPACES: 'x:k' });
      expect(workspaces.map((workspace) => workspace.siteId)).toEqual(['from-file']);
    });

    it('reports bad region', () => {
      const file = fileWith(JSON.stringify([{ siteId: 'a', apiKey: API_KEY, region: 'EU' }]));
      expect(read({ CIO_WORKSPACES_FILE: file }).problems).toContain(
        'CIO_WORKSPACES_FILE item 0: region "EU" is invalid: expected us or eu',
      );
    });

    it('reports string rate', () => {
      const file = fileWith(JSON.stringify([{ siteId: 'a', apiKey: API_KEY, rateLimit: '50' }]));
      expect(read({ CIO_WORKSPACES_FILE: file }).problems).toContain(
        'CIO_WORKSPACES_FILE item 0: rate limit "50" is invalid: expected requests per second above 0',
      );
    });

    it('reports every problem of item', () => {
      const file = fileWith(JSON.stringify([{ region: 'mars', rateLimit: 0 }]));
      expect(read({ CIO_WORKSPACES_FILE: file }).problems).toContain(
        'CIO_WORKSPACES_FILE item 0: site id is missing; API key is missing; ' +
          'region "mars" is invalid: expected us or eu; ' +
          'rate limit 0 is invalid: expected requests per second above 0',
      );
    });

    it('reports duplicate site id', () => {
      const file = fileWith(
        JSON.stringify([
          { siteId: 'a', apiKey: API_KEY },
          { siteId: 'a', apiKey: 'k2' },
        ]),
      );
      expect(read({ CIO_WORKSPACES_FILE: file }).problems).toEqual([
        'workspace a is configured twice: site ids must be unique',
      ]);
    });

    it('reports non-array file', () => {
      const file = fileWith(JSON.stringify({ siteId: 'a', apiKey: API_KEY }));
      expect(read({ CIO_WORKSPACES_FILE: file }).problems).toEqual([
        `CIO_WORKSPACES_FILE ${file} must hold a JSON array of workspaces`,
        'no workspace is configured: set CIO_WORKSPACES=siteId:apiKey[:region[:rateLimit]]',
      ]);
    });

    it('reports missing file', () => {
      const file = join(directory, 'absent.json');
      const [problem] = read({ CIO_WORKSPACES_FILE: file }).problems;
      expect(problem).toContain(`CIO_WORKSPACES_FILE ${file} could not be read: ENOENT`);
    });

    it('reports malformed JSON', () => {
      const file = fileWith('[{"siteId": "a",}]');
      const [problem] = read({ CIO_WORKSPACES_FILE: file }).problems;
      expect(problem).toBe(`CIO_WORKSPACES_FILE ${file} is not valid JSON`);
    });
  });

  describe('API key in messages', () => {
    let directory: string;

    beforeEach(() => {
      directory = mkdtempSync(join(tmpdir(), 'workspaces-spec-'));
    });

    afterEach(() => {
      rmSync(directory, { recursive: true, force: true });
    });

    it.each([
      ['duplicate site', `a:${API_KEY},a:${API_KEY}`],
      ['bad region', `a:${API_KEY}:mars`],
      ['bad rate', `a:${API_KEY}:us:0`],
      ['non-numeric rate', `a:${API_KEY}:us:fast`],
      ['missing site id', `:${API_KEY}:eu`],
    ])('hides key for %s', (_kind, list) => {
      const { problems } = read({ CIO_WORKSPACES: list });
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.join('\n')).not.toContain(API_KEY.slice(0, 8));
    });

    it('hides key for file item', () => {
      const file = join(directory, 'workspaces.json');
      writeFileSync(file, JSON.stringify([{ siteId: 'a', apiKey: API_KEY, region: 'mars' }]));
      const { problems } = read({ CIO_WORKSPACES_FILE: file });
      expect(problems.join('\n')).not.toContain(API_KEY.slice(0, 8));
    });

    it('hides key for malformed file', () => {
      const file = join(directory, 'workspaces.json');
      writeFileSync(file, `[{"siteId": "a", "apiKey": '${API_KEY}'}]`);
      const { problems } = read({ CIO_WORKSPACES_FILE: file });
      expect(problems.join('\n')).not.toContain(API_KEY.slice(0, 8));
    });
  });
});
