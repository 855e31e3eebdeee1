import { randomInt } from 'node:crypto';
import { describeValue } from './json';

export type Region = 'us' | 'eu';
export const REGIONS: readonly Region[] = ['us', 'eu'];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** A Customer.io workspace that the sandbox accepts Track API calls for. */
export interface WorkspaceConfig {
  /** HTTP Basic username. */
  siteId: string;
  /** HTTP Basic password (the Track API key). */
  apiKey: string;
  region: Region;
  /**
   * Maximum requests per sliding 1000 ms window for this workspace. Undefined uses the
   * instance's `rateLimitPerSecond`, and 0 means unlimited.
   */
  rateLimitPerSecond?: number;
}

/** Size and value limits on Track API data, in bytes of UTF-8 unless named otherwise. */
export interface LimitsConfig {
  /** Maximum size of one v2 operation, and of a `/api/v2/entity` request body. */
  maxOperationBytes: number;
  /** Maximum size of a `/api/v2/batch` request body. */
  maxBatchBytes: number;
  maxAttributeValueBytes: number;
  /** Maximum number of attributes in one identify call or operation. */
  maxAttributes: number;
  maxIdentifierBytes: number;
  maxAttributeNameBytes: number;
  maxEventNameBytes: number;
  /** Maximum size of an event's `data` (v1) or `attributes` (v2) serialized as JSON. */
  maxEventDataBytes: number;
  /** Largest accepted timestamp in unix seconds. Larger values are taken for milliseconds. */
  maxTimestampSeconds: number;
}

/** Faults that the sandbox injects into Track API requests. Control routes are never affected. */
export interface FaultsConfig {
  /** Delay added before every Track API response, in ms. */
  latencyMs: number;
  /** Upper bound of a uniformly random delay added on top of `latencyMs`, in ms. */
  latencyJitterMs: number;
  /** Share (0 to 1) of requests that get a 500, 502, 503 or 504 response. */
  errorRate: number;
  /** Share (0 to 1) of requests that get a 429 response. */
  throttleRate: number;
  /** Share (0 to 1) of requests that never get a response. */
  hangRate: number;
  /** Time in ms, from start or from the last change, during which Track API connections are closed without a response. */
  downForMs: number;
}

export interface SandboxConfig {
  host: string;
  /** TCP port, or 0 for a free port chosen by the system. */
  port: number;
  /** Region this instance serves. EU workspaces on a US instance are redirected to `euUrl`. */
  region: Region;
  /** Base URL of the US instance, returned by the region endpoint on an EU instance. */
  usUrl: string;
  /** Base URL of the EU instance, the target of region redirects. */
  euUrl: string;
  workspaces: WorkspaceConfig[];
  /** Default requests per sliding 1000 ms window for each workspace, 0 for unlimited. */
  rateLimitPerSecond: number;
  /** Value of the Retry-After header on 429 responses, or null to send none (as Customer.io does). */
  retryAfterSeconds: number | null;
  limits: LimitsConfig;
  faults: FaultsConfig;
  /** Seed of the random generator that picks which requests get faults. */
  seed: number;
  /** Time in ms after which the sandbox closes the socket of a hung request. */
  hangMaxMs: number;
  /** Maximum request body the server reads on routes without a Track API size limit (v1 and control routes). */
  bodyLimitBytes: number;
  /**
   * Maximum number of operations kept for `/__sandbox/operations`. Later operations are
   * counted and de-duplicated but not stored. 0 stores none.
   */
  retentionOperations: number;
  logLevel: LogLevel;
}

/** Partial configuration, completed by `resolveConfig` with the defaults below. */
export type SandboxConfigInput = Partial<Omit<SandboxConfig, 'limits' | 'faults'>> & {
  limits?: Partial<LimitsConfig>;
  faults?: Partial<FaultsConfig>;
};

export const DEFAULT_LIMITS: Readonly<LimitsConfig> = {
  maxOperationBytes: 32_768,
  maxBatchBytes: 512_000,
  maxAttributeValueBytes: 1000,
  maxAttributes: 300,
  maxIdentifierBytes: 150,
  maxAttributeNameBytes: 150,
  maxEventNameBytes: 100,
  maxEventDataBytes: 100_000,
  maxTimestampSeconds: 100_000_000_000,
};

export const DEFAULT_FAULTS: Readonly<FaultsConfig> = {
  latencyMs: 0,
  latencyJitterMs: 0,
  errorRate: 0,
  throttleRate: 0,
  hangRate: 0,
  downForMs: 0,
};

export const DEFAULT_WORKSPACE: Readonly<WorkspaceConfig> = {
  siteId: 'site-demo',
  apiKey: 'key-demo',
  region: 'us',
};

/** Defaults of `resolveConfig`, except `seed`, which is random when not given. */
export const DEFAULT_CONFIG: Readonly<Omit<SandboxConfig, 'seed'>> = {
  host: '127.0.0.1',
  port: 4010,
  region: 'us',
  usUrl: 'http://127.0.0.1:4010',
  euUrl: 'http://127.0.0.1:4011',
  workspaces: [DEFAULT_WORKSPACE],
  rateLimitPerSecond: 0,
  retryAfterSeconds: null,
  limits: DEFAULT_LIMITS,
  faults: DEFAULT_FAULTS,
  hangMaxMs: 600_000,
  bodyLimitBytes: 1_048_576,
  retentionOperations: 2_000_000,
  logLevel: 'silent',
};

/** An invalid configuration value: the field path (such as `limits.maxBatchBytes`) and what it must be. */
export interface ConfigProblem {
  field: string;
  value: unknown;
  expected: string;
}

