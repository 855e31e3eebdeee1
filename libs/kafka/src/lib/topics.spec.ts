import { ConfigResourceTypes, type Admin, type Kafka } from 'kafkajs';
import { EnvReader } from '@cio-pipeline/runtime';
import {
  brokersFromEnv,
  createTopic,
  RecordingLogger,
  testKafka,
  uniquePrefix,
} from '../testing/test-broker';
import { readKafkaSettings, type TopicSettings } from './settings';
import { ensureTopics } from './topics';

jest.setTimeout(30_000);

const HOUR_MS = 60 * 60 * 1000;
const SEGMENT_BYTES = 64 * 1024 * 1024;

describe('ensureTopics', () => {
  let brokers: string[];
  let kafka: Kafka;
  let admin: Admin;
  let adminConnected = false;
  const createdTopics: string[] = [];

  beforeAll(async () => {
    brokers = brokersFromEnv();
    kafka = testKafka(brokers);
    admin = kafka.admin();
    await admin.connect();
    adminConnected = true;
  });

  afterAll(async () => {
    // Without a broker, beforeAll failed and there is nothing to clean up.
    if (!adminConnected) {
      return;
    }
    if (createdTopics.length > 0) {
      await admin.deleteTopics({ topics: createdTopics });
    }
    await admin.disconnect();
  });

  /** Returns the three topics under a fresh prefix, with partition counts and retention of their own. */
  function topicsOf(prefix: string): TopicSettings[] {
    const env = new EnvReader({
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_OPERATIONS_PARTITIONS: '4',
      KAFKA_OPERATIONS_RETENTION_MS: String(2 * HOUR_MS),
      KAFKA_BATCHES_PARTITIONS: '2',
      KAFKA_BATCHES_RETENTION_MS: String(3 * HOUR_MS),
      KAFKA_DEAD_LETTERS_PARTITIONS: '1',
      KAFKA_DEAD_LETTERS_RETENTION_MS: String(4 * HOUR_MS),
      KAFKA_SEGMENT_BYTES: String(SEGMENT_BYTES),
    });
    const topics = Object.values(readKafkaSettings(env, 'topics-test').topics);
    env.done();
    createdTopics.push(...topics.map((topic) => topic.name));
    return topics;
  }

  async function partitionCounts(names: string[]): Promise<Record<string, number>> {
    const metadata = await admin.fetchTopicMetadata({ topics: names });
    return Object.fromEntries(
      metadata.topics.map((topic) => [topic.name, topic.partitions.length]),
    );
  }

  async function configOf(
    names: string[],
    configName: string,
  ): Promise<Record<string, string | undefined>> {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: names.map((name) => ({
        type: ConfigResourceTypes.TOPIC,
        name,
        configNames: [configName],
      })),
    });
    return Object.fromEntries(
      described.resources.map((resource) => [
        resource.resourceName,
        resource.configEntries.find((entry) => entry.configName === configName)?.configValue,
      ]),
    );
  }

  function expectedPartitions(topics: TopicSettings[]): Record<string, number> {
    return Object.fromEntries(topics.map((topic) => [topic.name, topic.partitions]));
  }

  it('creates topics with partitions, retention and segment size', async () => {
    const topics = topicsOf(uniquePrefix());
    const names = topics.map((topic) => topic.name);
    const logger = new RecordingLogger();

    await ensureTopics(admin, topics, logger);

    const listed = await admin.listTopics();
    expect(listed).toEqual(expect.arrayContaining(names));
    expect(await partitionCounts(names)).toEqual(expectedPartitions(topics));
    expect(await configOf(names, 'retention.ms')).toEqual(
      Object.fromEntries(topics.map((topic) => [topic.name, String(topic.retentionMs)])),
    );
    expect(await configOf(names, 'segment.bytes')).toEqual(
      Object.fromEntries(topics.map((topic) => [topic.name, String(SEGMENT_BYTES)])),
    );
    expect(logger.find('log', 'topics created')).toHaveLength(1);
  });

  it('changes nothing on a second call', async () => {
    const topics = topicsOf(uniquePrefix());
    const names = topics.map((topic) => topic.name);
    await ensureTopics(admin, topics, new RecordingLogger());
    const logger = new RecordingLogger();

    await ensureTopics(admin, topics, logger);

    expect(await partitionCounts(names)).toEqual(expectedPartitions(topics));
    expect(logger.find('log', 'topics created')).toHaveLength(0);
    expect(logger.find('warn', '')).toHaveLength(0);
    expect(logger.find('error', '')).toHaveLength(0);
  });

  it('tolerates a concurrent creator', async () => {
    // Several rounds, because which client's request reaches the controller first varies.
    for (let round = 0; round < 3; round++) {
      const topics = topicsOf(uniquePrefix());
      const names = topics.map((topic) => topic.name);
      const otherKafka = testKafka(brokers);
      const otherAdmin = otherKafka.admin();
      await otherAdmin.connect();
      const loggers = [new RecordingLogger(), new RecordingLogger()];
      const createCalls = [
        jest.spyOn(admin, 'createTopics'),
        jest.spyOn(otherAdmin, 'createTopics'),
      ];
      try {
        const results = await Promise.allSettled([
          ensureTopics(admin, topics, loggers[0]!),
          ensureTopics(otherAdmin, topics, loggers[1]!),
        ]);

        expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
        // Either caller may subscribe at once: every partition has a leader.
        const metadata = await otherAdmin.fetchTopicMetadata({ topics: names });
        const leaders = metadata.topics.flatMap((topic) => topic.partitions.map((p) => p.leader));
        expect(leaders.filter((leader) => leader < 0)).toEqual([]);
        // Both clients found the topics missing, so both requests reached the controller.
        expect(createCalls.map((spy) => spy.mock.calls.length)).toEqual([1, 1]);
      } finally {
        createCalls.forEach((spy) => {
          spy.mockRestore();
        });
        await otherAdmin.disconnect();
      }
      expect(await partitionCounts(names)).toEqual(expectedPartitions(topics));
      const creations = loggers.flatMap((logger) => logger.find('log', 'topics created'));
      expect(creations).toHaveLength(1);
    }
  });

  it('retries metadata of an unknown topic', async () => {
    const topics = topicsOf(uniquePrefix());
    const names = topics.map((topic) => topic.name);
    // A KRaft broker was seen to fail metadata requests this way for a topic just created.
    const unknown = Object.assign(new Error('This server does not host this topic-partition'), {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      retriable: true,
    });
    const realFetch = admin.fetchTopicMetadata.bind(admin);
    const fetchMetadata = jest
      .spyOn(admin, 'fetchTopicMetadata')
      .mockRejectedValueOnce(unknown)
      .mockRejectedValueOnce(unknown)
      .mockImplementation(realFetch);
    try {
      await ensureTopics(admin, topics, new RecordingLogger());
      expect(fetchMetadata.mock.calls.length).toBeGreaterThanOrEqual(3);
    } finally {
      fetchMetadata.mockRestore();
    }

    expect(await partitionCounts(names)).toEqual(expectedPartitions(topics));
  });

  it('keeps an existing partition count', async () => {
    const topics = topicsOf(uniquePrefix());
    const operations = topics[0]!;
    expect(operations.partitions).toBe(4);
    await createTopic(admin, operations.name, 2);
    const logger = new RecordingLogger();

    await ensureTopics(admin, topics, logger);

    const counts = await partitionCounts(topics.map((topic) => topic.name));
    expect(counts[operations.name]).toBe(2);
    expect(counts[topics[1]!.name]).toBe(topics[1]!.partitions);
    expect(counts[topics[2]!.name]).toBe(topics[2]!.partitions);
    const warnings = logger.find('warn', operations.name);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatchObject({ partitions: 2, setting: 4 });
  });
});
