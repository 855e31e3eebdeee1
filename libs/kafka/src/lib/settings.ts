import { Topics, type TopicName } from '@cio-pipeline/schemas';
import type { EnvReader } from '@cio-pipeline/runtime';

export interface TopicSettings {
  /** The topic's name on the cluster: `KAFKA_TOPIC_PREFIX` followed by the pattern. */
  name: string;
  /** The topic's name without prefix, as handlers subscribe to it with `@EventPattern`. */
  pattern: TopicName;
  partitions: number;
  replicationFactor: number;
  retentionMs: number;
  /** The topic's `segment.bytes`, or undefined for the broker's default (1 GiB unless set). */
  segmentBytes: number | undefined;
}

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  topics: Record<keyof typeof Topics, TopicSettings>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Reads `KAFKA_BROKERS` and the topic settings. Partition counts bound how
 * many consumers of a group can share the work, and they cannot be lowered
 * later without moving keys between partitions, so they are set up front.
 */
export function readKafkaSettings(env: EnvReader, clientId: string): KafkaSettings {
  const brokers = env
    .string('KAFKA_BROKERS', '127.0.0.1:19092')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  for (const broker of brokers) {
    if (!/^[^:\s]+:\d{1,5}$/.test(broker)) {
      env.report(`KAFKA_BROKERS entry ${JSON.stringify(broker)} is invalid: expected host:port`);
    }
  }
  // A prefix keeps several pipelines (or test runs) apart on one cluster.
  const prefix = env.string('KAFKA_TOPIC_PREFIX', '');
  if (!/^[\w.-]*$/.test(prefix)) {
    env.report(
      `KAFKA_TOPIC_PREFIX=${JSON.stringify(prefix)} is invalid: use letters, digits, '.', '_' and '-'`,
    );
  }
  const replicationFactor = env.number('KAFKA_REPLICATION_FACTOR', 1, { min: 1, max: 7 });
  // Kafka's own bounds for segment.bytes: at least 1 MiB, at most a 32-bit int.
  const segmentBytes =
    env.optionalString('KAFKA_SEGMENT_BYTES') === undefined
      ? undefined
      : env.number('KAFKA_SEGMENT_BYTES', 0, { min: 1_048_576, max: 2_147_483_647 });
  const topic = (key: keyof typeof Topics, setting: string, partitions: number, days: number) => ({
    name: `${prefix}${Topics[key]}`,
    pattern: Topics[key],
    partitions: env.number(`${setting}_PARTITIONS`, partitions, { min: 1, max: 10_000 }),
    replicationFactor,
    retentionMs: env.number(`${setting}_RETENTION_MS`, days * DAY_MS, { min: 60_000 }),
    segmentBytes,
  });
  return {
    brokers,
    clientId: env.string('KAFKA_CLIENT_ID', clientId),
    topics: {
      operations: topic('operations', 'KAFKA_OPERATIONS', 12, 7),
      batches: topic('batches', 'KAFKA_BATCHES', 6, 7),
      deadLetters: topic('deadLetters', 'KAFKA_DEAD_LETTERS', 3, 30),
    },
  };
}
