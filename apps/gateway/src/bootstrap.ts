import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { readFileSync } from 'node:fs';
import { createJsonLogger } from '@cio-pipeline/runtime';
import { UlidFactory } from '@cio-pipeline/schemas';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway-config';
import { TrackApiExceptionFilter } from './http/track-api-exception.filter';

/** Creates the gateway application without listening, for main and for tests. */
export async function createGateway(config: GatewayConfig): Promise<NestFastifyApplication> {
  const ids = new UlidFactory();
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    genReqId: () => ids.next(),
    ...(config.tls === undefined
      ? {}
      : {
          https: {
            cert: readFileSync(config.tls.certFile),
            key: readFileSync(config.tls.keyFile),
          },
        }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config),
    adapter,
    {
      rawBody: true,
      logger: createJsonLogger('gateway'),
    },
  );
  app.useGlobalFilters(new TrackApiExceptionFilter());
  app.enableShutdownHooks();
  return app;
}
