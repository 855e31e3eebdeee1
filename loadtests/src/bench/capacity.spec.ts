import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_TRACK_LIMITS,
  operationsPerFullBatch as schemasOperationsPerFullBatch,
  UlidFactory,
} from '@cio-pipeline/schemas';
import { parseProfile } from '../workload/profile';
import { deliveredOperationBytes, fitOfProfile, operationsPerFullBatch } from './capacity';

const profile = parseProfile(
  readFileSync(join(__dirname, '..', '..', 'profiles', 'default.json'), 'utf8'),
  'default.json',
);

describe('operationsPerFullBatch', () => {
  it('agrees with libs/schemas for operations of one size', () => {
    for (const size of [100, 333, 1000, 4096]) {
      const sizes = Array.from({ length: 20_000 }, () => size);
      expect(operationsPerFullBatch(sizes, DEFAULT_TRACK_LIMITS.maxBatchBytes)).toBe(
        schemasOperationsPerFullBatch(size, DEFAULT_TRACK_LIMITS),
      );
    }
  });

  it('leaves out the last, partly filled body', () => {
    // Bodies of 100 bytes: envelope 12, then 4 operations of 20 bytes and 3 commas.
    expect(operationsPerFullBatch([20, 20, 20, 20, 20, 20, 20, 20, 20], 100)).toBe(4);
  });

  it('returns the count of a single body', () => {
    expect(operationsPerFullBatch([10, 10], 1000)).toBe(2);
  });
});

describe('deliveredOperationBytes', () => {
  it('counts the event id the gateway adds', () => {
    const operation = {
      type: 'person' as const,
      action: 'event' as const,
      identifiers: { id: 'user-1' },
      name: 'page_viewed',
      attributes: {},
    };
    const withoutId = Buffer.byteLength(JSON.stringify(operation));
    const bytes = deliveredOperationBytes(operation, new UlidFactory());
    expect(bytes).toBe(withoutId + ',"id":""'.length + 26);
  });
});

describe('fitOfProfile', () => {
  it('fits between the smallest and largest operations of the profile', () => {
    const fit = fitOfProfile(profile, 5000, 1);
    expect(fit).toBeGreaterThan(500);
    expect(fit).toBeLessThan(5000);
  });
});
