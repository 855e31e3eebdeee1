import { UlidFactory } from '@cio-pipeline/schemas';
import { sleep, type StackWorkspace } from '@cio-pipeline/stack';
import { credentialsOf, eventOperation } from '../support';
import { between, seededRandom } from './random';

/** The calls of one person, in the order the gateway acknowledged them. */
export interface PersonLog {
  siteId: string;
  personId: string;
  /** Event ids of acknowledged calls, in acknowledgement order. */
  acknowledged: string[];
}

/** Event ids the clients sent and the ones the gateway acknowledged with a 2xx. */
export interface TrafficResult {
  people: PersonLog[];
  /** Every event id sent at least once, per workspace. */
  sent: Map<string, Set<string>>;
  /** Event ids of calls given up without a 2xx, per workspace. */
  unacknowledged: Map<string, string[]>;
  calls: { v1: number; v2: number; attempts: number };
  /** Responses by HTTP status, and `connection_error` for failed or timed-out requests. */
  responses: Record<string, number>;
  /** Calls that got a status other than 2xx, 429 or 503, with the response body. */
  rejected: string[];
}

export interface TrafficOptions {
  gatewayUrl: string;
  workspaces: StackWorkspace[];
  peoplePerWorkspace: number;
  /** Time after which no person starts a new call; calls under way still finish. */
  durationMs: number;
  /** Pause between one person's calls, in ms. */
  pauseMs: number;
  /** Time after which a call that got no 2xx is given up, in ms. */
  giveUpMs: number;
  seed: number;
}

const REQUEST_TIMEOUT_MS = 15_000;
const MAX_BACKOFF_MS = 2000;
const MAX_EVENTS_PER_BATCH = 5;

type CallOutcome =
  { kind: 'acknowledged' } | { kind: 'given_up' } | { kind: 'rejected'; detail: string };

/**
 * Sends traffic through the gateway: each person makes v1 track calls and
 * v2 batch calls one after another, with client-generated ULID event ids.
 * A call that gets a 429 or 503, or fails on a connection error or timeout,
 * is sent again with the same ids, so a gateway being restarted costs only
 * time.
 */
export async function sendTraffic(options: TrafficOptions): Promise<TrafficResult> {
  const ids = new UlidFactory();
  const result: TrafficResult = {
    people: [],
    sent: new Map(options.workspaces.map((w) => [w.siteId, new Set<string>()])),
    unacknowledged: new Map(options.workspaces.map((w) => [w.siteId, []])),
    calls: { v1: 0, v2: 0, attempts: 0 },
    responses: {},
    rejected: [],
  };
  const stopAt = Date.now() + options.durationMs;
  // Bounds the loop even if every call returned at once.
  const maxCallsPerPerson = Math.ceil(options.durationMs / Math.max(1, options.pauseMs)) + 1;

  const count = (key: string) => {
    result.responses[key] = (result.responses[key] ?? 0) + 1;
  };

  const post = async (
    path: string,
    workspace: StackWorkspace,
    body: unknown,
  ): Promise<CallOutcome> => {
    const giveUpAt = Date.now() + options.giveUpMs;
    for (let attempt = 0; Date.now() < giveUpAt; attempt++) {
      result.calls.attempts += 1;
      let waitMs = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt);
      try {
        const response = await fetch(`${options.gatewayUrl}${path}`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(credentialsOf(workspace)).toString('base64')}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        count(String(response.status));
        if (response.status === 200) {
          return { kind: 'acknowledged' };
        }
        if (response.status !== 429 && response.status !== 503) {
          return { kind: 'rejected', detail: `${path} ${response.status}: ${text.slice(0, 200)}` };
        }
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) {
          waitMs = retryAfter * 1000;
        }
      } catch {
        // A killed gateway refuses connections, and a request cut off
        // mid-way may or may not have been written, so either way the same
        // ids are sent again.
        count('connection_error');
      }
      await sleep(waitMs);
    }
    return { kind: 'given_up' };
  };

  const runPerson = async (workspace: StackWorkspace, personId: string, seed: number) => {
    const random = seededRandom(seed);
    const log: PersonLog = { siteId: workspace.siteId, personId, acknowledged: [] };
    result.people.push(log);
    const sent = result.sent.get(workspace.siteId) ?? new Set<string>();
    for (let call = 0; call < maxCallsPerPerson && Date.now() < stopAt; call++) {
      const batch = random() < 0.5;
      const size = batch ? 1 + Math.floor(random() * MAX_EVENTS_PER_BATCH) : 1;
      const eventIds = Array.from({ length: size }, () => ids.next());
      eventIds.forEach((id) => sent.add(id));
      let outcome: CallOutcome;
      if (batch) {
        result.calls.v2 += 1;
        const operations = eventIds.map((id, i) => eventOperation(personId, id, { call, i }));
        outcome = await post('/api/v2/batch', workspace, { batch: operations });
      } else {
        result.calls.v1 += 1;
        const body = { name: 'faults_event', id: eventIds[0], data: { call } };
        outcome = await post(`/api/v1/customers/${personId}/events`, workspace, body);
      }
      if (outcome.kind === 'acknowledged') {
        log.acknowledged.push(...eventIds);
      } else {
        result.unacknowledged.get(workspace.siteId)?.push(...eventIds);
        if (outcome.kind === 'rejected') {
          result.rejected.push(outcome.detail);
        }
      }
      await sleep(between(random, 0.5, 1.5) * options.pauseMs);
    }
  };

  const people = options.workspaces.flatMap((workspace, w) =>
    Array.from({ length: options.peoplePerWorkspace }, (_, p) =>
      runPerson(workspace, `person-${workspace.region}-${p}`, options.seed + w * 1000 + p),
    ),
  );
  await Promise.all(people);
  return result;
}
