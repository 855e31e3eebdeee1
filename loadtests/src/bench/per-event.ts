import Bottleneck from 'bottleneck';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { SandboxClient, StackWorkspace } from '@cio-pipeline/stack';
import { log } from '../common/log';
import { perSecondCounts, round, steadyRate, type CountSample } from '../common/stats';
import type { TrafficGenerator } from '../workload/generator';

/** The per-event baseline: one Track API call per event, straight to Customer.io. */
export interface PerEventMeasurement {
  workspace: string;
  limit: number;
  calls: number;
  deliveredEvents: number;
  /** Delivered events per second in the steady part, measured like the pipeline's. */
  deliveredEventsPerSecond: number;
  statuses: Record<string, number>;
  throttled: number;
  timeline: { second: number; events: number }[];
}

export interface PerEventOptions {
  sandbox: SandboxClient;
  workspace: StackWorkspace;
  authorization: string;
  generator: TrafficGenerator;
  /** Calls per second; the Bottleneck limiter spaces call starts 1000 / limit ms apart. */
  limit: number;
  durationMs: number;
}

const POLL_INTERVAL_MS = 50;
/** Extra time for the last responses to arrive before the run stops waiting for them. */
const GRACE_MS = 30_000;

/**
 * Sends `limit x duration` track calls (`POST /api/v1/customers/:id/events`)
 * to the sandbox through a Bottleneck limiter with `minTime: 1000 / limit`, as
 * an application that calls Customer.io once per event would, and measures
 * delivered events per second from the sandbox's count.
 */
export async function measurePerEvent(options: PerEventOptions): Promise<PerEventMeasurement> {
  const { sandbox, workspace } = options;
  const pool = new Pool(sandbox.baseUrl, { connections: 8 });
  const limiter = new Bottleneck({ minTime: 1000 / options.limit, maxConcurrent: null });
  const calls = Math.ceil((options.limit * options.durationMs) / 1000);
  const statuses: Record<string, number> = {};
  const before = await accepted(sandbox, workspace.siteId);
  const startedAt = performance.now();
  log('bench', `per-event baseline: ${calls} track calls at ${options.limit} per second`);

  const send = async () => {
    const call = options.generator.trackCall();
    let status = 0;
    try {
      const response = await pool.request({
        method: call.method,
        path: call.path,
        body: call.body,
        headers: { authorization: options.authorization, 'content-type': 'application/json' },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      status = response.statusCode;
      await response.body.dump();
    } catch (error) {
      log('bench', `per-event call failed: ${(error as Error).message}`);
    }
    statuses[status] = (statuses[status] ?? 0) + 1;
  };
  const jobs = Array.from({ length: calls }, () => limiter.schedule(send));
  const deadline = startedAt + options.durationMs + GRACE_MS;
  const samples: CountSample[] = [];
  while (performance.now() < deadline) {
    const count = (await accepted(sandbox, workspace.siteId)) - before;
    samples.push({ atMs: performance.now() - startedAt, count });
    const completed = sumCounts(statuses, () => true);
    if (completed === calls && count >= sumCounts(statuses, (status) => status.startsWith('2'))) {
      break;
    }
    await sleep(POLL_INTERVAL_MS);
  }
  await limiter.stop({ dropWaitingJobs: true });
  await Promise.allSettled(jobs);
  await pool.close();

  const delivered = samples[samples.length - 1]?.count ?? 0;
  const steady = steadyRate(samples, delivered);
  return {
    workspace: workspace.siteId,
    limit: options.limit,
    calls,
    deliveredEvents: delivered,
    deliveredEventsPerSecond: round(steady?.perSecond ?? 0, 2),
    statuses,
    throttled: statuses['429'] ?? 0,
    timeline: perSecondCounts(samples),
  };
}

async function accepted(sandbox: SandboxClient, id: string): Promise<number> {
  const stats = await sandbox.stats();
  return stats.workspaces[id]?.operationsAccepted ?? 0;
}

function sumCounts(statuses: Record<string, number>, include: (status: string) => boolean): number {
  let total = 0;
  for (const [status, count] of Object.entries(statuses)) {
    if (include(status)) {
      total += count;
    }
  }
  return total;
}
