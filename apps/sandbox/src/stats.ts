import type { Action } from './operations';
import { SlidingWindow } from './sliding-window';

/** Count, mean and maximum of a per-request figure. */
export interface Distribution {
  count: number;
  mean: number;
  max: number;
  total: number;
}

/** Counters of one workspace, or of all requests, as returned by `GET /__sandbox/stats`. */
export interface CountersView {
  /** Track API requests received, including rejected, hung and dropped ones. */
  requests: number;
  /** Responses sent, by HTTP status. Hung and dropped requests have none. */
  requestsByStatus: Record<string, number>;
  /** Requests that got no response because of the hang fault. */
  requestsHung: number;
  /** Requests whose connection was closed without a response because of the down fault. */
  requestsDropped: number;
  /** Operations stored, or counted when over retention. Duplicates and rejected operations are excluded. */
  operationsAccepted: number;
  operationsAcceptedByAction: Partial<Record<Action, number>>;
  /** Distinct event ids seen, whether from v1 or v2 calls. */
  uniqueEventIds: number;
  /** Events dropped because their id was seen before. */
  duplicatesDropped: number;
  /** Operations rejected by validation: v1 calls and v2 entities rejected with 400, and v2 batch items listed in a 207 response. */
  rejectedOperations: number;
  /** Most requests received in any sliding 1000 ms window. */
  maxRequestsPerSecond: number;
  /** Requests received in the last 1000 ms when the stats were read. */
  currentRequestsPerSecond: number;
  /**
   * Shortest time in ms in which the rate limit plus one requests arrived, or
   * null while unlimited or before that many arrived. Above 1000 means every
   * window held the limit, with the excess as the margin.
   */
  tightestSpanMs: number | null;
  /** `/api/v2/batch` requests that got a 200 or 207 response: body bytes and operations per request. */
  batches: { bytes: Distribution; operations: Distribution };
}

function distribution(count: number, total: number, max: number): Distribution {
  return { count, mean: count === 0 ? 0 : total / count, max, total };
}

/** Request and operation counters of one workspace, or of all requests. */
export class Counters {
  requests = 0;
  requestsHung = 0;
  requestsDropped = 0;
  operationsAccepted = 0;
  duplicatesDropped = 0;
  rejectedOperations = 0;
  maxRequestsPerSecond = 0;
  private readonly statuses = new Map<number, number>();
  private readonly actions = new Map<Action, number>();
  private readonly window = new SlidingWindow(1000);
  /** Arrival times of the last `limit + 1` requests, oldest at `recentHead`. */
  private recent = new Float64Array(0);
  private recentHead = 0;
  private recentSize = 0;
  private tightestSpanMs: number | null = null;
  private batchCount = 0;
  private batchBytesTotal = 0;
  private batchBytesMax = 0;
  private batchOperationsTotal = 0;
  private batchOperationsMax = 0;

  /** Counts a request that arrived at `now`, under a rate limit of `limit` per second (0 for unlimited). */
  recordArrival(now: number, limit = 0): void {
    this.requests += 1;
    this.window.add(now);
    const inWindow = this.window.count(now);
    if (inWindow > this.maxRequestsPerSecond) {
      this.maxRequestsPerSecond = inWindow;
    }
    this.recordSpan(now, limit);
  }

  /** Keeps the last `limit + 1` arrivals and the shortest time they took. */
  private recordSpan(now: number, limit: number): void {
    const capacity = limit <= 0 ? 0 : limit + 1;
    if (this.recent.length !== capacity) {
      // A changed limit starts a new series, and an unlimited workspace has none.
      this.recent = new Float64Array(capacity);
      this.recentHead = 0;
      this.recentSize = 0;
      this.tightestSpanMs = null;
    }
    if (capacity === 0) {
      return;
    }
    if (this.recentSize < capacity) {
      this.recent[(this.recentHead + this.recentSize) % capacity] = now;
      this.recentSize += 1;
    } else {
      this.recent[this.recentHead] = now;
      this.recentHead = (this.recentHead + 1) % capacity;
    }
    if (this.recentSize === capacity) {
      const span = now - (this.recent[this.recentHead] ?? now);
      if (this.tightestSpanMs === null || span < this.tightestSpanMs) {
        this.tightestSpanMs = span;
      }
    }
  }

  recordStatus(status: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }

  recordAccepted(action: Action): void {
    this.operationsAccepted += 1;
    this.actions.set(action, (this.actions.get(action) ?? 0) + 1);
  }

  recordBatch(bytes: number, operations: number): void {
    this.batchCount += 1;
    this.batchBytesTotal += bytes;
    this.batchBytesMax = Math.max(this.batchBytesMax, bytes);
    this.batchOperationsTotal += operations;
    this.batchOperationsMax = Math.max(this.batchOperationsMax, operations);
  }

  view(now: number, uniqueEventIds: number): CountersView {
    return {
      requests: this.requests,
      requestsByStatus: Object.fromEntries(
        [...this.statuses]
          .sort(([a], [b]) => a - b)
          .map(([status, count]) => [String(status), count]),
      ),
      requestsHung: this.requestsHung,
      requestsDropped: this.requestsDropped,
      operationsAccepted: this.operationsAccepted,
      operationsAcceptedByAction: Object.fromEntries(this.actions),
      uniqueEventIds,
      duplicatesDropped: this.duplicatesDropped,
      rejectedOperations: this.rejectedOperations,
      maxRequestsPerSecond: this.maxRequestsPerSecond,
      currentRequestsPerSecond: this.window.count(now),
      tightestSpanMs: this.tightestSpanMs,
      batches: {
        bytes: distribution(this.batchCount, this.batchBytesTotal, this.batchBytesMax),
        operations: distribution(
          this.batchCount,
          this.batchOperationsTotal,
          this.batchOperationsMax,
        ),
      },
    };
  }
}
