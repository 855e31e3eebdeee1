import type { Admin, Kafka, Producer } from 'kafkajs';
import { EnvReader } from '@cio-pipeline/runtime';
import {
  brokersFromEnv,
  createTopic,
  readableCount,
  readMessages,
  RecordingLogger,
  testKafka,
  uniquePrefix,
} from '../testing/test-broker';
import { createKafka } from './client';
import { createIdempotentProducer } from './producer';
import { readKafkaSettings } from './settings';

jest.setTimeout(60_000);

const SENDS = 20;
const MESSAGES_PER_SEND = 500;
const KEYS = 60;

describe('createIdempotentProducer', () => {
  let testClient: Kafka;
  let admin: Admin;
  let adminConnected = false;
  let producer: Producer | undefined;
  let topic: string;

  beforeAll(async () => {
    const brokers = brokersFromEnv();
    testClient = testKafka(brokers);
    admin = testClient.admin();
    await admin.connect();
    adminConnected = true;
    topic = `${uniquePrefix()}spike`;
    await createTopic(admin, topic, 3);
  });

  afterAll(async () => {
    // Without a broker, beforeAll failed and there is nothing to clean up.
    if (!adminConnected) {
      return;
    }
    await producer?.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('survives a spike of concurrent sends', async () => {
    const logger = new RecordingLogger();
    const env = new EnvReader({ KAFKA_BROKERS: brokersFromEnv().join(',') });
    producer = createIdempotentProducer(createKafka(readKafkaSettings(env, 'spike-test'), logger));
    await producer.connect();
    const connected = producer;

    const results = await Promise.allSettled(
      Array.from({ length: SENDS }, (_, send) =>
        connected.send({
          topic,
          acks: -1,
          messages: Array.from({ length: MESSAGES_PER_SEND }, (_, i) => ({
            key: `person-${(send * MESSAGES_PER_SEND + i) % KEYS}`,
            value: `${send}:${i}`,
          })),
        }),
      ),
    );

    const failures = results.flatMap((result) =>
      result.status === 'rejected' ? [String(result.reason)] : [],
    );
    expect(failures).toEqual([]);
    const sequenceErrors = logger.entries.filter((entry) =>
      /SEQUENCE/i.test(JSON.stringify(entry.message)),
    );
    expect(sequenceErrors).toEqual([]);

    const total = SENDS * MESSAGES_PER_SEND;
    // The high watermarks count what was written, so a duplicate would show here.
    expect(await readableCount(admin, topic)).toBe(total);
    const read = await readMessages(testClient, topic, total, 40_000);
    expect(read).toHaveLength(total);
    const seen = new Map<string, number>();
    for (const entry of read) {
      seen.set(entry.value, (seen.get(entry.value) ?? 0) + 1);
    }
    expect(seen.size).toBe(total);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);

    // Within one send, each key's messages keep the order of the send.
    const positions = new Map<string, number[]>();
    for (const entry of read) {
      const [send = '', position = ''] = entry.value.split(':');
      const group = `${entry.key ?? ''} in send ${send}`;
      positions.set(group, [...(positions.get(group) ?? []), Number(position)]);
    }
    const unordered = [...positions].filter(([, list]) =>
      list.some((position, i) => i > 0 && position <= (list[i - 1] ?? -1)),
    );
    expect(unordered).toEqual([]);
  });
});
