import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { TrackApiError } from './track-api-error';

/**
 * Answers every error in Customer.io's `{"meta": {"error": ...}}` shape. An
 * unexpected error is logged with the request id and answered with a 500
 * that names the request id and nothing of the error itself.
 */
@Catch()
export class TrackApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    this.respond(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }

  /** Sends the response for `exception`, for Nest's routes and for plain Fastify routes alike. */
  respond(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
    if (exception instanceof TrackApiError) {
      void reply
        .status(exception.getStatus())
        .headers(exception.headers)
        .send(exception.getResponse());
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      void reply.status(status).send({ meta: { error: messageOf(exception) } });
      return;
    }
    const status = statusOfFastifyError(exception);
    if (status !== undefined) {
      void reply.status(status).send({ meta: { error: (exception as Error).message } });
      return;
    }
    this.logger.error({
      message: 'request failed with an unexpected error',
      requestId: request.id,
      error: exception instanceof Error ? exception.stack : String(exception),
    });
    void reply
      .status(HttpStatus.INTERNAL_SERVER_ERROR)
      .send({ meta: { error: `internal error; request id ${request.id}` } });
  }
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') {
    return response;
  }
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) {
    return message.join('; ');
  }
  return typeof message === 'string' ? message : exception.message;
}

/** Fastify's own client errors (bad JSON, body too large, bad content type) carry a 4xx status. */
function statusOfFastifyError(exception: unknown): number | undefined {
  if (!(exception instanceof Error)) {
    return undefined;
  }
  const status = (exception as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
