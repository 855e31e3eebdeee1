import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { EncodedCall } from './call-pool';
import type { TrackApiCall } from '../workload/generator';
import {
  round,
  summarizeLatencies,
  Timeline,
  type LatencySummary,
  type TimelinePoint,
} from './stats';

/** Results of one load run. Rates and latencies cover the measured window only. */
export interface LoadResult {
  label: string;
  /** Length of the measured window, after the warm-up. */
  seconds: number;
  /** Requests that got a 2xx response in the window. */
  requests: number;
  /** Operations in those requests. */
  events: number;
  requestsPerSecond: number;
  eventsPerSecond: number;
  /** Latency of the 2xx responses in the window. */
  latency: LatencySummary;
  /** Responses that were not 2xx, and network errors, during the whole run. */
  errors: number;
  /** Responses by status during the whole run; `0` counts network errors. */
  statuses: Record<string, number>;
  /** Network and client errors by message. */
  errorMessages: Record<string, number>;
  /** Operations in every 2xx response, warm-up included. */
  acknowledgedEvents: number;
  /** Calls an open-loop run skipped because `maxInFlight` calls were waiting. */
  dropped: number;
  timeline: TimelinePoint[];
}

export interface LoadProgress {
  label: string;
  elapsedSeconds: number;
  requests: number;
  events: number;
  errors: number;
}

/** Result of one call of a load loop. */
export interface Outcome {
  /** HTTP status, 200 for a successful non-HTTP task, 0 for a network or client error. */
  status: number;
  /** Operations the call carried. */
  operations: number;
  /** Message of a network or client error. */
  error?: string;
}

interface LoopOptions {
  label: string;
  onProgress?: (progress: LoadProgress) => void;
}

export interface ClosedLoopOptions extends LoopOptions {
  /** Calls in flight at all times. */
  concurrency: number;
  warmupMs: number;
  /** The measured window after the warm-up; the run stops at its end. */
  durationMs: number;
  /** Stops earlier, once this many operations were acknowledged. */
  stopAfterEvents?: number;
}

export interface OpenLoopOptions extends LoopOptions {
  /** Calls started per second, whatever the response times. */
  ratePerSecond: number;
  durationMs: number;
  /** Calls in flight past which new ones are skipped and counted as dropped. */
  maxInFlight: number;
}

/** Target of HTTP load: the server, the headers and the calls to send. */
export interface HttpTarget {
  /** Scheme, host and port, such as `http://127.0.0.1:3000`. */
  origin: string;
  /** Request headers besides `content-type: application/json`. */
  headers: Record<string, string>;
  next: () => TrackApiCall | EncodedCall;
}

const REQUEST_TIMEOUT_MS = 30_000;
const PROGRESS_INTERVAL_MS = 2000;

/**
 * Runs a closed loop: `concurrency` workers each run a task, wait for it and
 * run the next, until the duration ends. Throughput is what the target and
 * this process sustain together.
 */
export async function runClosedLoopTasks(
  options: ClosedLoopOptions,
  task: () => Promise<Outcome>,
): Promise<LoadResult> {
  const recorder = new Recorder(options, options.warmupMs, options.durationMs);
  const limit = options.stopAfterEvents ?? Number.POSITIVE_INFINITY;
  const worker = async () => {
    while (performance.now() < recorder.endAt && recorder.acknowledgedEvents < limit) {
      await timed(recorder, task);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    recorder.stop();
  }
  return recorder.result();
}

/** Runs a closed loop of HTTP calls over an undici Pool with one connection per worker. */
export async function runClosedLoop(
  options: ClosedLoopOptions,
  target: HttpTarget,
): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: options.concurrency, pipelining: 1 });
  try {
    return await runClosedLoopTasks(options, () => sendCall(pool, target));
  } finally {
    await pool.close();
  }
}

/**
 * Runs an open loop that starts `ratePerSecond` calls per second for the
 * duration, like an arrival-rate executor, so the offered load does not fall
 * when responses slow down. Calls past `maxInFlight` are dropped and counted.
 */
