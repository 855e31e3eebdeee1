import type { Sandbox } from './sandbox';
import { EU_WORKSPACE, basicAuth, createTestSandbox, send, testUlid } from './testing/helpers';

const event = (id: string, name = 'purchase') => ({
  type: 'person',
  identifiers: { id: 'user-1' },
  action: 'event',
  name,
  id,
});

describe('event de-duplication', () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = createTestSandbox();
  });

  afterEach(async () => {
    await sandbox.close();
  });

  it('drops a repeated v1 event id silently', async () => {
    const id = testUlid(7);
    const first = await send(sandbox, 'POST', '/api/v1/customers/user-1/events', { name: 'a', id });
    const second = await send(sandbox, 'POST', '/api/v1/customers/user-1/events', {
      name: 'b',
      id,
    });
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({});
    const stored = sandbox.state.store.list(undefined, 0, 10).operations;
    expect(stored.map((record) => record.operation.name)).toEqual(['a']);
    const stats = sandbox.state.stats().workspaces['site-us'];
    expect(stats?.duplicatesDropped).toBe(1);
    expect(stats?.uniqueEventIds).toBe(1);
    expect(stats?.operationsAccepted).toBe(1);
  });

  it('drops repeats within and across v2 batches', async () => {
    const first = await send(sandbox, 'POST', '/api/v2/batch', {
      batch: [event(testUlid(1)), event(testUlid(2)), event(testUlid(1), 'repeat')],
    });
    expect(first.statusCode).toBe(200);
    const second = await send(sandbox, 'POST', '/api/v2/batch', {
      batch: [event(testUlid(2)), event(testUlid(3))],
    });
    expect(second.statusCode).toBe(200);
    const stored = sandbox.state.store.list(undefined, 0, 10).operations;
    expect(stored.map((record) => record.operation.id)).toEqual([
      testUlid(1),
      testUlid(2),
      testUlid(3),
    ]);
    const total = sandbox.state.stats().total;
    expect(total.duplicatesDropped).toBe(2);
    expect(total.uniqueEventIds).toBe(3);
  });

  it('shares ids between v1 and v2 and ignores case', async () => {
    const id = testUlid(9);
    await send(sandbox, 'POST', '/api/v2/entity', event(id));
    await send(sandbox, 'POST', '/api/v1/customers/user-1/events', {
      name: 'x',
      id: id.toLowerCase(),
    });
    await send(sandbox, 'POST', '/api/v1/events', { name: 'x', anonymous_id: 'a', id });
    expect(sandbox.state.store.stored).toBe(1);
    expect(sandbox.state.stats().total.duplicatesDropped).toBe(2);
  });

  it('keeps ids separate per workspace', async () => {
    const multi = createTestSandbox({
      region: 'eu',
      workspaces: [EU_WORKSPACE, { ...EU_WORKSPACE, siteId: 'site-eu-2' }],
    });
    try {
      const id = testUlid(3);
      const first = await send(
        multi,
        'POST',
        '/api/v2/entity',
        event(id),
        basicAuth('site-eu', 'key-eu'),
      );
      const second = await send(
        multi,
        'POST',
        '/api/v2/entity',
        event(id),
        basicAuth('site-eu-2', 'key-eu'),
      );
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(multi.state.store.stored).toBe(2);
      expect(multi.state.stats().total.duplicatesDropped).toBe(0);
    } finally {
      await multi.close();
    }
  });

  it('does not de-duplicate events without an id', async () => {
    await send(sandbox, 'POST', '/api/v1/customers/user-1/events', { name: 'a' });
    await send(sandbox, 'POST', '/api/v1/customers/user-1/events', { name: 'a' });
    expect(sandbox.state.store.stored).toBe(2);
    expect(sandbox.state.stats().total.uniqueEventIds).toBe(0);
  });

  it('does not record the id of a rejected event', async () => {
    const id = testUlid(4);
    const rejected = await send(sandbox, 'POST', '/api/v1/customers/user-1/events', {
      id,
      name: 'x',
      data: [],
    });
    expect(rejected.statusCode).toBe(400);
    await send(sandbox, 'POST', '/api/v1/customers/user-1/events', { id, name: 'x' });
    expect(sandbox.state.store.stored).toBe(1);
    expect(sandbox.state.stats().total.duplicatesDropped).toBe(0);
  });
});
