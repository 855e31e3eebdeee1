import type { StoredOperation } from '@cio-pipeline/stack';
import type { TrafficResult } from './traffic';

/** The comparison of one run's traffic with what the sandboxes stored. */
export interface DeliveryAnalysis {
  acknowledged: number;
  /** Acknowledged ids the sandboxes stored, counted once each. */
  deliveredUnique: number;
  /** Acknowledged ids the sandboxes never stored. */
  lost: string[];
  /** Stored ids that no client ever sent. */
  neverSent: string[];
  /** Ids of calls given up without a 2xx that were stored anyway: allowed, because the write may have landed. */
  unacknowledgedDelivered: number;
  /** Ids stored more than once: the sandbox should have dropped the repeats. */
  storedTwice: string[];
  /** People whose first arrivals do not follow acknowledgement order, with the first id out of place. */
  orderViolations: { personId: string; id: string; after: string }[];
}

/**
 * Compares the traffic with the stored operations of each workspace. A
 * person's order holds when the first arrival of each acknowledged id comes
 * after the first arrival of the id acknowledged before it.
 */
export function analyzeDelivery(
  traffic: TrafficResult,
  stored: Map<string, StoredOperation[]>,
): DeliveryAnalysis {
  const analysis: DeliveryAnalysis = {
    acknowledged: 0,
    deliveredUnique: 0,
    lost: [],
    neverSent: [],
    unacknowledgedDelivered: 0,
    storedTwice: [],
    orderViolations: [],
  };
  // Position of each id's first arrival, and how often each id was stored, per workspace.
  const firstArrival = new Map<string, Map<string, number>>();
  for (const [siteId, operations] of stored) {
    const positions = new Map<string, number>();
    const sent = traffic.sent.get(siteId) ?? new Set<string>();
    for (const { operation, seq } of operations) {
      const id = operation.id;
      if (id === undefined) {
        continue;
      }
      if (positions.has(id)) {
        analysis.storedTwice.push(id);
        continue;
      }
      positions.set(id, seq);
      if (!sent.has(id)) {
        analysis.neverSent.push(id);
      }
    }
    firstArrival.set(siteId, positions);
    const unacknowledged = traffic.unacknowledged.get(siteId) ?? [];
    analysis.unacknowledgedDelivered += unacknowledged.filter((id) => positions.has(id)).length;
  }

  for (const person of traffic.people) {
    const positions = firstArrival.get(person.siteId) ?? new Map<string, number>();
    let previous: { id: string; seq: number } | undefined;
    let violated = false;
    for (const id of person.acknowledged) {
      analysis.acknowledged += 1;
      const seq = positions.get(id);
      if (seq === undefined) {
        analysis.lost.push(id);
        continue;
      }
      analysis.deliveredUnique += 1;
      if (previous !== undefined && seq < previous.seq && !violated) {
        analysis.orderViolations.push({ personId: person.personId, id, after: previous.id });
        violated = true;
      }
      previous = { id, seq };
    }
  }
  return analysis;
}
