import { percentile, round } from '../common/stats';

/** Attribute that carries the benchmark's id of each operation through the pipeline. */
export const EVENT_ID_ATTRIBUTE = 'bench_event_id';
/** Attribute that carries the client's send time, in ms since the Unix epoch. */
export const SENT_AT_ATTRIBUTE = 'bench_sent_at';

/** One operation the gateway acknowledged, by the benchmark's id. */
export interface AcknowledgedOperation {
  /** Client clock when the call was sent, in ms since the Unix epoch. */
  sentAt: number;
  /** Client clock when the gateway's 2xx arrived, in ms since the Unix epoch. */
  acknowledgedAt: number;
}

/** An operation as the sandbox stored it, reduced to what the pairing reads. */
export interface ReceivedOperation {
  /** Sandbox clock when it accepted the operation, in ms since the Unix epoch. */
  receivedAt: number;
  attributes?: Record<string, unknown>;
}

/** Latencies of the operations found on both sides, and the counts that did not pair. */
export interface PairedLatencies {
  /** Sandbox `receivedAt` minus the gateway's acknowledgement, in ms, one per paired operation. */
  fromAcceptanceMs: number[];
  /** Sandbox `receivedAt` minus the client's send time, in ms, in the same order. */
  fromSendMs: number[];
  /** Acknowledged operations that the sandbox did not store. */
  missing: number;
  /** Stored operations with an id that was not acknowledged, such as warm-up operations. */
  unknown: number;
  /** Stored operations whose id was already paired; the first arrival counts. */
  repeated: number;
}

/**
 * Pairs each acknowledged operation with its first arrival at the sandbox
 * through the `bench_event_id` attribute. Operations without that attribute
 * are left out of every count.
 */
export function pairLatencies(
  acknowledged: ReadonlyMap<string, AcknowledgedOperation>,
  received: Iterable<ReceivedOperation>,
): PairedLatencies {
  const result: PairedLatencies = {
    fromAcceptanceMs: [],
    fromSendMs: [],
    missing: 0,
    unknown: 0,
    repeated: 0,
  };
  const paired = new Set<string>();
  for (const operation of received) {
    const id = operation.attributes?.[EVENT_ID_ATTRIBUTE];
    if (typeof id !== 'string') {
      continue;
    }
    const sent = acknowledged.get(id);
    if (sent === undefined) {
      result.unknown += 1;
      continue;
    }
    if (paired.has(id)) {
      result.repeated += 1;
      continue;
    }
    paired.add(id);
    result.fromAcceptanceMs.push(operation.receivedAt - sent.acknowledgedAt);
    result.fromSendMs.push(operation.receivedAt - sent.sentAt);
  }
  result.missing = acknowledged.size - paired.size;
  return result;
}

/** Percentiles of a set of latencies in ms, and the share at or under a target. */
export interface TargetedLatency {
  count: number;
  p50: number;
  p99: number;
  max: number;
  /** Share of the latencies at or under the target, 0 to 1, rounded to 4 digits; 0 when there are none. */
  shareWithinTarget: number;
  /** Latencies above the target, because a share rounded to 1 can hide a few. */
  overTarget: number;
}

/** Summarizes latencies in ms with nearest-rank percentiles. */
export function summarizeAgainstTarget(
  values: readonly number[],
  targetMs: number,
): TargetedLatency {
  const sorted = Float64Array.from(values).sort();
  let within = 0;
  for (const value of sorted) {
    if (value <= targetMs) {
      within += 1;
    }
  }
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50), 1),
    p99: round(percentile(sorted, 99), 1),
    max: sorted.length === 0 ? 0 : round(sorted[sorted.length - 1] ?? 0, 1),
    shareWithinTarget: sorted.length === 0 ? 0 : round(within / sorted.length, 4),
    overTarget: sorted.length - within,
  };
}

/** Returns the nearest-rank latency at each percent from 0 to 100 in steps of `step`, plus 99 and 99.9. */
export function latencyCurve(
  values: readonly number[],
  step = 5,
): { percent: number; ms: number }[] {
  const sorted = Float64Array.from(values).sort();
  const percents = new Set<number>();
  for (let percent = 0; percent <= 100; percent += step) {
    percents.add(percent);
  }
  percents.add(99);
  percents.add(99.9);
  return [...percents]
    .sort((a, b) => a - b)
    .map((percent) => ({ percent, ms: round(percentile(sorted, percent), 1) }));
}

/** Cumulative counts of a Prometheus histogram: upper bound in seconds to observations at or under it. */
export type HistogramBuckets = Map<number, number>;

/**
 * Reads the `<name>_bucket` lines of one unlabelled histogram from the
 * Prometheus text format. The `+Inf` bucket is stored under Infinity.
 */
export function parseHistogram(text: string, name: string): HistogramBuckets {
  const buckets: HistogramBuckets = new Map();
  const pattern = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`);
  for (const line of text.split('\n')) {
    const match = pattern.exec(line.trim());
    if (match === null) {
      continue;
    }
    const bound = match[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(match[1]);
    buckets.set(bound, Number(match[2]));
  }
  return buckets;
}

/** The histogram's observations between two scrapes, read against a target. */
export interface HistogramWindow {
  observations: number;
  /** Share of observations at or under the largest bucket bound that does not pass the target. */
  shareWithinTarget: number;
  /** That bucket bound, in seconds. */
  targetBucketSeconds: number;
  /**
   * Upper bound of the bucket holding the median, in seconds: Infinity past
   * the last bound (null in JSON) and 0 without observations.
   */
  p50UpperBoundSeconds: number;
  p99UpperBoundSeconds: number;
}

/** Subtracts the `before` scrape from `after` and reads the target share and percentile buckets. */
export function histogramWindow(
  before: HistogramBuckets,
  after: HistogramBuckets,
  targetSeconds: number,
): HistogramWindow {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const observations = counts[counts.length - 1] ?? 0;
  let targetIndex = -1;
  for (const [index, bound] of bounds.entries()) {
    if (bound <= targetSeconds + 1e-9) {
      targetIndex = index;
    }
  }
  const upperBound = (share: number) => {
    if (observations === 0) {
      return 0;
    }
    const rank = Math.ceil(share * observations);
    const index = counts.findIndex((count) => count >= rank);
    return index === -1 ? Number.POSITIVE_INFINITY : (bounds[index] ?? Number.POSITIVE_INFINITY);
  };
  const within = targetIndex === -1 ? 0 : (counts[targetIndex] ?? 0);
  return {
    observations,
    shareWithinTarget: observations === 0 ? 0 : round(within / observations, 4),
    targetBucketSeconds: targetIndex === -1 ? 0 : (bounds[targetIndex] ?? 0),
    p50UpperBoundSeconds: upperBound(0.5),
    p99UpperBoundSeconds: upperBound(0.99),
  };
}
