import {
  ConfigError,
  type ConfigProblem,
  type FaultsConfig,
  type LimitsConfig,
  type LogLevel,
  type Region,
  type SandboxConfig,
  type SandboxConfigInput,
  type WorkspaceConfig,
  mergeConfig,
  validateConfig,
} from './config';
import { describeValue } from './json';

type NumericTopLevelField =
  | 'port'
  | 'rateLimitPerSecond'
  | 'retryAfterSeconds'
  | 'seed'
  | 'hangMaxMs'
  | 'bodyLimitBytes'
  | 'retentionOperations';

const NUMERIC_VARIABLES: Record<NumericTopLevelField, string> = {
  port: 'SANDBOX_PORT',
  rateLimitPerSecond: 'SANDBOX_RATE_LIMIT',
  retryAfterSeconds: 'SANDBOX_RETRY_AFTER_SECONDS',
  seed: 'SANDBOX_SEED',
  hangMaxMs: 'SANDBOX_HANG_MAX_MS',
  bodyLimitBytes: 'SANDBOX_BODY_LIMIT',
  retentionOperations: 'SANDBOX_RETENTION_OPERATIONS',
};

const LIMIT_VARIABLES: Record<keyof LimitsConfig, string> = {
  maxOperationBytes: 'SANDBOX_MAX_OPERATION_BYTES',
  maxBatchBytes: 'SANDBOX_MAX_BATCH_BYTES',
  maxAttributeValueBytes: 'SANDBOX_MAX_ATTRIBUTE_VALUE_BYTES',
  maxAttributes: 'SANDBOX_MAX_ATTRIBUTES',
  maxIdentifierBytes: 'SANDBOX_MAX_IDENTIFIER_BYTES',
  maxAttributeNameBytes: 'SANDBOX_MAX_ATTRIBUTE_NAME_BYTES',
  maxEventNameBytes: 'SANDBOX_MAX_EVENT_NAME_BYTES',
  maxEventDataBytes: 'SANDBOX_MAX_EVENT_DATA_BYTES',
  maxTimestampSeconds: 'SANDBOX_MAX_TIMESTAMP_SECONDS',
};

const FAULT_VARIABLES: Record<keyof FaultsConfig, string> = {
  latencyMs: 'SANDBOX_LATENCY_MS',
  latencyJitterMs: 'SANDBOX_LATENCY_JITTER_MS',
  errorRate: 'SANDBOX_ERROR_RATE',
  throttleRate: 'SANDBOX_THROTTLE_RATE',
  hangRate: 'SANDBOX_HANG_RATE',
  downForMs: 'SANDBOX_DOWN_MS',
};

const STRING_VARIABLES = {
  host: 'SANDBOX_HOST',
  region: 'SANDBOX_REGION',
  usUrl: 'SANDBOX_US_URL',
  euUrl: 'SANDBOX_EU_URL',
  logLevel: 'SANDBOX_LOG_LEVEL',
} as const;

const WORKSPACES_VARIABLE = 'SANDBOX_WORKSPACES';

/** Environment variable of each configuration field, used to name the variable in errors. */
const VARIABLE_BY_FIELD = new Map<string, string>([
  ...Object.entries(NUMERIC_VARIABLES),
  ...Object.entries(STRING_VARIABLES),
  ...Object.entries(LIMIT_VARIABLES).map(([field, name]): [string, string] => [
    `limits.${field}`,
    name,
  ]),
  ...Object.entries(FAULT_VARIABLES).map(([field, name]): [string, string] => [
    `faults.${field}`,
    name,
  ]),
  [
    'faults.errorRate + faults.throttleRate + faults.hangRate',
    'SANDBOX_ERROR_RATE + SANDBOX_THROTTLE_RATE + SANDBOX_HANG_RATE',
  ],
]);

