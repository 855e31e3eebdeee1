import { Logger } from '@nestjs/common';
import type { Kafka, Producer } from 'kafkajs';
import {
  createIdempotentProducer,
  createKafka,
  ensureTopics,
  KafkaBatchServer,
} from '@cio-pipeline/kafka';
import type { SenderConfig } from '../config/sender-config';
import { ConsumerLagReporter } from '@cio-pipeline/health';

/** The sender's Kafka clients: a consumer group member and the dead-letter producer. */
export class SenderKafka {
  private readonly logger = new Logger('SenderKafka');
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly server: KafkaBatchServer;
  readonly lag: ConsumerLagReporter;
  producerConnected = false;

  constructor(private readonly config: SenderConfig) {
    this.kafka = createKafka(config.kafka, this.logger);
    this.producer = createIdempotentProducer(this.kafka);
    this.producer.on(this.producer.events.CONNECT, () => {
      this.producerConnected = true;
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.producerConnected = false;
    });
    this.server = new KafkaBatchServer({
      kafka: this.kafka,
      groupId: config.groupId,
      topics: [config.kafka.topics.batches],
      partitionsConsumedConcurrently: config.partitionsConsumedConcurrently,
      consumers: config.consumers,
      // Larger fetches give more batches to keep in flight per partition.
      consumer: { maxBytesPerPartition: 16 * 1024 * 1024, maxBytes: 64 * 1024 * 1024 },
      logger: this.logger,
    });
    this.lag = new ConsumerLagReporter(
      this.kafka,
      config.groupId,
      [config.kafka.topics.batches.name],
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
