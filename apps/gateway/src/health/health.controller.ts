import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { IngestService } from '../ingest/ingest.service';

/** Liveness and readiness for the orchestrator. */
@Controller('health')
export class HealthController {
  constructor(private readonly ingest: IngestService) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(): object {
    const producer = this.ingest.producerState();
    const body = { status: this.ingest.isReady() ? 'ok' : 'unavailable', producer };
    if (!this.ingest.isReady()) {
      throw new ServiceUnavailableException(body);
    }
    return body;
  }
}
