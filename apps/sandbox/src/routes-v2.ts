import { setImmediate } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { SandboxConfig } from './config';
import { errorBody, isJsonObject } from './json';
import type { ProblemReason } from './limits';
import { checkContext, requireWorkspace, routeName } from './request-context';
import type { SandboxState } from './state';
import type { StoreOrder } from './store-order';
import type { Operation } from './operations';
import { validateOperation } from './v2-validation';

/** Operations validated between two turns of the event loop. */
const VALIDATION_SLICE = 128;

/** One item of the `errors` array of a 207 response to `POST /api/v2/batch`. */
export interface BatchError {
  /** 0-based index of the rejected operation in `batch`. */
  batch_index: number;
  reason: ProblemReason;
  field: string;
  message: string;
}

/**
 * Registers the Track API v2 routes. `/api/v2/entity` takes one operation of at most
 * `maxOperationBytes`. `/api/v2/batch` takes `{"batch": [...]}` of at most `maxBatchBytes`
 * and responds with 200 `{}` when every operation is valid, or 207 with `errors` when some are
 * invalid, having accepted all the others. A body over its limit gets 400.
 */
export function registerV2Routes(
  app: FastifyInstance,
  state: SandboxState,
  config: SandboxConfig,
  order: StoreOrder,
): void {
  const { limits } = config;

  app.post('/api/v2/entity', { bodyLimit: limits.maxOperationBytes }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const result = validateOperation(request.body, checkContext(request, limits));
    if ('problem' in result) {
      state.recordRejected(workspace, 1);
      return reply.code(400).send(errorBody(result.problem.message));
    }
    await order.inTurn(
      workspace,
      () => result.operation,
      (operation) => state.accept(workspace, operation, routeName(request)),
    );
    return reply.code(200).send({});
  });

  app.post('/api/v2/batch', { bodyLimit: limits.maxBatchBytes }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const body = request.body;
    const batch: unknown = isJsonObject(body) ? body.batch : undefined;
    if (!Array.isArray(batch)) {
      return reply
        .code(400)
        .send(errorBody('batch is required and must be an array of operations: {"batch": [...]}'));
    }
    const context = checkContext(request, limits);
    const source = routeName(request);
    const { errors } = await order.inTurn(
      workspace,
      () => checkBatch(batch, context),
      ({ valid }) => {
        for (const operation of valid) {
          state.accept(workspace, operation, source);
        }
      },
    );
    state.recordBatch(workspace, request.bodyBytes, batch.length);
    if (errors.length > 0) {
      state.recordRejected(workspace, errors.length);
      return reply.code(207).send({ errors });
    }
    return reply.code(200).send({});
  });
}

/**
 * Validates the items of a batch body in slices of `VALIDATION_SLICE`, with a
 * turn of the event loop between slices. The rate limit stamps each request
 * when it arrives, so requests that arrive during a long batch are still
 * stamped on time.
 */
export async function checkBatch(
  batch: unknown[],
  context: Parameters<typeof validateOperation>[1],
): Promise<{ valid: Operation[]; errors: BatchError[] }> {
  const valid: Operation[] = [];
  const errors: BatchError[] = [];
  for (let index = 0; index < batch.length; index++) {
    if (index > 0 && index % VALIDATION_SLICE === 0) {
      await setImmediate();
    }
    const result = validateOperation(batch[index], context);
    if ('problem' in result) {
      errors.push({ batch_index: index, ...result.problem });
    } else {
      valid.push(result.operation);
    }
  }
  return { valid, errors };
}
