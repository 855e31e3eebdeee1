import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Admin, EachBatchPayload, Kafka } from 'kafkajs';
import { Topics } from '@cio-pipeline/schemas';
import {
  brokersFromEnv,
  createTopic,
  RecordingLogger,
  sleep,
  testKafka,
  uniquePrefix,
} from '../testing/test-broker';
import { BatchContext, KafkaBatchServer } from './batch-server';
import { PartitionOffsets } from './offset-tracker';

jest.setTimeout(30_000);

const PARTITIONS = 3;
const MESSAGES = 60;

/** What the handler received: message values and batch sizes, shared with the test. */
const received = { values: [] as string[], batchSizes: [] as number[] };

@Controller()
class RecordingController {
  private readonly offsets = new Map<number, PartitionOffsets>();

  @EventPattern(Topics.operations)
  async onBatch(@Payload() payload: EachBatchPayload, @Ctx() context: BatchContext): Promise<void> {
    const { batch } = payload;
    let offsets = this.offsets.get(batch.partition);
    if (offsets === undefined) {
      offsets = new PartitionOffsets();
      this.offsets.set(batch.partition, offsets);
    }
    for (const message of batch.messages) {
      offsets.track(Number(message.offset));
      received.values.push(message.value?.toString() ?? '');
    }
    received.batchSizes.push(batch.messages.length);
    // Complete out of order: the committable offset must wait for the first message.
    for (const message of [...batch.messages].reverse()) {
      offsets.complete(Number(message.offset));
    }
    const committable = offsets.committable();
    if (committable !== undefined) {
      await context.consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(committable) },
      ]);
    }
  }
}

@Module({ controllers: [RecordingController] })
class RecordingModule {}

describe.each([1, 3])('KafkaBatchServer with %i consumer(s)', (consumers) => {
  let testClient: Kafka;
  let admin: Admin;
  let adminConnected = false;
  let topic: string;
  let groupId: string;
  let app: INestMicroservice | undefined;
  let server: KafkaBatchServer;
  const joins: Record<string, number[]>[] = [];

  beforeAll(async () => {
    received.values = [];
    received.batchSizes = [];
    const brokers = brokersFromEnv();
    testClient = testKafka(brokers);
    admin = testClient.admin();
    await admin.connect();
    adminConnected = true;
    const prefix = uniquePrefix();
    topic = `${prefix}${Topics.operations}`;
    groupId = `${prefix}group`;
    await createTopic(admin, topic, PARTITIONS);
    server = new KafkaBatchServer({
      kafka: testKafka(brokers),
      groupId,
      topics: [{ name: topic, pattern: Topics.operations }],
      partitionsConsumedConcurrently: PARTITIONS,
      consumers,
      consumer: { maxWaitTimeInMs: 100 },
      logger: new RecordingLogger(),
    });
    server.onGroupJoin((assignment) => joins.push(assignment));
  });

  afterAll(async () => {
    // Without a broker, beforeAll failed and there is nothing to clean up.
    if (!adminConnected) {
      return;
    }
    await app?.close();
    await admin.deleteTopics({ topics: [topic] });
    await admin.deleteGroups([groupId]);
    await admin.disconnect();
  });

  it('hands batches to the handler and commits', async () => {
    const producer = testClient.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: Array.from({ length: MESSAGES }, (_, i) => ({
        key: `person-${i % 7}`,
        value: `message-${i}`,
      })),
    });
    await producer.disconnect();

    app = await NestFactory.createMicroservice(RecordingModule, {
      strategy: server,
      logger: false,
    });
    await app.listen();

    const highWatermarks = await admin.fetchTopicOffsets(topic);
    const expected = Object.fromEntries(
      highWatermarks.map((partition) => [partition.partition, partition.high]),
    );
    let committed: Record<number, string> = {};
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      committed = Object.fromEntries(
        (offsets?.partitions ?? []).map((partition) => [partition.partition, partition.offset]),
      );
      if (JSON.stringify(committed) === JSON.stringify(expected)) {
        break;
      }
      await sleep(100);
    }

    expect(committed).toEqual(expected);
    expect(received.values.sort()).toEqual(
      Array.from({ length: MESSAGES }, (_, i) => `message-${i}`).sort(),
    );
    expect(received.batchSizes.some((size) => size > 1)).toBe(true);
    const state = server.state();
    expect(state.connected).toBe(true);
    expect(state.crashed).toBeUndefined();
    expect(state.lastBatchAt).toEqual(expect.any(Number));
    expect([...(state.assignment[topic] ?? [])].sort()).toEqual([0, 1, 2]);
    expect(server.unwrap()).toHaveLength(consumers);
    // Every join reports the partitions of all consumers; the last one has them all.
    expect(joins.at(-1)?.[topic]).toEqual([0, 1, 2]);
  });
});

describe('KafkaBatchServer options', () => {
  it.each([0, 1.5, -1])('rejects %p consumers', (consumers) => {
    expect(
      () =>
        new KafkaBatchServer({
          kafka: testKafka(['127.0.0.1:1']),
          groupId: 'unused',
          topics: [],
          partitionsConsumedConcurrently: 1,
          consumers,
          logger: new RecordingLogger(),
        }),
    ).toThrow(`invalid consumers ${consumers}: expected a whole number from 1`);
  });
});
