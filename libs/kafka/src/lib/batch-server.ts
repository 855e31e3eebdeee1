import type { LoggerService } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, ConsumerConfig, EachBatchPayload, Kafka } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import { ConsumerMonitor, type ConsumerState } from './consumer-monitor';

export interface BatchServerOptions {
  kafka: Kafka;
  groupId: string;
  /** Topics to consume; each batch goes to the `@EventPattern` handler of its topic's pattern. */
  topics: { name: string; pattern: string }[];
  /** Partitions processed at once; each still gets its batches in order. */
  partitionsConsumedConcurrently: number;
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
  private consumer: Consumer | undefined;
  readonly monitor = new ConsumerMonitor();

  constructor(private readonly options: BatchServerOptions) {
    super();
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

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    if (consumer !== undefined) {
      await consumer.disconnect();
    }
  }

  on(): never {
    throw new Error('KafkaBatchServer reports its state through `monitor`, not events');
  }

  // The signature is NestJS's `Server.unwrap`, which callers type at the call.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  unwrap<T = Consumer>(): T {
    if (this.consumer === undefined) {
      throw new Error('the Kafka consumer is not created until the server listens');
    }
    return this.consumer as T;
  }

  state(): ConsumerState {
    return this.monitor.state();
  }

  private async start(): Promise<void> {
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
    this.consumer = consumer;
    this.monitor.attach(consumer);

    for (const topic of topics) {
      if (this.getHandlerByPattern(topic.pattern) === null) {
        throw new Error(
          `no @EventPattern('${topic.pattern}') handler is registered for topic ${topic.name}`,
        );
      }
    }
    await consumer.connect();
    await consumer.subscribe({ topics: topics.map((topic) => topic.name), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.dispatch(payload, consumer),
    });
  }

  private async dispatch(payload: EachBatchPayload, consumer: Consumer): Promise<void> {
    const pattern = this.options.topics.find(
      (topic) => topic.name === payload.batch.topic,
    )?.pattern;
    const handler = pattern === undefined ? null : this.getHandlerByPattern(pattern);
    if (handler === null) {
      throw new Error(`no handler for topic ${payload.batch.topic}`);
    }
    const result: unknown = await handler(payload, new BatchContext([payload, consumer]));
    await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    this.monitor.recordBatch();
  }
}