export async function runOpenLoop(
  options: OpenLoopOptions,
  target: HttpTarget,
): Promise<LoadResult> {
  const pool = new Pool(target.origin, { connections: options.maxInFlight, pipelining: 1 });
  const recorder = new Recorder(options, 0, options.durationMs);
  const inFlight = new Set<Promise<void>>();
  let started = 0;
  try {
    while (performance.now() < recorder.endAt) {
      const elapsedMs = performance.now() - recorder.startAt;
      const due = Math.floor((elapsedMs * options.ratePerSecond) / 1000);
      while (started < due) {
        started += 1;
        if (inFlight.size >= options.maxInFlight) {
          recorder.dropped += 1;
          continue;
        }
        const call: Promise<void> = timed(recorder, () => sendCall(pool, target)).finally(() =>
          inFlight.delete(call),
        );
        inFlight.add(call);
      }
      await sleep(10);
    }
    await Promise.all(inFlight);
  } finally {
    recorder.stop();
    await pool.close();
  }
  return recorder.result();
}

async function timed(recorder: Recorder, task: () => Promise<Outcome>): Promise<void> {
  const sentAt = performance.now();
  const outcome = await task();
  recorder.record(sentAt, performance.now(), outcome);
  if (outcome.status === 0) {
    // A refused or reset connection fails at once; the pause keeps the loop from spinning.
    await sleep(50);
  }
}

async function sendCall(pool: Pool, target: HttpTarget): Promise<Outcome> {
  const call = target.next();
  try {
    const response = await pool.request({
      method: call.method,
      path: call.path,
      body: call.body,
      headers: { ...target.headers, 'content-type': 'application/json' },
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    await response.body.dump();
    return { status: response.statusCode, operations: call.operations };
  } catch (error) {
    return { status: 0, operations: call.operations, error: (error as Error).message };
  }
}

/** Counts responses, keeps latencies of the measured window and prints progress. */
class Recorder {
  readonly startAt = performance.now();
  readonly measureFrom: number;
  readonly endAt: number;
  acknowledgedEvents = 0;
  dropped = 0;
  private stoppedAt: number | undefined;
  private readonly latencies: number[] = [];
  private readonly statuses: Record<string, number> = {};
  private readonly errorMessages: Record<string, number> = {};
  private readonly timeline = new Timeline(this.startAt);
  private windowRequests = 0;
  private windowEvents = 0;
  private totalRequests = 0;
  private errors = 0;
  private readonly progressTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: LoopOptions,
    warmupMs: number,
    durationMs: number,
  ) {
    this.measureFrom = this.startAt + warmupMs;
    this.endAt = this.measureFrom + durationMs;
    const report = options.onProgress;
    if (report !== undefined) {
      this.progressTimer = setInterval(() => {
        report({
          label: options.label,
          elapsedSeconds: (performance.now() - this.startAt) / 1000,
          requests: this.totalRequests,
          events: this.acknowledgedEvents,
          errors: this.errors,
        });
      }, PROGRESS_INTERVAL_MS);
    }
  }

  record(sentAt: number, doneAt: number, outcome: Outcome): void {
    const { status, operations } = outcome;
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    this.totalRequests += 1;
    if (outcome.error !== undefined) {
      this.errorMessages[outcome.error] = (this.errorMessages[outcome.error] ?? 0) + 1;
    }
    const ok = status >= 200 && status < 300;
    if (!ok) {
      this.errors += 1;
      return;
    }
    const latencyMs = doneAt - sentAt;
    this.acknowledgedEvents += operations;
    if (doneAt > this.endAt) {
      // Responses after the end would form a last, partial second in the timeline.
      return;
    }
    this.timeline.record(doneAt, operations, latencyMs);
    if (doneAt >= this.measureFrom) {
      this.windowRequests += 1;
      this.windowEvents += operations;
      this.latencies.push(latencyMs);
    }
  }

  stop(): void {
    clearInterval(this.progressTimer);
    this.stoppedAt ??= performance.now();
  }

  result(): LoadResult {
    const windowEnd = Math.min(this.endAt, this.stoppedAt ?? performance.now());
    const seconds = Math.max(0.001, (windowEnd - this.measureFrom) / 1000);
    return {
      label: this.options.label,
      seconds: round(seconds, 2),
      requests: this.windowRequests,
      events: this.windowEvents,
      requestsPerSecond: round(this.windowRequests / seconds, 1),
      eventsPerSecond: round(this.windowEvents / seconds, 1),
      latency: roundLatency(summarizeLatencies(this.latencies)),
      errors: this.errors,
      statuses: this.statuses,
      errorMessages: this.errorMessages,
      acknowledgedEvents: this.acknowledgedEvents,
      dropped: this.dropped,
      timeline: this.timeline.points(),
    };
  }
}

export function roundLatency(latency: LatencySummary): LatencySummary {
  return {
    count: latency.count,
    mean: round(latency.mean, 2),
    p50: round(latency.p50, 2),
    p99: round(latency.p99, 2),
    max: round(latency.max, 2),
  };
}
