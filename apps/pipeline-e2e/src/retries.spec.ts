import { UlidFactory, type DeadLetter } from '@cio-pipeline/schemas';
import { sleep, type StackWorkspace } from '@cio-pipeline/stack';
import {
  readDeadLetters,
  sendEvents,
  senderReadiness,
  startTestStack,
  storedEventIds,
  waitForDeadLetters,
  waitForEvents,
  type TestStack,
} from './support';

const NO_FAULTS = { throttleRate: 0, errorRate: 0, hangRate: 0 };

function workspace(name: string, rateLimit: number): StackWorkspace {
  // The sandbox enforces no rate of its own, so every 429 is an injected one.
  return {
    siteId: `site-${name}`,
    apiKey: `key-${name}`,
    region: 'us',
    rateLimit,
    sandboxRateLimit: 0,
  };
}

/** Sends `count` events every `intervalMs` for `durationMs` and returns their ids. */
async function sendFor(
  stack: TestStack,
  target: StackWorkspace,
  ids: UlidFactory,
  durationMs: number,
  { count = 20, intervalMs = 250, onTick = async () => {} } = {},
): Promise<string[]> {
  const eventIds: string[] = [];
  const until = Date.now() + durationMs;
  while (Date.now() < until) {
    eventIds.push(
      ...(await sendEvents(stack, target, ids, count, { people: count, perRequest: count })),
    );
    await onTick();
    await sleep(intervalMs);
  }
  return eventIds;
}

describe('retries without Retry-After', () => {
  const THROTTLED = workspace('throttled', 20);
  const STORM = workspace('storm', 50);
  const HANG = workspace('hang', 50);
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack([THROTTLED, STORM, HANG], {
      env: { sender: { SENDER_REQUEST_TIMEOUT_MS: '1000' } },
    });
  });

  afterEach(async () => {
    await stack.sandbox.setFaults(NO_FAULTS);
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('slows down on 429, then recovers', async () => {
    const ids = new UlidFactory();
    const limit = THROTTLED.rateLimit;
    const rateOf = async () =>
      (await senderReadiness(stack)).body.limiters[THROTTLED.siteId]?.rate ?? Number.NaN;
    const eventIds = await sendEvents(stack, THROTTLED, ids, 40, { people: 20 });
    expect(
      (await waitForEvents(stack.sandbox, THROTTLED.siteId, eventIds, 15_000)).missing,
    ).toHaveLength(0);
    const rateBefore = await rateOf();

    await stack.sandbox.setFaults({ throttleRate: 1 });
    let lowestRate = rateBefore;
    eventIds.push(
      ...(await sendFor(stack, THROTTLED, ids, 3000, {
        onTick: async () => {
          lowestRate = Math.min(lowestRate, await rateOf());
        },
      })),
    );
    await stack.sandbox.setFaults({ throttleRate: 0 });

    // Each second without a 429 adds 5% of the limit back, so the climb from
    // the floor takes about 20 s. Traffic keeps flowing, because only a
    // successful request raises the rate.
    let rateAfter = 0;
    const deadline = Date.now() + 35_000;
    while (Date.now() < deadline && rateAfter < 0.9 * limit) {
      eventIds.push(...(await sendEvents(stack, THROTTLED, ids, 10, { people: 10 })));
      rateAfter = await rateOf();
      await sleep(500);
    }

    const delivery = await waitForEvents(stack.sandbox, THROTTLED.siteId, eventIds, 30_000);
    const stats = (await stack.sandbox.stats()).workspaces[THROTTLED.siteId];
    expect(rateBefore).toBeGreaterThanOrEqual(0.9 * limit);
    expect(stats?.requestsByStatus['429'] ?? 0).toBeGreaterThan(0);
    expect(lowestRate).toBeLessThanOrEqual(limit / 2);
    expect(rateAfter).toBeGreaterThanOrEqual(0.9 * limit);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
  });

  it('rides out a 5xx storm', async () => {
    const ids = new UlidFactory();
    await stack.sandbox.setFaults({ errorRate: 1 });
    const eventIds = await sendFor(stack, STORM, ids, 3000);
    await stack.sandbox.setFaults({ errorRate: 0 });

    const delivery = await waitForEvents(stack.sandbox, STORM.siteId, eventIds, 40_000);
    const stats = (await stack.sandbox.stats()).workspaces[STORM.siteId];
    const serverErrors = Object.entries(stats?.requestsByStatus ?? {})
      .filter(([status]) => Number(status) >= 500)
      .reduce((sum, [, count]) => sum + count, 0);
    expect(serverErrors).toBeGreaterThan(0);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
    const letters = (await readDeadLetters(stack)).filter((l) => l.workspace === STORM.siteId);
    expect(letters).toHaveLength(0);
  });

  it('retries hung requests after timeout', async () => {
    const ids = new UlidFactory();
    await stack.sandbox.setFaults({ hangRate: 1 });
    const eventIds = await sendFor(stack, HANG, ids, 3000);
    await stack.sandbox.setFaults({ hangRate: 0 });

    const delivery = await waitForEvents(stack.sandbox, HANG.siteId, eventIds, 40_000);
    const stats = (await stack.sandbox.stats()).workspaces[HANG.siteId] as
      { requestsHung: number; duplicatesDropped: number } | undefined;
    const sender = (await senderReadiness(stack)).body.stats;
    expect(stats?.requestsHung ?? 0).toBeGreaterThan(0);
    expect(sender.transportErrors).toBeGreaterThanOrEqual(stats?.requestsHung ?? 0);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
    // The sandbox never responds to a hung request and stores none of its
    // operations, so the retries repeat no event id.
    expect(stats?.duplicatesDropped).toBe(0);
    const letters = (await readDeadLetters(stack)).filter((l) => l.workspace === HANG.siteId);
    expect(letters).toHaveLength(0);
  });
});

