import { UlidFactory, type DeadLetter } from '@cio-pipeline/schemas';
import { sleep, waitUntil, type StackWorkspace } from '@cio-pipeline/stack';
import {
  readDeadLetters,
  sendEvents,
  senderReadiness,
  startTestStack,
  storedEventIds,
  waitForEvents,
  type TestStack,
} from './support';

const US: StackWorkspace = {
  siteId: 'site-us',
  apiKey: 'key-us',
  region: 'us',
  rateLimit: 50,
  sandboxRateLimit: 50,
};
const EU: StackWorkspace = {
  siteId: 'site-eu',
  apiKey: 'key-eu',
  region: 'eu',
  rateLimit: 50,
  sandboxRateLimit: 50,
};
/** The gateway and the sender start with `key-old`, but Customer.io takes only `key-new`. */
const ROTATED: StackWorkspace = {
  siteId: 'site-rotated',
  apiKey: 'key-old',
  region: 'us',
  rateLimit: 50,
  sandboxRateLimit: 50,
};
const ROTATED_KEY = 'key-new';
/** Customer.io takes `key-new` here too, and the sender keeps `key-old` throughout. */
const REVOKED: StackWorkspace = { ...ROTATED, siteId: 'site-revoked' };

/** `SANDBOX_WORKSPACES` entries in the form `startStack` writes them. */
function sandboxEntry(workspace: StackWorkspace, apiKey = workspace.apiKey): string {
  return `${workspace.siteId}:${apiKey}:${workspace.region}:${workspace.sandboxRateLimit}`;
}

describe('workspaces', () => {
  let stack: TestStack;

  beforeAll(async () => {
    const sandboxWorkspaces = [
      sandboxEntry(US),
      sandboxEntry(EU),
      sandboxEntry(ROTATED, ROTATED_KEY),
      sandboxEntry(REVOKED, ROTATED_KEY),
    ].join(',');
    stack = await startTestStack([US, EU, ROTATED, REVOKED], {
      env: {
        sandbox: { SANDBOX_WORKSPACES: sandboxWorkspaces },
        'sandbox-eu': { SANDBOX_WORKSPACES: sandboxWorkspaces },
        sender: { SENDER_UNAUTHORIZED_PAUSE_MS: '1000' },
      },
    });
  });

  afterAll(async () => {
    await stack.stop();
  });

  /** Polls the sender's readiness until it reports `workspace` as paused, and returns that report. */
  async function waitForPaused(
    workspace: StackWorkspace,
  ): Promise<Awaited<ReturnType<typeof senderReadiness>>> {
    let readiness = await senderReadiness(stack);
    await waitUntil(
      `the sender to report ${workspace.siteId} as paused`,
      async () => {
        readiness = await senderReadiness(stack);
        return workspace.siteId in readiness.body.pausedWorkspaces;
      },
      15_000,
    );
    return readiness;
  }

  it('sends each region to its host', async () => {
    const ids = new UlidFactory();
    const usIds = await sendEvents(stack, US, ids, 300);
    const euIds = await sendEvents(stack, EU, ids, 300);

    const usDelivery = await waitForEvents(stack.sandbox, US.siteId, usIds, 20_000);
    const euDelivery = await waitForEvents(stack.sandboxEu, EU.siteId, euIds, 20_000);
    expect(usDelivery.missing).toHaveLength(0);
    expect(usDelivery.repeated).toHaveLength(0);
    expect(euDelivery.missing).toHaveLength(0);
    expect(euDelivery.repeated).toHaveLength(0);

    // No request at all reaches the other region's host. A US host would
    // redirect an EU workspace, and an EU host rejects a US one.
    const usHost = await stack.sandbox.stats();
    const euHost = await stack.sandboxEu.stats();
    expect(usHost.workspaces[EU.siteId]?.requests ?? 0).toBe(0);
    expect(euHost.workspaces[US.siteId]?.requests ?? 0).toBe(0);
    expect((await storedEventIds(stack.sandbox, EU.siteId)).size).toBe(0);
    expect((await storedEventIds(stack.sandboxEu, US.siteId)).size).toBe(0);
  });

  it('pauses on rejected credentials', async () => {
    const ids = new UlidFactory();
    const sender = stack.byRole('sender')[0]!;
    const eventIds = await sendEvents(stack, ROTATED, ids, 200);

    const readiness = await waitForPaused(ROTATED);
    expect(readiness.status).toBe(503);
    expect(readiness.body.pausedWorkspaces[ROTATED.siteId]).toContain('401');
    // A few more rounds of 401 and pause, which must dead-letter nothing.
    await sleep(3000);
    // The sandbox counts requests with wrong credentials under `total` only.
    const unauthorized = (await stack.sandbox.stats()).total.requestsByStatus['401'] ?? 0;
    expect(unauthorized).toBeGreaterThan(1);
    expect((await storedEventIds(stack.sandbox, ROTATED.siteId)).size).toBe(0);
    const ofRotated = (letter: DeadLetter) => letter.workspace === ROTATED.siteId;
    expect((await readDeadLetters(stack)).filter(ofRotated)).toHaveLength(0);

    await sender.stop();
    sender.spec.env['CIO_WORKSPACES'] = (sender.spec.env['CIO_WORKSPACES'] ?? '').replace(
      `${ROTATED.siteId}:${ROTATED.apiKey}:`,
      `${ROTATED.siteId}:${ROTATED_KEY}:`,
    );
    expect(sender.spec.env['CIO_WORKSPACES']).toContain(`${ROTATED.siteId}:${ROTATED_KEY}:`);
    await stack.restart(sender);

    const delivery = await waitForEvents(stack.sandbox, ROTATED.siteId, eventIds, 20_000);
    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
    expect((await senderReadiness(stack)).body.pausedWorkspaces).toEqual({});
    expect((await readDeadLetters(stack)).filter(ofRotated)).toHaveLength(0);
  });

  it('finishes SIGTERM while paused', async () => {
    const ids = new UlidFactory();
    const sender = stack.byRole('sender')[0]!;
    await sendEvents(stack, REVOKED, ids, 50);
    await waitForPaused(REVOKED);

    // The last test: the stack stays down after this stop.
    const stopStartedAt = Date.now();
    await sender.stop(15_000);
    expect(Date.now() - stopStartedAt).toBeLessThan(15_000);
  });
});
