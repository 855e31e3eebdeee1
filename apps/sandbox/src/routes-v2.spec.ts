import { DEFAULT_LIMITS } from './config';
import { checkBatch } from './routes-v2';
import type { Sandbox } from './sandbox';
import { createTestSandbox, send, testUlid } from './testing/helpers';

interface BatchErrorBody {
  errors: { batch_index: number; reason: string; field: string; message: string }[];
}

function errorOf(body: string): string {
  return (JSON.parse(body) as { meta: { error: string } }).meta.error;
}

const person = { type: 'person', identifiers: { id: 'user-1' } };

const validOperations: [string, Record<string, unknown>][] = [
  [
    'identify',
    { ...person, action: 'identify', attributes: { plan: 'pro' }, timestamp: 1_700_000_000 },
  ],
  [
    'identify by email',
    { type: 'person', identifiers: { email: 'a@example.com' }, action: 'identify' },
  ],
  [
    'identify by phone',
    { type: 'person', identifiers: { phone: '+15550100' }, action: 'identify' },
  ],
  ['identify by cio_id', { type: 'person', identifiers: { cio_id: 'a1b2' }, action: 'identify' }],
  ['identify by numeric id', { type: 'person', identifiers: { id: 42 }, action: 'identify' }],
  ['delete', { ...person, action: 'delete' }],
  [
    'event',
    { ...person, action: 'event', name: 'purchase', id: testUlid(1), attributes: { total: 5 } },
  ],
  ['page', { ...person, action: 'page', name: 'https://example.com/' }],
  ['screen', { ...person, action: 'screen', name: 'Home' }],
  ['anonymous event', { type: 'person', anonymous_id: 'anon-1', action: 'event', name: 'visit' }],
  [
    'add_relationships',
    {
      ...person,
      action: 'add_relationships',
      cio_relationships: [{ identifiers: { object_type_id: '1', object_id: 'acme' } }],
    },
  ],
  [
    'delete_relationships',
    {
      ...person,
      action: 'delete_relationships',
      cio_relationships: [{ identifiers: { object_type_id: '1', object_id: 'acme' } }],
    },
  ],
  [
    'add_device',
    { ...person, action: 'add_device', device: { token: 't-1', platform: 'android' } },
  ],
  ['delete_device', { ...person, action: 'delete_device', device: { token: 't-1' } }],
  [
    'merge',
    {
      type: 'person',
      action: 'merge',
      primary: { id: 'a' },
      secondary: { email: 'b@example.com' },
    },
  ],
  ['suppress', { ...person, action: 'suppress' }],
  ['unsuppress', { ...person, action: 'unsuppress' }],
  [
    'object identify',
    {
      type: 'object',
      identifiers: { object_type_id: '1', object_id: 'acme' },
      action: 'identify',
      attributes: { name: 'Acme' },
    },
  ],
  [
    'object delete',
    { type: 'object', identifiers: { object_type_id: 1, object_id: 'acme' }, action: 'delete' },
  ],
  [
    'delivery event',
    { type: 'delivery', identifiers: { id: 'dlv-1' }, action: 'event', name: 'opened' },
  ],
];

