import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EachBatchPayload } from 'kafkajs';
import { BatchContext } from '@cio-pipeline/kafka';
import { Topics } from '@cio-pipeline/schemas';
import { BatcherService } from './batcher.service';

@Controller()
export class OperationsController {
  constructor(private readonly batcher: BatcherService) {}

  @EventPattern(Topics.operations)
  async onOperations(
    @Payload() payload: EachBatchPayload,
    @Ctx() context: BatchContext,
  ): Promise<void> {
    await this.batcher.consume(payload, context.consumer);
  }
}
