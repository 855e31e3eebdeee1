import { UlidFactory } from '@cio-pipeline/schemas';
import { waitUntil, type StackWorkspace } from '@cio-pipeline/stack';
import { sendEvents, startTestStack, waitForEvents, type TestStack } from './support';

const LATENCY_MS = 300;
const EVENTS = 3000;

function workspace(name: string): StackWorkspace {
  return {
    siteId: `site-${name}`,
    apiKey: `key-${name}`,
    region: 'us',
    rateLimit: 10,
    sandboxRateLimit: 10,
  };
}

describe('sender stops', () => {
  const KILLED = workspace('killed');
  const STOPPED = workspace('stopped');
  const EXITED = workspace('exited');
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack([KILLED, STOPPED, EXITED], {
      // Batches of at most 40000 bytes (about 190 of these events) and 10
      // requests per second with 300 ms each keep deliveries in flight for
      // several seconds.
      env: { batcher: { CIO_MAX_BATCH_BYTES: '40000' } },
    });
    await stack.sandbox.setFaults({ latencyMs: LATENCY_MS });
  });

  afterAll(async () => {
    await stack.stop();
  });

  /** Waits until at least a fifth of `ids.length` events reached the sandbox, and returns how many did. */
  async function waitForSomeDelivered(target: StackWorkspace, ids: string[]): Promise<number> {
    const delivered = async () =>
      (await stack.sandbox.stats()).workspaces[target.siteId]?.uniqueEventIds ?? 0;
    await waitUntil(
      `a fifth of ${ids.length} events of ${target.siteId} in the sandbox`,
      async () => (await delivered()) >= ids.length / 5,
      30_000,
      50,
    );
    return delivered();
  }

  it('loses nothing when killed mid-delivery', async () => {
    const ids = new UlidFactory();
    const sender = stack.byRole('sender')[0]!;
    const eventIds = await sendEvents(stack, KILLED, ids, EVENTS, { people: 300 });

    const deliveredAtKill = await waitForSomeDelivered(KILLED, eventIds);
    await sender.kill();
    expect(deliveredAtKill).toBeLessThan(EVENTS);

    // The killed member never left the group, so the restart waits out its
    // 30 s session timeout before it gets the partitions.
    await stack.restart(sender);
    const delivery = await waitForEvents(stack.sandbox, KILLED.siteId, eventIds, 40_000);
    const stats = (await stack.sandbox.stats()).workspaces[KILLED.siteId];
    console.log(
      `killed with ${deliveredAtKill} of ${EVENTS} events delivered; the sandbox dropped ${stats?.duplicatesDropped ?? 0} repeated event ids after the restart`,
    );
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
  });

  it('drains and resumes after SIGTERM', async () => {
    const ids = new UlidFactory();
    const sender = stack.byRole('sender')[0]!;
    const eventIds = await sendEvents(stack, STOPPED, ids, EVENTS, { people: 300 });

    const deliveredAtStop = await waitForSomeDelivered(STOPPED, eventIds);
    const stopStartedAt = Date.now();
    // ServiceProcess.stop sends SIGKILL only if the sender is still running after 45 s.
    await sender.stop(45_000);
    const stopMs = Date.now() - stopStartedAt;
    expect(deliveredAtStop).toBeLessThan(EVENTS);
    expect(stopMs).toBeLessThan(45_000);

    await stack.restart(sender);
    const delivery = await waitForEvents(stack.sandbox, STOPPED.siteId, eventIds, 40_000);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
  });

  it('exits 0 on SIGTERM', async () => {
    const ids = new UlidFactory();
    const sender = stack.byRole('sender')[0]!;
    const eventIds = await sendEvents(stack, EXITED, ids, 1000, { people: 100 });
    await waitForSomeDelivered(EXITED, eventIds);

    let exitCode: number | null;
    try {
      exitCode = await sender.stop(45_000);
    } finally {
      await stack.restart(sender);
    }
    expect(exitCode).toBe(0);
  });
});
