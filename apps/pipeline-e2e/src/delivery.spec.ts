import { sleep, waitUntil, type Stack, type StackWorkspace } from '@cio-pipeline/stack';
import { UlidFactory } from '@cio-pipeline/schemas';
import { postJson, startTestStack } from './support';

const WORKSPACE: StackWorkspace = {
  siteId: 'site-e2e',
  apiKey: 'key-e2e',
  region: 'us',
  rateLimit: 50,
  sandboxRateLimit: 50,
};
const CREDENTIALS = `${WORKSPACE.siteId}:${WORKSPACE.apiKey}`;
const PEOPLE = 40;
const EVENTS_PER_PERSON = 25;

describe('pipeline over a real broker', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startTestStack([WORKSPACE]);
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('delivers each event once, in order', async () => {
    const ids = new UlidFactory();
    const sent = new Map<string, string[]>();

    // Each person's calls go one after another; people run concurrently.
    await Promise.all(
      Array.from({ length: PEOPLE }, async (_, person) => {
        const personId = `person-${person}`;
        const order: string[] = [];
        sent.set(personId, order);
        for (let i = 0; i < EVENTS_PER_PERSON; i++) {
          const id = ids.next();
          const useBatch = i % 5 === 4;
          const response = useBatch
            ? await postJson(`${stack.gatewayUrl}/api/v2/batch`, CREDENTIALS, {
                batch: [
                  {
                    type: 'person',
                    identifiers: { id: personId },
                    action: 'event',
                    name: 'batched',
                    id,
                    attributes: { step: i },
                  },
                ],
              })
            : await postJson(
                `${stack.gatewayUrl}/api/v1/customers/${personId}/events`,
                CREDENTIALS,
                { name: 'clicked', id, data: { step: i } },
              );
          expect(response.status).toBe(200);
          order.push(id);
        }
      }),
    );

    const expected = PEOPLE * EVENTS_PER_PERSON;
    await waitUntil(
      `${expected} events in the sandbox`,
      async () => (await stack.sandbox.stats()).total.uniqueEventIds >= expected,
      90_000,
    );
    await sleep(1000);

    const stats = (await stack.sandbox.stats()).workspaces[WORKSPACE.siteId];
    const stored = await stack.sandbox.operations(WORKSPACE.siteId);
    const arrived = new Map<string, string[]>();
    for (const { operation } of stored) {
      const person = operation.identifiers?.['id'] ?? '';
      const list = arrived.get(person) ?? [];
      list.push(operation.id ?? '');
      arrived.set(person, list);
    }

    expect(stats?.uniqueEventIds).toBe(expected);
    expect(stored).toHaveLength(expected);
    expect(stats?.maxRequestsPerSecond).toBeLessThanOrEqual(WORKSPACE.sandboxRateLimit);
    expect(stats?.batches.operations.mean).toBeGreaterThan(1);
    for (const [person, order] of sent) {
      expect(arrived.get(person)).toEqual(order);
    }
  });

  it('delivers anonymous events', async () => {
    const ids = new UlidFactory();
    const v1Id = ids.next();
    const v2Id = ids.next();

    const v1 = await postJson(`${stack.gatewayUrl}/api/v1/events`, CREDENTIALS, {
      name: 'viewed',
      id: v1Id,
      anonymous_id: 'visitor-1',
      data: { page: 'home' },
    });
    const v2 = await postJson(`${stack.gatewayUrl}/api/v2/entity`, CREDENTIALS, {
      type: 'person',
      action: 'page',
      name: 'pricing',
      id: v2Id,
      anonymous_id: 'visitor-2',
    });
    expect(v1.status).toBe(200);
    expect(v2.status).toBe(200);

    const stored = async () =>
      (await stack.sandbox.operations(WORKSPACE.siteId))
        .map(({ operation }) => operation)
        .filter((operation) => operation.id === v1Id || operation.id === v2Id);
    await waitUntil(
      'both anonymous events in the sandbox',
      async () => (await stored()).length === 2,
      60_000,
    );

    const byId = new Map((await stored()).map((operation) => [operation.id, operation]));
    expect(byId.get(v1Id)?.anonymous_id).toBe('visitor-1');
    expect(byId.get(v1Id)?.identifiers).toBeUndefined();
    expect(byId.get(v2Id)?.anonymous_id).toBe('visitor-2');
    expect(byId.get(v2Id)?.action).toBe('page');
  });
});
