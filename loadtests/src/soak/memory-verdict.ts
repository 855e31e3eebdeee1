import { linearSlope, round } from '../common/stats';

/** One service's resident memory at one time. */
export interface MemorySample {
  /** Seconds since the load started. */
  second: number;
  megabytes: number;
}

export interface MemoryVerdict {
  service: string;
  samples: number;
  maxMb: number;
  /** Least-squares slope after the warm-up, in MB per minute. */
  slopeMbPerMinute: number;
  underLimit: boolean;
  flat: boolean;
}

/**
 * Judges one service's memory: every sample under `maxRssMb`, and the
 * slope of the samples from `warmupSeconds` to `untilSecond` at most
 * `maxSlopeMbPerMinute`.
 */
export function judgeMemory(
  service: string,
  samples: readonly MemorySample[],
  limits: {
    maxRssMb: number;
    maxSlopeMbPerMinute: number;
    warmupSeconds: number;
    untilSecond: number;
  },
): MemoryVerdict {
  const maxMb = Math.max(0, ...samples.map((sample) => sample.megabytes));
  const steady = samples
    .filter(
      (sample) => sample.second >= limits.warmupSeconds && sample.second <= limits.untilSecond,
    )
    .map((sample) => ({ x: sample.second / 60, y: sample.megabytes }));
  const slope = linearSlope(steady);
  return {
    service,
    samples: samples.length,
    maxMb: round(maxMb, 1),
    slopeMbPerMinute: round(slope, 2),
    underLimit: maxMb < limits.maxRssMb,
    flat: slope <= limits.maxSlopeMbPerMinute,
  };
}
