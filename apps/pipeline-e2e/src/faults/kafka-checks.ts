import { randomBytes } from 'node:crypto';
import { sleep } from '@cio-pipeline/stack';
import type { DeadLetter } from '@cio-pipeline/schemas';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** Messages of a topic that a consumer group has not committed yet, per partition and in total. */
export interface ConsumerLag {
  groupId: string;
  topic: string;
  total: number;
  /** Partitions with lag, as `partition: lag`. */
  partitions: Record<number, number>;
}

/** Computes a group's lag on a topic: each partition's high watermark minus its committed offset. */
export async function consumerLag(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<ConsumerLag> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const lag: ConsumerLag = { groupId, topic, total: 0, partitions: {} };
    for (const end of ends) {
      const entry = committed?.partitions.find((p) => p.partition === end.partition);
      // Offset -1 means the group committed nothing on the partition yet.
      const offset =
        entry === undefined || entry.offset === '-1' ? Number(end.low) : Number(entry.offset);
      const partitionLag = Number(end.high) - offset;
      if (partitionLag > 0) {
        lag.partitions[end.partition] = partitionLag;
        lag.total += partitionLag;
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Polls the lag of every group until all are 0 or `timeoutMs` passes, and
 * returns the last figures either way, so the caller's assertions show
 * which partition stayed behind.
 */
export async function waitForNoLag(
  kafka: Kafka,
  groups: { groupId: string; topic: string }[],
  timeoutMs: number,
): Promise<ConsumerLag[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lags = await Promise.all(groups.map((g) => consumerLag(kafka, g.groupId, g.topic)));
    if (lags.every((lag) => lag.total === 0) || Date.now() > deadline) {
      return lags;
    }
    await sleep(1000);
  }
}

/**
 * Reads every message of `topic` up to the high watermarks taken at the
 * start, with a consumer group of its own. Throws after `timeoutMs` if it
 * has not reached them.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  timeoutMs = 30_000,
): Promise<KafkaMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  let ends: Awaited<ReturnType<typeof admin.fetchTopicOffsets>>;
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const high = new Map(
    ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
  );
  const next = new Map(ends.map((p) => [p.partition, Number(p.low)]));
  if (high.size === 0) {
    return [];
  }

  const messages: KafkaMessage[] = [];
  const consumer = kafka.consumer({
    groupId: `faults-reader-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        const offset = Number(message.offset);
        if (offset < (high.get(partition) ?? 0)) {
          messages.push(message);
          next.set(partition, offset + 1);
        }
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while ([...high].some(([partition, end]) => (next.get(partition) ?? 0) < end)) {
      if (Date.now() > deadline) {
        throw new Error(
          `read ${messages.length} messages of ${topic} but not up to the high watermarks within ${timeoutMs} ms`,
        );
      }
      await sleep(100);
    }
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Reads and parses every dead letter of the topic. */
export async function readDeadLetters(kafka: Kafka, topic: string): Promise<DeadLetter[]> {
  const messages = await readTopic(kafka, topic);
  return messages.map((message) => JSON.parse(message.value?.toString('utf8') ?? '') as DeadLetter);
}
