import type { Sandbox } from './sandbox';
import {
  EU_WORKSPACE,
  ManualClock,
  US_WORKSPACE,
  basicAuth,
  createTestSandbox,
  send,
} from './testing/helpers';

const identify = (sandbox: Sandbox, auth?: string) =>
  send(sandbox, 'PUT', '/api/v1/customers/user-1', { plan: 'pro' }, auth);

describe('rate limit', () => {
  let clock: ManualClock;
  let sandbox: Sandbox;

  beforeEach(() => {
    clock = new ManualClock();
    sandbox = createTestSandbox({ rateLimitPerSecond: 3 }, { now: clock.now });
  });

  afterEach(async () => {
    await sandbox.close();
  });

  it('answers 429 over the limit within a window', async () => {
    for (let i = 0; i < 3; i += 1) {
      const response = await identify(sandbox);
      expect(response.statusCode).toBe(200);
      clock.advance(100);
    }
    const limited = await identify(sandbox);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      meta: { error: 'rate limit exceeded: workspace site-us allows 3 requests per second' },
    });
    expect(limited.headers['retry-after']).toBeUndefined();
  });

  it('counts 429 responses without storing them', async () => {
    for (let i = 0; i < 5; i += 1) {
      await identify(sandbox);
    }
    expect(sandbox.state.store.stored).toBe(3);
    const stats = sandbox.state.stats().workspaces['site-us'];
    expect(stats?.requests).toBe(5);
    expect(stats?.requestsByStatus).toEqual({ '200': 3, '429': 2 });
    expect(stats?.operationsAccepted).toBe(3);
  });

  it('recovers once the window has passed', async () => {
    for (let i = 0; i < 3; i += 1) {
      await identify(sandbox);
    }
    clock.advance(999);
    expect((await identify(sandbox)).statusCode).toBe(429);
    clock.advance(1);
    expect((await identify(sandbox)).statusCode).toBe(200);
  });

  it('sends Retry-After when configured', async () => {
    const withHeader = createTestSandbox(
      { rateLimitPerSecond: 1, retryAfterSeconds: 2 },
      { now: clock.now },
    );
    try {
      await identify(withHeader);
      const limited = await identify(withHeader);
      expect(limited.statusCode).toBe(429);
      expect(limited.headers['retry-after']).toBe('2');
    } finally {
      await withHeader.close();
    }
  });

  it('applies per-workspace overrides', async () => {
    const mixed = createTestSandbox(
      {
        region: 'us',
        workspaces: [
          US_WORKSPACE,
          { siteId: 'site-slow', apiKey: 'key-slow', region: 'us', rateLimitPerSecond: 1 },
        ],
      },
      { now: clock.now },
    );
    try {
      const slow = basicAuth('site-slow', 'key-slow');
      expect((await identify(mixed, slow)).statusCode).toBe(200);
      expect((await identify(mixed, slow)).statusCode).toBe(429);
      for (let i = 0; i < 20; i += 1) {
        expect((await identify(mixed)).statusCode).toBe(200);
      }
    } finally {
      await mixed.close();
    }
  });

  it('changes at run time through the control route', async () => {
    const response = await send(sandbox, 'POST', '/__sandbox/rate-limit', {
      requestsPerSecond: 1,
      workspace: 'site-us',
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ workspaces: { 'site-us': 1, 'site-eu': 3 } });
    expect((await identify(sandbox)).statusCode).toBe(200);
    expect((await identify(sandbox)).statusCode).toBe(429);

    const unlimited = await send(sandbox, 'POST', '/__sandbox/rate-limit', {
      requestsPerSecond: 0,
    });
    expect(unlimited.json()).toEqual({ workspaces: { 'site-us': 0, 'site-eu': 0 } });
    expect((await identify(sandbox)).statusCode).toBe(200);
  });

  it('rejects a rate limit for an unknown workspace', async () => {
    const response = await send(sandbox, 'POST', '/__sandbox/rate-limit', {
      requestsPerSecond: 1,
      workspace: 'site-none',
    });
    expect(response.statusCode).toBe(404);
  });
});

describe('maxRequestsPerSecond', () => {
  it('reports the busiest sliding 1000 ms window', async () => {
    const clock = new ManualClock();
    const sandbox = createTestSandbox({}, { now: clock.now });
    try {
      // Nine requests 100 ms apart straddle a second boundary: calendar seconds would
      // contain at most five of them, but one sliding window contains all nine.
      clock.advance(600);
      for (let i = 0; i < 9; i += 1) {
        await identify(sandbox);
        clock.advance(100);
      }
      clock.advance(5000);
      for (let i = 0; i < 4; i += 1) {
        await identify(sandbox);
      }
      const stats = sandbox.state.stats();
      expect(stats.workspaces['site-us']?.maxRequestsPerSecond).toBe(9);
      expect(stats.workspaces['site-us']?.currentRequestsPerSecond).toBe(4);
      expect(stats.total.maxRequestsPerSecond).toBe(9);
    } finally {
      await sandbox.close();
    }
  });

  it('counts rejected requests and sums workspaces in the total', async () => {
    const clock = new ManualClock();
    const sandbox = createTestSandbox({ rateLimitPerSecond: 2 }, { now: clock.now });
    try {
      const euAuth = basicAuth(EU_WORKSPACE.siteId, EU_WORKSPACE.apiKey);
      for (let i = 0; i < 5; i += 1) {
        await identify(sandbox);
        await identify(sandbox, euAuth);
        clock.advance(10);
      }
      const stats = sandbox.state.stats();
      expect(stats.workspaces['site-us']?.maxRequestsPerSecond).toBe(5);
      expect(stats.workspaces['site-eu']?.maxRequestsPerSecond).toBe(5);
      expect(stats.total.maxRequestsPerSecond).toBe(10);
      expect(stats.workspaces['site-us']?.requestsByStatus).toEqual({ '200': 2, '429': 3 });
    } finally {
      await sandbox.close();
    }
  });
});

describe('rate limit on the real clock', () => {
  it('recovers after one second', async () => {
    const sandbox = createTestSandbox({ rateLimitPerSecond: 2 });
    try {
      expect((await identify(sandbox)).statusCode).toBe(200);
      expect((await identify(sandbox)).statusCode).toBe(200);
      expect((await identify(sandbox)).statusCode).toBe(429);
      await new Promise((resolve) => setTimeout(resolve, 1050));
      expect((await identify(sandbox)).statusCode).toBe(200);
    } finally {
      await sandbox.close();
    }
  });

  it('reports the shortest time the limit plus one requests took', async () => {
    const clock = new ManualClock();
    const sandbox = createTestSandbox({ rateLimitPerSecond: 3 }, { now: clock.now });
    try {
      expect(sandbox.state.stats().workspaces['site-us']?.tightestSpanMs).toBeNull();
      // Gaps of 400, 300, 350 and 500 ms: four requests took 1050 ms, then 1150 ms.
      for (const gap of [0, 400, 300, 350, 500]) {
        clock.advance(gap);
        await identify(sandbox);
      }
      expect(sandbox.state.stats().workspaces['site-us']?.tightestSpanMs).toBe(1050);
      expect(sandbox.state.stats().total.tightestSpanMs).toBeNull();

      // A new limit starts over: the old span measured a different number of requests.
      sandbox.state.setRateLimit(0, 'site-us');
      clock.advance(1000);
      await identify(sandbox);
      expect(sandbox.state.stats().workspaces['site-us']?.tightestSpanMs).toBeNull();
    } finally {
      await sandbox.close();
    }
  });
});
