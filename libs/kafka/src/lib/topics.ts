import type { LoggerService } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import type { TopicSettings } from './settings';

/**
 * Creates the topics that do not exist yet with their partition count and
 * retention. An existing topic is left as it is: adding partitions would move
 * keys and break per-person order, so a mismatch is logged for an operator.
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
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: topic.replicationFactor,
        configEntries: [
          { name: 'retention.ms', value: String(topic.retentionMs) },
          { name: 'min.insync.replicas', value: String(Math.min(2, topic.replicationFactor)) },
        ],
      })),
    });
    if (created) {
      logger.log({ message: 'topics created', topics: missing.map((topic) => topic.name) });
    }
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