const invalidOperations: [string, unknown, string, string, string][] = [
  ['non-object', 42, 'operation', 'invalid', 'operation must be a JSON object'],
  [
    'missing type',
    { identifiers: { id: 'u' }, action: 'identify' },
    'type',
    'required',
    'type must be one of',
  ],
  [
    'unknown type',
    { ...person, type: 'company', action: 'identify' },
    'type',
    'invalid',
    'got "company"',
  ],
  ['missing action', { ...person }, 'action', 'required', 'action must be one of'],
  ['unknown action', { ...person, action: 'upsert' }, 'action', 'invalid', 'got "upsert"'],
  [
    'missing identifiers',
    { type: 'person', action: 'identify' },
    'identifiers',
    'required',
    'identifiers is required',
  ],
  [
    'two identifiers',
    { type: 'person', identifiers: { id: 'u', email: 'e@x' }, action: 'identify' },
    'identifiers',
    'invalid',
    'found id, email',
  ],
  [
    'unknown identifier',
    { type: 'person', identifiers: { user_id: 'u' }, action: 'identify' },
    'identifiers',
    'invalid',
    'exactly one of id, email, phone, cio_id',
  ],
  [
    'missing object_id',
    { type: 'object', identifiers: { object_type_id: '1' }, action: 'identify' },
    'identifiers.object_id',
    'required',
    'identifiers.object_id is required',
  ],
  ['event without name', { ...person, action: 'event' }, 'name', 'required', 'name is required'],
  [
    'event with array data',
    { ...person, action: 'event', name: 'e', attributes: [1] },
    'attributes',
    'invalid',
    'attributes must be an object',
  ],
  [
    'event with invalid id',
    { ...person, action: 'event', name: 'e', id: 'not-a-ulid' },
    'id',
    'invalid',
    'id must be a ULID',
  ],
  [
    'identify with string attributes',
    { ...person, action: 'identify', attributes: 'plan=pro' },
    'attributes',
    'invalid',
    'attributes must be an object',
  ],
  [
    'device without token',
    { ...person, action: 'add_device', device: {} },
    'device.token',
    'required',
    'device.token is required',
  ],
  [
    'device with unknown platform',
    { ...person, action: 'add_device', device: { token: 't', platform: 'web' } },
    'device.platform',
    'invalid',
    'device.platform must be ios or android',
  ],
  [
    'relationships not an array',
    { ...person, action: 'add_relationships', cio_relationships: {} },
    'cio_relationships',
    'invalid',
    'cio_relationships must be a non-empty array',
  ],
  [
    'merge without secondary',
    { type: 'person', action: 'merge', primary: { id: 'a' } },
    'secondary',
    'required',
    'secondary is required',
  ],
  [
    'timestamp in milliseconds',
    { ...person, action: 'identify', timestamp: 1_700_000_000_000 },
    'timestamp',
    'invalid',
    'looks like milliseconds',
  ],
];

