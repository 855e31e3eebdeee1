import type { LoggerService } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';

/*
 * Helpers for the integration tests of this library, which run against the
 * broker named by KAFKA_BROKERS. Nothing here is exported from the library.
 */

/** Returns the brokers of KAFKA_BROKERS, or throws so that the tests fail instead of skipping. */
export function brokersFromEnv(): string[] {
  const value = process.env['KAFKA_BROKERS'];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      'KAFKA_BROKERS is not set: these tests need a Kafka broker. Run `npm test`, which starts ' +
        'one, or start tools/kafka/kafka.sh and set KAFKA_BROKERS=127.0.0.1:<port>',
    );
  }
  return value.split(',').map((broker) => broker.trim());
}

/** Returns a topic prefix of its own for one test, so tests share no topic or group. */
export function uniquePrefix(): string {
  return `t-${randomBytes(5).toString('hex')}-`;
}

/** Creates a kafkajs client for the test's own admin and consumers, with kafkajs logs off. */
export function testKafka(brokers: string[]): Kafka {
  return new Kafka({
    clientId: 'kafka-lib-test',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
  });
}

export async function createTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
  });
}

/** Returns the sum of a topic's high watermarks, which is the count of messages a consumer can read. */
export async function readableCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
}

export interface ReadMessage {
  partition: number;
  offset: number;
  key: string | undefined;
  value: string;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning with a consumer group of its own until
 * `count` messages arrived, and returns them in the order of each partition.
 * Throws after `timeoutMs` with the count that did arrive.
 */
export async function readMessages(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ReadMessage[]> {
  // A short fetch wait, so that disconnecting does not wait out an empty fetch.
  const consumer = kafka.consumer({
    groupId: `reader-${randomBytes(5).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  const messages: ReadMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        messages.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString(),
          value: message.value?.toString() ?? '',
          headers: headersOf(message.headers),
        });
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (messages.length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms reading ${topic}: ${messages.length} of ${count} messages arrived`,
        );
      }
      await sleep(50);
    }
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

export function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) {
      result[name] = (Array.isArray(value) ? value.join(',') : value).toString();
    }
  }
  return result;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface LogEntry {
  level: 'log' | 'error' | 'warn' | 'debug';
  message: unknown;
}

/** A LoggerService that keeps its entries for the test to inspect and prints nothing. */
export class RecordingLogger implements LoggerService {
  readonly entries: LogEntry[] = [];

  log(message: unknown): void {
    this.entries.push({ level: 'log', message });
  }

  error(message: unknown): void {
    this.entries.push({ level: 'error', message });
  }

  warn(message: unknown): void {
    this.entries.push({ level: 'warn', message });
  }

  debug(message: unknown): void {
    this.entries.push({ level: 'debug', message });
  }

  /** Returns the entries of `level` whose message, serialized as JSON, contains `text`. */
  find(level: LogEntry['level'], text: string): LogEntry[] {
    return this.entries.filter(
      (entry) => entry.level === level && JSON.stringify(entry.message).includes(text),
    );
  }
}
