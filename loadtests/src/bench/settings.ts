import { EnvSettings } from '../common/env-settings';

/** Options of `nx run loadtests:bench`; the defaults make a run of about four minutes. */
export interface BenchSettings {
  /** Profile name in loadtests/profiles/ or path of a profile file. */
  profile: string;
  warmupSeconds: number;
  /** Measured seconds of each ingest run. */
  ingestSeconds: number;
  singleConcurrency: number;
  batchConcurrency: number;
  /** Requests per second per workspace at which the limit binds. */
  bindingLimit: number;
  /** Workspace counts of the binding measurements. */
  workspaceCounts: number[];
  /** Seconds of delivery at the cap that each workspace's backlog holds. */
  backlogSeconds: number;
  /** Requests per second of the workspace fed without a backlog. */
  fastLimit: number;
  feedSeconds: number;
  /** Events per second offered by the open loop of the sustained run, all workspaces together. */
  sustainedEventsPerSecond: number;
  sustainedSeconds: number;
  sustainedWorkspaces: number;
  /** Calls in flight per workspace past which the sustained run drops calls. */
  sustainedMaxInFlight: number;
  perEventSeconds: number;
  /** Maximum wait for a fill or a drain. */
  timeoutSeconds: number;
  seed: number;
  /** Batch calls built before each load run and sent in turn. */
  callPoolSize: number;
  /** Single-event calls built before each ingest run and sent in turn. */
  singleCallPoolSize: number;
  /** `latency` runs only the delivery latency measurement; `all` runs everything. */
  only: 'all' | 'latency';
  /** Operations per second offered to the gateway in the latency measurement. */
  latencyEventsPerSecond: number;
  /** Measured seconds of the latency measurement, after BENCH_WARMUP_SECONDS. */
  latencySeconds: number;
  /** Milliseconds between two batch calls of the latency measurement. */
  latencyIntervalMs: number;
  /** The batcher's BATCHER_LINGER_MS, which sets the latency target. */
  lingerMs: number;
}

/** Each setting's variable and meaning, for --help. */
export const BENCH_HELP: readonly (readonly [string, string])[] = [
  ['PROFILE', 'traffic profile: a name in loadtests/profiles/ or a JSON file (default default)'],
  [
    'BENCH_WARMUP_SECONDS',
    'unmeasured seconds at the start of each ingest run and the latency run (default 3)',
  ],
  ['BENCH_SECONDS', 'measured seconds of each ingest run (default 8)'],
  ['BENCH_SINGLE_CONCURRENCY', 'connections for single-event calls (default 32)'],
  ['BENCH_BATCH_CONCURRENCY', 'connections for v2 batch calls and producer sends (default 8)'],
  ['BENCH_BINDING_LIMIT', 'requests per second per workspace where the limit binds (default 10)'],
  ['BENCH_WORKSPACES', 'workspace counts of the binding runs, comma-separated (default 1,2,3)'],
  ['BENCH_BACKLOG_SECONDS', 'seconds of delivery at the cap each backlog holds (default 4)'],
  ['BENCH_FAST_LIMIT', 'requests per second of each continuously fed workspace (default 100)'],
  ['BENCH_FEED_SECONDS', 'seconds of continuous feed at that limit (default 10)'],
  [
    'BENCH_SUSTAINED_EVENTS_PER_SECOND',
    'events per second offered at a constant rate in the sustained run (default 50000)',
  ],
  ['BENCH_SUSTAINED_SECONDS', 'seconds of the sustained run (default 30)'],
  ['BENCH_SUSTAINED_WORKSPACES', 'workspaces that share the sustained run (default 2)'],
  [
    'BENCH_SUSTAINED_MAX_IN_FLIGHT',
    'calls in flight per workspace past which the sustained run drops calls (default 128)',
  ],
  ['BENCH_PER_EVENT_SECONDS', 'seconds of the per-event baseline (default 10)'],
  ['BENCH_TIMEOUT_SECONDS', 'longest wait for a backlog fill or drain (default 120)'],
  ['BENCH_SEED', 'seed of the generated traffic (default 1)'],
  ['BENCH_CALL_POOL', 'batch calls built before each load run and sent in turn (default 256)'],
  [
    'BENCH_SINGLE_CALL_POOL',
    'single-event calls built before each ingest run and sent in turn (default 16384)',
  ],
  ['BENCH_ONLY', 'latency: run only the delivery latency measurement (default: everything)'],
  [
    'BENCH_LATENCY_EVENTS_PER_SECOND',
    'events per second offered in the latency run (default 5000)',
  ],
  ['BENCH_LATENCY_SECONDS', 'measured seconds of the latency run (default 15)'],
  [
    'BENCH_LATENCY_INTERVAL_MS',
    'milliseconds between batch calls of the latency run (default 100)',
  ],
  ['BATCHER_LINGER_MS', "the batcher's linger; the latency target is it + 200 ms (default 250)"],
];

export function readBenchSettings(env: NodeJS.ProcessEnv): BenchSettings {
  const read = new EnvSettings(env);
  const settings: BenchSettings = {
    profile: read.text('PROFILE', 'default'),
    warmupSeconds: read.number('BENCH_WARMUP_SECONDS', 3),
    ingestSeconds: read.number('BENCH_SECONDS', 8, 1),
    singleConcurrency: read.integer('BENCH_SINGLE_CONCURRENCY', 32, 1),
    batchConcurrency: read.integer('BENCH_BATCH_CONCURRENCY', 8, 1),
    bindingLimit: read.integer('BENCH_BINDING_LIMIT', 10, 1),
    workspaceCounts: read.integers('BENCH_WORKSPACES', [1, 2, 3]),
    backlogSeconds: read.number('BENCH_BACKLOG_SECONDS', 4, 1),
    fastLimit: read.integer('BENCH_FAST_LIMIT', 100, 1),
    feedSeconds: read.number('BENCH_FEED_SECONDS', 10, 1),
    sustainedEventsPerSecond: read.number('BENCH_SUSTAINED_EVENTS_PER_SECOND', 50_000, 1),
    sustainedSeconds: read.number('BENCH_SUSTAINED_SECONDS', 30, 1),
    sustainedWorkspaces: read.integer('BENCH_SUSTAINED_WORKSPACES', 2, 1),
    sustainedMaxInFlight: read.integer('BENCH_SUSTAINED_MAX_IN_FLIGHT', 128, 1),
    perEventSeconds: read.number('BENCH_PER_EVENT_SECONDS', 10, 1),
    timeoutSeconds: read.number('BENCH_TIMEOUT_SECONDS', 120, 10),
    seed: read.integer('BENCH_SEED', 1),
    callPoolSize: read.integer('BENCH_CALL_POOL', 256, 16),
    singleCallPoolSize: read.integer('BENCH_SINGLE_CALL_POOL', 16_384, 16),
    only: readOnly(env['BENCH_ONLY']),
    latencyEventsPerSecond: read.number('BENCH_LATENCY_EVENTS_PER_SECOND', 5000, 1),
    latencySeconds: read.number('BENCH_LATENCY_SECONDS', 15, 1),
    latencyIntervalMs: read.integer('BENCH_LATENCY_INTERVAL_MS', 100, 1),
    lingerMs: read.integer('BATCHER_LINGER_MS', 250),
  };
  read.check();
  return settings;
}

function readOnly(value: string | undefined): BenchSettings['only'] {
  const text = value?.trim() ?? '';
  if (text === '' || text === 'all') {
    return 'all';
  }
  if (text === 'latency') {
    return 'latency';
  }
  throw new Error(`invalid settings: BENCH_ONLY must be "latency" or empty, got "${text}"`);
}
