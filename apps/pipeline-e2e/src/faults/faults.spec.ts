import { randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeadLetter } from '@cio-pipeline/schemas';
import {
  freePort,
  sleep,
  type SandboxClient,
  type StackWorkspace,
  type WorkspaceStats,
} from '@cio-pipeline/stack';
import { Kafka, logLevel } from 'kafkajs';
import { ROOT_DIR } from '../support';
import { analyzeDelivery, type DeliveryAnalysis } from './analysis';
import { startFaultStack, type FaultStack } from './fault-stack';
import { readDeadLetters, waitForNoLag, type ConsumerLag } from './kafka-checks';
import { PrivateBroker } from '../private-broker';
import { seededRandom } from './random';
import { FaultInjector, planFaults, type FaultReport, type ScheduleSettings } from './schedule';
import { sendTraffic, type TrafficResult } from './traffic';

/** Reads a non-negative integer setting from the environment. */
function setting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') {
    return fallback;
  }
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  }
  return value;
}

/** Length of the traffic, in seconds. */
const SECONDS = setting('FAULTS_SECONDS', 90);
/** Seed of the fault schedule and the traffic mix; a random one unless set, and printed either way. */
const SEED = setting('FAULTS_SEED', randomInt(2 ** 31));
const SCHEDULE: ScheduleSettings = {
  durationMs: SECONDS * 1000,
  killsPerService: Math.max(2, Math.round(SECONDS / 30)),
  stormMs: setting('FAULTS_STORM_MS', 3000),
  downForMs: setting('FAULTS_DOWN_MS', 30_000),
  latencyMs: 1500,
};
/** Replicas of the batcher and the sender; each run exercises one mix. */
const REPLICAS = {
  batchers: Math.max(1, setting('FAULTS_BATCHERS', 2)),
  senders: Math.max(1, setting('FAULTS_SENDERS', 3)),
};
/** Requests per second per workspace, for the sender and for the sandbox. */
const RATE_LIMIT = 20;
const PEOPLE_PER_WORKSPACE = 10;
const PAUSE_MS = 250;
const GIVE_UP_MS = 120_000;
/** Bound of the wait for delivery after traffic stops. Retries back off up to 30 s, and a rebalance after a kill takes up to the 30 s session timeout. */
const DRAIN_TIMEOUT_MS = 300_000;
const LAG_TIMEOUT_MS = 120_000;
const SETUP_TIMEOUT_MS = SECONDS * 1000 + GIVE_UP_MS + DRAIN_TIMEOUT_MS + LAG_TIMEOUT_MS + 600_000;

const WORKSPACES: StackWorkspace[] = [
  {
    siteId: 'site-faults-us',
    apiKey: 'key-faults-us',
    region: 'us',
    rateLimit: RATE_LIMIT,
    sandboxRateLimit: RATE_LIMIT,
  },
  {
    siteId: 'site-faults-eu',
    apiKey: 'key-faults-eu',
    region: 'eu',
    rateLimit: RATE_LIMIT,
    sandboxRateLimit: RATE_LIMIT,
  },
];

/** Everything one run measured, for the checks and the summary. */
interface RunOutcome {
  elapsedSeconds: number;
  traffic: TrafficResult;
  faults: FaultReport;
  delivery: DeliveryAnalysis;
  stats: Record<string, WorkspaceStats | undefined>;
  lags: ConsumerLag[];
  deadLetters: DeadLetter[];
}

function sandboxOf(fault: FaultStack, workspace: StackWorkspace): SandboxClient {
  return workspace.region === 'eu' ? fault.stack.sandboxEu : fault.stack.sandbox;
}

/**
 * Polls the sandboxes until every acknowledged id is stored or `timeoutMs`
 * passes, and returns the last comparison either way.
 */
async function waitForDelivery(
  fault: FaultStack,
  traffic: TrafficResult,
  timeoutMs: number,
): Promise<DeliveryAnalysis> {
  const deadline = Date.now() + timeoutMs;
  const acknowledged = new Map<string, number>();
  for (const person of traffic.people) {
    acknowledged.set(
      person.siteId,
      (acknowledged.get(person.siteId) ?? 0) + person.acknowledged.length,
    );
  }
  for (;;) {
    let enough = true;
    for (const workspace of WORKSPACES) {
      const stats = (await sandboxOf(fault, workspace).stats()).workspaces[workspace.siteId];
      enough &&= (stats?.uniqueEventIds ?? 0) >= (acknowledged.get(workspace.siteId) ?? 0);
    }
    if (enough || Date.now() > deadline) {
      const stored = new Map(
        await Promise.all(
          WORKSPACES.map(
            async (w) => [w.siteId, await sandboxOf(fault, w).operations(w.siteId)] as const,
          ),
        ),
      );
      const delivery = analyzeDelivery(traffic, stored);
      if (delivery.lost.length === 0 || Date.now() > deadline) {
        return delivery;
      }
    }
    await sleep(2000);
  }
}

