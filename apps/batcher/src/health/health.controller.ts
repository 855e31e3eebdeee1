import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { EventLoopMonitor, Indicators } from '@cio-pipeline/health';
import { BatcherKafka } from '../output/kafka-runtime';
import { BatcherService } from '../packing/batcher.service';

const MAX_EVENT_LOOP_DELAY_MS = 2000;
/** kafkajs fetches at least every 5 s (its maxWaitTime); three missed fetches mean Kafka is out of reach. */
const MAX_READY_FETCH_GAP_MS = 15_000;
/** kafkajs fetches every few seconds even from idle partitions; a minute without one means it is stuck. */
const MAX_FETCH_GAP_MS = 60_000;

@Controller('health')
export class HealthController {
  private readonly indicators: Indicators;
  private readonly eventLoop = new EventLoopMonitor();

  constructor(
    private readonly health: HealthCheckService,
    indicatorService: HealthIndicatorService,
    @Inject(BatcherKafka) private readonly kafka: BatcherKafka,
    private readonly batcher: BatcherService,
  ) {
    this.indicators = new Indicators(indicatorService);
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([
      () => this.indicators.eventLoop(this.eventLoop, MAX_EVENT_LOOP_DELAY_MS),
      () => this.indicators.consumerAlive(this.kafka.server.state(), MAX_FETCH_GAP_MS),
    ]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    const writer = {
      pendingBytes: this.kafka.writer.pendingBytes,
      failures: this.kafka.writer.consecutiveFailures,
    };
    return this.health.check([
      () => this.indicators.consumerReady(this.kafka.server.state(), MAX_READY_FETCH_GAP_MS),
      () => this.indicators.producerReady(this.kafka.producerConnected, writer),
      () =>
        this.indicators.condition('batches', true, {
          bufferedBytes: this.batcher.bufferedByteCount(),
          ...this.batcher.stats,
        }),
    ]);
  }
}
