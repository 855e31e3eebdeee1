import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { createIdempotentProducer, createKafka, readKafkaSettings } from '@cio-pipeline/kafka';
import { ConfigError, createJsonLogger, EnvReader } from '@cio-pipeline/runtime';
import {
  Headers,
  isPlainObject,
  operationKey,
  type DeadLetter,
  type Operation,
  type OperationEnvelope,
} from '@cio-pipeline/schemas';

/**
 * Sends dead letters back through the pipeline: each replayable one becomes a
 * new message on the operations topic, so the batcher and the sender handle
 * it again with today's settings. It reads the dead-letter topic with its own
 * consumer group, so a second run continues where the first stopped, and it
 * exits once it has read up to the end the topic had when it started.
 */
interface ReplayOptions {
  groupId: string;
  workspace: string | undefined;
  reason: string | undefined;
  dryRun: boolean;
}

interface ReplayCounts {
  read: number;
  replayed: number;
  skippedByFilter: number;
  notReplayable: number;
}

async function main(): Promise<void> {
  const env = new EnvReader();
  const settings = readKafkaSettings(env, 'cio-replay');
  const options: ReplayOptions = {
    groupId: env.string('REPLAY_GROUP_ID', 'cio-replay'),
    workspace: env.optionalString('REPLAY_WORKSPACE'),
    reason: env.optionalString('REPLAY_REASON'),
    dryRun: env.boolean('REPLAY_DRY_RUN', false),
  };
  env.done();
  const logger = createJsonLogger('replay');
  Logger.overrideLogger(logger);
  const kafka = createKafka(settings, logger);
  const counts = await replay(
    kafka,
    settings.topics.deadLetters.name,
    settings.topics.operations.name,
    options,
  );
  logger.log({ message: 'replay finished', ...counts, dryRun: options.dryRun });
}

export async function replay(
  kafka: Kafka,
  deadLetterTopic: string,
  operationsTopic: string,
  options: ReplayOptions,
): Promise<ReplayCounts> {
  const logger = new Logger('Replay');
  const counts: ReplayCounts = { read: 0, replayed: 0, skippedByFilter: 0, notReplayable: 0 };
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(deadLetterTopic);
  const committed = await admin.fetchOffsets({
    groupId: options.groupId,
    topics: [deadLetterTopic],
  });
  await admin.disconnect();

  const remaining = new Map<number, number>();
  for (const { partition, offset } of ends) {
    const start = committed[0]?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
    const next = Number(start) < 0 ? 0 : Number(start);
    if (Number(offset) > next) {
      remaining.set(partition, Number(offset));
    }
  }
  if (remaining.size === 0) {
    logger.log({ message: 'no dead letters to replay', topic: deadLetterTopic });
    return counts;
  }

  const producer = createIdempotentProducer(kafka);
  const consumer = kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: false });
  await Promise.all([producer.connect(), consumer.connect()]);
  await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });

  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const end = remaining.get(batch.partition);
      const messages = batch.messages.filter((m) => end !== undefined && Number(m.offset) < end);
      const outgoing = messages.flatMap((message) => {
        counts.read += 1;
        const letter = parseLetter(message.value?.toString('utf8'));
        const decision = decide(letter, options);
        if (decision !== 'replay' || letter === undefined) {
          counts[decision === 'filtered' ? 'skippedByFilter' : 'notReplayable'] += 1;
          return [];
        }
        counts.replayed += 1;
        return [toOperationsMessage(letter)];
      });
      if (outgoing.length > 0 && !options.dryRun) {
        await producer.send({ topic: operationsTopic, messages: outgoing, acks: -1 });
      }
      const last = messages.at(-1);
      if (last !== undefined) {
        payload.resolveOffset(last.offset);
        const next = Number(last.offset) + 1;
        if (!options.dryRun) {
          await consumer.commitOffsets([
            { topic: deadLetterTopic, partition: batch.partition, offset: String(next) },
          ]);
        }
        if (end !== undefined && next >= end) {
          remaining.delete(batch.partition);
        }
      }
      await payload.heartbeat();
      if (remaining.size === 0) {
        finish();
      }
    },
  });
  await finished;
  await consumer.disconnect();
  await producer.disconnect();
  return counts;
}

function parseLetter(text: string | undefined): DeadLetter | undefined {
  try {
    const value = JSON.parse(text ?? '') as unknown;
    return isPlainObject(value) ? (value as unknown as DeadLetter) : undefined;
  } catch {
    return undefined;
  }
}

/** Only an object operation with a workspace can be sent again; raw text that was never JSON cannot. */
function decide(
  letter: DeadLetter | undefined,
  options: ReplayOptions,
): 'replay' | 'filtered' | 'invalid' {
  if (
    letter === undefined ||
    typeof letter.workspace !== 'string' ||
    !isPlainObject(letter.operation)
  ) {
    return 'invalid';
  }
  if (options.workspace !== undefined && letter.workspace !== options.workspace) {
    return 'filtered';
  }
  if (options.reason !== undefined && letter.error.reason !== options.reason) {
    return 'filtered';
  }
  return 'replay';
}

function toOperationsMessage(letter: DeadLetter) {
  const workspace = letter.workspace ?? '';
  const operation = letter.operation as Operation;
  const requestId = `replay-${letter.source.topic}-${letter.source.partition}-${letter.source.offset}`;
  const envelope: OperationEnvelope = {
    workspace,
    acceptedAt: Date.now(),
    requestId,
    operations: [operation],
  };
  return {
    key: operationKey(workspace, operation),
    value: JSON.stringify(envelope),
    headers: {
      [Headers.workspace]: workspace,
      [Headers.requestId]: requestId,
      [Headers.operationCount]: '1',
    },
  };
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? `replay: ${error.message}` : error);
    process.exit(1);
  });
}
