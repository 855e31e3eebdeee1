import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './json';
import type { SandboxState } from './state';

/** An error that the error handler sends with its own status and message. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

interface ErrorWithCode {
  code?: unknown;
  statusCode?: unknown;
  message: string;
}

/** Checks the shape rather than `instanceof Error`, which fails for errors from another realm. */
function hasStatus(error: unknown): error is ErrorWithCode {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

/**
 * Installs the error and not-found handlers. Client errors keep their status, except that
 * a body over a route's size limit gets 400, the status Customer.io uses for an invalid
 * request. Every error body has Customer.io's `{"meta":{"error":"..."}}` shape. Other errors are logged
 * and get a 500 response.
 */
export function installErrorHandlers(app: FastifyInstance, state: SandboxState): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (hasStatus(error) && error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(400).send(errorBody(describeTooLarge(request)));
    }
    const status =
      hasStatus(error) && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (hasStatus(error) && status >= 400 && status < 500) {
      return reply.code(status).send(errorBody(error.message));
    }
    request.log.error(
      { err: error, method: request.method, url: request.url },
      'request failed with an internal error',
    );
    return reply.code(500).send(errorBody('internal server error'));
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    if (!request.url.startsWith('/__sandbox/')) {
      state.recordArrival(null, state.now());
      state.recordStatus(null, 404);
    }
    return reply.code(404).send(errorBody(`not found: ${request.method} ${request.url}`));
  });
}

function describeTooLarge(request: FastifyRequest): string {
  const limit = request.routeOptions.bodyLimit;
  const route = `${request.method} ${request.routeOptions.url ?? request.url}`;
  const length = request.headers['content-length'];
  if (length !== undefined && /^\d+$/.test(length)) {
    return `request body is ${length} bytes, the limit for ${route} is ${limit} bytes`;
  }
  return `request body is larger than the limit of ${limit} bytes for ${route}`;
}