describe('retries with Retry-After and a short budget', () => {
  const RETRY_AFTER_SECONDS = 2;
  const WAITED = workspace('waited', 20);
  const BUDGET = workspace('budget', 50);
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack([WAITED, BUDGET], {
      env: {
        sandbox: { SANDBOX_RETRY_AFTER_SECONDS: String(RETRY_AFTER_SECONDS) },
        sender: { SENDER_RETRY_BUDGET_MS: '2000' },
      },
    });
  });

  afterEach(async () => {
    await stack.sandbox.setFaults(NO_FAULTS);
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('waits Retry-After after a 429', async () => {
    const ids = new UlidFactory();
    await stack.sandbox.setFaults({ throttleRate: 1 });
    const eventIds = await sendEvents(stack, WAITED, ids, 1);

    // Polls the request counter to timestamp each request the sandbox receives.
    const arrivals: number[] = [];
    const until = Date.now() + 7000;
    while (Date.now() < until) {
      const requests = (await stack.sandbox.stats()).workspaces[WAITED.siteId]?.requests ?? 0;
      while (arrivals.length < requests) {
        arrivals.push(Date.now());
      }
      await sleep(20);
    }
    await stack.sandbox.setFaults({ throttleRate: 0 });

    const delivery = await waitForEvents(stack.sandbox, WAITED.siteId, eventIds, 15_000);
    const gaps = arrivals.slice(1).map((at, i) => at - (arrivals[i] ?? at));
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    // The polling interval and the stats request make each timestamp up to
    // about 50 ms late, so a gap can read that much short of the wait.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000 - 100);
    expect(delivery.missing).toHaveLength(0);
  });

  it('dead-letters when budget runs out', async () => {
    const ids = new UlidFactory();
    await stack.sandbox.setFaults({ errorRate: 1 });
    const failedIds = await sendEvents(stack, BUDGET, ids, 30, { people: 30 });
    const exhausted = (letter: DeadLetter) =>
      letter.workspace === BUDGET.siteId && letter.error.reason === 'retries_exhausted';
    const letters = await waitForDeadLetters(stack, exhausted, failedIds.length, 20_000);
    await stack.sandbox.setFaults({ errorRate: 0 });

    // Later traffic on the same partition goes through once errors stop.
    const laterIds = await sendEvents(stack, BUDGET, ids, 30, { people: 30 });
    const delivery = await waitForEvents(stack.sandbox, BUDGET.siteId, laterIds, 20_000);

    const letterIds = letters.map((letter) => (letter.operation as { id: string }).id).sort();
    expect(letterIds).toEqual([...failedIds].sort());
    for (const letter of letters) {
      expect(letter.stage).toBe('sender');
      expect(letter.error.status).toBeGreaterThanOrEqual(500);
      expect(letter.attempts).toBeGreaterThanOrEqual(1);
    }
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
    const stored = await storedEventIds(stack.sandbox, BUDGET.siteId);
    expect(failedIds.filter((id) => stored.has(id))).toHaveLength(0);
  });
});
