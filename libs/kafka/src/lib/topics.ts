import type { LoggerService } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import type { TopicSettings } from './settings';

/**
 * Creates the topics that do not exist yet with their partition count,
 * retention and, when set, segment size. An existing topic is left as it
 * is, because adding partitions would move keys and break per-person order,
 * so a mismatch is logged for an operator.
 */
export async function ensureTopics(
  admin: Admin,
  topics: TopicSettings[],
  logger: LoggerService,
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic.name));
  if (missing.length > 0) {
    // Several services start at once; a topic another one just created returns false here.
    // kafkajs's own wait for leaders gives up on any error but LEADER_NOT_AVAILABLE, and a
    // KRaft broker was seen to return UNKNOWN_TOPIC_OR_PARTITION for a topic just created.
    // The wait below retries both.
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: topic.replicationFactor,
        configEntries: [
          { name: 'retention.ms', value: String(topic.retentionMs) },
          { name: 'min.insync.replicas', value: String(Math.min(2, topic.replicationFactor)) },
          ...(topic.segmentBytes === undefined
            ? []
            : [{ name: 'segment.bytes', value: String(topic.segmentBytes) }]),
        ],
      })),
    });
    if (created) {
      logger.log({ message: 'topics created', topics: missing.map((topic) => topic.name) });
    }
    // Until every partition has a leader, a consumer subscribing now would fail.
    await waitForLeaders(
      admin,
      missing.map((topic) => topic.name),
    );
  }

  const present = topics.filter((topic) => existing.has(topic.name));
  if (present.length === 0) {
    return;
  }
  const metadata = await admin.fetchTopicMetadata({ topics: present.map((topic) => topic.name) });
  for (const found of metadata.topics) {
    const wanted = present.find((topic) => topic.name === found.name);
    if (wanted !== undefined && found.partitions.length !== wanted.partitions) {
      logger.warn({
        message: 'topic partition count differs from the setting; leaving the topic unchanged',
        topic: found.name,
        partitions: found.partitions.length,
        setting: wanted.partitions,
      });
    }
  }
}

/** Longest wait for new topics to get a leader on every partition. */
const LEADER_WAIT_MS = 30_000;

/** Waits until every partition of `names` has a leader, or raises after LEADER_WAIT_MS. */
async function waitForLeaders(admin: Admin, names: string[]): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (;;) {
    let problem: string;
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = metadata.topics.flatMap((topic) =>
        topic.partitions.filter((partition) => partition.leader < 0).map(() => topic.name),
      );
      if (metadata.topics.length === names.length && leaderless.length === 0) {
        return;
      }
      problem = `partitions without a leader in ${[...new Set(leaderless)].join(', ')}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `topics ${names.join(', ')} not ready after ${LEADER_WAIT_MS} ms: ${problem}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
