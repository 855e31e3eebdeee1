import { performance } from 'node:perf_hooks';
import type { StackWorkspace } from '@cio-pipeline/stack';
import { runOpenLoop } from '../common/load';
import { log } from '../common/log';
import { perSecondCounts, round } from '../common/stats';
import {
  emptySandbox,
  sampleUntil,
  totals,
  type DeliveryContext,
  type DeliverySample,
} from './end-to-end';

/** Delivery while an open loop offers a fixed event rate, and after it stops. */
export interface SustainedMeasurement {
  workspaces: string[];
  /** Events per second the open loop was set to offer, all workspaces together. */
  targetEventsPerSecond: number;
  /** Mean operations per batch call of the call pool. */
  operationsPerCall: number;
  seconds: number;
  /** Operations the gateway acknowledged, per second of the feed. */
  offeredEventsPerSecond: number;
  /** Calls skipped because `maxInFlight` calls per workspace were waiting. */
  droppedCalls: number;
  /** Calls that got no 2xx response. */
  errors: number;
  /** Operations delivered per second from the first delivery to the end of the feed. */
  deliveredEventsPerSecond: number;
  /** Acknowledged operations that the sandbox had not accepted when the feed stopped. */
  backlogAtStop: number;
  /** Seconds from the end of the feed until every acknowledged operation arrived, if they did. */
  drainSeconds: number | undefined;
  acknowledgedEvents: number;
  deliveredEvents: number;
  drained: boolean;
  /** Operations delivered in each second since the feed started. */
  timeline: { second: number; events: number }[];
}

export interface SustainedOptions {
  eventsPerSecond: number;
  durationMs: number;
  /** Calls in flight per workspace past which new ones are dropped and counted. */
  maxInFlight: number;
}

/**
 * Offers a fixed rate of batch calls, split evenly among the workspaces, for
 * the duration, like k6's constant-arrival-rate executor, so that a slower
 * pipeline does not lower the offered load. Delivery keeps up when it
 * matches the offered rate and the backlog at the stop is about one linger
 * window of operations.
 */
export async function measureSustained(
  context: DeliveryContext,
  workspaces: StackWorkspace[],
  options: SustainedOptions,
): Promise<SustainedMeasurement> {
  const ids = workspaces.map((workspace) => workspace.siteId);
  const calls = context.batchCalls.items;
  const operationsPerCall = calls.reduce((sum, call) => sum + call.operations, 0) / calls.length;
  const callsPerSecond = options.eventsPerSecond / operationsPerCall / workspaces.length;

  await emptySandbox(context);
  const before = await totals(context.stack.sandbox, ids);
  const startedAt = performance.now();
  const feedEnd = startedAt + options.durationMs;
  const [loads, during] = await Promise.all([
    Promise.all(
      workspaces.map((workspace) =>
        runOpenLoop(
          {
            label: `sustained ${workspace.siteId}`,
            ratePerSecond: callsPerSecond,
            durationMs: options.durationMs,
            maxInFlight: options.maxInFlight,
            onProgress: context.onProgress,
          },
          {
            origin: context.stack.gatewayUrl,
            headers: { authorization: context.authorization(workspace) },
            next: () => context.batchCalls.next(),
          },
        ),
      ),
    ),
    sampleUntil(context.stack.sandbox, ids, before, startedAt, {
      stopWhen: () => false,
      deadline: feedEnd,
    }),
  ]);

  const stoppedAtMs = performance.now() - startedAt;
  const acknowledged = loads.reduce((sum, load) => sum + load.acknowledgedEvents, 0);
  const atStop = during[during.length - 1]?.count ?? 0;
  log('bench', `sustained feed stopped with ${acknowledged - atStop} operations not yet delivered`);

  const after = await sampleUntil(context.stack.sandbox, ids, before, startedAt, {
    stopWhen: (sample) => sample.count >= acknowledged,
    deadline: performance.now() + context.timeoutMs,
  });
  const last = after[after.length - 1] ?? during[during.length - 1];
  const delivered = last?.count ?? 0;
  const drained = delivered >= acknowledged;

  const seconds = options.durationMs / 1000;
  return {
    workspaces: ids,
    targetEventsPerSecond: options.eventsPerSecond,
    operationsPerCall: round(operationsPerCall, 1),
    seconds,
    offeredEventsPerSecond: round(acknowledged / seconds, 1),
    droppedCalls: loads.reduce((sum, load) => sum + load.dropped, 0),
    errors: loads.reduce((sum, load) => sum + load.errors, 0),
    deliveredEventsPerSecond: round(deliveryRate(during), 1),
    backlogAtStop: acknowledged - atStop,
    drainSeconds:
      drained && last !== undefined ? round((last.atMs - stoppedAtMs) / 1000, 1) : undefined,
    acknowledgedEvents: acknowledged,
    deliveredEvents: delivered,
    drained,
    timeline: perSecondCounts([...during, ...after]),
  };
}

/** Rate from the first sample with a delivery to the last sample of the feed. */
export function deliveryRate(samples: readonly DeliverySample[]): number {
  const first = samples.find((sample) => sample.count > 0);
  const last = samples[samples.length - 1];
  if (first === undefined || last === undefined || last.atMs <= first.atMs) {
    return 0;
  }
  return ((last.count - first.count) * 1000) / (last.atMs - first.atMs);
}
