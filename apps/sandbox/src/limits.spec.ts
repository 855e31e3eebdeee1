import type { Sandbox } from './sandbox';
import { createTestSandbox, send } from './testing/helpers';

interface BatchErrorBody {
  errors: { batch_index: number; reason: string; field: string; message: string }[];
}

function errorOf(body: string): string {
  return (JSON.parse(body) as { meta: { error: string } }).meta.error;
}

function byteLength(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** Returns an event operation padded so that its JSON is exactly `bytes` long. */
function eventOfSize(bytes: number, userId = 'user-1'): Record<string, unknown> {
  const operation = {
    type: 'person',
    identifiers: { id: userId },
    action: 'event',
    name: 'padded',
    attributes: { pad: '' },
  };
  const padding = bytes - byteLength(operation);
  if (padding < 0) {
    throw new Error(`cannot build an operation of ${bytes} bytes`);
  }
  operation.attributes.pad = 'x'.repeat(padding);
  return operation;
}

/** Returns a batch body of exactly `bytes` bytes, made of 16 operations of similar size. */
function batchOfSize(bytes: number): { batch: Record<string, unknown>[] } {
  const count = 16;
  const operationBytes = Math.ceil(bytes / count);
  const batch = Array.from({ length: count }, (_, index) =>
    eventOfSize(operationBytes, `user-${index}`),
  );
  const body = { batch };
  const excess = byteLength(body) - bytes;
  batch[count - 1] = eventOfSize(operationBytes - excess, `user-${count - 1}`);
  expect(byteLength(body)).toBe(bytes);
  return body;
}

describe('limits', () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = createTestSandbox();
  });

  afterEach(async () => {
    await sandbox.close();
  });

  describe('identifier of 150 bytes', () => {
    it('accepts 150 bytes', async () => {
      const response = await send(sandbox, 'PUT', `/api/v1/customers/${'a'.repeat(150)}`, {});
      expect(response.statusCode).toBe(200);
    });

    it('rejects 151 bytes', async () => {
      const response = await send(sandbox, 'PUT', `/api/v1/customers/${'a'.repeat(151)}`, {});
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe('identifier is 151 bytes, the limit is 150 bytes');
    });

    it('counts UTF-8 bytes', async () => {
      const accepted = await send(
        sandbox,
        'PUT',
        `/api/v1/customers/${encodeURIComponent('é'.repeat(75))}`,
        {},
      );
      expect(accepted.statusCode).toBe(200);
      const rejected = await send(
        sandbox,
        'PUT',
        `/api/v1/customers/${encodeURIComponent(`${'é'.repeat(75)}a`)}`,
        {},
      );
      expect(rejected.statusCode).toBe(400);
      expect(errorOf(rejected.body)).toBe('identifier is 151 bytes, the limit is 150 bytes');
    });

    it('applies to v2 identifiers', async () => {
      const operation = (id: string) => ({
        type: 'person',
        identifiers: { id },
        action: 'identify',
      });
      const response = await send(sandbox, 'POST', '/api/v2/batch', {
        batch: [operation('a'.repeat(150)), operation('a'.repeat(151))],
      });
      expect(response.statusCode).toBe(207);
      expect(response.json<BatchErrorBody>().errors).toEqual([
        {
          batch_index: 1,
          field: 'identifiers.id',
          reason: 'too_large',
          message: 'identifiers.id is 151 bytes, the limit is 150 bytes',
        },
      ]);
    });
  });

  describe('attribute name of 150 bytes', () => {
    it('accepts 150 bytes', async () => {
      const response = await send(sandbox, 'PUT', '/api/v1/customers/u', { ['n'.repeat(150)]: 1 });
      expect(response.statusCode).toBe(200);
    });

    it('rejects 151 bytes', async () => {
      const response = await send(sandbox, 'PUT', '/api/v1/customers/u', { ['n'.repeat(151)]: 1 });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe(
        `attribute name "${'n'.repeat(40)}..." is 151 bytes, the limit is 150 bytes`,
      );
    });
  });

  describe('attribute value of 1000 bytes', () => {
    it('accepts 1000 bytes', async () => {
      const response = await send(sandbox, 'PUT', '/api/v1/customers/u', { bio: 'é'.repeat(500) });
      expect(response.statusCode).toBe(200);
    });

    it('rejects 1001 bytes', async () => {
      const response = await send(sandbox, 'PUT', '/api/v1/customers/u', {
        bio: `${'é'.repeat(500)}a`,
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe(
        'value of attribute "bio" is 1001 bytes, the limit is 1000 bytes',
      );
    });

    it('measures nested values as JSON', async () => {
      const nested = { list: ['x'.repeat(988)] };
      expect(byteLength(nested)).toBe(1001);
      const response = await send(sandbox, 'PUT', '/api/v1/customers/u', { nested });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe(
        'value of attribute "nested" is 1001 bytes, the limit is 1000 bytes',
      );
    });

    it('applies to v2 identify attributes', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/entity', {
        type: 'person',
        identifiers: { id: 'u' },
        action: 'identify',
        attributes: { bio: 'x'.repeat(1001) },
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe(
        'value of attribute "bio" is 1001 bytes, the limit is 1000 bytes',
      );
    });
  });

  describe('300 attributes per call', () => {
    const attributes = (count: number) =>
      Object.fromEntries(Array.from({ length: count }, (_, index) => [`a${index}`, index]));

    it('accepts 300', async () => {
      const response = await send(sandbox, 'PUT', '/api/v1/customers/u', attributes(300));
      expect(response.statusCode).toBe(200);
    });

    it('rejects 301', async () => {
      const response = await send(sandbox, 'PUT', '/api/v1/customers/u', attributes(301));
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe('request body has 301 attributes, the limit is 300');
    });
  });

  describe('event name of 100 bytes', () => {
    it('accepts 100 bytes', async () => {
      const response = await send(sandbox, 'POST', '/api/v1/customers/u/events', {
        name: 'e'.repeat(100),
      });
      expect(response.statusCode).toBe(200);
    });

    it('rejects 101 bytes', async () => {
      const response = await send(sandbox, 'POST', '/api/v1/customers/u/events', {
        name: 'e'.repeat(101),
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe('name is 101 bytes, the limit is 100 bytes');
    });
  });

  describe('event data of 100000 bytes', () => {
    const dataOfSize = (bytes: number) => ({ pad: 'x'.repeat(bytes - byteLength({ pad: '' })) });

    it('accepts 100000 bytes', async () => {
      const data = dataOfSize(100_000);
      expect(byteLength(data)).toBe(100_000);
      const response = await send(sandbox, 'POST', '/api/v1/customers/u/events', {
        name: 'e',
        data,
      });
      expect(response.statusCode).toBe(200);
    });

    it('rejects 100001 bytes', async () => {
      const data = dataOfSize(100_001);
      const response = await send(sandbox, 'POST', '/api/v1/customers/u/events', {
        name: 'e',
        data,
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe(
        'data (as JSON) is 100001 bytes, the limit is 100000 bytes',
      );
    });
  });

  describe('timestamps in unix seconds', () => {
    it('accepts 100000000000', async () => {
      const response = await send(sandbox, 'POST', '/api/v1/customers/u/events', {
        name: 'e',
        timestamp: 100_000_000_000,
      });
      expect(response.statusCode).toBe(200);
    });

    it('rejects 100000000001', async () => {
      const response = await send(sandbox, 'POST', '/api/v1/customers/u/events', {
        name: 'e',
        timestamp: 100_000_000_001,
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toContain('looks like milliseconds');
    });

    it('rejects milliseconds in v2', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/entity', {
        type: 'person',
        identifiers: { id: 'u' },
        action: 'identify',
        timestamp: Date.now(),
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toContain('looks like milliseconds');
    });
  });

  describe('operation of 32768 bytes', () => {
    it('accepts 32768 bytes in a batch', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch', {
        batch: [eventOfSize(32_768)],
      });
      expect(response.statusCode).toBe(200);
      expect(sandbox.state.store.stored).toBe(1);
    });

    it('rejects 32769 bytes in a batch with 207', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch', {
        batch: [eventOfSize(200), eventOfSize(32_769)],
      });
      expect(response.statusCode).toBe(207);
      expect(response.json<BatchErrorBody>().errors).toEqual([
        {
          batch_index: 1,
          field: 'operation',
          reason: 'too_large',
          message: 'operation is 32769 bytes as JSON, the limit is 32768 bytes',
        },
      ]);
      expect(sandbox.state.store.stored).toBe(1);
    });

    it('rejects an operation that escaping takes past the limit', async () => {
      // 6,000 control characters are 6,000 bytes as parsed text but 36,000 as JSON.
      const operation = eventOfSize(200);
      operation['attributes'] = { pad: '\u0001'.repeat(6000) };
      const bytes = byteLength(operation);
      expect(bytes).toBeGreaterThan(32_768);
      const response = await send(sandbox, 'POST', '/api/v2/batch', {
        batch: [eventOfSize(200), operation],
      });
      expect(response.statusCode).toBe(207);
      expect(response.json<BatchErrorBody>().errors).toEqual([
        {
          batch_index: 1,
          field: 'operation',
          reason: 'too_large',
          message: `operation is ${bytes} bytes as JSON, the limit is 32768 bytes`,
        },
      ]);
    });

    it('accepts an entity body of 32768 bytes', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/entity', eventOfSize(32_768));
      expect(response.statusCode).toBe(200);
    });

    it('rejects an entity body of 32769 bytes with 400', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/entity', eventOfSize(32_769));
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe(
        'request body is 32769 bytes, the limit for POST /api/v2/entity is 32768 bytes',
      );
      expect(sandbox.state.store.stored).toBe(0);
    });
  });

  describe('batch body of 512000 bytes', () => {
    it('accepts 512000 bytes', async () => {
      const body = batchOfSize(512_000);
      const response = await send(sandbox, 'POST', '/api/v2/batch', body);
      expect(response.statusCode).toBe(200);
      expect(sandbox.state.store.stored).toBe(body.batch.length);
      const batches = sandbox.state.stats().total.batches;
      expect(batches.bytes.max).toBe(512_000);
      expect(batches.operations.max).toBe(body.batch.length);
    });

    it('rejects 512001 bytes with 400', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch', batchOfSize(512_001));
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toBe(
        'request body is 512001 bytes, the limit for POST /api/v2/batch is 512000 bytes',
      );
      expect(sandbox.state.store.stored).toBe(0);
    });
  });

  describe('configured limits', () => {
    it('applies a lower attribute count', async () => {
      const strict = createTestSandbox({ limits: { maxAttributes: 2 } });
      try {
        const accepted = await send(strict, 'PUT', '/api/v1/customers/u', { a: 1, b: 2 });
        expect(accepted.statusCode).toBe(200);
        const rejected = await send(strict, 'PUT', '/api/v1/customers/u', { a: 1, b: 2, c: 3 });
        expect(rejected.statusCode).toBe(400);
        expect(errorOf(rejected.body)).toBe('request body has 3 attributes, the limit is 2');
      } finally {
        await strict.close();
      }
    });

    it('applies the body limit to v1 routes', async () => {
      const strict = createTestSandbox({ bodyLimitBytes: 100 });
      try {
        const response = await send(strict, 'PUT', '/api/v1/customers/u', { bio: 'x'.repeat(200) });
        expect(response.statusCode).toBe(400);
        expect(errorOf(response.body)).toContain(
          'the limit for PUT /api/v1/customers/:identifier is 100 bytes',
        );
      } finally {
        await strict.close();
      }
    });
  });
});
