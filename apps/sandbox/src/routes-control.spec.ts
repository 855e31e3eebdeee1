import type { Sandbox } from './sandbox';
import type { StatsView } from './state';
import type { OperationPage } from './store';
import {
  EU_WORKSPACE,
  ManualClock,
  basicAuth,
  createTestSandbox,
  send,
  testUlid,
} from './testing/helpers';

const control = (
  sandbox: Sandbox,
  method: 'GET' | 'POST',
  url: string,
  payload?: Record<string, unknown>,
) => sandbox.app.inject(payload === undefined ? { method, url } : { method, url, payload });

const eventFor = (user: string, index: number) => ({
  type: 'person',
  identifiers: { id: user },
  action: 'event',
  name: `step-${index}`,
  id: testUlid(index),
});

describe('control routes', () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = createTestSandbox({
      region: 'eu',
      workspaces: [EU_WORKSPACE, { ...EU_WORKSPACE, siteId: 'site-b' }],
    });
  });

  afterEach(async () => {
    await sandbox.close();
  });

  const euAuth = basicAuth('site-eu', 'key-eu');
  const bAuth = basicAuth('site-b', 'key-eu');

  it('reports health', async () => {
    const response = await control(sandbox, 'GET', '/__sandbox/health');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('reports stats per workspace and in total', async () => {
    await send(sandbox, 'PUT', '/api/v1/customers/u1', { plan: 'pro' }, euAuth);
    await send(
      sandbox,
      'POST',
      '/api/v1/customers/u1/events',
      { name: 'x', id: testUlid(1) },
      euAuth,
    );
    await send(
      sandbox,
      'POST',
      '/api/v1/customers/u1/events',
      { name: 'x', id: testUlid(1) },
      euAuth,
    );
    await send(
      sandbox,
      'POST',
      '/api/v2/batch',
      { batch: [eventFor('u2', 2), { type: 'person' }] },
      bAuth,
    );
    await send(sandbox, 'PUT', '/api/v1/customers/u1', {}, basicAuth('site-eu', 'wrong'));

    const response = await control(sandbox, 'GET', '/__sandbox/stats');
    expect(response.statusCode).toBe(200);
    const stats = response.json<StatsView>();
    expect(stats.region).toBe('eu');
    expect(stats.retention).toEqual({ maxOperations: 2_000_000, stored: 3, notStored: 0 });
    expect(stats.faults.errorRate).toBe(0);

    const eu = stats.workspaces['site-eu'];
    expect(eu).toMatchObject({
      region: 'eu',
      rateLimitPerSecond: 0,
      requests: 3,
      requestsByStatus: { '200': 3 },
      operationsAccepted: 2,
      operationsAcceptedByAction: { identify: 1, event: 1 },
      uniqueEventIds: 1,
      duplicatesDropped: 1,
      rejectedOperations: 0,
      maxRequestsPerSecond: 3,
    });
    expect(eu?.batches.bytes.count).toBe(0);

    const b = stats.workspaces['site-b'];
    expect(b).toMatchObject({
      requests: 1,
      requestsByStatus: { '207': 1 },
      operationsAccepted: 1,
      rejectedOperations: 1,
      uniqueEventIds: 1,
    });
    expect(b?.batches.operations).toEqual({ count: 1, mean: 2, max: 2, total: 2 });

    expect(stats.total).toMatchObject({
      requests: 5,
      requestsByStatus: { '200': 3, '207': 1, '401': 1 },
      operationsAccepted: 3,
      operationsAcceptedByAction: { identify: 1, event: 2 },
      uniqueEventIds: 2,
      duplicatesDropped: 1,
      rejectedOperations: 1,
      requestsHung: 0,
      requestsDropped: 0,
    });
  });

  it('lists operations in arrival order with sequence numbers', async () => {
    // Interleave two people across workspaces and call types.
    await send(
      sandbox,
      'POST',
      '/api/v2/batch',
      { batch: [eventFor('a', 1), eventFor('b', 2)] },
      euAuth,
    );
    await send(sandbox, 'POST', '/api/v1/customers/a/events', { name: 'step-3' }, bAuth);
    await send(sandbox, 'POST', '/api/v2/entity', eventFor('b', 4), euAuth);
    await send(sandbox, 'DELETE', '/api/v1/customers/a', undefined, euAuth);

    const all = (await control(sandbox, 'GET', '/__sandbox/operations')).json<OperationPage>();
    expect(all.operations.map((record) => record.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all.operations.map((record) => record.workspace)).toEqual([
      'site-eu',
      'site-eu',
      'site-b',
      'site-eu',
      'site-eu',
    ]);
    expect(all.operations.map((record) => record.source)).toEqual([
      'POST /api/v2/batch',
      'POST /api/v2/batch',
      'POST /api/v1/customers/:identifier/events',
      'POST /api/v2/entity',
      'DELETE /api/v1/customers/:identifier',
    ]);
    expect(all.nextAfter).toBe(5);
    expect(all.hasMore).toBe(false);
    for (const record of all.operations) {
      expect(typeof record.receivedAt).toBe('number');
    }

    const eu = (
      await control(sandbox, 'GET', '/__sandbox/operations?workspace=site-eu')
    ).json<OperationPage>();
    expect(eu.operations.map((record) => record.seq)).toEqual([1, 2, 4, 5]);
    const personA = eu.operations.filter((record) => record.operation.identifiers?.id === 'a');
    expect(personA.map((record) => record.operation.action)).toEqual(['event', 'delete']);
  });

  it('pages with after and limit', async () => {
    const batch = Array.from({ length: 7 }, (_, index) => eventFor('a', index));
    await send(sandbox, 'POST', '/api/v2/batch', { batch }, euAuth);

    const first = (
      await control(sandbox, 'GET', '/__sandbox/operations?limit=3')
    ).json<OperationPage>();
    expect(first.operations.map((record) => record.seq)).toEqual([1, 2, 3]);
    expect(first.hasMore).toBe(true);

    const second = (
      await control(
        sandbox,
        'GET',
        `/__sandbox/operations?workspace=site-eu&after=${first.nextAfter}&limit=3`,
      )
    ).json<OperationPage>();
    expect(second.operations.map((record) => record.seq)).toEqual([4, 5, 6]);

    const last = (
      await control(sandbox, 'GET', '/__sandbox/operations?after=6&limit=3')
    ).json<OperationPage>();
    expect(last.operations.map((record) => record.seq)).toEqual([7]);
    expect(last.hasMore).toBe(false);

    const empty = (
      await control(sandbox, 'GET', '/__sandbox/operations?after=7')
    ).json<OperationPage>();
    expect(empty).toEqual({ operations: [], nextAfter: 7, hasMore: false });
  });

  it('rejects an unknown workspace with 404', async () => {
    const response = await control(sandbox, 'GET', '/__sandbox/operations?workspace=site-x');
    expect(response.statusCode).toBe(404);
  });

  it.each([['limit=0'], ['limit=100001'], ['after=-1'], ['after=abc'], ['other=1']])(
    'rejects the query %s with 400',
    async (query) => {
      const response = await control(sandbox, 'GET', `/__sandbox/operations?${query}`);
      expect(response.statusCode).toBe(400);
    },
  );

  it('reset clears operations, ids and counters', async () => {
    await send(sandbox, 'POST', '/api/v2/entity', eventFor('a', 1), euAuth);
    const reset = await control(sandbox, 'POST', '/__sandbox/reset');
    expect(reset.statusCode).toBe(200);
    expect(reset.json()).toEqual({ status: 'reset' });

    const stats = sandbox.state.stats();
    expect(stats.total.requests).toBe(0);
    expect(stats.total.uniqueEventIds).toBe(0);
    expect(stats.retention.stored).toBe(0);

    // The event id is accepted again and numbering restarts at 1.
    await send(sandbox, 'POST', '/api/v2/entity', eventFor('a', 1), euAuth);
    const page = (await control(sandbox, 'GET', '/__sandbox/operations')).json<OperationPage>();
    expect(page.operations.map((record) => record.seq)).toEqual([1]);
  });

  it('reset keeps settings unless asked to restore them', async () => {
    await control(sandbox, 'POST', '/__sandbox/faults', { latencyMs: 5, seed: 77 });
    await control(sandbox, 'POST', '/__sandbox/rate-limit', { requestsPerSecond: 9 });

    await control(sandbox, 'POST', '/__sandbox/reset', {});
    expect(sandbox.state.faults.view().latencyMs).toBe(5);
    expect(sandbox.state.rateLimits()).toEqual({ 'site-eu': 9, 'site-b': 9 });

    await control(sandbox, 'POST', '/__sandbox/reset', { restoreSettings: true });
    expect(sandbox.state.faults.view()).toMatchObject({ latencyMs: 0, seed: 1 });
    expect(sandbox.state.rateLimits()).toEqual({ 'site-eu': 0, 'site-b': 0 });
  });

  it('reset rejects unknown fields', async () => {
    const response = await control(sandbox, 'POST', '/__sandbox/reset', { everything: true });
    expect(response.statusCode).toBe(400);
  });
});

describe('retention', () => {
  it('keeps counting and de-duplicating past the limit', async () => {
    const clock = new ManualClock();
    const lines: string[] = [];
    const sandbox = createTestSandbox(
      { retentionOperations: 2, logLevel: 'warn' },
      { now: clock.now, logStream: { write: (line) => lines.push(line) } },
    );
    try {
      const batch = [eventFor('a', 1), eventFor('a', 2), eventFor('a', 3), eventFor('a', 3)];
      const response = await send(sandbox, 'POST', '/api/v2/batch', { batch });
      expect(response.statusCode).toBe(200);
      expect(lines).toHaveLength(1);
      expect(JSON.parse(lines[0] ?? '')).toMatchObject({
        event: 'retention',
        retentionOperations: 2,
      });
      const stats = sandbox.state.stats();
      expect(stats.retention).toEqual({ maxOperations: 2, stored: 2, notStored: 1 });
      expect(stats.total.operationsAccepted).toBe(3);
      expect(stats.total.duplicatesDropped).toBe(1);
      expect(stats.total.uniqueEventIds).toBe(3);
      const page = sandbox.state.store.list(undefined, 0, 10);
      expect(page.operations.map((record) => record.operation.name)).toEqual(['step-1', 'step-2']);
    } finally {
      await sandbox.close();
    }
  });
});
