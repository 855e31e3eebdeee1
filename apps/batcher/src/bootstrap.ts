import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createJsonLogger } from '@cio-pipeline/runtime';
import { AppModule } from './app.module';
import type { BatcherConfig } from './config/batcher-config';
import { BatcherKafka } from './output/kafka-runtime';
import { BatcherService } from './packing/batcher.service';

/** Creates the batcher: an HTTP app for health, with the Kafka consumer attached as a microservice. */
export async function createBatcher(config: BatcherConfig): Promise<NestFastifyApplication> {
  const kafka = new BatcherKafka(config);
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, kafka),
    new FastifyAdapter(),
    { logger: createJsonLogger('batcher') },
  );
  app.connectMicroservice({ strategy: kafka.server }, { inheritAppConfig: true });
  kafka.server.onGroupJoin((assignment, settled) => {
    if (settled) {
      app
        .get(BatcherService)
        .retainPartitions(assignment[config.kafka.topics.operations.name] ?? []);
    }
  });
  // Exit with 0 after the shutdown hooks instead of Nest re-raising the signal.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await kafka.start();
  return app;
}
