import type { SandboxConfigInput } from './config';
import { FaultInjector } from './faults';
import type { Sandbox } from './sandbox';
import { US_AUTH, createTestSandbox, send, sendHttp } from './testing/helpers';

const identify = (sandbox: Sandbox) =>
  send(sandbox, 'PUT', '/api/v1/customers/user-1', { plan: 'pro' });

async function statusSequence(input: SandboxConfigInput, count: number): Promise<number[]> {
  const sandbox = createTestSandbox(input);
  try {
    const statuses: number[] = [];
    for (let i = 0; i < count; i += 1) {
      statuses.push((await identify(sandbox)).statusCode);
    }
    return statuses;
  } finally {
    await sandbox.close();
  }
}

function waitFor(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('5xx share', () => {
  it('repeats for a seed and matches the share', async () => {
    const input: SandboxConfigInput = { seed: 7, faults: { errorRate: 0.3 } };
    const first = await statusSequence(input, 500);
    const second = await statusSequence(input, 500);
    expect(second).toEqual(first);

    const errors = first.filter((status) => status >= 500);
    // Binomial(500, 0.3) has mean 150 and standard deviation about 10.
    expect(errors.length).toBeGreaterThan(110);
    expect(errors.length).toBeLessThan(190);
    expect(new Set(errors)).toEqual(new Set([500, 502, 503, 504]));
    expect(first.filter((status) => status === 200)).toHaveLength(500 - errors.length);

    const otherSeed = await statusSequence({ seed: 8, faults: { errorRate: 0.3 } }, 500);
    expect(otherSeed).not.toEqual(first);
  });

  it('stores nothing for injected errors', async () => {
    const sandbox = createTestSandbox({ faults: { errorRate: 1 } });
    try {
      const response = await identify(sandbox);
      expect(response.statusCode).toBeGreaterThanOrEqual(500);
      expect(response.json<{ meta: { error: string } }>().meta.error).toContain(
        'fault injected by the sandbox',
      );
      expect(sandbox.state.store.stored).toBe(0);
      const stats = sandbox.state.stats().workspaces['site-us'];
      expect(stats?.requests).toBe(1);
      expect(Object.keys(stats?.requestsByStatus ?? {})).toEqual([String(response.statusCode)]);
    } finally {
      await sandbox.close();
    }
  });

  it('leaves control routes alone', async () => {
    const sandbox = createTestSandbox({ faults: { errorRate: 1 } });
    try {
      const response = await sandbox.app.inject({ method: 'GET', url: '/__sandbox/stats' });
      expect(response.statusCode).toBe(200);
    } finally {
      await sandbox.close();
    }
  });
});

describe('429 share', () => {
  it('throttles the configured share without Retry-After', async () => {
    const sandbox = createTestSandbox({ seed: 3, faults: { throttleRate: 0.2 } });
    try {
      let throttled = 0;
      for (let i = 0; i < 500; i += 1) {
        const response = await identify(sandbox);
        if (response.statusCode === 429) {
          throttled += 1;
          expect(response.headers['retry-after']).toBeUndefined();
        } else {
          expect(response.statusCode).toBe(200);
        }
      }
      // Binomial(500, 0.2) has mean 100 and standard deviation about 9.
      expect(throttled).toBeGreaterThan(64);
      expect(throttled).toBeLessThan(136);
      expect(sandbox.state.store.stored).toBe(500 - throttled);
    } finally {
      await sandbox.close();
    }
  });

  it('sends Retry-After when configured', async () => {
    const sandbox = createTestSandbox({ retryAfterSeconds: 5, faults: { throttleRate: 1 } });
    try {
      const response = await identify(sandbox);
      expect(response.statusCode).toBe(429);
      expect(response.headers['retry-after']).toBe('5');
    } finally {
      await sandbox.close();
    }
  });
});

describe('latency', () => {
  it('delays responses', async () => {
    const sandbox = createTestSandbox({ faults: { latencyMs: 150 } });
    try {
      const started = performance.now();
      const response = await identify(sandbox);
      const elapsed = performance.now() - started;
      expect(response.statusCode).toBe(200);
      expect(elapsed).toBeGreaterThanOrEqual(145);
    } finally {
      await sandbox.close();
    }
  });

  it('adds jitter within its bound', () => {
    const injector = new FaultInjector(
      {
        latencyMs: 100,
        latencyJitterMs: 50,
        errorRate: 0,
        throttleRate: 0,
        hangRate: 0,
        downForMs: 0,
      },
      11,
      () => 0,
    );
    const delays = Array.from({ length: 200 }, () => injector.nextLatencyMs());
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...delays)).toBeLessThanOrEqual(150);
    expect(new Set(delays).size).toBeGreaterThan(20);
  });

  it('changes at run time', async () => {
    const sandbox = createTestSandbox();
    try {
      const update = await sandbox.app.inject({
        method: 'POST',
        url: '/__sandbox/faults',
        payload: { latencyMs: 120 },
      });
      expect(update.statusCode).toBe(200);
      expect(update.json<{ latencyMs: number }>().latencyMs).toBe(120);
      const started = performance.now();
      await identify(sandbox);
      expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    } finally {
      await sandbox.close();
    }
  });
});

