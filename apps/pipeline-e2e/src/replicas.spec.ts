import { UlidFactory } from '@cio-pipeline/schemas';
import { sleep, type StackWorkspace } from '@cio-pipeline/stack';
import { sendEvents, startTestStack, waitForEvents, type TestStack } from './support';

const LIMIT = 10;
const WORKSPACES: StackWorkspace[] = [
  { siteId: 'site-r1', apiKey: 'key-r1', region: 'us', rateLimit: LIMIT, sandboxRateLimit: LIMIT },
  { siteId: 'site-r2', apiKey: 'key-r2', region: 'us', rateLimit: LIMIT, sandboxRateLimit: LIMIT },
];

describe('rate limit across replicas', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // Small batch bodies, so each workspace needs about 150 requests at 10 per second.
    // The senders use 90% of the limit. With eight services and the test on two
    // cores, requests reached the sandbox up to about 50 ms closer together than
    // the senders started them. The default of 98% leaves 20 ms in a second.
    // Two senders sending one workspace at once would still show as about
    // twice the limit.
    stack = await startTestStack(WORKSPACES, {
      senders: 3,
      batchers: 2,
      env: {
        batcher: { CIO_MAX_BATCH_BYTES: '4096', CIO_MAX_OPERATION_BYTES: '2048' },
        sender: { SENDER_RATE_HEADROOM: '0.9' },
      },
    });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('holds through a sender rebalance', async () => {
    const ids = new UlidFactory();
    const sent = await Promise.all(
      WORKSPACES.map((workspace) => sendEvents(stack, workspace, ids, 3000, { perRequest: 100 })),
    );

    // Kill one sender mid-delivery: its partitions move to the others.
    await sleep(5000);
    const [first] = stack.byRole('sender');
    await first?.kill();
    await sleep(2000);
    if (first !== undefined) {
      await stack.restart(first);
    }

    for (const [index, workspace] of WORKSPACES.entries()) {
      const delivery = await waitForEvents(
        stack.sandbox,
        workspace.siteId,
        sent[index] ?? [],
        150_000,
      );
      expect(delivery.missing).toHaveLength(0);
    }
    const stats = await stack.sandbox.stats();
    for (const workspace of WORKSPACES) {
      const counters = stats.workspaces[workspace.siteId];
      expect(counters?.maxRequestsPerSecond).toBeLessThanOrEqual(LIMIT);
      expect(counters?.requestsByStatus['429'] ?? 0).toBe(0);
      expect(counters?.requests).toBeGreaterThan(100);
    }
  }, 240_000);
});
