import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { BatcherKafka } from '../output/kafka-runtime';
import { BatcherService } from '../packing/batcher.service';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(BatcherKafka) private readonly kafka: BatcherKafka,
    private readonly batcher: BatcherService,
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
    const body = {
      consumer,
      producerConnected: this.kafka.producerConnected,
      bufferedBytes: this.batcher.bufferedByteCount(),
      stats: this.batcher.stats,
    };
    if (!consumer.connected || !this.kafka.producerConnected || consumer.crashed !== undefined) {
      throw new ServiceUnavailableException({ status: 'unavailable', ...body });
    }
    return { status: 'ok', ...body };
  }
}
