import { EnvSettings } from '../common/env-settings';

/** Options of `nx run loadtests:soak`. */
export interface SoakSettings {
  profile: string;
  /** Seconds of load; the drain afterwards is not counted. */
  seconds: number;
  /** Calls per second of the mixed scenario, started whatever the response times. */
  rate: number;
  maxInFlight: number;
  sampleSeconds: number;
  /** Memory samples before this many seconds are left out of the slope, while the processes warm up. */
  warmupSeconds: number;
  maxRssMb: number;
  maxSlopeMbPerMinute: number;
  drainTimeoutSeconds: number;
  seed: number;
}

export const SOAK_HELP: readonly (readonly [string, string])[] = [
  ['PROFILE', 'traffic profile: a name in loadtests/profiles/ or a JSON file (default default)'],
  ['SOAK_SECONDS', 'seconds of load (default 300)'],
  ['SOAK_RATE', 'mixed-scenario calls started per second (default 50)'],
  ['SOAK_MAX_IN_FLIGHT', 'calls in flight past which new ones are dropped (default 64)'],
  ['SOAK_SAMPLE_SECONDS', 'seconds between memory samples (default 2)'],
  ['SOAK_WARMUP_SECONDS', 'seconds of samples left out of the slope (default 20% of SOAK_SECONDS)'],
  ['SOAK_MAX_RSS_MB', 'resident memory each service must stay under, in MB (default 300)'],
  ['SOAK_MAX_SLOPE_MB_PER_MIN', 'largest memory growth accepted, in MB per minute (default 10)'],
  ['SOAK_DRAIN_TIMEOUT_SECONDS', 'wait for the sandbox to receive everything (default 120)'],
  ['SOAK_SEED', 'seed of the generated traffic (default 1)'],
];

export function readSoakSettings(env: NodeJS.ProcessEnv): SoakSettings {
  const read = new EnvSettings(env);
  const seconds = read.number('SOAK_SECONDS', 300, 10);
  const settings: SoakSettings = {
    profile: read.text('PROFILE', 'default'),
    seconds,
    rate: read.number('SOAK_RATE', 50, 1),
    maxInFlight: read.integer('SOAK_MAX_IN_FLIGHT', 64, 1),
    sampleSeconds: read.number('SOAK_SAMPLE_SECONDS', 2, 0.1),
    warmupSeconds: read.number('SOAK_WARMUP_SECONDS', Math.round(seconds * 0.2)),
    maxRssMb: read.number('SOAK_MAX_RSS_MB', 300, 1),
    maxSlopeMbPerMinute: read.number('SOAK_MAX_SLOPE_MB_PER_MIN', 10),
    drainTimeoutSeconds: read.number('SOAK_DRAIN_TIMEOUT_SECONDS', 120, 1),
    seed: read.integer('SOAK_SEED', 1),
  };
  read.check();
  return settings;
}
