import type { ScenarioName } from './generator.ts';

/**
 * Settings of the k6 scripts, read from k6's `__ENV`. Kept free of k6
 * modules so that Jest can test them.
 */
export interface K6Settings {
  scenario: ScenarioName;
  /** Gateway base URL without a trailing slash. */
  gatewayUrl: string;
  siteId: string;
  apiKey: string;
  /** Skip certificate checks; true by default only for https://127.0.0.1 URLs. */
  insecureTls: boolean;
  /** Path given to k6's `open()`: relative paths start at loadtests/k6/. */
  profilePath: string;
  seed: number;
  arrival: ArrivalPlan;
  thresholds: { p95Ms: number; p99Ms: number; maxErrorRate: number };
  /** Folder that handleSummary writes `k6-<scenario>.json` to. */
  reportDir: string;
}

/**
 * Offered load: `rate` calls per second for `duration` (constant-arrival-rate),
 * then a ramp from `rate` to `rampTo` over `rampDuration` held for
 * `holdDuration` (ramping-arrival-rate).
 */
export interface ArrivalPlan {
  rate: number;
  duration: string;
  rampTo: number;
  rampDuration: string;
  holdDuration: string;
  preAllocatedVUs: number;
  maxVUs: number;
}

/** Calls per second each scenario offers by default; a batch call carries 100 to 500 operations. */
export const DEFAULT_RATES: Readonly<Record<ScenarioName, number>> = {
  identify: 100,
  track: 200,
  mixed: 150,
  batch: 5,
};

/** The gateway that `npm start` serves, and the demo workspace it accepts. */
export const DEFAULT_GATEWAY_URL = 'https://127.0.0.1:3000';
export const DEFAULT_SITE_ID = 'site-demo';
export const DEFAULT_API_KEY = 'key-demo';

const DURATION = /^(\d+(ms|s|m|h))+$/;
const URL_PATTERN = /^(https?):\/\/([^/:?#]+|\[[^\]]+\])(:\d+)?(\/[^?#]*)?$/;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the settings of one scenario; throws an Error naming each invalid variable. */
export function readK6Settings(scenario: ScenarioName, env: Env): K6Settings {
  const problems: string[] = [];
  const gatewayUrl = readUrl(env, problems);
  const rate = readInteger(env, 'RATE', DEFAULT_RATES[scenario], 1, problems);
  const rampTo = readInteger(env, 'RAMP_TO', rate * 2, 0, problems);
  const peak = Math.max(rate, rampTo);
  const settings: K6Settings = {
    scenario,
    gatewayUrl,
    siteId: readText(env, 'SITE_ID', DEFAULT_SITE_ID),
    apiKey: readText(env, 'API_KEY', DEFAULT_API_KEY),
    insecureTls: readInsecureTls(env, gatewayUrl, problems),
    profilePath: profilePathOf(readText(env, 'PROFILE', 'default')),
    seed: readInteger(env, 'SEED', 1, 0, problems),
    arrival: {
      rate,
      duration: readDuration(env, 'DURATION', '30s', problems),
      rampTo,
      rampDuration: readDuration(env, 'RAMP_DURATION', '30s', problems),
      holdDuration: readDuration(env, 'HOLD_DURATION', '10s', problems),
      // An arrival-rate executor needs about rate x latency VUs; these cover 100 ms and 1 s.
      preAllocatedVUs: readInteger(
        env,
        'PRE_ALLOCATED_VUS',
        Math.max(5, Math.ceil(peak / 10)),
        1,
        problems,
      ),
      maxVUs: readInteger(env, 'MAX_VUS', Math.max(50, Math.ceil(peak)), 1, problems),
    },
    thresholds: {
      p95Ms: readNumber(env, 'P95_MS', 250, problems),
      p99Ms: readNumber(env, 'P99_MS', 1000, problems),
      maxErrorRate: readNumber(env, 'MAX_ERROR_RATE', 0.01, problems),
    },
    reportDir: readText(env, 'REPORT_DIR', 'reports').replace(/\/+$/, ''),
  };
  if (settings.arrival.maxVUs < settings.arrival.preAllocatedVUs) {
    problems.push(
      `MAX_VUS (${settings.arrival.maxVUs}) is below PRE_ALLOCATED_VUS (${settings.arrival.preAllocatedVUs})`,
    );
  }
  if (settings.thresholds.maxErrorRate > 1) {
    problems.push(`MAX_ERROR_RATE must be from 0 to 1, got ${settings.thresholds.maxErrorRate}`);
  }
  if (problems.length > 0) {
    throw new Error(`invalid settings: ${problems.join('; ')}`);
  }
  return settings;
}

/**
 * Returns whether certificate checks are skipped when INSECURE_TLS is unset:
 * only for https://127.0.0.1, where `npm start` serves a self-signed certificate.
 */
export function defaultInsecureTls(gatewayUrl: string): boolean {
  return /^https:\/\/127\.0\.0\.1(:\d+)?(\/|$)/.test(gatewayUrl);
}

/** Maps a profile name such as `default` to its file; anything else is a path. */
export function profilePathOf(profile: string): string {
  return /^[\w-]+$/.test(profile) ? `../profiles/${profile}.json` : profile;
}

/** Returns the file that handleSummary writes for a scenario. */
export function summaryPathOf(settings: Pick<K6Settings, 'reportDir' | 'scenario'>): string {
  return `${settings.reportDir}/k6-${settings.scenario}.json`;
}

function readText(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? fallback : value;
}

function readUrl(env: Env, problems: string[]): string {
  const url = readText(env, 'GATEWAY_URL', DEFAULT_GATEWAY_URL).replace(/\/+$/, '');
  if (!URL_PATTERN.test(url)) {
    problems.push(`GATEWAY_URL=${JSON.stringify(url)} is not an http:// or https:// URL`);
  }
  return url;
}

function readInsecureTls(env: Env, gatewayUrl: string, problems: string[]): boolean {
  const value = readText(env, 'INSECURE_TLS', '').toLowerCase();
  if (value === '') {
    return defaultInsecureTls(gatewayUrl);
  }
  if (value === 'true' || value === '1') {
    return true;
  }
  if (value === 'false' || value === '0') {
    return false;
  }
  problems.push(`INSECURE_TLS=${JSON.stringify(value)} is invalid: use true or false`);
  return false;
}

function readNumber(env: Env, name: string, fallback: number, problems: string[]): number {
  const text = readText(env, name, '');
  if (text === '') {
    return fallback;
  }
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    problems.push(`${name}=${JSON.stringify(text)} is invalid: expected a number of at least 0`);
    return fallback;
  }
  return value;
}

/** Reads a whole number of at least `min`: k6 takes arrival rates and VU counts as integers. */
function readInteger(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  problems: string[],
): number {
  const value = readNumber(env, name, fallback, problems);
  if (!Number.isInteger(value) || value < min) {
    problems.push(`${name}=${value} is invalid: expected a whole number of at least ${min}`);
    return fallback;
  }
  return value;
}

function readDuration(env: Env, name: string, fallback: string, problems: string[]): string {
  const value = readText(env, name, fallback);
  if (!DURATION.test(value)) {
    problems.push(
      `${name}=${JSON.stringify(value)} is invalid: expected a duration such as 30s, 2m or 1m30s`,
    );
  }
  return value;
}