/** Names and meanings of every environment variable, for help output and docs. */
export const ENVIRONMENT_HELP: readonly (readonly [string, string])[] = [
  ['SANDBOX_HOST', 'address to listen on (default 127.0.0.1)'],
  ['SANDBOX_PORT', 'TCP port, 0 for a free one (default 4010)'],
  ['SANDBOX_REGION', 'region of this instance, us or eu (default us)'],
  ['SANDBOX_US_URL', 'base URL of the US instance (default http://127.0.0.1:4010)'],
  [
    'SANDBOX_EU_URL',
    'base URL of the EU instance, target of region redirects (default http://127.0.0.1:4011)',
  ],
  [
    WORKSPACES_VARIABLE,
    'comma-separated siteId:apiKey[:region[:ratePerSecond]] (default site-demo:key-demo:us)',
  ],
  ['SANDBOX_RATE_LIMIT', 'requests per second per workspace, 0 for unlimited (default 0)'],
  ['SANDBOX_RETRY_AFTER_SECONDS', 'Retry-After value on 429 responses (default: no header)'],
  ['SANDBOX_LATENCY_MS', 'delay added to every Track API response in ms (default 0)'],
  [
    'SANDBOX_LATENCY_JITTER_MS',
    'maximum random delay added on top of the latency in ms (default 0)',
  ],
  [
    'SANDBOX_ERROR_RATE',
    'share of requests that get a 500, 502, 503 or 504 response, 0 to 1 (default 0)',
  ],
  ['SANDBOX_THROTTLE_RATE', 'share of requests that get a 429 response, 0 to 1 (default 0)'],
  ['SANDBOX_HANG_RATE', 'share of requests that never get a response, 0 to 1 (default 0)'],
  [
    'SANDBOX_DOWN_MS',
    'time from start in ms during which Track API connections are closed without a response (default 0)',
  ],
  ['SANDBOX_HANG_MAX_MS', 'time in ms after which a hung request is closed (default 600000)'],
  [
    'SANDBOX_SEED',
    'seed of the fault generator, 0 to 4294967295 (default random, logged at start)',
  ],
  ['SANDBOX_BODY_LIMIT', 'maximum body read on v1 and control routes in bytes (default 1048576)'],
  ['SANDBOX_MAX_OPERATION_BYTES', 'maximum v2 operation size in bytes (default 32768)'],
  ['SANDBOX_MAX_BATCH_BYTES', 'maximum v2 batch body in bytes (default 512000)'],
  ['SANDBOX_MAX_ATTRIBUTE_VALUE_BYTES', 'maximum attribute value in bytes (default 1000)'],
  ['SANDBOX_MAX_ATTRIBUTES', 'maximum attributes per call (default 300)'],
  ['SANDBOX_MAX_IDENTIFIER_BYTES', 'maximum identifier in bytes (default 150)'],
  ['SANDBOX_MAX_ATTRIBUTE_NAME_BYTES', 'maximum attribute name in bytes (default 150)'],
  ['SANDBOX_MAX_EVENT_NAME_BYTES', 'maximum event name in bytes (default 100)'],
  ['SANDBOX_MAX_EVENT_DATA_BYTES', 'maximum event data as JSON in bytes (default 100000)'],
  [
    'SANDBOX_MAX_TIMESTAMP_SECONDS',
    'largest timestamp taken as unix seconds (default 100000000000)',
  ],
  ['SANDBOX_RETENTION_OPERATIONS', 'maximum operations kept for listing (default 2000000)'],
  ['SANDBOX_LOG_LEVEL', 'fatal, error, warn, info, debug, trace or silent (default info)'],
];

/**
 * Reads the sandbox configuration from `SANDBOX_*` environment variables. Unset or empty
 * variables take their defaults. Raises ConfigError naming each invalid variable, its
 * value and what is expected. API keys never appear in the messages.
 */
