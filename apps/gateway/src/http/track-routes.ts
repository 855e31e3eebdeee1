import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import {
  checkOperation,
  fromAddDevice,
  fromDeleteDevice,
  fromIdentify,
  fromMerge,
  fromPersonAction,
  fromTrack,
} from '@cio-pipeline/schemas';
import type { ParseCall, TrackApiService } from '../ingest/track-api.service';
import { partialFailureBody } from './track-api-error';
import type { TrackApiExceptionFilter } from './track-api-exception.filter';

type Params = Record<string, string>;
/** The field that Nest's raw body option adds to a request whose body it parsed. */
type WithRawBody = { rawBody?: Buffer };

/** A route of a Track API call that carries one operation, and how to parse its request. */
interface SingleCallRoute {
  method: HTTPMethods;
  url: string;
  parse: (params: Params, body: unknown) => ParseCall;
}

/** Every single-operation call of the Track API, v1 and v2, at Customer.io's paths. */
const SINGLE_CALL_ROUTES: readonly SingleCallRoute[] = [
  {
    method: 'PUT',
    url: '/api/v1/customers/:identifier',
    parse: (params, body) => (options) => fromIdentify(identifierOf(params), body, options),
  },
  {
    method: 'DELETE',
    url: '/api/v1/customers/:identifier',
    parse: (params) => (options) => fromPersonAction(identifierOf(params), 'delete', options),
  },
  {
    method: 'POST',
    url: '/api/v1/customers/:identifier/events',
    parse: (params, body) => (options) => fromTrack(identifierOf(params), body, options),
  },
  {
    method: 'POST',
    url: '/api/v1/events',
    parse: (_params, body) => (options) => fromTrack(undefined, body, options),
  },
  {
    method: 'PUT',
    url: '/api/v1/customers/:identifier/devices',
    parse: (params, body) => (options) => fromAddDevice(identifierOf(params), body, options),
  },
  {
    method: 'DELETE',
    url: '/api/v1/customers/:identifier/devices/:deviceId',
    parse: (params) => (options) =>
      fromDeleteDevice(identifierOf(params), params['deviceId'] ?? '', options),
  },
  {
    method: 'POST',
    url: '/api/v1/customers/:identifier/suppress',
    parse: (params) => (options) => fromPersonAction(identifierOf(params), 'suppress', options),
  },
  {
    method: 'POST',
    url: '/api/v1/customers/:identifier/unsuppress',
    parse: (params) => (options) => fromPersonAction(identifierOf(params), 'unsuppress', options),
  },
  {
    method: 'POST',
    url: '/api/v1/merge_customers',
    parse: (_params, body) => (options) => fromMerge(body, options),
  },
  {
    method: 'POST',
    url: '/api/v2/entity',
    parse: (_params, body) => (options) => checkOperation(body, options),
  },
];

/**
 * Serves Customer.io's Track API as plain Fastify routes: every call is
 * authenticated, checked against Customer.io's limits, converted to v2
 * operations and gets its response only after Kafka acknowledged them.
 *
 * The routes bypass Nest's router, which runs guards, interceptors, pipes
 * and parameter decorators for every call. Without it, the gateway served
 * 1% to 27% more single-event calls per second in ten paired runs, and 21%
 * or more in seven of them. What a route throws goes to `errors`, the same
 * exception filter that handles the errors of Nest's routes.
 */
export function registerTrackRoutes(
  fastify: FastifyInstance,
  track: TrackApiService,
  errors: TrackApiExceptionFilter,
): void {
  // Set on each route, so that no later change of Fastify's error handler reaches these routes.
  const errorHandler = (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    errors.respond(error, request, reply);
  };
  for (const route of SINGLE_CALL_ROUTES) {
    fastify.route<{ Params: Params }>({
      method: route.method,
      url: route.url,
      errorHandler,
      handler: async (request, reply) => {
        // Fastify matches an empty segment to a parameter, as in /api/v1/customers//events.
        // Such a path names no person, so it gets 404 like any unknown path.
        if (hasEmptyParam(request.params)) {
          reply.callNotFound();
          return reply;
        }
        const parse = route.parse(request.params, request.body);
        await track.acceptOne(request.headers.authorization, parse, requestIdOf(request));
        return {};
      },
    });
  }
  fastify.route({
    method: 'POST',
    url: '/api/v2/batch',
    errorHandler,
    handler: async (request, reply) => {
      const result = await track.acceptBatch(
        request.headers.authorization,
        request.body,
        (request as WithRawBody).rawBody?.length ?? 0,
        requestIdOf(request),
      );
      if (result.errors.length > 0) {
        void reply.status(207);
        return partialFailureBody(result.errors);
      }
      return {};
    },
  });
}

function hasEmptyParam(params: Params): boolean {
  for (const name in params) {
    if (params[name] === '') {
      return true;
    }
  }
  return false;
}

function identifierOf(params: Params): string {
  return params['identifier'] ?? '';
}

/** Returns the caller's X-Request-Id when it is a plain token, or else the request's own id. */
function requestIdOf(request: FastifyRequest): string {
  const header = request.headers['x-request-id'];
  const supplied = Array.isArray(header) ? header[0] : header;
  return supplied !== undefined && /^[\w.:-]{1,128}$/.test(supplied) ? supplied : request.id;
}
