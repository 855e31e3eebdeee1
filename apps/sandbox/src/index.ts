/** Public API of the Track API sandbox, for tests and tools that start it in-process. */
export {
  ConfigError,
  DEFAULT_CONFIG,
  DEFAULT_FAULTS,
  DEFAULT_LIMITS,
  resolveConfig,
  type FaultsConfig,
  type LimitsConfig,
  type LogLevel,
  type Region,
  type SandboxConfig,
  type SandboxConfigInput,
  type WorkspaceConfig,
} from './config';
export { ENVIRONMENT_HELP, loadConfigFromEnv } from './env';
export type { FaultsUpdate, FaultsView } from './faults';
export type { Operation } from './operations';
export type { OperationsQuery, RateLimitUpdate, ResetRequest } from './routes-control';
export type { RegionResponse } from './routes-v1';
export type { BatchError } from './routes-v2';
export { createSandbox, type Sandbox, type SandboxOptions } from './sandbox';
export { startSandbox, stopSandbox } from './start';
export type { StatsView, WorkspaceStatsView } from './state';
export type { CountersView, Distribution } from './stats';
export type { OperationPage, StoredOperation } from './store';
