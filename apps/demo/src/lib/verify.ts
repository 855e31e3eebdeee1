import type { SandboxClient, StoredOperation } from '@cio-pipeline/stack';
import type { StackWorkspace } from '@cio-pipeline/stack';
import type { Sent } from './traffic';

export interface Verdict {
  deliveredUnique: number;
  /** Operations Customer.io would have seen twice: dropped repeats plus repeated non-event operations. */
  duplicates: number;
  lost: number;
  /** Operations that reached the sandbox without the gateway having acknowledged them. */
  unexpected: number;
  /** People whose operations reached the sandbox in another order than acknowledged. */
  orderViolations: number;
  requests: number;
  maxRequestsPerSecond: number;
  operationsPerRequest: number;
  throttled: number;
}

/** Compares what the gateway acknowledged with what both sandboxes stored. */
export async function verifyDelivery(
  sent: Sent,
  workspaces: StackWorkspace[],
  sandboxes: Record<'us' | 'eu', SandboxClient>,
): Promise<Verdict> {
  const seen = new Map<number, number>();
  const arrivals = new Map<string, number[]>();
  let requests = 0;
  let delivered = 0;
  let deliveringRequests = 0;
  let maxRequestsPerSecond = 0;
  let throttled = 0;
  let dropped = 0;

  for (const workspace of workspaces) {
    const sandbox = sandboxes[workspace.region];
    const stats = (await sandbox.stats()).workspaces[workspace.siteId];
    if (stats !== undefined) {
      requests += stats.requests;
      delivered += stats.operationsAccepted;
      deliveringRequests += stats.requestsByStatus['200'] ?? 0;
      deliveringRequests += stats.requestsByStatus['207'] ?? 0;
      throttled += stats.requestsByStatus['429'] ?? 0;
      dropped += stats.duplicatesDropped;
      maxRequestsPerSecond = Math.max(maxRequestsPerSecond, stats.maxRequestsPerSecond);
    }
    for (const stored of await sandbox.operations(workspace.siteId)) {
      const seq = seqOf(stored);
      if (seq === undefined) {
        continue;
      }
      seen.set(seq, (seen.get(seq) ?? 0) + 1);
      const key = `${workspace.siteId}/${stored.operation.identifiers?.['id'] ?? ''}`;
      const list = arrivals.get(key) ?? [];
      list.push(seq);
      arrivals.set(key, list);
    }
  }

  let deliveredUnique = 0;
  let repeated = 0;
  let unexpected = 0;
  for (const [seq, count] of seen) {
    if (sent.accepted.has(seq)) {
      deliveredUnique += 1;
    } else {
      unexpected += 1;
    }
    repeated += count - 1;
  }
  let orderViolations = 0;
  for (const [key, expected] of sent.order) {
    const arrived = (arrivals.get(key) ?? []).filter(
      (seq, index, list) => list.indexOf(seq) === index,
    );
    if (arrived.join(',') !== expected.filter((seq) => seen.has(seq)).join(',')) {
      orderViolations += 1;
    }
  }
  return {
    deliveredUnique,
    duplicates: dropped + repeated,
    lost: sent.accepted.size - deliveredUnique,
    unexpected,
    orderViolations,
    requests,
    maxRequestsPerSecond,
    operationsPerRequest: deliveringRequests === 0 ? 0 : delivered / deliveringRequests,
    throttled,
  };
}

/** Sum of operations both sandboxes accepted for the demo's workspaces. */
export async function deliveredCount(
  workspaces: StackWorkspace[],
  sandboxes: Record<'us' | 'eu', SandboxClient>,
): Promise<number> {
  let total = 0;
  for (const workspace of workspaces) {
    const stats = (await sandboxes[workspace.region].stats()).workspaces[workspace.siteId];
    total += stats?.operationsAccepted ?? 0;
  }
  return total;
}

function seqOf(stored: StoredOperation): number | undefined {
  const value = stored.operation.attributes?.['demo_seq'];
  return typeof value === 'number' ? value : undefined;
}
