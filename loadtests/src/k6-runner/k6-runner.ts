import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { SCENARIOS, type ScenarioName } from '../workload/generator';

/** Printed when k6 is not on PATH. */
export const K6_INSTALL_HELP = `k6 is not installed or not on PATH. The load test scripts need k6 v0.57 or newer, which runs TypeScript directly.
Install it from https://grafana.com/docs/k6/latest/set-up/install-k6/ :
  Debian, Ubuntu: the "k6" package from Grafana's apt repository (sudo apt-get install k6 after adding it)
  Fedora, CentOS: the "k6" package from Grafana's rpm repository (sudo dnf install k6)
  macOS:          brew install k6
  Windows:        winget install k6 --source winget, or choco install k6
  Docker:         the grafana/k6 image
Then run again: npx nx run loadtests:k6
`;

/** The oldest k6 that runs .ts scripts without a flag. */
const MIN_VERSION: readonly [number, number] = [0, 57];

export interface RunK6Options {
  rootDir: string;
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Runs a command; spawnSync with inherited output unless a test replaces it. */
  run?: (command: string, args: string[], env: NodeJS.ProcessEnv) => SpawnSyncReturns<Buffer>;
}

/**
 * Runs the k6 scenario scripts one after another against GATEWAY_URL and
 * returns the exit code: 0 when every run passed its thresholds, 1 when k6
 * is missing or too old or a run failed.
 */
export function runK6Scenarios(options: RunK6Options): number {
  const run = options.run ?? defaultRun;
  const version = run('k6', ['version'], options.env);
  if (version.error !== undefined) {
    const code = (version.error as NodeJS.ErrnoException).code;
    options.stderr(
      code === 'ENOENT' ? K6_INSTALL_HELP : `could not run k6 version: ${version.error.message}\n`,
    );
    return 1;
  }
  const versionText = version.stdout.toString();
  if (!isSupported(versionText)) {
    options.stderr(
      `k6 ${versionText.trim()} is too old: the scripts are TypeScript, which k6 runs from v${MIN_VERSION.join('.')} on. Upgrade it: https://grafana.com/docs/k6/latest/set-up/install-k6/\n`,
    );
    return 1;
  }

  let scenarios: ScenarioName[];
  try {
    scenarios = scenariosOf(options.env['K6_SCENARIOS']);
  } catch (error) {
    options.stderr(`${(error as Error).message}\n`);
    return 1;
  }
  const reportDir = join(options.rootDir, 'reports');
  mkdirSync(reportDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...options.env,
    PROFILE: absoluteProfile(options.env['PROFILE']),
    REPORT_DIR: options.env['REPORT_DIR'] ?? reportDir,
  };
  const failed: string[] = [];
  for (const scenario of scenarios) {
    const script = join(options.rootDir, 'loadtests', 'k6', `${scenario}.ts`);
    options.stdout(`\n== k6 scenario ${scenario}: k6 run ${script}\n`);
    const result = run('k6', ['run', script], env);
    if (result.status !== 0) {
      // k6 exits 99 when a threshold failed and other codes for script or run errors.
      failed.push(`${scenario} (exit code ${result.status ?? result.signal ?? 'unknown'})`);
    }
  }
  if (failed.length > 0) {
    options.stderr(`k6 runs failed: ${failed.join(', ')}\n`);
    return 1;
  }
  options.stdout(
    `\nall ${scenarios.length} k6 scenarios passed; summaries in ${env['REPORT_DIR'] ?? reportDir}\n`,
  );
  return 0;
}

/** Reads `k6 v1.2.3 (...)` and compares it with the oldest supported version. */
export function isSupported(versionText: string): boolean {
  const match = /v(\d+)\.(\d+)\.(\d+)/.exec(versionText);
  if (match === null) {
    return false;
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1]);
}

/** Parses K6_SCENARIOS, a comma-separated subset of the scenarios; all of them when unset. */
export function scenariosOf(value: string | undefined): ScenarioName[] {
  if (value === undefined || value.trim() === '') {
    return [...SCENARIOS];
  }
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(
      `K6_SCENARIOS contains unknown scenarios ${unknown.join(', ')}: use ${SCENARIOS.join(', ')}`,
    );
  }
  return names as ScenarioName[];
}

/**
 * k6 resolves a relative path in `open()` against the script's folder, so a
 * profile path given from the current folder is made absolute here. A bare
 * name such as `heavy` stays a name.
 */
export function absoluteProfile(profile: string | undefined): string {
  if (profile === undefined || profile.trim() === '') {
    return 'default';
  }
  if (/^[\w-]+$/.test(profile) || isAbsolute(profile)) {
    return profile;
  }
  return resolve(profile);
}

function defaultRun(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const output = args[0] === 'version' ? 'pipe' : 'inherit';
  return spawnSync(command, args, { env, stdio: ['ignore', output, 'inherit'] });
}
