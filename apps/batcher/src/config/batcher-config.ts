import { DEFAULT_TRACK_LIMITS } from '@cio-pipeline/schemas';
import { EnvReader } from '@cio-pipeline/runtime';
import { readKafkaSettings, type KafkaSettings } from '@cio-pipeline/kafka';

export const BATCHER_CONFIG = Symbol('BATCHER_CONFIG');

export interface BatcherConfig {
  host: string;
  port: number;
  groupId: string;
  /** Largest `/api/v2/batch` body written, in bytes. */
  maxBatchBytes: number;
  /** Largest single operation, in bytes; larger ones are dead-lettered. */
  maxOperationBytes: number;
  /** How long a workspace's first buffered operation waits for the batch to fill. */
  lingerMs: number;
  /** Most batches of one workspace filled at once, each for a disjoint set of people. */
  maxLanes: number;
  /** Buffered and unwritten bytes past which consumption pauses. */
  maxBufferedBytes: number;
  partitionsConsumedConcurrently: number;
  kafka: KafkaSettings;
}

export function readBatcherConfig(environment: NodeJS.ProcessEnv = process.env): BatcherConfig {
  const env = new EnvReader(environment);
  const config: BatcherConfig = {
    host: env.string('BATCHER_HOST', '127.0.0.1'),
    port: env.number('BATCHER_PORT', 3001, { min: 0, max: 65_535 }),
    groupId: env.string('BATCHER_GROUP_ID', 'cio-batcher'),
    maxBatchBytes: env.number('CIO_MAX_BATCH_BYTES', DEFAULT_TRACK_LIMITS.maxBatchBytes, {
      min: 1024,
    }),
    maxOperationBytes: env.number(
      'CIO_MAX_OPERATION_BYTES',
      DEFAULT_TRACK_LIMITS.maxOperationBytes,
      {
        min: 256,
      },
    ),
    lingerMs: env.number('BATCHER_LINGER_MS', 250, { min: 0, max: 60_000 }),
    maxLanes: env.number('BATCHER_MAX_LANES', 1, { min: 1, max: 64 }),
    maxBufferedBytes: env.number('BATCHER_MAX_BUFFERED_BYTES', 64 * 1024 * 1024, {
      min: 1024 * 1024,
    }),
    partitionsConsumedConcurrently: env.number('BATCHER_PARTITIONS_CONCURRENTLY', 4, { min: 1 }),
    kafka: readKafkaSettings(env, 'cio-batcher'),
  };
  if (config.maxOperationBytes + 16 > config.maxBatchBytes) {
    env.report(
      'CIO_MAX_OPERATION_BYTES must leave room in CIO_MAX_BATCH_BYTES for the batch envelope',
    );
  }
  env.done();
  return config;
}
