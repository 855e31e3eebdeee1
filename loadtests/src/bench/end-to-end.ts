import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxClient, Stack, StackWorkspace } from '@cio-pipeline/stack';
import { log } from '../common/log';
import { runClosedLoop, type LoadProgress, type LoadResult } from '../common/load';
import { perSecondCounts, round, steadyRate, type CountSample } from '../common/stats';
import type { CallPool, EncodedCall } from '../common/call-pool';

/** Delivery into the sandbox over one measurement. */
export interface DeliveryMeasurement {
  /** Site ids the measurement sent to. */
  workspaces: string[];
  /** Requests per second of each workspace, at the sender and at the sandbox. */
  limit: number;
  /** Operations of the event mix that fit in one batch body. */
  operationsPerFullBatch: number;
  /** limit x operationsPerFullBatch x workspaces. */
  capEventsPerSecond: number;
  /** Operations the gateway acknowledged for the measurement. */
  acknowledgedEvents: number;
  /** Operations the sandbox accepted for these workspaces. */
  deliveredEvents: number;
  /** Whether the sandbox accepted every acknowledged operation before the timeout. */
  drained: boolean;
  /** Delivered operations per second in the steady part, see `steadyRate`. */
  deliveredEventsPerSecond: number;
  shareOfCap: number;
  /**
   * Share of the cap from 10% to 90% of the operations delivered, which
   * leaves out the warm-up of services started for the measurement.
   */
  shareOfCapAfterWarmUp: number | undefined;
  /** 2xx requests per second at the sandbox in the same window, all workspaces together. */
  requestsPerSecond: number;
  /** requestsPerSecond / (limit x workspaces). */
  rateUse: number;
  meanOperationsPerRequest: number;
  /** meanOperationsPerRequest / operationsPerFullBatch. */
  fillRatio: number;
  /** 429 responses of the sandbox during the measurement. */
  throttled: number;
  /** The gateway calls that produced the acknowledged operations. */
  feed: Pick<LoadResult, 'seconds' | 'eventsPerSecond' | 'errors' | 'statuses'>;
  /** Operations delivered in each second since delivery could start. */
  timeline: { second: number; events: number }[];
}

export interface DeliveryContext {
  stack: Stack;
  /** Authorization header per site id. */
  authorization: (workspace: StackWorkspace) => string;
  /** Batch calls of the feeds and backlogs. */
  batchCalls: CallPool<EncodedCall>;
  operationsPerFullBatch: number;
  /** Gateway calls in flight while feeding, shared among the workspaces. */
  feedConcurrency: number;
  timeoutMs: number;
  onProgress: (progress: LoadProgress) => void;
}

export interface DeliverySample extends CountSample {
  requests: number;
  throttled: number;
}

const POLL_INTERVAL_MS = 50;

/**
 * Measures delivery at a limit that binds. With the batcher and sender
 * stopped, the gateway takes `backlogPerWorkspace` operations for each
 * workspace. Then both start again and drain the backlog into the sandbox,
 * whose count of accepted operations is polled every 50 ms.
 */
export async function measureBacklogDrain(
  context: DeliveryContext,
  workspaces: StackWorkspace[],
  backlogPerWorkspace: number,
): Promise<DeliveryMeasurement> {
  const { stack } = context;
  const consumers = [...stack.byRole('batcher'), ...stack.byRole('sender')];
  for (const service of consumers) {
    await service.stop();
  }
  const ids = workspaces.map((workspace) => workspace.siteId);
  log('bench', `filling a backlog of ${backlogPerWorkspace} operations for ${ids.join(', ')}`);
  const feeds = await Promise.all(
    workspaces.map((workspace) =>
      feed(context, workspace, {
        concurrency: Math.max(1, Math.ceil(context.feedConcurrency / workspaces.length)),
        durationMs: context.timeoutMs,
        stopAfterEvents: backlogPerWorkspace,
      }),
    ),
  );
  await emptySandbox(context);
  const before = await totals(stack.sandbox, ids);
  const startedAt = performance.now();
  log('bench', `starting the batcher and sender to drain ${ids.length} workspace(s)`);
  await Promise.all(consumers.map((service) => stack.restart(service)));
  return finish(context, workspaces, feeds, before, startedAt);
}