describe('v2 routes', () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = createTestSandbox();
  });

  afterEach(async () => {
    await sandbox.close();
  });

  describe('entity', () => {
    it.each(validOperations)('accepts %s', async (_name, operation) => {
      const response = await send(sandbox, 'POST', '/api/v2/entity', operation);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({});
      const [stored] = sandbox.state.store.list(undefined, 0, 10).operations;
      expect(stored?.operation).toEqual(operation);
      expect(stored?.source).toBe('POST /api/v2/entity');
    });

    it.each(invalidOperations)(
      'rejects %s with 400',
      async (_name, operation, _field, _reason, message) => {
        const response = await send(sandbox, 'POST', '/api/v2/entity', operation);
        expect(response.statusCode).toBe(400);
        expect(errorOf(response.body)).toContain(message);
        expect(sandbox.state.store.stored).toBe(0);
        expect(sandbox.state.stats().total.rejectedOperations).toBe(1);
      },
    );
  });

  describe('batch', () => {
    it('accepts every valid operation with 200', async () => {
      const batch = validOperations.map(([, operation]) => operation);
      const response = await send(sandbox, 'POST', '/api/v2/batch', { batch });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({});
      const stored = sandbox.state.store.list('site-us', 0, 1000).operations;
      expect(stored.map((record) => record.operation)).toEqual(batch);
      expect(stored.map((record) => record.seq)).toEqual(batch.map((_, index) => index + 1));
    });

    it('keeps order across validation slices', async () => {
      const batch = Array.from({ length: 300 }, (_, index) => ({
        type: 'person',
        identifiers: { id: `user-${index % 7}` },
        action: 'event',
        name: 'step',
        id: testUlid(index),
      }));
      batch[200] = { ...batch[200], action: 'jump' } as (typeof batch)[number];
      const response = await send(sandbox, 'POST', '/api/v2/batch', { batch });

      expect(response.statusCode).toBe(207);
      expect(response.json<BatchErrorBody>().errors.map((error) => error.batch_index)).toEqual([
        200,
      ]);
      const stored = sandbox.state.store.list('site-us', 0, 1000).operations;
      expect(stored.map((record) => record.operation)).toEqual(
        batch.filter((_, index) => index !== 200),
      );
    });

    it('stores concurrent batches in arrival order', async () => {
      const long = Array.from({ length: 1000 }, (_, index) => ({
        type: 'person',
        identifiers: { id: `user-${index}` },
        action: 'identify',
      }));
      const short = [{ type: 'person', identifiers: { id: 'last' }, action: 'identify' }];

      const responses = await Promise.all([
        send(sandbox, 'POST', '/api/v2/batch', { batch: long }),
        send(sandbox, 'POST', '/api/v2/batch', { batch: short }),
      ]);

      expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
      const stored = sandbox.state.store.list('site-us', 0, 2000).operations;
      expect(stored.map((record) => record.operation)).toEqual([...long, ...short]);
    });

    it('stores a v1 call after an earlier batch', async () => {
      const long = Array.from({ length: 1000 }, (_, index) => ({
        type: 'person',
        identifiers: { id: `user-${index}` },
        action: 'identify',
      }));

      const responses = await Promise.all([
        send(sandbox, 'POST', '/api/v2/batch', { batch: long }),
        send(sandbox, 'PUT', '/api/v1/customers/last', { plan: 'pro' }),
      ]);

      expect(responses.map((response) => response.statusCode)).toEqual([200, 200]);
      const stored = sandbox.state.store.list('site-us', 0, 2000).operations;
      expect(stored).toHaveLength(1001);
      expect(stored.at(-1)?.operation).toMatchObject({ identifiers: { id: 'last' } });
    });

    it('accepts an empty batch', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch', { batch: [] });
      expect(response.statusCode).toBe(200);
    });

    it('answers 207 with batch_index and accepts the rest', async () => {
      const valid = validOperations.map(([, operation]) => operation);
      const invalid = invalidOperations.map(([, operation]) => operation);
      const batch: unknown[] = [];
      valid.forEach((operation, index) => {
        batch.push(operation);
        const bad = invalid[index];
        if (bad !== undefined) {
          batch.push(bad);
        }
      });
      const response = await send(sandbox, 'POST', '/api/v2/batch', { batch });
      expect(response.statusCode).toBe(207);
      const { errors } = response.json<BatchErrorBody>();
      expect(errors).toHaveLength(invalid.length);
      errors.forEach((error, index) => {
        const [, operation, field, reason, message] = invalidOperations[index] ?? [];
        expect(error.batch_index).toBe(batch.indexOf(operation));
        expect(error.field).toBe(field);
        expect(error.reason).toBe(reason);
        expect(error.message).toContain(message);
      });
      expect(sandbox.state.store.stored).toBe(valid.length);
      const stats = sandbox.state.stats().workspaces['site-us'];
      expect(stats?.operationsAccepted).toBe(valid.length);
      expect(stats?.rejectedOperations).toBe(invalid.length);
      expect(stats?.requestsByStatus).toEqual({ '207': 1 });
    });

    it('rejects a missing batch with 400', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch', { operations: [] });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toContain('batch is required and must be an array');
    });

    it('rejects a batch that is not an array with 400', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch', {
        batch: { ...person, action: 'delete' },
      });
      expect(response.statusCode).toBe(400);
    });

    it('rejects an empty body with 400', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch');
      expect(response.statusCode).toBe(400);
    });

    it('rejects invalid JSON with 400', async () => {
      const response = await send(sandbox, 'POST', '/api/v2/batch', '{"batch": [');
      expect(response.statusCode).toBe(400);
      expect(errorOf(response.body)).toContain('request body is not valid JSON');
    });

    it('records bytes and operations per batch', async () => {
      const first = { batch: [{ ...person, action: 'delete' }] };
      const second = {
        batch: [{ ...person, action: 'delete' }, { ...person, action: 'suppress' }, 'bad'],
      };
      await send(sandbox, 'POST', '/api/v2/batch', first);
      await send(sandbox, 'POST', '/api/v2/batch', second);
      const { batches } = sandbox.state.stats().total;
      const firstBytes = Buffer.byteLength(JSON.stringify(first));
      const secondBytes = Buffer.byteLength(JSON.stringify(second));
      expect(batches.bytes).toEqual({
        count: 2,
        mean: (firstBytes + secondBytes) / 2,
        max: secondBytes,
        total: firstBytes + secondBytes,
      });
      expect(batches.operations).toEqual({ count: 2, mean: 2, max: 3, total: 4 });
    });
  });
});

describe('checkBatch', () => {
  const context = { limits: DEFAULT_LIMITS, bodyBytes: 1_000_000 };
  const operation = { type: 'person', identifiers: { id: 'user-1' }, action: 'identify' };

  it('yields during a long batch', async () => {
    let finished = false;
    const checked = checkBatch(
      Array.from({ length: 1000 }, () => operation),
      context,
    ).then((result) => {
      finished = true;
      return result;
    });
    const turnedBeforeTheEnd = await new Promise<boolean>((resolve) => {
      setImmediate(() => {
        resolve(!finished);
      });
    });

    expect(turnedBeforeTheEnd).toBe(true);
    expect((await checked).valid).toHaveLength(1000);
  });

  it('reports invalid items by index', async () => {
    const { valid, errors } = await checkBatch([operation, { type: 'person' }], context);

    expect(valid).toHaveLength(1);
    expect(errors.map((error) => error.batch_index)).toEqual([1]);
  });
});
