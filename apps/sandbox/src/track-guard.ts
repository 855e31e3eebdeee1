import type {
  FastifyReply,
  FastifyRequest,
  onRequestAsyncHookHandler,
  onResponseHookHandler,
} from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { authenticate } from './auth';
import type { SandboxConfig } from './config';
import { errorBody } from './json';
import { admitRequest } from './rate-limit';
import type { SandboxState, WorkspaceState } from './state';

const STATUS_TEXT: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Returns the onRequest hook of every Track API route. It runs before the body is read,
 * in this order:
 * 1. resolve the workspace from the credentials and count the request,
 * 2. apply the down, hang, latency, 5xx and 429 faults,
 * 3. reject bad credentials (401) and workspaces of the other region (307 or 401),
 * 4. apply the workspace's rate limit (429).
 */
export function createTrackGuard(
  state: SandboxState,
  config: SandboxConfig,
): onRequestAsyncHookHandler {
  const euBaseUrl = config.euUrl.replace(/\/+$/, '');
  return async function guardTrackRequest(request: FastifyRequest, reply: FastifyReply) {
    const arrival = state.now();
    const auth = authenticate(request.headers.authorization, state.workspaces);
    const workspace = auth.kind === 'authenticated' ? auth.workspace : null;
    request.workspace = workspace;
    state.recordArrival(workspace, arrival);

    if (state.faults.isDown(arrival)) {
      state.recordDropped(workspace);
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }

    const fault = state.faults.decide();
    if (fault.kind === 'hang') {
      state.recordHung(workspace);
      reply.hijack();
      // Reading the body completes the request, so Node's request timeout cannot respond to it.
      request.raw.resume();
      state.hung.hold(request.raw.socket);
      return reply;
    }

    const delayMs = state.faults.nextLatencyMs();
    if (delayMs > 0) {
      await sleep(delayMs);
    }

    switch (fault.kind) {
      case 'error':
        return reply
          .code(fault.status)
          .send(
            errorBody(
              `${STATUS_TEXT[fault.status] ?? 'Server Error'} (fault injected by the sandbox)`,
            ),
          );
      case 'throttle':
        return sendTooManyRequests(
          reply,
          config,
          'rate limit exceeded (fault injected by the sandbox)',
        );
      case 'none':
        break;
    }

    if (auth.kind === 'rejected') {
      return reply.code(401).send(errorBody(auth.message));
    }
    if (
      auth.workspace.config.region !== config.region &&
      request.routeOptions.config.anyRegion !== true
    ) {
      return rejectOtherRegion(request, reply, auth.workspace, euBaseUrl);
    }

    const { rateLimitPerSecond } = auth.workspace;
    if (!admitRequest(auth.workspace.rateWindow, rateLimitPerSecond, state.now())) {
      return sendTooManyRequests(
        reply,
        config,
        `rate limit exceeded: workspace ${auth.workspace.config.siteId} allows ${rateLimitPerSecond} requests per second`,
      );
    }
    return undefined;
  };
}

/**
 * Responds to a workspace whose region differs from the instance's. Like Customer.io, an EU
 * workspace on the US host is redirected with 307 to the same path on the EU host, and a
 * US workspace on the EU host fails with 401.
 */
function rejectOtherRegion(
  request: FastifyRequest,
  reply: FastifyReply,
  workspace: WorkspaceState,
  euBaseUrl: string,
): FastifyReply {
  switch (workspace.config.region) {
    case 'eu':
      return reply.code(307).header('location', `${euBaseUrl}${request.url}`).send();
    case 'us':
      return reply
        .code(401)
        .send(
          errorBody(
            `Unauthorized request: workspace ${workspace.config.siteId} is in the US region, send its requests to the US Track API host`,
          ),
        );
  }
}

function sendTooManyRequests(
  reply: FastifyReply,
  config: SandboxConfig,
  message: string,
): FastifyReply {
  if (config.retryAfterSeconds !== null) {
    reply.header('retry-after', String(config.retryAfterSeconds));
  }
  return reply.code(429).send(errorBody(message));
}

/** Returns the onResponse hook that counts each Track API response by status. */
export function createStatusCounter(state: SandboxState): onResponseHookHandler {
  return function countStatus(request, reply, done) {
    state.recordStatus(request.workspace, reply.statusCode);
    done();
  };
}
