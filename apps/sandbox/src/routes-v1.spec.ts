import type { Sandbox } from './sandbox';
import type { StoredOperation } from './store';
import { US_AUTH, createTestSandbox, send, testUlid } from './testing/helpers';

function lastOperation(sandbox: Sandbox): StoredOperation {
  const page = sandbox.state.store.list(undefined, 0, 100_000);
  const last = page.operations[page.operations.length - 1];
  if (last === undefined) {
    throw new Error('no operation stored');
  }
  return last;
}

function errorOf(body: string): string {
  return (JSON.parse(body) as { meta: { error: string } }).meta.error;
}

describe('v1 routes', () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = createTestSandbox();
  });

  afterEach(async () => {
    await sandbox.close();
  });

  it('identify stores flat attributes', async () => {
    const response = await send(sandbox, 'PUT', '/api/v1/customers/user-1', {
      email: 'a@example.com',
      plan: 'pro',
      created_at: 1_700_000_000,
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({});
    const stored = lastOperation(sandbox);
    expect(stored.source).toBe('PUT /api/v1/customers/:identifier');
    expect(stored.workspace).toBe('site-us');
    expect(stored.operation).toEqual({
      type: 'person',
      identifiers: { id: 'user-1' },
      action: 'identify',
      attributes: { email: 'a@example.com', plan: 'pro', created_at: 1_700_000_000 },
    });
  });

  it('identify without a body stores empty attributes', async () => {
    const response = await send(sandbox, 'PUT', '/api/v1/customers/user-1');
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation.attributes).toEqual({});
  });

  it('infers email and cio_id identifiers from the path', async () => {
    await send(sandbox, 'PUT', `/api/v1/customers/${encodeURIComponent('A@Example.com')}`, {});
    expect(lastOperation(sandbox).operation.identifiers).toEqual({ email: 'A@Example.com' });
    await send(sandbox, 'PUT', '/api/v1/customers/cio_abc123', {});
    expect(lastOperation(sandbox).operation.identifiers).toEqual({ cio_id: 'abc123' });
  });

  it('identify rejects a body that is not an object', async () => {
    const response = await send(sandbox, 'PUT', '/api/v1/customers/user-1', [1, 2]);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response.body)).toBe('request body must be an object');
    expect(sandbox.state.stats().total.rejectedOperations).toBe(1);
  });

  it('delete stores a delete operation', async () => {
    const response = await send(sandbox, 'DELETE', '/api/v1/customers/user-1');
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      identifiers: { id: 'user-1' },
      action: 'delete',
    });
  });

  it('track stores an event with its data', async () => {
    const id = testUlid(1);
    const response = await send(sandbox, 'POST', '/api/v1/customers/user-1/events', {
      name: 'purchase',
      data: { amount: 10 },
      timestamp: 1_700_000_000,
      id,
    });
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      identifiers: { id: 'user-1' },
      action: 'event',
      name: 'purchase',
      attributes: { amount: 10 },
      timestamp: 1_700_000_000,
      id,
    });
  });

  it('track maps page and screen types to actions', async () => {
    await send(sandbox, 'POST', '/api/v1/customers/user-1/events', { name: '/home', type: 'page' });
    expect(lastOperation(sandbox).operation.action).toBe('page');
    await send(sandbox, 'POST', '/api/v1/customers/user-1/events', {
      name: 'Home',
      type: 'screen',
    });
    expect(lastOperation(sandbox).operation.action).toBe('screen');
  });

  const invalidEvents: [string, unknown, string][] = [
    ['missing name', { data: {} }, 'name is required'],
    ['numeric name', { name: 5 }, 'name must be a string'],
    ['array data', { name: 'x', data: [1] }, 'data must be an object'],
    ['null data', { name: 'x', data: null }, 'data must be an object'],
    [
      'unknown type',
      { name: 'x', type: 'click' },
      'type must be event, page or screen, got "click"',
    ],
    [
      'string timestamp',
      { name: 'x', timestamp: '1700000000' },
      'timestamp must be a non-negative integer',
    ],
    [
      'fractional timestamp',
      { name: 'x', timestamp: 1.5 },
      'timestamp must be a non-negative integer',
    ],
    ['non-ULID id', { name: 'x', id: 'abc' }, 'id must be a ULID'],
    ['non-object body', 'null', 'request body must be a JSON object'],
  ];

  it.each(invalidEvents)('track rejects %s', async (_name, body, message) => {
    const response = await send(sandbox, 'POST', '/api/v1/customers/user-1/events', body);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response.body)).toContain(message);
    expect(sandbox.state.store.stored).toBe(0);
  });

  it('anonymous event stores anonymous_id', async () => {
    const response = await send(sandbox, 'POST', '/api/v1/events', {
      name: 'visit',
      anonymous_id: 'anon-1',
      data: { path: '/' },
    });
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      anonymous_id: 'anon-1',
      action: 'event',
      name: 'visit',
      attributes: { path: '/' },
    });
  });

  it('anonymous event without anonymous_id is accepted', async () => {
    const response = await send(sandbox, 'POST', '/api/v1/events', { name: 'invite' });
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      action: 'event',
      name: 'invite',
    });
  });

  it('anonymous event rejects a non-string anonymous_id', async () => {
    const response = await send(sandbox, 'POST', '/api/v1/events', {
      name: 'visit',
      anonymous_id: 5,
    });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response.body)).toBe('anonymous_id must be a string');
  });

  it('add device stores the token', async () => {
    const response = await send(sandbox, 'PUT', '/api/v1/customers/user-1/devices', {
      device: {
        id: 'token-1',
        platform: 'ios',
        last_used: 1_700_000_000,
        attributes: { app: '1.2' },
      },
    });
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      identifiers: { id: 'user-1' },
      action: 'add_device',
      device: {
        token: 'token-1',
        platform: 'ios',
        last_used: 1_700_000_000,
        attributes: { app: '1.2' },
      },
    });
  });

  const invalidDevices: [string, unknown, string][] = [
    ['missing device', {}, 'device is required'],
    ['missing id', { device: { platform: 'ios' } }, 'device.id is required'],
    [
      'unknown platform',
      { device: { id: 't', platform: 'web' } },
      'device.platform must be ios or android',
    ],
    [
      'millisecond last_used',
      { device: { id: 't', platform: 'android', last_used: 1_700_000_000_000 } },
      'looks like milliseconds',
    ],
  ];

  it.each(invalidDevices)('add device rejects %s', async (_name, body, message) => {
    const response = await send(sandbox, 'PUT', '/api/v1/customers/user-1/devices', body);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response.body)).toContain(message);
  });

  it('delete device stores the token from the path', async () => {
    const response = await send(sandbox, 'DELETE', '/api/v1/customers/user-1/devices/token%2F1');
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      identifiers: { id: 'user-1' },
      action: 'delete_device',
      device: { token: 'token/1' },
    });
  });

  it('suppress and unsuppress store their actions', async () => {
    const suppress = await send(sandbox, 'POST', '/api/v1/customers/user-1/suppress');
    expect(suppress.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      identifiers: { id: 'user-1' },
      action: 'suppress',
    });
    const unsuppress = await send(sandbox, 'POST', '/api/v1/customers/user-1/unsuppress', {});
    expect(unsuppress.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation.action).toBe('unsuppress');
  });

  it('merge stores primary and secondary', async () => {
    const response = await send(sandbox, 'POST', '/api/v1/merge_customers', {
      primary: { id: 'user-1' },
      secondary: { email: 'old@example.com' },
    });
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation).toEqual({
      type: 'person',
      action: 'merge',
      primary: { id: 'user-1' },
      secondary: { email: 'old@example.com' },
    });
  });

  const invalidMerges: [string, unknown, string][] = [
    ['missing primary', { secondary: { id: 'b' } }, 'primary is required'],
    [
      'two identifiers',
      { primary: { id: 'a', email: 'a@x' }, secondary: { id: 'b' } },
      'found id, email',
    ],
    [
      'phone identifier',
      { primary: { id: 'a' }, secondary: { phone: '+1' } },
      'exactly one of id, email, cio_id',
    ],
    ['empty id', { primary: { id: '' }, secondary: { id: 'b' } }, 'primary.id is required'],
  ];

  it.each(invalidMerges)('merge rejects %s', async (_name, body, message) => {
    const response = await send(sandbox, 'POST', '/api/v1/merge_customers', body);
    expect(response.statusCode).toBe(400);
    expect(errorOf(response.body)).toContain(message);
  });

  it('rejects invalid JSON with 400', async () => {
    const response = await send(sandbox, 'PUT', '/api/v1/customers/user-1', '{"plan":');
    expect(response.statusCode).toBe(400);
    expect(errorOf(response.body)).toContain('request body is not valid JSON');
  });

  it('parses JSON sent without a content type', async () => {
    const response = await sandbox.app.inject({
      method: 'PUT',
      url: '/api/v1/customers/user-1',
      headers: { authorization: US_AUTH, 'content-type': 'text/plain' },
      payload: '{"plan":"pro"}',
    });
    expect(response.statusCode).toBe(200);
    expect(lastOperation(sandbox).operation.attributes).toEqual({ plan: 'pro' });
  });

  it('answers unknown routes with 404', async () => {
    const response = await send(sandbox, 'GET', '/api/v1/customers/user-1');
    expect(response.statusCode).toBe(404);
    expect(errorOf(response.body)).toBe('not found: GET /api/v1/customers/user-1');
  });
});
