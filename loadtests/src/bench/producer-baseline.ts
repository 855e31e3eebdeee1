import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { Headers, operationKey } from '@cio-pipeline/schemas';
import { log } from '../common/log';
import { runClosedLoopTasks, type ClosedLoopOptions, type LoadResult } from '../common/load';
import type { V2Operation } from '../workload/generator';

export interface ProducerBaselineOptions extends ClosedLoopOptions {
  brokers: string[];
  /** A topic that does not exist yet; it is created and deleted by the run. */
  topic: string;
  partitions: number;
  workspace: string;
  /** The operations of the next send, such as those of one v2 batch call. */
  nextOperations: () => V2Operation[];
}

/**
 * Runs the Kafka ceiling of the benchmark: a bare kafkajs producer, idempotent and
 * writing with `acks: -1` like the gateway's, sends the operations of each v2
 * batch call as one `send` from `concurrency` workers in a closed loop. Each
 * operation is one message keyed by workspace and person, as the gateway
 * keys them.
 */
export async function runProducerBaseline(options: ProducerBaselineOptions): Promise<LoadResult> {
  const kafka = new Kafka({
    clientId: 'loadtests-producer-baseline',
    brokers: options.brokers,
    logLevel: logLevel.WARN,
  });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  });
  try {
    await admin.createTopics({
      topics: [{ topic: options.topic, numPartitions: options.partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await producer.connect();
    return await runClosedLoopTasks(options, async () => {
      const operations = options.nextOperations();
      const messages = operations.map((operation) => toMessage(options.workspace, operation));
      try {
        await producer.send({ topic: options.topic, acks: -1, messages });
        return { status: 200, operations: operations.length };
      } catch (error) {
        return { status: 0, operations: operations.length, error: (error as Error).message };
      }
    });
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [options.topic] }).catch((error: unknown) => {
      log('bench', `warning: could not delete topic ${options.topic}: ${(error as Error).message}`);
    });
    await admin.disconnect();
  }
}

function toMessage(workspace: string, operation: V2Operation): Message {
  const acceptedAt = Date.now();
  return {
    key: operationKey(workspace, operation),
    value: JSON.stringify({ workspace, acceptedAt, requestId: 'bench', operations: [operation] }),
    headers: { [Headers.workspace]: workspace, [Headers.acceptedAt]: String(acceptedAt) },
  };
}
