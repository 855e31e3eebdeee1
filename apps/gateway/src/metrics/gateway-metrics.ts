import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@cio-pipeline/health';

const registers = [metricsRegistry];

export const gatewayMetrics = {
  requests: new Counter({
    name: 'cio_gateway_requests_total',
    help: 'HTTP responses sent, by route and status',
    labelNames: ['route', 'status'],
    registers,
  }),
  operations: new Counter({
    name: 'cio_gateway_operations_total',
    help: 'Operations accepted into Kafka or rejected, by workspace',
    labelNames: ['workspace', 'result'],
    registers,
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
