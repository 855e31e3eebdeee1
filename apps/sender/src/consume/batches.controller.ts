import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EachBatchPayload } from 'kafkajs';
import { BatchContext } from '@cio-pipeline/kafka';
import { Topics } from '@cio-pipeline/schemas';
import { BatchesService } from './batches.service';

@Controller()
export class BatchesController {
  constructor(private readonly batches: BatchesService) {}

  @EventPattern(Topics.batches)
  async onBatches(
    @Payload() payload: EachBatchPayload,
    @Ctx() context: BatchContext,
  ): Promise<void> {
    await this.batches.consume(payload, context.consumer);
  }
}
