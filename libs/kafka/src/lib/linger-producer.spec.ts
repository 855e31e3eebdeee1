import { createServer } from 'node:net';
import type { Admin, Kafka, Message, Producer } from 'kafkajs';
import { EnvReader } from '@cio-pipeline/runtime';
import {
  brokersFromEnv,
  createTopic,
  readableCount,
  readMessages,
  RecordingLogger,
  sleep,
  testKafka,
  uniquePrefix,
} from '../testing/test-broker';
import { createKafka } from './client';
import { KafkaUnavailableError, ProducerOverloadedError } from './errors';
import {
  combineMessages,
  LingerProducer,
  type LingerOptions,
  type MessageCombiner,
} from './linger-producer';
import { createIdempotentProducer } from './producer';
import { readKafkaSettings } from './settings';

jest.setTimeout(30_000);

const OPTIONS: LingerOptions = {
  lingerMs: 20,
  maxRequestBytes: 1024 * 1024,
  maxPendingBytes: 16 * 1024 * 1024,
  sendTimeoutMs: 10_000,
};

describe('LingerProducer', () => {
  let brokers: string[];
  let testClient: Kafka;
  let admin: Admin;
  let adminConnected = false;
  let prefix: string;
  const producers: LingerProducer[] = [];

  beforeAll(async () => {
    brokers = brokersFromEnv();
    testClient = testKafka(brokers);
    admin = testClient.admin();
    await admin.connect();
    adminConnected = true;
    prefix = uniquePrefix();
  });

  afterAll(async () => {
    // Without a broker, beforeAll failed and there is nothing to clean up.
    if (!adminConnected) {
      return;
    }
    for (const producer of producers) {
      await producer.disconnect();
    }
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix));
    if (topics.length > 0) {
      await admin.deleteTopics({ topics });
    }
    await admin.disconnect();
  });

  /** Creates a kafkajs client with the settings the services use. */
  function serviceKafka(brokerList: string[], logger: RecordingLogger): Kafka {
    const env = new EnvReader({ KAFKA_BROKERS: brokerList.join(',') });
    return createKafka(readKafkaSettings(env, 'linger-producer-test'), logger);
  }

  async function newTopic(name: string, partitions: number): Promise<string> {
    const topic = `${prefix}${name}`;
    await createTopic(admin, topic, partitions);
    return topic;
  }

  /** Connects a LingerProducer over the project's idempotent producer and returns both. */
  async function connectedProducer(
    options: Partial<LingerOptions> = {},
  ): Promise<{ linger: LingerProducer; producer: Producer; logger: RecordingLogger }> {
    const logger = new RecordingLogger();
    const producer = createIdempotentProducer(serviceKafka(brokers, logger));
    const linger = new LingerProducer(producer, { ...OPTIONS, ...options }, logger);
    await linger.connect();
    producers.push(linger);
    return { linger, producer, logger };
  }

  function message(key: string, value: string): Message {
    return { key, value };
  }

  it('groups concurrent sends into one request', async () => {
    const topic = await newTopic('grouped', 1);
    const { linger, producer } = await connectedProducer();
    const sendBatch = jest.spyOn(producer, 'sendBatch');
    let produceRequests = 0;
    producer.on(producer.events.REQUEST, (event) => {
      if (event.payload.apiName === 'Produce') {
        produceRequests += 1;
      }
    });
    const calls = 50;

    await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        linger.send(topic, [message(`key-${i}`, `a-${i}`), message(`key-${i}`, `b-${i}`)]),
      ),
    );

    expect(sendBatch).toHaveBeenCalledTimes(1);
    expect(produceRequests).toBeGreaterThanOrEqual(1);
    expect(produceRequests).toBeLessThan(calls);
    const read = await readMessages(testClient, topic, 2 * calls);
    expect(read).toHaveLength(2 * calls);
    expect(new Set(read.map((entry) => entry.value)).size).toBe(2 * calls);
  });

  it('resolves once messages are readable', async () => {
    const topic = await newTopic('readable', 1);
    // Each send fills a request on its own, so the sends resolve one request at a time.
    const { linger } = await connectedProducer({ maxRequestBytes: 1024 });
    const value = 'x'.repeat(600);
    let resolved = 0;
    const readableAtResolve: { resolvedSoFar: number; readable: number }[] = [];

    await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        await linger.send(topic, [message(`key-${i}`, `${i}:${value}`)]);
        resolved += 1;
        const resolvedSoFar = resolved;
        readableAtResolve.push({ resolvedSoFar, readable: await readableCount(admin, topic) });
      }),
    );

    expect(readableAtResolve).toHaveLength(20);
    for (const { resolvedSoFar, readable } of readableAtResolve) {
      expect(readable).toBeGreaterThanOrEqual(resolvedSoFar);
    }
    const read = await readMessages(testClient, topic, 20);
    expect(read.map((entry) => Number(entry.value.split(':')[0])).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('keeps per-key order', async () => {
    const topic = await newTopic('ordered', 3);
    // Small requests, so one key's messages span many requests.
    const { linger, producer } = await connectedProducer({ maxRequestBytes: 2048 });
    const sendBatch = jest.spyOn(producer, 'sendBatch');
    const keys = Array.from({ length: 10 }, (_, i) => `person-${i}`);
    const perKey = 30;
    const padding = 'p'.repeat(100);

    const sends: Promise<void>[] = [];
    for (let sequence = 0; sequence < perKey; sequence++) {
      for (const key of keys) {
        sends.push(linger.send(topic, [message(key, `${key}:${sequence}:${padding}`)]));
      }
    }
    await Promise.all(sends);

    expect(sendBatch.mock.calls.length).toBeGreaterThan(5);
    const read = await readMessages(testClient, topic, keys.length * perKey);
    const sequences = new Map<string, number[]>();
    for (const entry of read) {
      const [key = '', sequence = ''] = entry.value.split(':');
      expect(entry.key).toBe(key);
      sequences.set(key, [...(sequences.get(key) ?? []), Number(sequence)]);
    }
    for (const key of keys) {
      expect({ key, sequences: sequences.get(key) }).toEqual({
        key,
        sequences: Array.from({ length: perKey }, (_, i) => i),
      });
    }
  });

  it('joins concurrent sends per partition', async () => {
    const topic = await newTopic('joined', 3);
    const { linger, producer } = await connectedProducer({
      combine: { ...JSON_ARRAY, maxBytes: 1024 },
    });
    const sendBatch = jest.spyOn(producer, 'sendBatch');
    const calls = 60;

    await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        linger.send(topic, [{ partition: i % 3, key: `key-${i}`, value: `"${i}"` }]),
      ),
    );

    // All 60 sends share one request, which carries one message per partition.
    expect(sendBatch).toHaveBeenCalledTimes(1);
    const read = await readMessages(testClient, topic, 3);
    expect(read).toHaveLength(3);
    const values = read.flatMap((entry) => {
      const parsed = JSON.parse(entry.value) as string | string[];
      return (Array.isArray(parsed) ? parsed : [parsed]).map(Number);
    });
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: calls }, (_, i) => i));
    for (const entry of read) {
      const parsed = JSON.parse(entry.value) as string | string[];
      const members = (Array.isArray(parsed) ? parsed : [parsed]).map(Number);
      expect(members.every((value) => value % 3 === entry.partition)).toBe(true);
      // Within a partition, the joined values keep the order of the sends.
      expect(members).toEqual([...members].sort((a, b) => a - b));
    }
  });

  it('rejects sends past maxPendingBytes', async () => {
    const topic = await newTopic('overloaded', 1);
    const { linger } = await connectedProducer({ lingerMs: 300, maxPendingBytes: 2000 });

    const first = linger.send(topic, [message('key', `first:${'a'.repeat(1494)}`)]);
    expect(linger.state().pendingBytes).toBe(1500);
    const second = linger.send(topic, [message('key', `second:${'b'.repeat(993)}`)]);

    await expect(second).rejects.toBeInstanceOf(ProducerOverloadedError);
    await expect(second).rejects.toThrow('1500 bytes waiting for Kafka, over the limit of 2000');
    await first;
    expect(linger.state().pendingBytes).toBe(0);
    await linger.send(topic, [message('key', `third:${'c'.repeat(994)}`)]);
    const read = await readMessages(testClient, topic, 2);
    expect(read.map((entry) => entry.value.split(':')[0])).toEqual(['first', 'third']);
    expect(await readableCount(admin, topic)).toBe(2);
  });

  it('rejects sends on a closed port', async () => {
    const port = await closedPort();
    const logger = new RecordingLogger();
    const producer = createIdempotentProducer(serviceKafka([`127.0.0.1:${port}`], logger));
    const sendTimeoutMs = 1500;
    const linger = new LingerProducer(producer, { ...OPTIONS, sendTimeoutMs }, logger);
    // No connect: with the services' retry settings, connecting to a closed port fails only
    // after about 20 s of retries, so the producer stays unconnected, as during those retries.
    const startedAt = Date.now();

    const sent = linger.send(`${prefix}unreachable`, [message('key', 'value')]);

    await expect(sent).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(Date.now() - startedAt).toBeLessThanOrEqual(sendTimeoutMs + 200);
    expect(linger.state().connected).toBe(false);
    expect(linger.state().lastError).toEqual(expect.any(String));
    expect(linger.state().pendingBytes).toBe(0);
  });

  it('rejects a send Kafka does not acknowledge in time', async () => {
    // The broker does not auto-create topics, so kafkajs 2.2.4 retries the metadata of a
    // missing topic for about 2 s with these retry settings, and no acknowledgement comes.
    const { linger } = await connectedProducer({ sendTimeoutMs: 500 });
    const startedAt = Date.now();

    const sent = linger.send(`${prefix}missing`, [message('key', 'value')]);

    await expect(sent).rejects.toThrow(KafkaUnavailableError);
    await expect(sent).rejects.toThrow(/Kafka did not acknowledge within 500 ms/);
    expect(Date.now() - startedAt).toBeLessThan(1500);
  });

  it('drops a send that timed out in the queue', async () => {
    const topic = await newTopic('timed-out', 1);
    const { linger } = await connectedProducer({ lingerMs: 5, sendTimeoutMs: 500 });
    // The first request goes to a missing topic and stays in flight for about 2 s.
    const stuck = failureOf(linger.send(`${prefix}missing-too`, [message('key', 'stuck')]));
    await sleep(50);
    const queued = failureOf(linger.send(topic, [message('key', 'queued')]));

    expect(await queued).toBeInstanceOf(KafkaUnavailableError);
    expect(await stuck).toBeInstanceOf(KafkaUnavailableError);
    // Wait until the stuck request ends and the queue drains.
    await linger.disconnect();
    expect(await readableCount(admin, topic)).toBe(0);
  });
});