/**
 * Starts the stack, and once more if a service exits during start-up.
 * NOTE: a start-up exit was seen once with an empty service log. The likely
 * cause is a port that freePort() handed out being taken before the service
 * listened, which is a race of the test stack rather than a pipeline fault.
 */
async function startFaultStackWithRetry(brokers: string): Promise<FaultStack> {
  const replicas = REPLICAS;
  try {
    return await startFaultStack(brokers, WORKSPACES, replicas);
  } catch (error) {
    process.stdout.write(`faults: starting the stack failed, trying once more: ${String(error)}\n`);
    return startFaultStack(brokers, WORKSPACES, replicas);
  }
}

/** Sends traffic while injecting faults, waits for the pipeline to settle and collects the figures. */
async function runUnderFaults(
  fault: FaultStack,
  broker: PrivateBroker,
  kafka: Kafka,
): Promise<RunOutcome> {
  const startedAt = Date.now();
  const random = seededRandom(SEED);
  const plan = planFaults(SCHEDULE, random);
  const injector = new FaultInjector(fault.stack, broker, SCHEDULE, random, (message) => {
    process.stdout.write(`faults: ${message}\n`);
  });
  const [traffic, faults] = await Promise.all([
    sendTraffic({
      gatewayUrl: fault.stack.gatewayUrl,
      workspaces: WORKSPACES,
      peoplePerWorkspace: PEOPLE_PER_WORKSPACE,
      durationMs: SCHEDULE.durationMs,
      pauseMs: PAUSE_MS,
      giveUpMs: GIVE_UP_MS,
      seed: SEED,
    }),
    injector.run(plan, startedAt),
  ]);

  const delivery = await waitForDelivery(fault, traffic, DRAIN_TIMEOUT_MS);
  const lags = await waitForNoLag(
    kafka,
    [
      { groupId: fault.groups.batcher, topic: fault.topics.operations },
      { groupId: fault.groups.sender, topic: fault.topics.batches },
    ],
    LAG_TIMEOUT_MS,
  );
  const stats: Record<string, WorkspaceStats | undefined> = {};
  for (const workspace of WORKSPACES) {
    stats[workspace.siteId] = (await sandboxOf(fault, workspace).stats()).workspaces[
      workspace.siteId
    ];
  }
  return {
    elapsedSeconds: Math.round((Date.now() - startedAt) / 1000),
    traffic,
    faults,
    delivery,
    stats,
    lags,
    deadLetters: await readDeadLetters(kafka, fault.topics.deadLetters),
  };
}

