import { UlidFactory } from '@cio-pipeline/schemas';
import { type StackWorkspace } from '@cio-pipeline/stack';
import {
  countMessages,
  credentialsOf,
  eventOperation,
  postBatches,
  postJson,
  readTopic,
  startTestStack,
  storedEventIds,
  waitForEvents,
  type TestStack,
} from './support';

/** Customer.io's batch limit of "under 500 KB", taken as 512000 bytes like the sandbox does. */
const MAX_BATCH_BYTES = 512_000;

const BULK: StackWorkspace = {
  siteId: 'site-bulk',
  apiKey: 'key-bulk',
  region: 'us',
  rateLimit: 100,
  sandboxRateLimit: 100,
};
const LIMITS: StackWorkspace = {
  siteId: 'site-limits',
  apiKey: 'key-limits',
  region: 'us',
  rateLimit: 50,
  sandboxRateLimit: 50,
};

describe('size limits', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack([BULK, LIMITS]);
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('cuts batches by bytes', async () => {
    const ids = new UlidFactory();
    // 10,000 events of about 1.1 KB each: about 11 MB in one burst, many
    // times the broker's message limit and Customer.io's batch limit. Each
    // request of 400 stays under the gateway's own 512000-byte batch limit.
    const eventIds: string[] = [];
    const operations = Array.from({ length: 10_000 }, (_, i) => {
      const id = ids.next();
      eventIds.push(id);
      return eventOperation(`person-${i % 500}`, id, { blob: 'x'.repeat(1000), step: i });
    });
    const sentBytes = Buffer.byteLength(JSON.stringify(operations));
    expect(sentBytes).toBeGreaterThan(10 * 1_000_000);

    await postBatches(stack, BULK, operations, { perRequest: 400, concurrency: 4 });
    const delivery = await waitForEvents(stack.sandbox, BULK.siteId, eventIds, 50_000);

    expect(delivery.missing).toHaveLength(0);
    expect(delivery.repeated).toHaveLength(0);
    const stats = (await stack.sandbox.stats()).workspaces[BULK.siteId];
    expect(stats?.batches.bytes.max).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(stats?.batches.bytes.count).toBeGreaterThanOrEqual(
      Math.ceil(sentBytes / MAX_BATCH_BYTES),
    );
    expect(stats?.rejectedOperations).toBe(0);

    const batches = await readTopic(stack.topics.batches);
    const sizes = batches.map((message) => message.value?.length ?? 0);
    expect(sizes.length).toBeGreaterThanOrEqual(Math.ceil(sentBytes / MAX_BATCH_BYTES));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(await countMessages(stack.topics.deadLetters)).toBe(0);
  });

  it('rejects oversized attribute at gateway', async () => {
    const ids = new UlidFactory();
    const personId = 'person-oversized';
    const oversized = 'x'.repeat(1001);
    const credentials = credentialsOf(LIMITS);

    const identify = await postJson(
      `${stack.gatewayUrl}/api/v1/customers/${personId}`,
      credentials,
      { plan: oversized },
      'PUT',
    );
    expect(identify.status).toBe(400);
    expect(JSON.stringify(identify.body)).toContain('plan');
    expect(JSON.stringify(identify.body)).toContain('1000');

    const entity = await postJson(`${stack.gatewayUrl}/api/v2/entity`, credentials, {
      type: 'person',
      identifiers: { id: personId },
      action: 'identify',
      attributes: { plan: oversized },
    });
    expect(entity.status).toBe(400);
    expect(JSON.stringify(entity.body)).toContain('plan');
    expect(JSON.stringify(entity.body)).toContain('1000');

    // Valid calls for the same person afterwards, so that their arrival shows
    // the rejected ones had their chance to arrive too.
    const valid = await postJson(
      `${stack.gatewayUrl}/api/v1/customers/${personId}`,
      credentials,
      { plan: 'pro' },
      'PUT',
    );
    expect(valid.status).toBe(200);
    const eventId = ids.next();
    await postBatches(stack, LIMITS, [eventOperation(personId, eventId)]);
    const delivery = await waitForEvents(stack.sandbox, LIMITS.siteId, [eventId], 20_000);
    expect(delivery.missing).toHaveLength(0);

    const stored = await stack.sandbox.operations(LIMITS.siteId);
    const plans = stored
      .filter(({ operation }) => operation.action === 'identify')
      .map(({ operation }) => operation.attributes?.['plan']);
    expect(plans).toEqual(['pro']);
    expect((await storedEventIds(stack.sandbox, LIMITS.siteId)).size).toBe(1);
    expect((await stack.sandbox.stats()).workspaces[LIMITS.siteId]?.rejectedOperations).toBe(0);
  });
});
