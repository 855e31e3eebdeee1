import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { EventLoopMonitor, Indicators } from '@cio-pipeline/health';
import { IngestService } from '../ingest/ingest.service';

/** An event loop blocked this long fails liveness; no request could be answered meanwhile. */
const MAX_EVENT_LOOP_DELAY_MS = 2000;

@Controller('health')
export class HealthController {
  private readonly indicators: Indicators;
  private readonly eventLoop = new EventLoopMonitor();

  constructor(
    private readonly health: HealthCheckService,
    indicatorService: HealthIndicatorService,
    private readonly ingest: IngestService,
  ) {
    this.indicators = new Indicators(indicatorService);
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([
      () => this.indicators.eventLoop(this.eventLoop, MAX_EVENT_LOOP_DELAY_MS),
    ]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    const producer = this.ingest.producerState();
    return this.health.check([
      () => this.indicators.producerReady(this.ingest.isReady(), { ...producer }),
    ]);
  }
}
