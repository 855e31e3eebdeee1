import { BATCH_ENVELOPE_BYTES, type TrackLimits } from './limits';
import type { Operation } from './operation';
import { checkOperation, type ValidateOptions } from './validate-operation';
import {
  describeType,
  fail,
  isPlainObject,
  type FieldError,
  type Parsed,
} from './validation-error';

/** One entry of a 207 response's `errors[]`. */
export interface BatchItemError extends FieldError {
  batch_index: number;
}

export interface ParsedBatch {
  /** Valid operations with their position in the request. */
  accepted: { index: number; operation: Operation; serialized: string }[];
  rejected: BatchItemError[];
}

/**
 * Checks a `/api/v2/batch` body. A body that is not `{"batch": [...]}` with at
 * least one item fails whole; otherwise every item is checked on its own so
 * that the valid ones can be accepted and the rest reported by `batch_index`.
 */
export function parseBatchRequest(
  body: unknown,
  bodyBytes: number,
  options: ValidateOptions,
): Parsed<ParsedBatch> {
  if (bodyBytes > options.limits.maxBatchBytes) {
    return fail(
      '',
      'too_large',
      `batch request is ${bodyBytes} bytes, over the limit of ${options.limits.maxBatchBytes} bytes`,
    );
  }
  if (!isPlainObject(body)) {
    return fail('', 'invalid_type', `body must be a JSON object, got ${describeType(body)}`);
  }
  const items = body['batch'];
  if (!Array.isArray(items)) {
    return fail('batch', 'required', 'batch is required and must be an array of operations');
  }
  if (items.length === 0) {
    return fail('batch', 'required', 'batch must contain at least one operation');
  }

  const parsed: ParsedBatch = { accepted: [], rejected: [] };
  items.forEach((item: unknown, index) => {
    const result = checkOperation(item, options);
    if (result.ok) {
      const { operation, serialized } = result.value;
      parsed.accepted.push({ index, operation, serialized });
    } else {
      parsed.rejected.push({ batch_index: index, ...result.error });
    }
  });
  return { ok: true, value: parsed };
}

/** Bytes that one serialized operation adds to a batch body, with its comma. */
export function batchItemBytes(serializedOperation: string, isFirst: boolean): number {
  return Buffer.byteLength(serializedOperation, 'utf8') + (isFirst ? 0 : 1);
}

/** The largest body of `count` operations of `operationBytes` each that fits the limit. */
export function operationsPerFullBatch(operationBytes: number, limits: TrackLimits): number {
  return Math.floor((limits.maxBatchBytes - BATCH_ENVELOPE_BYTES + 1) / (operationBytes + 1));
}
