import {
  BATCH_ENVELOPE_BYTES,
  DEFAULT_TRACK_LIMITS,
  UlidFactory,
  validateOperation,
} from '@cio-pipeline/schemas';
import { TrafficGenerator, type V2Operation } from '../workload/generator';
import type { Profile } from '../workload/profile';

/**
 * Returns the bytes an operation takes in a batch body once the gateway has
 * checked it and given events their ULID id, as the batcher serializes it.
 */
export function deliveredOperationBytes(operation: V2Operation, ids: UlidFactory): number {
  const checked = validateOperation(operation, {
    limits: DEFAULT_TRACK_LIMITS,
    assignEventId: () => ids.next(),
  });
  if (!checked.ok) {
    throw new Error(`generated operation is invalid: ${checked.error.message}`);
  }
  return Buffer.byteLength(JSON.stringify(checked.value), 'utf8');
}

/**
 * Packs operations of the given sizes in order into bodies of at most
 * `maxBatchBytes`, as the batcher does, and returns the mean number of
 * operations per full body. The last body is left out because it is only
 * full by chance; with a single body its count is returned.
 */
export function operationsPerFullBatch(sizes: readonly number[], maxBatchBytes: number): number {
  const counts: number[] = [];
  let count = 0;
  let bytes = BATCH_ENVELOPE_BYTES;
  for (const size of sizes) {
    const added = size + (count === 0 ? 0 : 1);
    if (count > 0 && bytes + added > maxBatchBytes) {
      counts.push(count);
      count = 0;
      bytes = BATCH_ENVELOPE_BYTES;
    }
    bytes += size + (count === 0 ? 0 : 1);
    count += 1;
  }
  if (counts.length === 0) {
    return count;
  }
  return counts.reduce((sum, value) => sum + value, 0) / counts.length;
}

/**
 * Returns the operations of the profile's batch mix that fit in one
 * `/api/v2/batch` body, from a sample of `sampleSize` generated operations.
 */
export function fitOfProfile(profile: Profile, sampleSize: number, seed: number): number {
  const generator = new TrafficGenerator(profile, {
    seed,
    maxBatchBytes: DEFAULT_TRACK_LIMITS.maxBatchBytes,
  });
  const ids = new UlidFactory();
  const sizes: number[] = [];
  for (let i = 0; i < sampleSize; i++) {
    sizes.push(deliveredOperationBytes(generator.batchOperation(), ids));
  }
  return operationsPerFullBatch(sizes, DEFAULT_TRACK_LIMITS.maxBatchBytes);
}