/**
 * Measures delivery while the gateway is fed for `feedMs`: batch calls in a
 * closed loop to one workspace, with every service running, then waits for
 * the rest to arrive.
 */
export async function measureContinuousFeed(
  context: DeliveryContext,
  workspaces: StackWorkspace[],
  feedMs: number,
): Promise<DeliveryMeasurement> {
  const ids = workspaces.map((workspace) => workspace.siteId);
  await emptySandbox(context);
  const before = await totals(context.stack.sandbox, ids);
  const startedAt = performance.now();
  const sampling = sampleUntil(context.stack.sandbox, ids, before, startedAt, {
    stopWhen: () => false,
    deadline: startedAt + feedMs,
  });
  // The workspaces share the calls in flight, so the offered load does not
  // grow with their number.
  const concurrency = Math.max(1, Math.round(context.feedConcurrency / workspaces.length));
  // Awaited together, so a failed sample (a sandbox stopped by a signal)
  // rejects this call instead of crashing the process as unhandled.
  const [results, samples] = await Promise.all([
    Promise.all(
      workspaces.map((workspace) => feed(context, workspace, { concurrency, durationMs: feedMs })),
    ),
    sampling,
  ]);
  return finish(context, workspaces, results, before, startedAt, samples);
}

async function feed(
  context: DeliveryContext,
  workspace: StackWorkspace,
  bounds: { concurrency: number; durationMs: number; stopAfterEvents?: number },
): Promise<LoadResult> {
  return runClosedLoop(
    {
      label: `feed ${workspace.siteId}`,
      concurrency: bounds.concurrency,
      warmupMs: 0,
      durationMs: bounds.durationMs,
      onProgress: context.onProgress,
      ...(bounds.stopAfterEvents === undefined ? {} : { stopAfterEvents: bounds.stopAfterEvents }),
    },
    {
      origin: context.stack.gatewayUrl,
      headers: { authorization: context.authorization(workspace) },
      next: () => context.batchCalls.next(),
    },
  );
}

/** Polls until every acknowledged operation arrived or the timeout, then computes the figures. */
async function finish(
  context: DeliveryContext,
  workspaces: StackWorkspace[],
  feeds: LoadResult[],
  before: WorkspaceTotals,
  startedAt: number,
  earlier: DeliverySample[] = [],
): Promise<DeliveryMeasurement> {
  const ids = workspaces.map((workspace) => workspace.siteId);
  const acknowledged = feeds.reduce((sum, result) => sum + result.acknowledgedEvents, 0);

  const later = await sampleUntil(context.stack.sandbox, ids, before, startedAt, {
    stopWhen: (sample) => sample.count >= acknowledged,
    deadline: performance.now() + context.timeoutMs,
  });
  const samples = [...earlier, ...later];

  const last = samples[samples.length - 1] ?? { atMs: 0, count: 0, requests: 0, throttled: 0 };
  const limit = workspaces[0]?.rateLimit ?? 0;
  const cap = limit * context.operationsPerFullBatch * workspaces.length;
  const steady = steadyRate(samples, acknowledged);
  const warm = steadyRate(samples, acknowledged, 0.9, 0.1);
  const perSecond = steady?.perSecond ?? 0;
  const requestsPerSecond = steady === undefined ? 0 : requestRate(samples, steady);
  const meanOperations = last.requests === 0 ? 0 : last.count / last.requests;
  const feedSeconds = Math.max(...feeds.map((result) => result.seconds));

  return {
    workspaces: ids,
    limit,
    operationsPerFullBatch: round(context.operationsPerFullBatch, 1),
    capEventsPerSecond: round(cap, 1),
    acknowledgedEvents: acknowledged,
    deliveredEvents: last.count,
    drained: last.count >= acknowledged,
    deliveredEventsPerSecond: round(perSecond, 1),
    shareOfCap: cap === 0 ? 0 : round(perSecond / cap, 3),
    // Undefined when no two samples bound the window, such as a drain that never reached 90%.
    shareOfCapAfterWarmUp:
      cap === 0 || warm === undefined ? undefined : round(warm.perSecond / cap, 3),
    requestsPerSecond: round(requestsPerSecond, 2),
    rateUse: limit === 0 ? 0 : round(requestsPerSecond / (limit * workspaces.length), 3),
    meanOperationsPerRequest: round(meanOperations, 1),
    fillRatio: round(meanOperations / context.operationsPerFullBatch, 3),
    throttled: last.throttled,
    feed: {
      seconds: feedSeconds,
      eventsPerSecond: round(acknowledged / Math.max(0.001, feedSeconds), 1),
      errors: feeds.reduce((sum, result) => sum + result.errors, 0),
      statuses: mergeCounts(feeds.map((result) => result.statuses)),
    },
    timeline: perSecondCounts(samples),
  };
}