describe('hang', () => {
  let sandbox: Sandbox;
  let baseUrl: string;

  async function start(input: SandboxConfigInput): Promise<void> {
    sandbox = createTestSandbox({ port: 0, ...input });
    baseUrl = await sandbox.listen();
  }

  afterEach(async () => {
    await sandbox.close();
  });

  it('never answers until the client times out', async () => {
    await start({ faults: { hangRate: 1 } });
    await expect(
      sendHttp(baseUrl, {
        method: 'PUT',
        path: '/api/v1/customers/user-1',
        body: { plan: 'pro' },
        auth: US_AUTH,
        timeoutMs: 300,
      }),
    ).rejects.toThrow('timed out after 300 ms');
    const stats = sandbox.state.stats();
    expect(stats.total.requestsHung).toBe(1);
    expect(stats.total.requestsByStatus).toEqual({});
    expect(sandbox.state.store.stored).toBe(0);
    await waitFor(50);
    expect(sandbox.state.hung.size).toBe(0);
  });

  it('closes a hung socket after hangMaxMs', async () => {
    await start({ faults: { hangRate: 1 }, hangMaxMs: 200 });
    const started = performance.now();
    await expect(
      sendHttp(baseUrl, {
        method: 'POST',
        path: '/api/v1/customers/u/suppress',
        auth: US_AUTH,
        timeoutMs: 5000,
      }),
    ).rejects.toThrow('socket hang up');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    expect(sandbox.state.hung.size).toBe(0);
  });

  it('ends hung requests when the server closes', async () => {
    await start({ faults: { hangRate: 1 } });
    const pending = sendHttp(baseUrl, {
      method: 'POST',
      path: '/api/v1/customers/u/suppress',
      auth: US_AUTH,
      timeoutMs: 10_000,
    });
    const outcome = pending.then(
      () => 'answered',
      (error: unknown) => String(error),
    );
    await waitFor(100);
    expect(sandbox.state.hung.size).toBe(1);
    const started = performance.now();
    await sandbox.close();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(await outcome).toBe('Error: socket hang up');
  });
});

