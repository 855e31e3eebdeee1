import type { SandboxClient, StackWorkspace, StoredOperation } from '@cio-pipeline/stack';
import type { Sent } from './traffic';
import { verifyDelivery } from './verify';

const WORKSPACE: StackWorkspace = {
  siteId: 'site',
  apiKey: 'key',
  region: 'us',
  rateLimit: 10,
  sandboxRateLimit: 10,
};

function stored(seq: number, person: string, demoSeq: number): StoredOperation {
  return {
    seq,
    workspace: 'site',
    receivedAt: 0,
    operation: {
      type: 'person',
      action: 'event',
      identifiers: { id: person },
      attributes: { demo_seq: demoSeq },
    },
  };
}

function fakeSandbox(operations: StoredOperation[], duplicatesDropped = 0): SandboxClient {
  const stats = {
    requests: 3,
    requestsByStatus: { '200': 2, '429': 1 },
    operationsAccepted: operations.length,
    operationsAcceptedByAction: {},
    uniqueEventIds: operations.length,
    duplicatesDropped,
    rejectedOperations: 0,
    maxRequestsPerSecond: 2,
    batches: {
      bytes: { count: 2, mean: 0, max: 0, total: 0 },
      operations: { count: 2, mean: 0, max: 0, total: 0 },
    },
  };
  return {
    stats: () => Promise.resolve({ region: 'us', total: stats, workspaces: { site: stats } }),
    operations: () => Promise.resolve(operations),
  } as unknown as SandboxClient;
}

function sent(order: Record<string, number[]>): Sent {
  const accepted = new Set(Object.values(order).flat());
  const map = new Map(Object.entries(order).map(([person, seqs]) => [`site/${person}`, seqs]));
  return { accepted, rejected: 0, order: map, calls: accepted.size };
}

describe('verifyDelivery', () => {
  it('passes when all arrive in order', async () => {
    const sandbox = fakeSandbox([stored(1, 'a', 1), stored(2, 'b', 3), stored(3, 'a', 2)]);

    const verdict = await verifyDelivery(sent({ a: [1, 2], b: [3] }), [WORKSPACE], {
      us: sandbox,
      eu: sandbox,
    });

    expect(verdict.lost).toBe(0);
    expect(verdict.deliveredUnique).toBe(3);
    expect(verdict.orderViolations).toBe(0);
    expect(verdict.throttled).toBe(1);
    expect(verdict.operationsPerRequest).toBe(1.5);
  });

  it('counts lost, repeated and reordered', async () => {
    const sandbox = fakeSandbox([stored(1, 'a', 2), stored(2, 'a', 1), stored(3, 'a', 1)], 4);

    const verdict = await verifyDelivery(sent({ a: [1, 2], b: [3] }), [WORKSPACE], {
      us: sandbox,
      eu: sandbox,
    });

    expect(verdict.lost).toBe(1);
    expect(verdict.duplicates).toBe(5);
    expect(verdict.orderViolations).toBe(1);
  });

  it('reports operations never acknowledged', async () => {
    const sandbox = fakeSandbox([stored(1, 'a', 1), stored(2, 'a', 99)]);

    const verdict = await verifyDelivery(sent({ a: [1] }), [WORKSPACE], {
      us: sandbox,
      eu: sandbox,
    });

    expect(verdict.unexpected).toBe(1);
  });
});
