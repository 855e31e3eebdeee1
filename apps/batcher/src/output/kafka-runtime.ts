import { Logger } from '@nestjs/common';
import type { Kafka, Producer } from 'kafkajs';
import {
  createIdempotentProducer,
  createKafka,
  ensureTopics,
  KafkaBatchServer,
} from '@cio-pipeline/kafka';
import type { BatcherConfig } from '../config/batcher-config';
import { OrderedWriter } from './ordered-writer';
import { ConsumerLagReporter } from '@cio-pipeline/health';

/** Largest Kafka produce request; below the broker's default 1 MB `message.max.bytes`. */
const MAX_PRODUCE_REQUEST_BYTES = 900 * 1024;

/** The batcher's Kafka clients: one consumer group member and one idempotent producer. */
export class BatcherKafka {
  private readonly logger = new Logger('BatcherKafka');
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly writer: OrderedWriter;
  readonly server: KafkaBatchServer;
  readonly lag: ConsumerLagReporter;
  producerConnected = false;

  constructor(private readonly config: BatcherConfig) {
    this.kafka = createKafka(config.kafka, this.logger);
    this.producer = createIdempotentProducer(this.kafka);
    this.producer.on(this.producer.events.CONNECT, () => {
      this.producerConnected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.producerConnected = false;
    });
    this.writer = new OrderedWriter(this.producer, MAX_PRODUCE_REQUEST_BYTES);
    this.server = new KafkaBatchServer({
      kafka: this.kafka,
      groupId: config.groupId,
      topics: [config.kafka.topics.operations],
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      logger: this.logger,
    });
    this.lag = new ConsumerLagReporter(
      this.kafka,
      config.groupId,
      [config.kafka.topics.operations.name],
      this.logger,
    );
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, Object.values(this.config.kafka.topics), this.logger);
    } finally {
      await admin.disconnect();
    }
    await this.producer.connect();
    this.lag.start();
  }
}