describe('down', () => {
  let sandbox: Sandbox;
  let baseUrl: string;

  afterEach(async () => {
    await sandbox.close();
  });

  it('closes connections unanswered for the duration', async () => {
    sandbox = createTestSandbox({ port: 0 });
    baseUrl = await sandbox.listen();
    const request = {
      method: 'POST',
      path: '/api/v1/customers/u/suppress',
      auth: US_AUTH,
      timeoutMs: 2000,
    };

    const update = await sendHttp(baseUrl, {
      method: 'POST',
      path: '/__sandbox/faults',
      body: { downForMs: 400 },
      timeoutMs: 2000,
    });
    expect(update.status).toBe(200);
    // The response is built after the fault is set, a few milliseconds later on a busy machine.
    const { downRemainingMs } = JSON.parse(update.body) as { downRemainingMs: number };
    expect(downRemainingMs).toBeGreaterThan(350);
    expect(downRemainingMs).toBeLessThanOrEqual(400);

    await expect(sendHttp(baseUrl, request)).rejects.toThrow('socket hang up');
    const health = await sendHttp(baseUrl, {
      method: 'GET',
      path: '/__sandbox/health',
      timeoutMs: 2000,
    });
    expect(health.status).toBe(200);
    expect(sandbox.state.stats().total.requestsDropped).toBe(1);

    await waitFor(450);
    const recovered = await sendHttp(baseUrl, request);
    expect(recovered.status).toBe(200);
    expect(sandbox.state.store.stored).toBe(1);
  });

  it('starts down when configured', async () => {
    sandbox = createTestSandbox({ port: 0, faults: { downForMs: 60_000 } });
    baseUrl = await sandbox.listen();
    await expect(
      sendHttp(baseUrl, {
        method: 'GET',
        path: '/api/v1/accounts/region',
        auth: US_AUTH,
        timeoutMs: 2000,
      }),
    ).rejects.toThrow('socket hang up');

    const up = await sendHttp(baseUrl, {
      method: 'POST',
      path: '/__sandbox/faults',
      body: { downForMs: 0 },
      timeoutMs: 2000,
    });
    expect(JSON.parse(up.body)).toMatchObject({ downRemainingMs: 0 });
    const response = await sendHttp(baseUrl, {
      method: 'GET',
      path: '/api/v1/accounts/region',
      auth: US_AUTH,
      timeoutMs: 2000,
    });
    expect(response.status).toBe(200);
  });
});

describe('fault control route', () => {
  let sandbox: Sandbox;

  beforeEach(() => {
    sandbox = createTestSandbox({ seed: 5 });
  });

  afterEach(async () => {
    await sandbox.close();
  });

  it('returns the current settings', async () => {
    const response = await sandbox.app.inject({ method: 'GET', url: '/__sandbox/faults' });
    expect(response.json()).toEqual({
      latencyMs: 0,
      latencyJitterMs: 0,
      errorRate: 0,
      throttleRate: 0,
      hangRate: 0,
      downRemainingMs: 0,
      seed: 5,
    });
  });

  it('changes only the given settings', async () => {
    const response = await sandbox.app.inject({
      method: 'POST',
      url: '/__sandbox/faults',
      payload: { errorRate: 0.25, seed: 99 },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ errorRate: 0.25, throttleRate: 0, seed: 99 });
  });

  it('restarts the sequence when the seed is set', async () => {
    const setSeed = () =>
      sandbox.app.inject({
        method: 'POST',
        url: '/__sandbox/faults',
        payload: { errorRate: 0.5, seed: 21 },
      });
    await setSeed();
    const first: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      first.push((await identify(sandbox)).statusCode);
    }
    await setSeed();
    const second: number[] = [];
    for (let i = 0; i < 30; i += 1) {
      second.push((await identify(sandbox)).statusCode);
    }
    expect(second).toEqual(first);
  });

  const invalid: [string, unknown, string][] = [
    ['share above 1', { errorRate: 2 }, 'errorRate must be <= 1'],
    ['negative latency', { latencyMs: -1 }, 'latencyMs must be >= 0'],
    ['unknown setting', { errorrate: 0.5 }, 'must NOT have additional properties'],
    ['shares summing above 1', { errorRate: 0.6, hangRate: 0.6 }, 'expected a sum of at most 1'],
  ];

  it.each(invalid)('rejects %s', async (_name, payload, message) => {
    const response = await sandbox.app.inject({
      method: 'POST',
      url: '/__sandbox/faults',
      payload: payload as Record<string, unknown>,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json<{ meta: { error: string } }>().meta.error).toContain(message);
    expect(sandbox.state.faults.view().errorRate).toBe(0);
  });
});
