import { Inject, Logger, Module, type OnModuleDestroy } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsController } from '@cio-pipeline/health';
import { SENDER_CONFIG, type SenderConfig } from './config/sender-config';
import { BatchesController } from './consume/batches.controller';
import { BatchesService } from './consume/batches.service';
import { DeadLetterWriter } from './delivery/dead-letter.writer';
import { DEAD_LETTER_WRITER, DeliveryService, TRACK_CLIENT } from './delivery/delivery.service';
import { SenderKafka } from './delivery/sender-kafka';
import { SenderStats } from './delivery/sender-stats';
import { TrackClient } from './delivery/track-client';
import { HealthController } from './health/health.controller';

/**
 * Shutdown order: end the deliveries that wait for a retry or for the
 * limiter, then stop the consumer, which lets kafkajs finish the batch in
 * hand (requests already sent, dead letters and commits), then close the
 * HTTP connections and the producer.
 */
class Shutdown implements OnModuleDestroy {
  private readonly logger = new Logger('Shutdown');

  constructor(
    @Inject(SenderKafka) private readonly kafka: SenderKafka,
    @Inject(DeliveryService) private readonly delivery: DeliveryService,
    @Inject(TRACK_CLIENT) private readonly client: TrackClient,
  ) {}

  async onModuleDestroy(): Promise<void> {
    this.logger.log({ message: 'stopping: closing the consumer' });
    await this.kafka.lag.stop();
    // Deliveries waiting for a retry or the limiter end first, so closing the
    // consumer (which waits for the batch in hand) takes at most one request timeout.
    await this.delivery.close();
    await this.kafka.server.close();
    await this.client.close();
    await this.kafka.producer.disconnect();
    this.logger.log({
      message: 'stopped: sent batches committed, the rest left for the next owner',
    });
  }
}

@Module({})
export class AppModule {
  static register(config: SenderConfig, kafka: SenderKafka) {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [BatchesController, HealthController, MetricsController],
      providers: [
        { provide: SENDER_CONFIG, useValue: config },
        { provide: SenderKafka, useValue: kafka },
        { provide: TRACK_CLIENT, useValue: new TrackClient(config.requestTimeoutMs) },
        {
          provide: DEAD_LETTER_WRITER,
          useValue: new DeadLetterWriter(kafka.producer, config.kafka.topics.deadLetters.name),
        },
        SenderStats,
        DeliveryService,
        BatchesService,
        Shutdown,
      ],
    };
  }
}
