import type { LoggerService } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import { Gauge } from 'prom-client';
import { metricsRegistry } from './metrics';

export const consumerLag = new Gauge({
  name: 'cio_consumer_lag',
  help: 'Messages between a partition end and the consumer group committed offset',
  labelNames: ['group', 'topic', 'partition'],
  registers: [metricsRegistry],
});

/**
 * Polls the group's committed offsets and the topics' end offsets, so lag is
 * reported even while the consumer is stuck or rebalancing. Lag counts from
 * the committed offset, which is what a restart would resume from.
 */
export class ConsumerLagReporter {
  private timer: NodeJS.Timeout | undefined;
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: string[],
    private readonly logger: LoggerService,
    private readonly intervalMs = 10_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      void this.poll();
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.admin?.disconnect();
  }

  async poll(): Promise<void> {
    try {
      if (this.admin === undefined) {
        this.admin = this.kafka.admin();
        await this.admin.connect();
      }
      const committed = await this.admin.fetchOffsets({
        groupId: this.groupId,
        topics: this.topics,
      });
      for (const { topic, partitions } of committed) {
        const ends = await this.admin.fetchTopicOffsets(topic);
        for (const { partition, offset } of partitions) {
          const end = Number(ends.find((entry) => entry.partition === partition)?.offset ?? 0);
          const from = Number(offset) < 0 ? 0 : Number(offset);
          consumerLag.set(
            { group: this.groupId, topic, partition: String(partition) },
            Math.max(0, end - from),
          );
        }
      }
    } catch (error) {
      this.logger.warn({ message: 'consumer lag poll failed', error: (error as Error).message });
    }
  }
}
