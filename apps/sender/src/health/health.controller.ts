import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { DeliveryService } from '../delivery/delivery.service';
import { SenderKafka } from '../delivery/sender-kafka';
import { SenderStats } from '../delivery/sender-stats';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(SenderKafka) private readonly kafka: SenderKafka,
    private readonly delivery: DeliveryService,
    private readonly stats: SenderStats,
  ) {}

  @Get('live')
  live(): object {
    const consumer = this.kafka.server.state();
    if (consumer.crashed !== undefined) {
      throw new ServiceUnavailableException({ status: 'crashed', consumer });
    }
    return { status: 'ok' };
  }

  @Get('ready')
  ready(): object {
    const consumer = this.kafka.server.state();
    const paused = this.delivery.pausedWorkspaces();
    const body = {
      consumer,
      producerConnected: this.kafka.producerConnected,
      pausedWorkspaces: paused,
      limiters: this.delivery.limiterStates(),
      stats: this.stats,
    };
    const ready =
      consumer.connected &&
      consumer.crashed === undefined &&
      this.kafka.producerConnected &&
      Object.keys(paused).length === 0;
    if (!ready) {
      throw new ServiceUnavailableException({ status: 'unavailable', ...body });
    }
    return { status: 'ok', ...body };
  }
}
