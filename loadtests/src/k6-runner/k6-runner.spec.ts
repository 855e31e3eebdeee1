import type { SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  absoluteProfile,
  isSupported,
  K6_INSTALL_HELP,
  runK6Scenarios,
  scenariosOf,
} from './k6-runner';

function spawned(status: number, stdout = ''): SpawnSyncReturns<Buffer> {
  return {
    pid: 1,
    output: [],
    stdout: Buffer.from(stdout),
    stderr: Buffer.alloc(0),
    status,
    signal: null,
  };
}

describe('runK6Scenarios', () => {
  let rootDir: string;
  let out: string;
  let err: string;

  beforeEach(() => {
    rootDir = mkdtempSync(join(tmpdir(), 'loadtests-k6-runner-'));
    out = '';
    err = '';
  });

  afterEach(() => {
    rmSync(rootDir, { recursive: true, force: true });
  });

  const options = (env: NodeJS.ProcessEnv, run?: Parameters<typeof runK6Scenarios>[0]['run']) => ({
    rootDir,
    env,
    stdout: (text: string) => (out += text),
    stderr: (text: string) => (err += text),
    ...(run === undefined ? {} : { run }),
  });

  it('prints how to install k6 and fails when k6 is not on PATH', () => {
    const code = runK6Scenarios(options({ PATH: join(rootDir, 'no-such-folder') }));
    expect(code).toBe(1);
    expect(err).toBe(K6_INSTALL_HELP);
    expect(err).toContain('https://grafana.com/docs/k6/latest/set-up/install-k6/');
    expect(err).toContain('brew install k6');
  });

  it('fails for a k6 without TypeScript support', () => {
    const code = runK6Scenarios(options({}, () => spawned(0, 'k6 v0.50.0 (go1.22)')));
    expect(code).toBe(1);
    expect(err).toContain('is too old');
  });

  it('runs each chosen scenario and passes the settings', () => {
    const calls: { args: string[]; env: NodeJS.ProcessEnv }[] = [];
    const code = runK6Scenarios(
      options(
        { K6_SCENARIOS: 'track,batch', PROFILE: 'profiles/x.json' },
        (_command, args, env) => {
          calls.push({ args, env });
          return spawned(0, 'k6 v1.3.0 (commit/abc, go1.24)');
        },
      ),
    );
    expect(code).toBe(0);
    expect(calls.map((call) => call.args)).toEqual([
      ['version'],
      ['run', join(rootDir, 'loadtests', 'k6', 'track.ts')],
      ['run', join(rootDir, 'loadtests', 'k6', 'batch.ts')],
    ]);
    expect(calls[1]?.env['PROFILE']).toBe(resolve('profiles/x.json'));
    expect(calls[1]?.env['REPORT_DIR']).toBe(join(rootDir, 'reports'));
  });

  it('fails when a run fails its thresholds', () => {
    const code = runK6Scenarios(
      options({ K6_SCENARIOS: 'identify' }, (_command, args) =>
        args[0] === 'version' ? spawned(0, 'k6 v1.0.0') : spawned(99),
      ),
    );
    expect(code).toBe(1);
    expect(err).toContain('identify (exit code 99)');
  });

  it('rejects an unknown scenario', () => {
    const code = runK6Scenarios(options({ K6_SCENARIOS: 'login' }, () => spawned(0, 'k6 v1.0.0')));
    expect(code).toBe(1);
    expect(err).toContain('K6_SCENARIOS contains unknown scenarios login');
  });
});

describe('isSupported', () => {
  it.each([
    ['k6 v0.56.0 (go1.23)', false],
    ['k6 v0.57.0 (go1.23)', true],
    ['k6 v1.0.0 (commit/41b4984b75, go1.24.2, linux/amd64)', true],
    ['not k6', false],
  ])('%s gives %p', (text, expected) => {
    expect(isSupported(text)).toBe(expected);
  });
});

describe('scenariosOf', () => {
  it('defaults to every scenario', () => {
    expect(scenariosOf(undefined)).toEqual(['identify', 'track', 'mixed', 'batch']);
  });
});

describe('absoluteProfile', () => {
  it('keeps names and absolute paths', () => {
    expect(absoluteProfile(undefined)).toBe('default');
    expect(absoluteProfile('heavy')).toBe('heavy');
    expect(absoluteProfile('/p.json')).toBe('/p.json');
  });

  it('resolves a relative path from the current folder', () => {
    expect(absoluteProfile('loadtests/profiles/heavy.json')).toBe(
      resolve('loadtests/profiles/heavy.json'),
    );
  });
});
