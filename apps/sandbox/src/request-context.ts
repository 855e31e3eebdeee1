import type { FastifyRequest } from 'fastify';
import type { LimitsConfig } from './config';
import type { CheckContext } from './limits';
import type { WorkspaceState } from './state';

/** Returns the workspace that the Track API guard authenticated. */
export function requireWorkspace(request: FastifyRequest): WorkspaceState {
  if (request.workspace === null) {
    throw new Error(
      `Internal error: ${request.method} ${request.url} reached its handler without an authenticated workspace`,
    );
  }
  return request.workspace;
}

export function checkContext(request: FastifyRequest, limits: LimitsConfig): CheckContext {
  return { limits, bodyBytes: request.bodyBytes };
}

/** Returns the route that accepted a call, such as `POST /api/v2/batch`, stored with its operations. */
export function routeName(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url}`;
}
