import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { SandboxClient, Stack, StackWorkspace } from '@cio-pipeline/stack';
import { formatNumber, log } from '../common/log';
import { round } from '../common/stats';
import type { TrafficGenerator, V2Operation } from '../workload/generator';
import {
  EVENT_ID_ATTRIBUTE,
  histogramWindow,
  latencyCurve,
  pairLatencies,
  parseHistogram,
  SENT_AT_ATTRIBUTE,
  summarizeAgainstTarget,
  type AcknowledgedOperation,
  type HistogramBuckets,
  type HistogramWindow,
  type TargetedLatency,
} from './latency-stats';

/** Delivery latency at a fixed offered rate, from the gateway's acceptance to the sandbox. */
export interface LatencyMeasurement {
  workspace: string;
  /** Requests per second of the workspace, at the sender and at the sandbox. */
  limit: number;
  /** The batcher's BATCHER_LINGER_MS during the run. */
  lingerMs: number;
  /** lingerMs + 200. */
  targetMs: number;
  offeredEventsPerSecond: number;
  /** Operations in each v2 batch call; one call starts every intervalMs. */
  eventsPerCall: number;
  intervalMs: number;
  warmupSeconds: number;
  /** Seconds of measured calls after the warm-up. */
  seconds: number;
  /** Measured calls by HTTP status; `0` counts network errors. */
  statuses: Record<string, number>;
  /** Measured calls not started because MAX_IN_FLIGHT calls were waiting. */
  dropped: number;
  /** Operations of the measured calls that got a 200 response from the gateway. */
  acknowledgedEvents: number;
  /** Acknowledged operations found in the sandbox and paired by id. */
  pairedEvents: number;
  missingEvents: number;
  /** Operations the sandbox stored more than once for one id. */
  repeatedEvents: number;
  /** Sandbox `receivedAt` minus the client's time of the gateway's 200, per operation, in ms. */
  fromAcceptance: TargetedLatency;
  /** fromAcceptance at each percent, for the chart. */
  fromAcceptanceCurve: { percent: number; ms: number }[];
  /** Sandbox `receivedAt` minus the client's send time, per operation, in ms. */
  fromSend: TargetedLatency;
  /** Gateway response time of the measured calls, in ms, per operation. */
  gatewayResponse: TargetedLatency;
  /**
   * The sender's cio_delivery_latency_seconds over the measured window, one
   * observation per request from its oldest operation; null when the scrape failed.
   */
  senderHistogram: HistogramWindow | null;
}

export interface LatencyOptions {
  stack: Stack;
  workspace: StackWorkspace;
  authorization: string;
  generator: TrafficGenerator;
  eventsPerSecond: number;
  intervalMs: number;
  warmupMs: number;
  durationMs: number;
  lingerMs: number;
  /** Maximum wait for the sandbox to store every acknowledged operation. */
  timeoutMs: number;
  /** Largest `/api/v2/batch` body the gateway takes, in bytes. */
  maxBatchBytes: number;
}

/** The gap between the batcher's linger and the target, in ms. */
export const TARGET_MARGIN_MS = 200;
const MAX_IN_FLIGHT = 64;
const REQUEST_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const HISTOGRAM_NAME = 'cio_delivery_latency_seconds';

/**
 * Sends one v2 batch call of `eventsPerSecond x intervalMs / 1000` operations
 * every `intervalMs` (an open loop, so the offered rate does not follow the
 * response times). Each measured operation carries its id and the send time
 * as attributes. After the sandbox has stored every acknowledged operation,
 * pairs them by id and measures sandbox `receivedAt` minus the time of the
 * gateway's 200, both read from this machine's clock.
 */
