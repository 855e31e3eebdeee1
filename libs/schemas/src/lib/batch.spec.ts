import {
  batchItemBytes,
  operationsPerFullBatch,
  parseBatchRequest,
  type ParsedBatch,
} from './batch';
import { BATCH_ENVELOPE_BYTES, DEFAULT_TRACK_LIMITS } from './limits';
import type { ValidateOptions } from './validate-operation';
import type { FieldError, Parsed } from './validation-error';

const OPTIONS: ValidateOptions = { limits: DEFAULT_TRACK_LIMITS };
const IDENTIFY = { type: 'person', action: 'identify', identifiers: { id: '1' } };

function parse(
  body: unknown,
  bodyBytes = Buffer.byteLength(JSON.stringify(body)),
): Parsed<ParsedBatch> {
  return parseBatchRequest(body, bodyBytes, OPTIONS);
}

function valueOf(result: Parsed<ParsedBatch>): ParsedBatch {
  if (!result.ok) {
    throw new Error(`expected a parsed batch, got ${JSON.stringify(result.error)}`);
  }
  return result.value;
}

function errorOf(result: Parsed<ParsedBatch>): FieldError {
  if (result.ok) {
    throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  }
  return result.error;
}

describe('parseBatchRequest', () => {
  describe('body failures', () => {
    it('rejects body over limit', () => {
      const error = errorOf(parse({ batch: [IDENTIFY] }, DEFAULT_TRACK_LIMITS.maxBatchBytes + 1));
      expect(error.reason).toBe('too_large');
      expect(error.message).toBe('batch request is 512001 bytes, over the limit of 512000 bytes');
    });

    it('accepts body at limit', () => {
      const result = parse({ batch: [IDENTIFY] }, DEFAULT_TRACK_LIMITS.maxBatchBytes);
      expect(valueOf(result).accepted).toHaveLength(1);
    });

    it.each([
      ['array', [IDENTIFY]],
      ['null', null],
      ['string', 'batch'],
    ])('rejects %s body', (_kind, body) => {
      const error = errorOf(parse(body));
      expect(error.field).toBe('');
      expect(error.reason).toBe('invalid_type');
    });

    it('requires batch', () => {
      const error = errorOf(parse({ operations: [IDENTIFY] }));
      expect(error.field).toBe('batch');
      expect(error.reason).toBe('required');
    });

    it('rejects non-array batch', () => {
      const error = errorOf(parse({ batch: IDENTIFY }));
      expect(error.field).toBe('batch');
      expect(error.reason).toBe('required');
    });

    it('rejects empty batch', () => {
      const error = errorOf(parse({ batch: [] }));
      expect(error.field).toBe('batch');
      expect(error.message).toBe('batch must contain at least one operation');
    });
  });

  describe('item errors', () => {
    const body = {
      batch: [
        IDENTIFY,
        { ...IDENTIFY, timestamp: 1_700_000_000_000 },
        'not an operation',
        { ...IDENTIFY, identifiers: { email: 'a@example.com' } },
      ],
    };

    it('accepts valid items by index', () => {
      const indexes = valueOf(parse(body)).accepted.map((item) => item.index);
      expect(indexes).toEqual([0, 3]);
    });

    it('keeps accepted operations', () => {
      const accepted = valueOf(parse(body)).accepted.map((item) => item.operation);
      expect(accepted).toEqual([body.batch[0], body.batch[3]]);
    });

    it('reports invalid items by batch_index', () => {
      const rejected = valueOf(parse(body)).rejected;
      expect(rejected).toEqual([
        {
          batch_index: 1,
          field: 'timestamp',
          reason: 'invalid_value',
          message: expect.stringContaining('milliseconds') as unknown,
        },
        {
          batch_index: 2,
          field: '',
          reason: 'invalid_type',
          message: 'operation must be an object, got string',
        },
      ]);
    });

    it('returns ok when every item fails', () => {
      const parsed = valueOf(parse({ batch: [1, 2] }));
      expect(parsed.rejected.map((error) => error.batch_index)).toEqual([0, 1]);
    });
  });
});

describe('batchItemBytes', () => {
  it('counts UTF-8 bytes of first item', () => {
    expect(batchItemBytes('"€"', true)).toBe(5);
  });

  it('adds comma after first item', () => {
    expect(batchItemBytes('"€"', false)).toBe(6);
  });
});

describe('operationsPerFullBatch', () => {
  it.each([1, 100, 999, 32_768])('fills batch with %i-byte operations', (operationBytes) => {
    const count = operationsPerFullBatch(operationBytes, DEFAULT_TRACK_LIMITS);
    const bodyBytes = (count: number): number =>
      BATCH_ENVELOPE_BYTES + count * operationBytes + Math.max(0, count - 1);
    expect(bodyBytes(count)).toBeLessThanOrEqual(DEFAULT_TRACK_LIMITS.maxBatchBytes);
    expect(bodyBytes(count + 1)).toBeGreaterThan(DEFAULT_TRACK_LIMITS.maxBatchBytes);
  });
});
