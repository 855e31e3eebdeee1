import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
  onResponseHookHandler,
} from 'fastify';
import { readFileSync } from 'node:fs';
import { createJsonLogger } from '@cio-pipeline/runtime';
import { TRACK_PROTO_PACKAGE, TRACK_PROTO_PATH, UlidFactory } from '@cio-pipeline/schemas';
import { ServerCredentials } from '@grpc/grpc-js';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { AppModule } from './app.module';
import type { GatewayConfig } from './config/gateway-config';
import { TrackApiExceptionFilter } from './http/track-api-exception.filter';
import { registerTrackRoutes } from './http/track-routes';
import { TrackApiService } from './ingest/track-api.service';
import { countResponse } from './metrics/gateway-metrics';

function grpcOptions(config: GatewayConfig, url: string): MicroserviceOptions {
  return {
    transport: Transport.GRPC,
    options: {
      url,
      package: TRACK_PROTO_PACKAGE,
      protoPath: TRACK_PROTO_PATH,
      loader: { keepCase: true, longs: Number, enums: String, defaults: false, oneofs: true },
      maxReceiveMessageLength: config.bodyLimitBytes,
      ...(config.tls === undefined
        ? {}
        : {
            credentials: ServerCredentials.createSsl(null, [
              {
                cert_chain: readFileSync(config.tls.certFile),
                private_key: readFileSync(config.tls.keyFile),
              },
            ]),
          }),
    },
  };
}

function answerFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode ?? 400;
  // Fastify runs no response hook for these, so they are counted here.
  countResponse('unmatched', status);
  void reply.status(status).send({ meta: { error: error.message } });
}

/**
 * Counts every response under its route's pattern, or as `unmatched`. Each
 * route gets a hook of its own with the pattern in its closure, because
 * reading `request.routeOptions` builds a new object on every call.
 */
function countResponsesByRoute(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const pattern = route.url;
    const count: onResponseHookHandler = (_request, reply, done) => {
      countResponse(pattern, reply.statusCode);
      done();
    };
    route.onResponse = [...hooksOf(route.onResponse), count];
  });
  // Requests that match no route.
  fastify.addHook('onResponse', (request, reply, done) => {
    if (request.is404) {
      countResponse('unmatched', reply.statusCode);
    }
    done();
  });
}

function hooksOf<T>(hooks: T | T[] | undefined): T[] {
  if (hooks === undefined) {
    return [];
  }
  return Array.isArray(hooks) ? hooks : [hooks];
}

/**
 * Sends a 503 in Customer.io's shape, with a Retry-After, to requests that
 * start on open connections while the server shuts down. Fastify's own 503
 * has neither. Fastify closes each such connection after the response.
 */
function answerWhileClosing(fastify: FastifyInstance, retryAfterSeconds: number): void {
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) {
      done();
      return;
    }
    void reply
      .status(503)
      .header('retry-after', String(retryAfterSeconds))
      .send({ meta: { error: 'the gateway is shutting down; retry' } });
  });
}

/** Returns Node.js server options that end a request not received within the timeout. */
function serverTimeouts(config: GatewayConfig) {
  // Node.js checks its timeouts every 30 s by default: a timeout of 1 s could last 31 s.
  return { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: 1000 };
}

/** Creates the gateway application without listening, for main and for tests. */
export async function createGateway(config: GatewayConfig): Promise<NestFastifyApplication> {
  const ids = new UlidFactory();
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // A client that sends part of a request and stops would otherwise hold its
    // connection for Node.js's default of 300 s. Node.js 20 enforces the
    // timeout only when the server is created with it, hence `http` as well.
    requestTimeout: config.requestTimeoutMs,
    http: serverTimeouts(config),
    // Requests that arrive during shutdown get the 503 of answerWhileClosing.
    return503OnClosing: false,
    genReqId: () => ids.next(),
    // An identifier of 150 bytes is up to 450 characters once percent-encoded.
    routerOptions: { maxParamLength: 1024 },
    // Errors Fastify raises before routing (a bad URL, a path parameter over
    // maxParamLength) get Customer.io's error shape like every other answer.
    frameworkErrors: answerFrameworkError as FastifyServerOptions['frameworkErrors'],
    ...(config.tls === undefined
      ? {}
      : {
          https: {
            cert: readFileSync(config.tls.certFile),
            key: readFileSync(config.tls.keyFile),
            ...serverTimeouts(config),
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
  const errors = new TrackApiExceptionFilter();
  app.useGlobalFilters(errors);
  const fastify = app.getHttpAdapter().getInstance();
  // customerio-node sends delete, suppress and unsuppress with a JSON content
  // type and no body, which Fastify would reject as an empty JSON body.
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (request.headers['content-length'] === '0') {
      delete request.headers['content-type'];
    }
    done();
  });
  countResponsesByRoute(fastify);
  answerWhileClosing(fastify, config.retryAfterSeconds);
  registerTrackRoutes(fastify, app.get(TrackApiService), errors);
  if (config.grpcUrl !== undefined) {
    app.connectMicroservice<MicroserviceOptions>(grpcOptions(config, config.grpcUrl));
  }
  // Exit with 0 after the shutdown hooks instead of Nest re-raising the signal.
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  return app;
}
