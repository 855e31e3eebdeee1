import { Inject, Logger, Module, type OnModuleDestroy } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsController } from '@cio-pipeline/health';
import { BATCHER_CONFIG, type BatcherConfig } from './config/batcher-config';
import { HealthController } from './health/health.controller';
import { BatcherKafka } from './output/kafka-runtime';
import { BATCH_WRITER, BatcherService } from './packing/batcher.service';
import { OperationsController } from './packing/operations.controller';

/**
 * Shutdown order: stop fetching (kafkajs finishes the batch in hand), write
 * every buffered batch, commit, then disconnect the producer.
 */
class Shutdown implements OnModuleDestroy {
  private readonly logger = new Logger('Shutdown');

  constructor(
    @Inject(BatcherKafka) private readonly kafka: BatcherKafka,
    @Inject(BatcherService) private readonly batcher: BatcherService,
  ) {}

  async onModuleDestroy(): Promise<void> {
    this.logger.log({ message: 'stopping: closing the consumer' });
    await this.kafka.lag.stop();
    await this.kafka.server.close();
    await this.batcher.flushAll();
    this.kafka.writer.stop();
    await this.kafka.producer.disconnect();
    this.logger.log({ message: 'stopped: buffered batches written and offsets committed' });
  }
}

@Module({})
export class AppModule {
  static register(config: BatcherConfig, kafka: BatcherKafka) {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [OperationsController, HealthController, MetricsController],
      providers: [
        { provide: BATCHER_CONFIG, useValue: config },
        { provide: BatcherKafka, useValue: kafka },
        { provide: BATCH_WRITER, useValue: kafka.writer },
        BatcherService,
        Shutdown,
      ],
    };
  }
}