/**
 * Clears the sandbox's stored operations, counters and event ids. It keeps
 * every event id it accepted, to report duplicates, and millions of them
 * from earlier runs slowed its garbage collection in the runs after.
 */
export async function emptySandbox(context: DeliveryContext): Promise<void> {
  await context.stack.sandbox.reset();
}

export interface WorkspaceTotals {
  operations: number;
  okRequests: number;
  throttled: number;
}

export async function totals(sandbox: SandboxClient, ids: string[]): Promise<WorkspaceTotals> {
  const stats = await sandbox.stats();
  const result: WorkspaceTotals = { operations: 0, okRequests: 0, throttled: 0 };
  for (const id of ids) {
    const workspace = stats.workspaces[id];
    if (workspace === undefined) {
      throw new Error(`workspace ${id} is not configured in the sandbox`);
    }
    result.operations += workspace.operationsAccepted;
    for (const [status, count] of Object.entries(workspace.requestsByStatus)) {
      if (status.startsWith('2')) {
        result.okRequests += count;
      }
    }
    result.throttled += workspace.requestsByStatus['429'] ?? 0;
  }
  return result;
}

export async function sampleUntil(
  sandbox: SandboxClient,
  ids: string[],
  before: WorkspaceTotals,
  startedAt: number,
  bounds: { stopWhen: (sample: DeliverySample) => boolean; deadline: number },
): Promise<DeliverySample[]> {
  const samples: DeliverySample[] = [];
  let lastLog = performance.now();
  while (performance.now() < bounds.deadline) {
    const now = await totals(sandbox, ids);
    const sample = {
      atMs: performance.now() - startedAt,
      count: now.operations - before.operations,
      requests: now.okRequests - before.okRequests,
      throttled: now.throttled - before.throttled,
    };
    samples.push(sample);
    if (bounds.stopWhen(sample)) {
      break;
    }
    if (performance.now() - lastLog >= 2000) {
      lastLog = performance.now();
      log('bench', `delivered ${sample.count} operations in ${sample.requests} requests`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
  return samples;
}

/** 2xx requests per second between the two samples that bound the steady window. */
function requestRate(samples: DeliverySample[], window: { fromMs: number; toMs: number }): number {
  const from = samples.find((sample) => sample.atMs === window.fromMs);
  const to = samples.find((sample) => sample.atMs === window.toMs);
  if (from === undefined || to === undefined) {
    return 0;
  }
  return ((to.requests - from.requests) * 1000) / (window.toMs - window.fromMs);
}

function mergeCounts(counts: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const entry of counts) {
    for (const [key, value] of Object.entries(entry)) {
      merged[key] = (merged[key] ?? 0) + value;
    }
  }
  return merged;
}