/** Error raised for an invalid configuration, with one problem per invalid value. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid sandbox configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Merges `input` over the defaults and validates the result. Raises ConfigError naming every invalid field. */
export function resolveConfig(input: SandboxConfigInput = {}): SandboxConfig {
  const config = mergeConfig(input);
  const problems = validateConfig(config);
  if (problems.length > 0) {
    throw new ConfigError(problems.map(formatProblem));
  }
  return config;
}

/** Merges `input` over the defaults without validating. Fields set to undefined take their defaults. */
export function mergeConfig(input: SandboxConfigInput): SandboxConfig {
  return {
    ...DEFAULT_CONFIG,
    seed: randomInt(0, 0x1_0000_0000),
    ...stripUndefined(input),
    limits: { ...DEFAULT_LIMITS, ...stripUndefined(input.limits ?? {}) },
    faults: { ...DEFAULT_FAULTS, ...stripUndefined(input.faults ?? {}) },
    workspaces: (input.workspaces ?? DEFAULT_CONFIG.workspaces).map((workspace) => ({
      ...workspace,
    })),
  };
}

function formatProblem(problem: ConfigProblem): string {
  return `${problem.field}: invalid value ${describeValue(problem.value)}, expected ${problem.expected}`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, entry]) => entry !== undefined),
  ) as Partial<T>;
}

/** Returns one problem per invalid field of a complete configuration. */
export function validateConfig(config: SandboxConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const checkInteger = (field: string, value: number, min: number, max: number): void => {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      problems.push({ field, value, expected: `an integer ${range}` });
    }
  };
  const checkUrl = (field: string, value: string): void => {
    if (!isHttpUrl(value)) {
      problems.push({
        field,
        value,
        expected: 'an http or https URL such as http://127.0.0.1:4011',
      });
    }
  };
  const unlimited = Number.MAX_SAFE_INTEGER;

  if (config.host.length === 0) {
    problems.push({ field: 'host', value: config.host, expected: 'a host name or IP address' });
  }
  checkInteger('port', config.port, 0, 65_535);
  if (!REGIONS.includes(config.region)) {
    problems.push({ field: 'region', value: config.region, expected: 'us or eu' });
  }
  checkUrl('usUrl', config.usUrl);
  checkUrl('euUrl', config.euUrl);

  if (config.workspaces.length === 0) {
    problems.push({ field: 'workspaces', value: [], expected: 'at least one workspace' });
  }
  const siteIds = new Set<string>();
  config.workspaces.forEach((workspace, index) => {
    const field = `workspaces[${index}]`;
    if (workspace.siteId.length === 0 || workspace.siteId.includes(':')) {
      problems.push({
        field: `${field}.siteId`,
        value: workspace.siteId,
        expected: 'a non-empty site id without ":"',
      });
    }
    if (siteIds.has(workspace.siteId)) {
      problems.push({
        field: `${field}.siteId`,
        value: workspace.siteId,
        expected: 'a site id not used by another workspace',
      });
    }
    siteIds.add(workspace.siteId);
    if (workspace.apiKey.length === 0) {
      problems.push({ field: `${field}.apiKey`, value: '', expected: 'a non-empty API key' });
    }
    if (!REGIONS.includes(workspace.region)) {
      problems.push({ field: `${field}.region`, value: workspace.region, expected: 'us or eu' });
    }
    if (workspace.rateLimitPerSecond !== undefined) {
      checkInteger(`${field}.rateLimitPerSecond`, workspace.rateLimitPerSecond, 0, unlimited);
    }
  });

  checkInteger('rateLimitPerSecond', config.rateLimitPerSecond, 0, unlimited);
  if (config.retryAfterSeconds !== null) {
    checkInteger('retryAfterSeconds', config.retryAfterSeconds, 0, unlimited);
  }

  const limitFields = Object.keys(DEFAULT_LIMITS) as (keyof LimitsConfig)[];
  for (const name of limitFields) {
    checkInteger(`limits.${name}`, config.limits[name], 1, unlimited);
  }

  problems.push(...validateFaults(config.faults));
  checkInteger('seed', config.seed, 0, 0xffff_ffff);
  checkInteger('hangMaxMs', config.hangMaxMs, 1, 2_147_483_647);
  checkInteger('bodyLimitBytes', config.bodyLimitBytes, 1, unlimited);
  checkInteger('retentionOperations', config.retentionOperations, 0, unlimited);
  if (!LOG_LEVELS.includes(config.logLevel)) {
    problems.push({ field: 'logLevel', value: config.logLevel, expected: LOG_LEVELS.join(', ') });
  }
  return problems;
}

/** Returns one problem per invalid fault setting, including a sum of shares above 1. */
export function validateFaults(faults: FaultsConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const delays = ['latencyMs', 'latencyJitterMs', 'downForMs'] as const;
  for (const name of delays) {
    const value = faults[name];
    // setTimeout cannot wait longer than 2^31 - 1 ms.
    if (!Number.isSafeInteger(value) || value < 0 || value > 2_147_483_647) {
      problems.push({
        field: `faults.${name}`,
        value,
        expected: 'an integer number of ms from 0 to 2147483647',
      });
    }
  }
  const shares = ['errorRate', 'throttleRate', 'hangRate'] as const;
  let sharesValid = true;
  for (const name of shares) {
    const value = faults[name];
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      problems.push({ field: `faults.${name}`, value, expected: 'a number from 0 to 1' });
      sharesValid = false;
    }
  }
  const total = faults.errorRate + faults.throttleRate + faults.hangRate;
  // The sum is only worth reporting when each share is valid on its own.
  if (sharesValid && total > 1) {
    problems.push({
      field: 'faults.errorRate + faults.throttleRate + faults.hangRate',
      value: total,
      expected: 'a sum of at most 1',
    });
  }
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