export function loadConfigFromEnv(env: NodeJS.ProcessEnv): SandboxConfig {
  const problems: string[] = [];
  const input: SandboxConfigInput = { logLevel: 'info' };

  for (const [field, name] of Object.entries(NUMERIC_VARIABLES) as [
    NumericTopLevelField,
    string,
  ][]) {
    const value = readNumber(env, name);
    if (value !== undefined) {
      input[field] = value;
    }
  }
  const limits: Partial<LimitsConfig> = {};
  for (const [field, name] of Object.entries(LIMIT_VARIABLES) as [keyof LimitsConfig, string][]) {
    const value = readNumber(env, name);
    if (value !== undefined) {
      limits[field] = value;
    }
  }
  input.limits = limits;
  const faults: Partial<FaultsConfig> = {};
  for (const [field, name] of Object.entries(FAULT_VARIABLES) as [keyof FaultsConfig, string][]) {
    const value = readNumber(env, name);
    if (value !== undefined) {
      faults[field] = value;
    }
  }
  input.faults = faults;

  input.host = readString(env, STRING_VARIABLES.host);
  // The validator below rejects any other string, so these casts only defer the check.
  input.region = readString(env, STRING_VARIABLES.region) as Region | undefined;
  input.usUrl = readString(env, STRING_VARIABLES.usUrl);
  input.euUrl = readString(env, STRING_VARIABLES.euUrl);
  input.logLevel = (readString(env, STRING_VARIABLES.logLevel) as LogLevel | undefined) ?? 'info';

  const workspacesText = readString(env, WORKSPACES_VARIABLE);
  let workspaceEntries: WorkspaceEntry[] = [];
  if (workspacesText !== undefined) {
    workspaceEntries = parseWorkspaces(workspacesText, problems);
    input.workspaces = workspaceEntries.map((entry) => entry.workspace);
  }

  const config = mergeConfig(input);
  for (const problem of validateConfig(config)) {
    problems.push(describeProblem(problem, env, workspaceEntries));
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return config;
}

function readString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** Returns NaN for text that is not a number, so that the validator reports it with the expected range. */
function readNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = readString(env, name);
  return text === undefined ? undefined : Number(text);
}

/** A workspace parsed from SANDBOX_WORKSPACES, with its 1-based position and text for errors. */
interface WorkspaceEntry {
  workspace: WorkspaceConfig;
  entryNumber: number;
  entryText: string;
}

/**
 * Parses `siteId:apiKey[:region[:ratePerSecond]]` entries separated by commas. Format
 * errors go to `problems`, and the validator checks the values afterwards.
 */
function parseWorkspaces(text: string, problems: string[]): WorkspaceEntry[] {
  const entries: WorkspaceEntry[] = [];
  text.split(',').forEach((rawEntry, index) => {
    const entryText = rawEntry.trim();
    const entryNumber = index + 1;
    const parts = entryText.split(':');
    if (parts.length < 2 || parts.length > 4) {
      problems.push(
        `${WORKSPACES_VARIABLE} entry ${entryNumber} (${maskApiKey(entryText)}): invalid format, expected siteId:apiKey[:region[:ratePerSecond]]`,
      );
      return;
    }
    const [siteId = '', apiKey = '', region = '', rate = ''] = parts;
    // The validator rejects a region other than us or eu.
    const workspace: WorkspaceConfig = {
      siteId,
      apiKey,
      region: (region === '' ? 'us' : region) as Region,
    };
    if (rate !== '') {
      workspace.rateLimitPerSecond = Number(rate);
    }
    entries.push({ workspace, entryNumber, entryText });
  });
  return entries;
}

/** Returns the entry as a JSON string with its API key replaced by `***`. */
function maskApiKey(entry: string): string {
  const parts = entry.split(':');
  if (parts.length >= 2) {
    parts[1] = '***';
  }
  return JSON.stringify(parts.join(':'));
}

const WORKSPACE_FIELD = /^workspaces\[(\d+)\]\.(\w+)$/;

function describeProblem(
  problem: ConfigProblem,
  env: NodeJS.ProcessEnv,
  workspaceEntries: readonly WorkspaceEntry[],
): string {
  const { field, value, expected } = problem;
  const workspaceMatch = WORKSPACE_FIELD.exec(field);
  if (workspaceMatch !== null) {
    const entry = workspaceEntries[Number(workspaceMatch[1])];
    const key = workspaceMatch[2] ?? '';
    const entryNumber = entry?.entryNumber ?? Number(workspaceMatch[1]) + 1;
    const displayedValue = key === 'apiKey' ? '' : ` ${describeValue(value)}`;
    return `${WORKSPACES_VARIABLE} entry ${entryNumber} (${maskApiKey(entry?.entryText ?? '')}): invalid ${key}${displayedValue}, expected ${expected}`;
  }
  const variable = VARIABLE_BY_FIELD.get(field);
  if (variable === undefined) {
    return `${field}: invalid value ${describeValue(value)}, expected ${expected}`;
  }
  const raw = env[variable];
  const displayedValue = raw === undefined ? describeValue(value) : JSON.stringify(raw.trim());
  return `${variable}: invalid value ${displayedValue}, expected ${expected}`;
}
