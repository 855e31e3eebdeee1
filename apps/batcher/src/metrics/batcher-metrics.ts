import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '@cio-pipeline/health';

const registers = [metricsRegistry];

export const batcherMetrics = {
  batches: new Counter({
    name: 'cio_batcher_batches_total',
    help: 'Batches written to the batches topic, by workspace',
    labelNames: ['workspace'],
    registers,
  }),
  batchBytes: new Histogram({
    name: 'cio_batcher_batch_bytes',
    help: 'Bytes of each /api/v2/batch body written',
    buckets: [1024, 16_384, 65_536, 131_072, 262_144, 393_216, 460_800, 486_400, 512_000],
    registers,
  }),
  batchOperations: new Histogram({
    name: 'cio_batcher_batch_operations',
    help: 'Operations in each batch written',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2000, 4000],
    registers,
  }),
  lanes: new Gauge({
    name: 'cio_batcher_lanes',
    help: 'Batches of a workspace filled at once, each for a disjoint set of people',
    labelNames: ['workspace'],
    registers,
  }),
  deadLetters: new Counter({
    name: 'cio_batcher_dead_letters_total',
    help: 'Operations the batcher dead-lettered, by reason',
    labelNames: ['reason'],
    registers,
  }),
};