/** Returns the error `promise` rejects with, or undefined when it resolves. */
async function failureOf(promise: Promise<void>): Promise<unknown> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Returns a loopback port that nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

const JSON_ARRAY: MessageCombiner = {
  maxBytes: 64,
  join: (values) => `[${values.join(',')}]`,
};

describe('combineMessages', () => {
  const messageAt = (partition: number, value: string, key = `key-${value}`): Message => ({
    partition,
    key,
    value,
  });

  it('joins each partition in order', () => {
    const combined = combineMessages(
      [messageAt(0, '1'), messageAt(1, '2'), messageAt(0, '3'), messageAt(1, '4')],
      JSON_ARRAY,
    );
    expect(combined).toEqual([
      { partition: 0, key: null, value: '[1,3]' },
      { partition: 1, key: null, value: '[2,4]' },
    ]);
  });

  it('keeps a lone message as it is', () => {
    const lone = messageAt(2, '7');
    expect(
      combineMessages([messageAt(0, '1'), lone, messageAt(0, '3')], JSON_ARRAY),
    ).toContainEqual(lone);
  });

  it('starts a new message at maxBytes', () => {
    // Each value is 20 bytes, so two of them with brackets and a comma take 43 bytes,
    // three take 64, and a fourth does not fit.
    const value = (n: number) => `"${String(n).padStart(18, '0')}"`;
    const messages = [1, 2, 3, 4, 5].map((n) => messageAt(0, value(n)));
    const combined = combineMessages(messages, JSON_ARRAY);
    expect(combined.map((message) => message.value)).toEqual([
      `[${value(1)},${value(2)},${value(3)}]`,
      `[${value(4)},${value(5)}]`,
    ]);
    for (const message of combined) {
      expect(Buffer.byteLength(message.value as string)).toBeLessThanOrEqual(JSON_ARRAY.maxBytes);
    }
  });

  it('sends a message over maxBytes alone', () => {
    const big = messageAt(0, `"${'x'.repeat(100)}"`);
    const combined = combineMessages([messageAt(0, '1'), big, messageAt(0, '2')], JSON_ARRAY);
    expect(combined).toEqual([messageAt(0, '1'), big, messageAt(0, '2')]);
  });

  it('leaves a topic alone when one message cannot join', () => {
    const cases: Message[] = [
      { key: 'no-partition', value: '1' },
      { partition: 0, key: 'buffer', value: Buffer.from('1') },
      { partition: 0, key: 'headers', value: '1', headers: { name: 'value' } },
    ];
    for (const unjoinable of cases) {
      const messages = [messageAt(0, '1'), unjoinable, messageAt(0, '2')];
      expect(combineMessages(messages, JSON_ARRAY)).toBe(messages);
    }
  });
});
