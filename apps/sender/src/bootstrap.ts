import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createJsonLogger } from '@cio-pipeline/runtime';
import { AppModule } from './app.module';
import type { SenderConfig } from './config/sender-config';
import { BatchesService } from './consume/batches.service';
import { DeliveryService } from './delivery/delivery.service';
import { SenderKafka } from './delivery/sender-kafka';
import { registerLimiterGauges } from './metrics/sender-metrics';

/**
 * A partition's previous owner may have sent requests in the second before
 * the rebalance, so a new assignment waits that second out before sending.
 */
const HOLD_AFTER_REBALANCE_MS = 1000;

/** Creates the sender: an HTTP app for health, with the Kafka consumer attached as a microservice. */
export async function createSender(config: SenderConfig): Promise<NestFastifyApplication> {
  const kafka = new SenderKafka(config);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, kafka),
    new FastifyAdapter(),
    { logger: createJsonLogger('sender') },
  );
  app.connectMicroservice({ strategy: kafka.server }, { inheritAppConfig: true });
  const delivery = app.get(DeliveryService);
  registerLimiterGauges(() => delivery.limiterStates());
  for (const workspace of config.workspaces) {
    delivery.limiterOf(workspace);
  }
  kafka.server.onGroupJoin((assignment, settled) => {
    delivery.pauseAll(HOLD_AFTER_REBALANCE_MS);
    if (settled) {
      app.get(BatchesService).retainPartitions(assignment[config.kafka.topics.batches.name] ?? []);
    }
  });
  // Exit with 0 after the shutdown hooks instead of Nest re-raising the signal.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await kafka.start();
  return app;
}
