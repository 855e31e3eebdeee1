import type { LoggerService } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { combineConsumerStates, ConsumerMonitor, type ConsumerState } from './consumer-monitor';

export interface BatchServerOptions {
  kafka: Kafka;
  groupId: string;
  /** Topics to consume; each batch goes to the `@EventPattern` handler of its topic's pattern. */
  topics: { name: string; pattern: string }[];
  /** Partitions processed at once; each still gets its batches in order. */
  partitionsConsumedConcurrently: number;
  /**
   * Consumers in the group that this process runs, 1 by default. kafkajs
   * fetches all of one consumer's partitions on a broker together, and again
   * only when each of them is handled, so each consumer fetches on its own.
   */
  consumers?: number;
  consumer?: Partial<ConsumerConfig>;
  logger: LoggerService;
}

/** Context handed to an `@EventPattern(topic)` handler with each batch. */
export class BatchContext extends BaseRpcContext<[EachBatchPayload, Consumer]> {
  get payload(): EachBatchPayload {
    return this.args[0];
  }

  get consumer(): Consumer {
    return this.args[1];
  }
}

/**
 * A NestJS transport that hands a handler one kafkajs batch at a time, with
 * auto-commit off. The handler resolves offsets and commits them itself once
 * its output is written, which the stock Kafka transport cannot do: it passes
 * single messages and commits on its own.
 */
export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  private consumers: Consumer[] = [];
  private readonly monitors: ConsumerMonitor[];
  private closing = false;

  constructor(private readonly options: BatchServerOptions) {
    super();
    const count = options.consumers ?? 1;
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`invalid consumers ${String(count)}: expected a whole number from 1`);
    }
    this.monitors = Array.from({ length: count }, () => new ConsumerMonitor());
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(
      () => {
        callback();
      },
      (error: unknown) => {
        callback(error);
      },
    );
  }

  /** Disconnects every consumer after it finishes the batch in hand. */
  async close(): Promise<void> {
    this.closing = true;
    const consumers = this.consumers;
    this.consumers = [];
    await Promise.all(consumers.map((consumer) => consumer.disconnect()));
  }

  on(): never {
    throw new Error('KafkaBatchServer reports its state through `state()`, not events');
  }

  // The signature is NestJS's `Server.unwrap`, which callers type at the call.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  unwrap<T = Consumer[]>(): T {
    if (this.consumers.length === 0) {
      throw new Error('the Kafka consumers are not created until the server listens');
    }
    return this.consumers as T;
  }

  /** Returns the state of this process's consumers taken together (see `combineConsumerStates`). */
  state(): ConsumerState {
    return combineConsumerStates(this.monitors.map((monitor) => monitor.state()));
  }

  /**
   * Calls `listener` after any consumer of this process joins the group,
   * with the partitions that all of them hold by then. `settled` is true when
   * no consumer of this process is still rejoining. Before that, the list
   * mixes old and new assignments, and a partition that moves from one of
   * them to another can be missing from it.
   */
  onGroupJoin(listener: (assignment: Record<string, number[]>, settled: boolean) => void): void {
    for (const monitor of this.monitors) {
      monitor.onGroupJoin(() => {
        const state = this.state();
        listener(state.assignment, !state.rebalancing);
      });
    }
  }

  private async start(): Promise<void> {
    const { topics } = this.options;
    for (const topic of topics) {
      if (this.getHandlerByPattern(topic.pattern) === null) {
        throw new Error(
          `no @EventPattern('${topic.pattern}') handler is registered for topic ${topic.name}`,
        );
      }
    }
    const started = await Promise.allSettled(
      this.monitors.map((monitor) => this.startConsumer(monitor)),
    );
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      // Leave the group at once rather than after the session timeout.
      await this.close().catch((error: unknown) => {
        this.options.logger.warn({
          message: 'disconnect after a failed start failed',
          groupId: this.options.groupId,
          error: (error as Error).message,
        });
      });
      throw failed.reason;
    }
  }

  private async startConsumer(monitor: ConsumerMonitor): Promise<void> {
    const { kafka, groupId, topics } = this.options;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3000,
      rebalanceTimeout: 60_000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
      ...this.options.consumer,
    });
    this.consumers.push(consumer);
    monitor.attach(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: topics.map((topic) => topic.name), fromBeginning: true });
    // After a close during connect, the consumer leaves before joining the group.
    if (this.closing) {
      await consumer.disconnect();
      return;
    }
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.dispatch(payload, consumer, monitor),
    });
  }

  private async dispatch(
    payload: EachBatchPayload,
    consumer: Consumer,
    monitor: ConsumerMonitor,
  ): Promise<void> {
    const pattern = this.options.topics.find(
      (topic) => topic.name === payload.batch.topic,
    )?.pattern;
    const handler = pattern === undefined ? null : this.getHandlerByPattern(pattern);
    if (handler === null) {
      throw new Error(`no handler for topic ${payload.batch.topic}`);
    }
    const result: unknown = await handler(payload, new BatchContext([payload, consumer]));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    monitor.recordBatch();
  }
}