export async function measureDeliveryLatency(options: LatencyOptions): Promise<LatencyMeasurement> {
  const { stack, workspace } = options;
  const eventsPerCall = Math.max(
    1,
    Math.round((options.eventsPerSecond * options.intervalMs) / 1000),
  );
  const warmupCalls = Math.ceil(options.warmupMs / options.intervalMs);
  const measuredCalls = Math.ceil(options.durationMs / options.intervalMs);
  const targetMs = options.lingerMs + TARGET_MARGIN_MS;
  const senderMetricsUrl = metricsUrl(stack);
  const acknowledged = new Map<string, AcknowledgedOperation>();
  const statuses: Record<string, number> = {};
  const before = await storedCount(stack.sandbox, workspace.siteId);
  let acknowledgedAll = 0;
  let dropped = 0;
  let histogramBefore: HistogramBuckets | undefined;

  log(
    'bench',
    `latency: ${eventsPerCall} operations every ${options.intervalMs} ms to ${workspace.siteId} (${formatNumber((eventsPerCall * 1000) / options.intervalMs)} events/s), ${warmupCalls} warm-up calls, ${measuredCalls} measured`,
  );
  const pool = new Pool(stack.gatewayUrl, { connections: MAX_IN_FLIGHT, pipelining: 1 });
  const inFlight = new Set<Promise<void>>();
  const startedAt = performance.now();
  try {
    for (let index = 0; index < warmupCalls + measuredCalls; index++) {
      const wait = startedAt + index * options.intervalMs - performance.now();
      if (wait > 0) {
        await sleep(wait);
      }
      const measured = index >= warmupCalls;
      if (index === warmupCalls) {
        histogramBefore = await scrapeHistogram(senderMetricsUrl);
      }
      if (inFlight.size >= MAX_IN_FLIGHT) {
        dropped += measured ? 1 : 0;
        continue;
      }
      const call = buildCall(options, eventsPerCall, measured ? `${index}-` : undefined);
      const sending: Promise<void> = send(pool, options.authorization, call.body)
        .then((status) => {
          const acknowledgedAt = Date.now();
          acknowledgedAll += status === 200 ? eventsPerCall : 0;
          if (!measured) {
            return;
          }
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200) {
            for (const id of call.ids) {
              acknowledged.set(id, { sentAt: call.sentAt, acknowledgedAt });
            }
          }
        })
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }

  log('bench', `latency: waiting for the sandbox to store ${acknowledgedAll} operations`);
  const stored = await waitForStored(
    stack.sandbox,
    workspace.siteId,
    before + acknowledgedAll,
    options.timeoutMs,
  );
  const histogramAfter = await scrapeHistogram(senderMetricsUrl);
  const operations = await stack.sandbox.operations(workspace.siteId);
  const paired = pairLatencies(
    acknowledged,
    operations.map((entry) => ({
      receivedAt: entry.receivedAt,
      ...(entry.operation.attributes === undefined
        ? {}
        : { attributes: entry.operation.attributes }),
    })),
  );
  if (stored < before + acknowledgedAll) {
    log(
      'bench',
      `latency: the sandbox stored ${stored - before} of ${acknowledgedAll} operations before the timeout`,
    );
  }
  if (paired.unknown > 0) {
    log(
      'bench',
      `latency: warning: ${paired.unknown} stored operations carry an id that was not acknowledged`,
    );
  }
  const gatewayResponse = [...acknowledged.values()].map(
    (entry) => entry.acknowledgedAt - entry.sentAt,
  );
  return {
    workspace: workspace.siteId,
    limit: workspace.rateLimit,
    lingerMs: options.lingerMs,
    targetMs,
    offeredEventsPerSecond: round((eventsPerCall * 1000) / options.intervalMs, 1),
    eventsPerCall,
    intervalMs: options.intervalMs,
    warmupSeconds: round(options.warmupMs / 1000, 1),
    seconds: round(options.durationMs / 1000, 1),
    statuses,
    dropped,
    acknowledgedEvents: acknowledged.size,
    pairedEvents: paired.fromAcceptanceMs.length,
    missingEvents: paired.missing,
    repeatedEvents: paired.repeated,
    fromAcceptance: summarizeAgainstTarget(paired.fromAcceptanceMs, targetMs),
    fromAcceptanceCurve: latencyCurve(paired.fromAcceptanceMs),
    fromSend: summarizeAgainstTarget(paired.fromSendMs, targetMs),
    gatewayResponse: summarizeAgainstTarget(gatewayResponse, targetMs),
    senderHistogram:
      histogramBefore === undefined || histogramAfter === undefined
        ? null
        : histogramWindow(histogramBefore, histogramAfter, targetMs / 1000),
  };
}

interface LatencyCall {
  body: string;
  /** Ids of the call's operations; empty for a warm-up call. */
  ids: string[];
  sentAt: number;
}

/** Builds one batch body; `idPrefix` undefined marks a warm-up call, whose operations carry no id. */
function buildCall(
  options: LatencyOptions,
  count: number,
  idPrefix: string | undefined,
): LatencyCall {
  const sentAt = Date.now();
  const ids: string[] = [];
  const operations: V2Operation[] = [];
  for (let i = 0; i < count; i++) {
    const operation = options.generator.batchOperation();
    operation.attributes[SENT_AT_ATTRIBUTE] = String(sentAt);
    if (idPrefix !== undefined) {
      const id = `${idPrefix}${i}`;
      operation.attributes[EVENT_ID_ATTRIBUTE] = id;
      ids.push(id);
    }
    operations.push(operation);
  }
  const body = JSON.stringify({ batch: operations });
  const bytes = Buffer.byteLength(body);
  if (bytes > options.maxBatchBytes) {
    throw new Error(
      `a latency batch of ${count} operations is ${bytes} bytes, over the ${options.maxBatchBytes}-byte limit: lower BENCH_LATENCY_INTERVAL_MS`,
    );
  }
  return { body, ids, sentAt };
}

async function send(pool: Pool, authorization: string, body: string): Promise<number> {
  try {
    const response = await pool.request({
      method: 'POST',
      path: '/api/v2/batch',
      body,
      headers: { authorization, 'content-type': 'application/json' },
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
    });
    await response.body.dump();
    return response.statusCode;
  } catch (error) {
    log('bench', `latency: batch call failed: ${(error as Error).message}`);
    return 0;
  }
}

async function storedCount(sandbox: SandboxClient, siteId: string): Promise<number> {
  const stats = await sandbox.stats();
  const workspace = stats.workspaces[siteId];
  if (workspace === undefined) {
    throw new Error(`workspace ${siteId} is not configured in the sandbox`);
  }
  return workspace.operationsAccepted;
}

/** Polls the sandbox until it accepted `target` operations or the timeout; returns the last count. */
async function waitForStored(
  sandbox: SandboxClient,
  siteId: string,
  target: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let count = await storedCount(sandbox, siteId);
  while (count < target && performance.now() < deadline) {
    await sleep(POLL_INTERVAL_MS);
    count = await storedCount(sandbox, siteId);
  }
  return count;
}

function metricsUrl(stack: Stack): string | undefined {
  const port = stack.byRole('sender')[0]?.spec.env['SENDER_PORT'];
  return port === undefined ? undefined : `http://127.0.0.1:${port}/metrics`;
}

/** Reads the sender's delivery latency histogram; undefined, after a log line, when that fails. */
async function scrapeHistogram(url: string | undefined): Promise<HistogramBuckets | undefined> {
  if (url === undefined) {
    return undefined;
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const buckets = parseHistogram(await response.text(), HISTOGRAM_NAME);
    return buckets.size === 0 ? undefined : buckets;
  } catch (error) {
    log('bench', `latency: reading ${url} failed: ${(error as Error).message}`);
    return undefined;
  }
}
