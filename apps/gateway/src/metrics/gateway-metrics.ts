import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@cio-pipeline/health';

const registers = [metricsRegistry];

/**
 * Counts per label set, added to the counter when the registry collects it,
 * because prom-client hashes the labels on every `inc`: about 2% of the
 * gateway's main thread in a profile of single-event calls. Each label set
 * stays in the map, so the sets must be few.
 */
class PendingCounts<T extends string> {
  private readonly pending = new Map<string, { labels: Record<T, string>; count: number }>();

  /** Adds `count` to the label set of `key` and returns true, or returns false for a new key. */
  addToKnown(key: string, count: number): boolean {
    const entry = this.pending.get(key);
    if (entry === undefined) {
      return false;
    }
    entry.count += count;
    return true;
  }

  addNew(key: string, labels: Record<T, string>, count: number): void {
    this.pending.set(key, { labels, count });
  }

  /** Adds the pending counts to `counter` and resets them to 0. */
  flushInto(counter: Counter<T>): void {
    for (const entry of this.pending.values()) {
      if (entry.count > 0) {
        counter.inc(entry.labels, entry.count);
        entry.count = 0;
      }
    }
  }
}

const pendingRequests = new PendingCounts<'route' | 'status'>();
const pendingOperations = new PendingCounts<'workspace' | 'result'>();

export const gatewayMetrics = {
  requests: new Counter({
    name: 'cio_gateway_requests_total',
    help: 'HTTP responses sent, by route and status',
    labelNames: ['route', 'status'],
    registers,
    collect() {
      pendingRequests.flushInto(this);
    },
  }),
  operations: new Counter({
    name: 'cio_gateway_operations_total',
    help: 'Operations accepted into Kafka or rejected, by workspace',
    labelNames: ['workspace', 'result'],
    registers,
    collect() {
      pendingOperations.flushInto(this);
    },
  }),
  rejections: new Counter({
    name: 'cio_gateway_rejections_total',
    help: 'Rejected calls and batch items, by reason',
    labelNames: ['reason'],
    registers,
  }),
  produceLatency: new Histogram({
    name: 'cio_gateway_produce_latency_seconds',
    help: 'Time from a call reaching the producer to Kafka acknowledging it',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
};

/**
 * Counts one HTTP response. NOTE: `route` must be a route pattern or a fixed
 * name, never a request's URL, which would add a label set per URL.
 */
export function countResponse(route: string, status: number): void {
  const key = `${status} ${route}`;
  if (!pendingRequests.addToKnown(key, 1)) {
    pendingRequests.addNew(key, { route, status: String(status) }, 1);
  }
}

export type OperationResult = 'accepted' | 'rejected' | 'unavailable';

/** Counts operations of an authenticated workspace by result. */
export function countOperations(workspace: string, result: OperationResult, count: number): void {
  const key = `${result} ${workspace}`;
  if (!pendingOperations.addToKnown(key, count)) {
    pendingOperations.addNew(key, { workspace, result }, count);
  }
}