/** Prints the run's one summary line and writes the summary to reports/faults.json. */
function report(fault: FaultStack, outcome: RunOutcome): void {
  const { faults, delivery, traffic } = outcome;
  const sandboxFaults = Object.values(faults.sandboxFaults).reduce((sum, n) => sum + n, 0);
  const kills = faults.kills.gateway + faults.kills.batcher + faults.kills.sender;
  const maxRequestsPerSecond = Object.fromEntries(
    WORKSPACES.map((w) => [w.siteId, outcome.stats[w.siteId]?.maxRequestsPerSecond ?? 0]),
  );
  const tightestSpanMs = Object.fromEntries(
    WORKSPACES.map((w) => {
      const span = outcome.stats[w.siteId]?.tightestSpanMs;
      return [w.siteId, span === null || span === undefined ? null : Math.round(span)];
    }),
  );
  const duplicatesDropped = WORKSPACES.reduce(
    (sum, w) => sum + (outcome.stats[w.siteId]?.duplicatesDropped ?? 0),
    0,
  );
  const summary = {
    runs: 1,
    seed: SEED,
    seconds: SECONDS,
    elapsedSeconds: outcome.elapsedSeconds,
    namespace: fault.namespace,
    kills: faults.kills,
    faultsInjected: kills + faults.brokerRestarts + sandboxFaults,
    brokerRestarts: faults.brokerRestarts,
    sandboxFaults: faults.sandboxFaults,
    skippedKills: faults.skipped,
    restartPortConflicts: faults.portConflicts,
    faultErrors: faults.errors,
    calls: traffic.calls,
    responses: traffic.responses,
    acknowledged: delivery.acknowledged,
    deliveredUnique: delivery.deliveredUnique,
    lost: delivery.lost.length,
    neverSent: delivery.neverSent.length,
    unacknowledgedDelivered: delivery.unacknowledgedDelivered,
    unacknowledged: [...traffic.unacknowledged.values()].reduce((sum, ids) => sum + ids.length, 0),
    orderViolations: delivery.orderViolations.length,
    duplicatesDropped,
    rateLimit: RATE_LIMIT,
    maxRequestsPerSecond,
    tightestSpanMs,
    consumerLag: Object.fromEntries(outcome.lags.map((lag) => [lag.groupId, lag.total])),
    deadLetters: outcome.deadLetters.length,
  };
  const rates = Object.entries(maxRequestsPerSecond)
    .map(
      ([siteId, rate]) =>
        `${siteId} ${rate} (${RATE_LIMIT + 1} took ${tightestSpanMs[siteId] ?? '-'} ms)`,
    )
    .join(', ');
  process.stdout.write(
    `faults summary: runs 1, seed ${SEED}, ${SECONDS} s of traffic, ${outcome.elapsedSeconds} s in all; ` +
      `kills gateway ${faults.kills.gateway}, batcher ${faults.kills.batcher}, sender ${faults.kills.sender}; ` +
      `faults injected ${summary.faultsInjected}; acknowledged ${summary.acknowledged}; lost ${summary.lost}; ` +
      `duplicates dropped ${duplicatesDropped}; max requests per second ${rates} (limit ${RATE_LIMIT})\n`,
  );
  mkdirSync(join(ROOT_DIR, 'reports'), { recursive: true });
  writeFileSync(join(ROOT_DIR, 'reports', 'faults.json'), `${JSON.stringify(summary, null, 2)}\n`);
}

describe('pipeline under faults', () => {
  let broker: PrivateBroker | undefined;
  let fault: FaultStack | undefined;
  let outcome: RunOutcome;

  beforeAll(async () => {
    broker = new PrivateBroker(await freePort(), await freePort(), 'faults');
    await broker.command('start');
    fault = await startFaultStackWithRetry(broker.brokers);
    const kafka = new Kafka({
      clientId: 'pipeline-faults',
      brokers: [broker.brokers],
      logLevel: logLevel.NOTHING,
    });
    outcome = await runUnderFaults(fault, broker, kafka);
    report(fault, outcome);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await fault?.stack.stop();
    await broker?.command('reset');
  }, 180_000);

  it('injects every planned fault', () => {
    expect(outcome.faults.errors).toEqual([]);
    expect(outcome.faults.kills.gateway).toBeGreaterThanOrEqual(1);
    expect(outcome.faults.kills.batcher).toBeGreaterThanOrEqual(1);
    expect(outcome.faults.kills.sender).toBeGreaterThanOrEqual(1);
    expect(outcome.faults.brokerRestarts).toBe(1);
  });

  it('acknowledges every call eventually', () => {
    expect(outcome.traffic.rejected).toEqual([]);
    expect([...outcome.traffic.unacknowledged.values()].flat()).toEqual([]);
    expect(outcome.delivery.acknowledged).toBeGreaterThan(0);
  });

  it('delivers every acknowledged event', () => {
    expect(outcome.delivery.lost.slice(0, 20)).toEqual([]);
    expect(outcome.delivery.deliveredUnique).toBe(outcome.delivery.acknowledged);
  });

  it('delivers no event never sent', () => {
    expect(outcome.delivery.neverSent.slice(0, 20)).toEqual([]);
  });

  it('stores no event id twice', () => {
    expect(outcome.delivery.storedTwice.slice(0, 20)).toEqual([]);
  });

  it("keeps each person's order", () => {
    expect(outcome.delivery.orderViolations).toEqual([]);
  });

  it.each(WORKSPACES.map((w) => w.siteId))('holds the rate limit of %s', (siteId) => {
    expect(outcome.stats[siteId]?.maxRequestsPerSecond ?? 0).toBeLessThanOrEqual(RATE_LIMIT);
  });

  it('leaves no consumer lag', () => {
    expect(outcome.lags.filter((lag) => lag.total > 0)).toEqual([]);
  });

  it('writes no dead letters', () => {
    // Every operation sent is valid, so Customer.io rejects none, and the
    // default retry budget of 5 minutes outlasts every fault.
    expect(outcome.deadLetters.map((letter) => letter.error)).toEqual([]);
  });
});
