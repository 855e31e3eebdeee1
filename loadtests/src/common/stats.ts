/** Summary of a set of latencies, in milliseconds. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/** Returns the nearest-rank percentile `p` (0 to 100) of values sorted in ascending order. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) {
    return 0;
  }
  // Multiplying first keeps 99.9 of 1000 at rank 999, where (p / 100) * n gives 999.0000000000001.
  const rank = Math.ceil((p * sorted.length) / 100);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? 0;
}

export function summarizeLatencies(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const value of sorted) {
    total += value;
  }
  return {
    count: sorted.length,
    mean: sorted.length === 0 ? 0 : total / sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0),
  };
}

/** Least-squares slope of y over x; 0 for fewer than two distinct x values. */
export function linearSlope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) {
    return 0;
  }
  let sumX = 0;
  let sumY = 0;
  for (const point of points) {
    sumX += point.x;
    sumY += point.y;
  }
  const meanX = sumX / n;
  const meanY = sumY / n;
  let covariance = 0;
  let variance = 0;
  for (const point of points) {
    covariance += (point.x - meanX) * (point.y - meanY);
    variance += (point.x - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

/** A cumulative count observed at a time, such as operations the sandbox has stored. */
export interface CountSample {
  /** Milliseconds since some fixed start. */
  atMs: number;
  count: number;
}

/**
 * Rate of a cumulative count in its steady part: from the first sample above
 * `fromShare` of `total` (above zero by default) to the first sample at or
 * above `share` of `total`. Leaving out the time before the first delivery
 * and the tail makes start-up delays and a last, partly filled batch not
 * count against the rate. Returns undefined when the window is empty.
 */
export function steadyRate(
  samples: readonly CountSample[],
  total: number,
  share = 0.9,
  fromShare = 0,
): { perSecond: number; fromMs: number; toMs: number } | undefined {
  const first = samples.find((sample) => sample.count > total * fromShare);
  const last = samples.find((sample) => sample.count >= total * share);
  if (first === undefined || last === undefined || last.atMs <= first.atMs) {
    return undefined;
  }
  return {
    perSecond: ((last.count - first.count) * 1000) / (last.atMs - first.atMs),
    fromMs: first.atMs,
    toMs: last.atMs,
  };
}

/** Turns cumulative samples into the increase within each second, for the chart. */
export function perSecondCounts(
  samples: readonly CountSample[],
): { second: number; events: number }[] {
  const points: { second: number; events: number }[] = [];
  let previous = 0;
  let second = 1;
  for (const sample of samples) {
    while (sample.atMs >= second * 1000) {
      points.push({ second, events: sample.count - previous });
      previous = sample.count;
      second += 1;
    }
  }
  return points;
}

/** Per-second counts and latencies of a run, for the chart. */
export interface TimelinePoint {
  /** Seconds since the run started; each point covers the second that ends here. */
  second: number;
  requests: number;
  events: number;
  p50Ms: number;
  p99Ms: number;
}

/** Collects completions into one-second buckets. */
export class Timeline {
  private readonly buckets: { requests: number; events: number; latencies: number[] }[] = [];

  constructor(private readonly startMs: number) {}

  record(atMs: number, events: number, latencyMs: number): void {
    const index = Math.max(0, Math.floor((atMs - this.startMs) / 1000));
    while (this.buckets.length <= index) {
      this.buckets.push({ requests: 0, events: 0, latencies: [] });
    }
    const bucket = this.buckets[index];
    if (bucket !== undefined) {
      bucket.requests += 1;
      bucket.events += events;
      bucket.latencies.push(latencyMs);
    }
  }

  points(): TimelinePoint[] {
    return this.buckets.map((bucket, index) => {
      const latency = summarizeLatencies(bucket.latencies);
      return {
        second: index + 1,
        requests: bucket.requests,
        events: bucket.events,
        p50Ms: round(latency.p50, 2),
        p99Ms: round(latency.p99, 2),
      };
    });
  }
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
