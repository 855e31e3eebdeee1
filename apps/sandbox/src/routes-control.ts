import type { FastifyInstance, preValidationHookHandler } from 'fastify';
import type { FaultsUpdate } from './faults';
import { describeValue, errorBody } from './json';
import type { SandboxState } from './state';

/** Query of `GET /__sandbox/operations`. */
export interface OperationsQuery {
  /** Site id; all workspaces when absent. */
  workspace?: string;
  /** Return operations with a sequence number above this (default 0). */
  after?: number;
  /** Maximum number of operations returned (default 1000, at most 100000). */
  limit?: number;
}

/** Body of `POST /__sandbox/rate-limit`. */
export interface RateLimitUpdate {
  requestsPerSecond: number;
  /** Site id; every workspace when absent. */
  workspace?: string;
}

/** Body of `POST /__sandbox/reset`. */
export interface ResetRequest {
  /** Also restore the startup fault settings, seed and rate limits (default false). */
  restoreSettings?: boolean;
}

const maxDelayMs = 2_147_483_647;

const faultsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    latencyMs: { type: 'integer', minimum: 0, maximum: maxDelayMs },
    latencyJitterMs: { type: 'integer', minimum: 0, maximum: maxDelayMs },
    errorRate: { type: 'number', minimum: 0, maximum: 1 },
    throttleRate: { type: 'number', minimum: 0, maximum: 1 },
    hangRate: { type: 'number', minimum: 0, maximum: 1 },
    downForMs: { type: 'integer', minimum: 0, maximum: maxDelayMs },
    seed: { type: 'integer', minimum: 0, maximum: 0xffff_ffff },
  },
} as const;

const operationsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    workspace: { type: 'string', minLength: 1 },
    after: { type: 'integer', minimum: 0, default: 0 },
    limit: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
  },
} as const;

const rateLimitSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['requestsPerSecond'],
  properties: {
    requestsPerSecond: { type: 'integer', minimum: 0 },
    workspace: { type: 'string', minLength: 1 },
  },
} as const;

const resetSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { restoreSettings: { type: 'boolean' } },
} as const;

/** Treats a POST without a body as `{}`, so that curl -X POST works without -d '{}'. */
const emptyBodyAsObject: preValidationHookHandler = (request, _reply, done) => {
  request.body ??= {};
  done();
};

/**
 * Registers the control routes under `/__sandbox/`. They need no credentials and are
 * never affected by faults or rate limits.
 */
export function registerControlRoutes(app: FastifyInstance, state: SandboxState): void {
  app.get('/__sandbox/health', () => ({ status: 'ok' }));

  app.get('/__sandbox/stats', () => state.stats());

  app.get<{ Querystring: OperationsQuery }>(
    '/__sandbox/operations',
    { schema: { querystring: operationsQuerySchema } },
    (request, reply) => {
      const { workspace, after = 0, limit = 1000 } = request.query;
      if (workspace !== undefined && !state.workspaces.has(workspace)) {
        return reply
          .code(404)
          .send(errorBody(`workspace ${describeValue(workspace)} is not configured`));
      }
      return reply.code(200).send(state.store.list(workspace, after, limit));
    },
  );

  app.get('/__sandbox/faults', () => state.faults.view());

  app.post<{ Body: FaultsUpdate }>(
    '/__sandbox/faults',
    { schema: { body: faultsSchema }, preValidation: emptyBodyAsObject },
    (request, reply) => {
      const problems = state.faults.update(request.body);
      if (problems.length > 0) {
        const message = problems
          .map(
            (problem) =>
              `${problem.field}: invalid value ${describeValue(problem.value)}, expected ${problem.expected}`,
          )
          .join('; ');
        return reply.code(400).send(errorBody(message));
      }
      return reply.code(200).send(state.faults.view());
    },
  );

  app.get('/__sandbox/rate-limit', () => ({ workspaces: state.rateLimits() }));

  app.post<{ Body: RateLimitUpdate }>(
    '/__sandbox/rate-limit',
    { schema: { body: rateLimitSchema } },
    (request, reply) => {
      const { requestsPerSecond, workspace } = request.body;
      if (workspace !== undefined && !state.workspaces.has(workspace)) {
        return reply
          .code(404)
          .send(errorBody(`workspace ${describeValue(workspace)} is not configured`));
      }
      state.setRateLimit(requestsPerSecond, workspace);
      return reply.code(200).send({ workspaces: state.rateLimits() });
    },
  );

  app.post<{ Body: ResetRequest }>(
    '/__sandbox/reset',
    { schema: { body: resetSchema }, preValidation: emptyBodyAsObject },
    (request, reply) => {
      state.reset(request.body.restoreSettings === true);
      return reply.code(200).send({ status: 'reset' });
    },
  );
}
