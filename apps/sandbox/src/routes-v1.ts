import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxConfig } from './config';
import { errorBody } from './json';
import { checkContext, requireWorkspace, routeName } from './request-context';
import type { SandboxState } from './state';
import type { StoreOrder } from './store-order';
import {
  type Conversion,
  convertAddDevice,
  convertAnonymousEvent,
  convertDeleteDevice,
  convertIdentify,
  convertMerge,
  convertPersonAction,
  convertTrack,
} from './v1-requests';

interface IdentifierParams {
  identifier: string;
}

interface DeviceParams extends IdentifierParams {
  device_id: string;
}

/** Response body of `GET /api/v1/accounts/region`. */
export interface RegionResponse {
  url: string;
  region: string;
  environment_id: number;
}

/**
 * Registers the Track API v1 routes. Each accepted call is stored as its v2 operation and gets
 * 200 `{}`. A rejected one gets 400 with a message that names the
 * field, the size found and the limit.
 */
export function registerV1Routes(
  app: FastifyInstance,
  state: SandboxState,
  config: SandboxConfig,
  order: StoreOrder,
): void {
  const { limits } = config;

  const respond = async (
    request: FastifyRequest,
    reply: FastifyReply,
    conversion: Conversion,
  ): Promise<FastifyReply> => {
    const workspace = requireWorkspace(request);
    if ('problem' in conversion) {
      state.recordRejected(workspace, 1);
      return reply.code(400).send(errorBody(conversion.problem.message));
    }
    await order.inTurn(
      workspace,
      () => conversion.operation,
      (operation) => state.accept(workspace, operation, routeName(request)),
    );
    return reply.code(200).send({});
  };

  app.put<{ Params: IdentifierParams }>('/api/v1/customers/:identifier', (request, reply) =>
    respond(
      request,
      reply,
      convertIdentify(request.params.identifier, request.body, checkContext(request, limits)),
    ),
  );

  app.delete<{ Params: IdentifierParams }>('/api/v1/customers/:identifier', (request, reply) =>
    respond(
      request,
      reply,
      convertPersonAction(request.params.identifier, 'delete', checkContext(request, limits)),
    ),
  );

  app.post<{ Params: IdentifierParams }>('/api/v1/customers/:identifier/events', (request, reply) =>
    respond(
      request,
      reply,
      convertTrack(request.params.identifier, request.body, checkContext(request, limits)),
    ),
  );

  app.post('/api/v1/events', (request, reply) =>
    respond(request, reply, convertAnonymousEvent(request.body, checkContext(request, limits))),
  );

  app.put<{ Params: IdentifierParams }>('/api/v1/customers/:identifier/devices', (request, reply) =>
    respond(
      request,
      reply,
      convertAddDevice(request.params.identifier, request.body, checkContext(request, limits)),
    ),
  );

  app.delete<{ Params: DeviceParams }>(
    '/api/v1/customers/:identifier/devices/:device_id',
    (request, reply) =>
      respond(
        request,
        reply,
        convertDeleteDevice(
          request.params.identifier,
          request.params.device_id,
          checkContext(request, limits),
        ),
      ),
  );

  app.post<{ Params: IdentifierParams }>(
    '/api/v1/customers/:identifier/suppress',
    (request, reply) =>
      respond(
        request,
        reply,
        convertPersonAction(request.params.identifier, 'suppress', checkContext(request, limits)),
      ),
  );

  app.post<{ Params: IdentifierParams }>(
    '/api/v1/customers/:identifier/unsuppress',
    (request, reply) =>
      respond(
        request,
        reply,
        convertPersonAction(request.params.identifier, 'unsuppress', checkContext(request, limits)),
      ),
  );

  app.post('/api/v1/merge_customers', (request, reply) =>
    respond(request, reply, convertMerge(request.body, checkContext(request, limits))),
  );

  // Customer.io serves this on either regional host, so it skips the region redirect.
  app.get('/api/v1/accounts/region', { config: { anyRegion: true } }, (request, reply) => {
    const workspace = requireWorkspace(request);
    const { region } = workspace.config;
    let url: string;
    if (region === config.region) {
      url = `${request.protocol}://${request.host}`;
    } else {
      url = region === 'eu' ? config.euUrl : config.usUrl;
    }
    const body: RegionResponse = { url, region, environment_id: workspace.environmentId };
    return reply.code(200).send(body);
  });
}
