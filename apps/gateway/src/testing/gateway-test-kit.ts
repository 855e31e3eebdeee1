import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Consumer, type IHeaders } from 'kafkajs';
import {
  operationKey,
  parseOperationsMessage,
  type OperationEnvelope,
} from '@cio-pipeline/schemas';
import { waitUntil } from '@cio-pipeline/stack';
import { createGateway } from '../bootstrap';
import { readGatewayConfig, type GatewayConfig } from '../config/gateway-config';

/*
 * Helpers for the gateway's integration tests, which run the gateway in the
 * test process against the broker named by KAFKA_BROKERS. Nothing in the
 * gateway imports this file.
 */

/** Returns KAFKA_BROKERS, or throws so that the tests fail instead of skipping. */
export function brokersFromEnv(): string {
  const value = process.env['KAFKA_BROKERS'];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      'KAFKA_BROKERS is not set: these tests need a Kafka broker. Run `npm test`, which starts ' +
        'one, or start tools/kafka/kafka.sh and set KAFKA_BROKERS=127.0.0.1:<port>',
    );
  }
  return value;
}

/** Returns a topic prefix of its own for one test file, so files share no topic. */
export function uniquePrefix(): string {
  return `t-${randomBytes(5).toString('hex')}-`;
}

/** Reads the gateway settings from `env` alone, not from the process environment, with small topics and gRPC off. */
export function testGatewayConfig(env: Record<string, string>): GatewayConfig {
  return readGatewayConfig({
    GATEWAY_GRPC_PORT: '-1',
    KAFKA_OPERATIONS_PARTITIONS: '3',
    KAFKA_BATCHES_PARTITIONS: '1',
    KAFKA_DEAD_LETTERS_PARTITIONS: '1',
    ...env,
  });
}

/** Creates and initializes the gateway without listening, ready for `inject`. */
export async function initGateway(config: GatewayConfig): Promise<NestFastifyApplication> {
  const app = await createGateway(config);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** Waits until GET /health/ready returns 200, that is until the gateway can write to Kafka. */
export async function waitForReady(app: NestFastifyApplication, timeoutMs = 20_000): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  await waitUntil(
    'GET /health/ready to answer 200',
    async () => (await fastify.inject({ method: 'GET', url: '/health/ready' })).statusCode === 200,
    timeoutMs,
    100,
  );
}

export function basicAuth(siteId: string, apiKey: string): string {
  return `Basic ${Buffer.from(`${siteId}:${apiKey}`).toString('base64')}`;
}

/** One envelope read from the operations topic, with the message that carried it. */
export interface OperationMessage {
  /** The message's key, or for an envelope of a joined message the key it would have had alone. */
  key: string;
  partition: number;
  headers: Record<string, string>;
  /** The message value as it was stored. */
  raw: string;
  /** Envelopes the message carried: 1, or more when the producer joined concurrent requests. */
  joined: number;
  envelope: OperationEnvelope;
}

/** Parses an operations-topic message value: the envelopes of one call, or of concurrent calls. */
export function envelopesOf(value: string): OperationEnvelope[] {
  return parseOperationsMessage(value);
}

/** A consumer that reads a topic from the beginning and keeps every message. */
export class TopicReader {
  readonly messages: OperationMessage[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string, topic: string): Promise<TopicReader> {
    const kafka = new Kafka({
      clientId: 'gateway-test-reader',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    // A short fetch wait, so that stopping does not wait out an empty fetch.
    const consumer = kafka.consumer({
      groupId: `reader-${randomBytes(5).toString('hex')}`,
      maxWaitTimeInMs: 100,
    });
    const reader = new TopicReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        const raw = message.value?.toString() ?? '';
        const envelopes = envelopesOf(raw);
        for (const envelope of envelopes) {
          const first = envelope.operations[0];
          reader.messages.push({
            key:
              message.key?.toString() ??
              (first === undefined ? '' : operationKey(envelope.workspace, first)),
            partition,
            headers: headersOf(message.headers),
            raw,
            joined: envelopes.length,
            envelope,
          });
        }
        return Promise.resolve();
      },
    });
    return reader;
  }

  /** Messages written for the request with id `requestId`, read so far. */
  ofRequest(requestId: string): OperationMessage[] {
    return this.messages.filter((message) => message.envelope.requestId === requestId);
  }

  /** Waits until `count` messages of the request arrived and returns them. */
  waitForRequest(requestId: string, count: number): Promise<OperationMessage[]> {
    return this.waitFor(
      `request ${requestId}`,
      (message) => message.envelope.requestId === requestId,
      count,
    );
  }

  /** Waits until `count` messages match `predicate` and returns them. */
  async waitFor(
    what: string,
    predicate: (message: OperationMessage) => boolean,
    count: number,
    timeoutMs = 10_000,
  ): Promise<OperationMessage[]> {
    await waitUntil(
      `${count} Kafka messages of ${what}`,
      () => Promise.resolve(this.messages.filter(predicate).length >= count),
      timeoutMs,
      25,
    );
    return this.messages.filter(predicate);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) {
      result[name] = (Array.isArray(value) ? value.join(',') : value).toString();
    }
  }
  return result;
}

/** Deletes the topics of a test's prefix. */
export async function deleteTopics(brokers: string, prefix: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'gateway-test-admin',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) {
      await admin.deleteTopics({ topics });
    }
  } finally {
    await admin.disconnect();
  }
}
