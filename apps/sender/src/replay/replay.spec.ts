import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { DeadLetter, OperationEnvelope } from '@cio-pipeline/schemas';
import { replay } from './replay';

const brokers = process.env['KAFKA_BROKERS'];

function letter(workspace: string, person: string, reason: string): DeadLetter {
  return {
    workspace,
    operation: {
      type: 'person',
      action: 'identify',
      identifiers: { id: person },
      attributes: { a: 1 },
    },
    error: { reason, message: 'rejected' },
    attempts: 3,
    failedAt: Date.now(),
    stage: 'sender',
    source: { topic: 'batches', partition: 0, offset: '7' },
  };
}

describe('dead-letter replay', () => {
  const prefix = `t-replay-${randomBytes(4).toString('hex')}-`;
  const deadLetters = `${prefix}dead-letters`;
  const operations = `${prefix}operations`;
  let kafka: Kafka;

  beforeAll(async () => {
    if (brokers === undefined || brokers === '') {
      throw new Error('KAFKA_BROKERS is not set: run `npm test`, which starts a Kafka broker');
    }
    kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: deadLetters, numPartitions: 2 },
        { topic: operations, numPartitions: 1 },
      ],
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: deadLetters,
      messages: [
        { key: 'a', value: JSON.stringify(letter('site-a', 'p1', 'retries_exhausted')) },
        { key: 'b', value: JSON.stringify(letter('site-b', 'p2', 'retries_exhausted')) },
        { key: 'a', value: JSON.stringify(letter('site-a', 'p3', 'invalid')) },
        { key: 'x', value: 'not json at all' },
      ],
    });
    await producer.disconnect();
  });

  async function readOperations(): Promise<OperationEnvelope[]> {
    const admin = kafka.admin();
    await admin.connect();
    const [end] = await admin.fetchTopicOffsets(operations);
    await admin.disconnect();
    const total = Number(end?.offset ?? 0);
    const found: OperationEnvelope[] = [];
    if (total === 0) {
      return found;
    }
    const consumer = kafka.consumer({
      groupId: `${prefix}reader-${randomBytes(2).toString('hex')}`,
    });
    await consumer.connect();
    await consumer.subscribe({ topic: operations, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          found.push(JSON.parse(message.value?.toString() ?? '') as OperationEnvelope);
          if (found.length >= total) {
            resolve();
          }
          return Promise.resolve();
        },
      });
    });
    await consumer.disconnect();
    return found;
  }

  it('replays only what the filters select', async () => {
    const options = {
      groupId: `${prefix}replay`,
      workspace: 'site-a',
      reason: 'retries_exhausted',
      dryRun: false,
    };

    const counts = await replay(kafka, deadLetters, operations, options);

    expect(counts).toEqual({ read: 4, replayed: 1, skippedByFilter: 2, notReplayable: 1 });
    const envelopes = await readOperations();
    expect(envelopes).toHaveLength(1);
    expect(envelopes[0]?.workspace).toBe('site-a');
    expect(envelopes[0]?.operations[0]?.identifiers).toEqual({ id: 'p1' });
  });

  it('continues where the last run stopped', async () => {
    const options = {
      groupId: `${prefix}replay`,
      workspace: undefined,
      reason: undefined,
      dryRun: false,
    };

    const counts = await replay(kafka, deadLetters, operations, options);

    expect(counts.read).toBe(0);
  });

  it('writes nothing in a dry run', async () => {
    const options = {
      groupId: `${prefix}dry`,
      workspace: undefined,
      reason: undefined,
      dryRun: true,
    };

    const counts = await replay(kafka, deadLetters, operations, options);

    expect(counts.replayed).toBe(3);
    expect(await readOperations()).toHaveLength(1);
  });
});
