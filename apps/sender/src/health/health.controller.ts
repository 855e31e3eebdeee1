import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { EventLoopMonitor, Indicators } from '@cio-pipeline/health';
import { DeliveryService } from '../delivery/delivery.service';
import { SenderKafka } from '../delivery/sender-kafka';
import { SenderStats } from '../delivery/sender-stats';

const MAX_EVENT_LOOP_DELAY_MS = 2000;
/** kafkajs fetches at least every 5 s (its maxWaitTime); three missed fetches mean Kafka is out of reach. */
const MAX_READY_FETCH_GAP_MS = 15_000;
/** kafkajs fetches every few seconds even from idle partitions; a minute without one means it is stuck. */
const MAX_FETCH_GAP_MS = 60_000;
/** A limiter with waiting requests that started none for this long has stopped releasing work. */
const MAX_LIMITER_IDLE_MS = 30_000;

@Controller('health')
export class HealthController {
  private readonly indicators: Indicators;
  private readonly eventLoop = new EventLoopMonitor();

  constructor(
    private readonly health: HealthCheckService,
    indicatorService: HealthIndicatorService,
    @Inject(SenderKafka) private readonly kafka: SenderKafka,
    private readonly delivery: DeliveryService,
    private readonly stats: SenderStats,
  ) {
    this.indicators = new Indicators(indicatorService);
  }

  @Get('live')
  @HealthCheck()
  live() {
    const stalled = this.delivery.stalledWorkspaces(MAX_LIMITER_IDLE_MS);
    return this.health.check([
      () => this.indicators.eventLoop(this.eventLoop, MAX_EVENT_LOOP_DELAY_MS),
      () => this.indicators.consumerAlive(this.kafka.server.state(), MAX_FETCH_GAP_MS),
      () => this.indicators.condition('limiters', stalled.length === 0, { stalled }),
    ]);
  }

  /** Not ready while Customer.io rejects a workspace's credentials: the work cannot be done. */
  @Get('ready')
  @HealthCheck()
  ready() {
    const paused = this.delivery.pausedWorkspaces();
    return this.health.check([
      () => this.indicators.consumerReady(this.kafka.server.state(), MAX_READY_FETCH_GAP_MS),
      () => this.indicators.producerReady(this.kafka.producerConnected),
      () =>
        this.indicators.condition('workspaces', Object.keys(paused).length === 0, {
          pausedWorkspaces: paused,
          limiters: this.delivery.limiterStates(),
          stats: this.stats.snapshot(),
        }),
    ]);
  }
}
