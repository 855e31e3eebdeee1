import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@cio-pipeline/health';
import type { LimiterState } from '@cio-pipeline/limiter';

const registers = [metricsRegistry];

export const senderMetrics = {
  requests: new Counter({
    name: 'cio_sender_requests_total',
    help: 'Requests to Customer.io, by workspace and HTTP status (0 when no response came)',
    labelNames: ['workspace', 'status'],
    registers,
  }),
  throttled: new Counter({
    name: 'cio_sender_throttled_total',
    help: '429 responses from Customer.io, by workspace',
    labelNames: ['workspace'],
    registers,
  }),
  retries: new Counter({
    name: 'cio_sender_retries_total',
    help: 'Requests sent again after a failure, by workspace and reason',
    labelNames: ['workspace', 'reason'],
    registers,
  }),
  deadLetters: new Counter({
    name: 'cio_sender_dead_letters_total',
    help: 'Operations dead-lettered by the sender, by workspace and reason',
    labelNames: ['workspace', 'reason'],
    registers,
  }),
  delivered: new Counter({
    name: 'cio_sender_operations_delivered_total',
    help: 'Operations Customer.io accepted, by workspace',
    labelNames: ['workspace'],
    registers,
  }),
  requestBytes: new Histogram({
    name: 'cio_sender_request_bytes',
    help: 'Bytes of each /api/v2/batch body sent',
    buckets: [1024, 16_384, 65_536, 131_072, 262_144, 393_216, 460_800, 486_400, 512_000],
    registers,
  }),
  requestOperations: new Histogram({
    name: 'cio_sender_request_operations',
    help: 'Operations in each /api/v2/batch body sent',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 4000],
    registers,
  }),
  deliveryLatency: new Histogram({
    name: 'cio_delivery_latency_seconds',
    help: "From the gateway accepting a batch's oldest operation to Customer.io's 2xx",
    // 0.3 to 0.45 s resolve the target of the batcher's default linger (250 ms) + 200 ms.
    buckets: [0.05, 0.1, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 1, 2, 5, 10, 30, 60, 300, 900],
    registers,
  }),
};

/** Reports each workspace's limiter queue and rate whenever Prometheus scrapes. */
export function registerLimiterGauges(states: () => Record<string, LimiterState>): void {
  new Gauge({
    name: 'cio_sender_limiter_queued',
    help: 'Requests waiting in the workspace limiter',
    labelNames: ['workspace'],
    registers,
    collect() {
      for (const [workspace, state] of Object.entries(states())) {
        this.set({ workspace }, state.queued);
      }
    },
  });
  new Gauge({
    name: 'cio_sender_limiter_rate',
    help: 'Requests per second the workspace limiter allows now',
    labelNames: ['workspace'],
    registers,
    collect() {
      for (const [workspace, state] of Object.entries(states())) {
        this.set({ workspace }, state.rate);
      }
    },
  });
}
