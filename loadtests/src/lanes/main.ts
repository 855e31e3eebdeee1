import { DEFAULT_TRACK_LIMITS } from '@cio-pipeline/schemas';
import type { Stack, StackWorkspace } from '@cio-pipeline/stack';
import { runOpenLoop } from '../common/load';
import { formatNumber, log } from '../common/log';
import { loadProfile } from '../common/repository';
import {
  basicAuthorization,
  deleteNamespaces,
  exitWhenStopped,
  kafkaBrokers,
  startLoadStack,
} from '../common/stack';
import { TrafficGenerator } from '../workload/generator';

/**
 * Measures delivery when Customer.io responds slowly. The sender never has two
 * batches about the same person in flight, so one batcher lane delivers at
 * most one batch per response time. The run feeds one workspace the same
 * open-loop batch calls twice, once with one lane (BATCHER_MAX_LANES=1, the
 * default) and once with LANES_MAX_LANES, while the sandbox responds to every
 * call after LANES_LATENCY_MS, and prints the delivered rate of each.
 */

interface LanesSettings {
  eventsPerSecond: number;
  seconds: number;
  latencyMs: number;
  timeoutSeconds: number;
  maxLanes: number;
}

interface LanesResult {
  label: string;
  offeredPerSecond: number;
  /** Delivered operations per second from 5 s into the feed to its end. */
  deliveredPerSecond: number;
  /** Acknowledged operations not yet delivered when the feed stopped. */
  backlogAtStop: number;
  /** Seconds from the end of the feed until the sandbox had every operation, or undefined on timeout. */
  drainSeconds: number | undefined;
}

const WORKSPACE: StackWorkspace = {
  siteId: 'lanes',
  apiKey: 'key-lanes',
  region: 'us',
  rateLimit: 100,
  sandboxRateLimit: 100,
};
const SAMPLE_MS = 500;
const SKIP_SECONDS = 5;

function readSettings(env: NodeJS.ProcessEnv): LanesSettings {
  const read = (name: string, fallback: number, min: number): number => {
    const text = env[name]?.trim() ?? '';
    const value = text === '' ? fallback : Number(text);
    if (!Number.isFinite(value) || value < min) {
      throw new Error(
        `invalid settings: ${name} must be a number of at least ${min}, got "${text}"`,
      );
    }
    return value;
  };
  return {
    eventsPerSecond: read('LANES_EVENTS_PER_SECOND', 20_000, 1),
    seconds: read('LANES_SECONDS', 20, SKIP_SECONDS + 1),
    latencyMs: read('LANES_LATENCY_MS', 200, 0),
    timeoutSeconds: read('LANES_TIMEOUT_SECONDS', 180, 1),
    maxLanes: read('LANES_MAX_LANES', 8, 2),
  };
}

async function deliveredCount(stack: Stack): Promise<number> {
  const stats = await stack.sandbox.stats();
  return stats.workspaces[WORKSPACE.siteId]?.operationsAccepted ?? 0;
}

async function measure(
  label: string,
  namespace: string,
  batcherEnv: Record<string, string>,
  settings: LanesSettings,
): Promise<LanesResult> {
  log('lanes', `${label}: starting the stack under ${namespace}*`);
  const stack = await startLoadStack(namespace, [WORKSPACE], 0, { batcher: batcherEnv });
  try {
    await stack.sandbox.setFaults({ latencyMs: settings.latencyMs });
    const { profile } = loadProfile('default');
    const generator = new TrafficGenerator(profile, {
      seed: 11,
      maxBatchBytes: DEFAULT_TRACK_LIMITS.maxBatchBytes,
    });
    const sample = new TrafficGenerator(profile, {
      seed: 12,
      maxBatchBytes: DEFAULT_TRACK_LIMITS.maxBatchBytes,
    });
    const perCall = Array.from({ length: 100 }, () => sample.next('batch').operations);
    const operationsPerCall = perCall.reduce((sum, count) => sum + count, 0) / perCall.length;

    const startedAt = performance.now();
    const samples: { atMs: number; count: number }[] = [];
    const sampler = setInterval(() => {
      void deliveredCount(stack).then((count) => {
        samples.push({ atMs: performance.now() - startedAt, count });
      });
    }, SAMPLE_MS);
    const load = await runOpenLoop(
      {
        label,
        ratePerSecond: settings.eventsPerSecond / operationsPerCall,
        durationMs: settings.seconds * 1000,
        maxInFlight: 64,
      },
      {
        origin: stack.gatewayUrl,
        headers: { authorization: basicAuthorization(WORKSPACE) },
        next: () => generator.next('batch'),
      },
    );
    clearInterval(sampler);
    const stoppedAt = performance.now();
    const atStop = await deliveredCount(stack);
    const deadline = stoppedAt + settings.timeoutSeconds * 1000;
    let drainSeconds: number | undefined;
    while (performance.now() < deadline) {
      if ((await deliveredCount(stack)) >= load.acknowledgedEvents) {
        drainSeconds = (performance.now() - stoppedAt) / 1000;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const window = samples.filter((entry) => entry.atMs >= SKIP_SECONDS * 1000);
    const first = window[0];
    const last = window[window.length - 1];
    const deliveredPerSecond =
      first === undefined || last === undefined || last.atMs <= first.atMs
        ? 0
        : ((last.count - first.count) * 1000) / (last.atMs - first.atMs);
    return {
      label,
      offeredPerSecond: load.acknowledgedEvents / settings.seconds,
      deliveredPerSecond,
      backlogAtStop: load.acknowledgedEvents - atStop,
      drainSeconds,
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<number> {
  const settings = readSettings(process.env);
  const brokers = kafkaBrokers();
  const namespace = `lanes-${Date.now()}-`;
  log(
    'lanes',
    `${formatNumber(settings.eventsPerSecond)} events/s of batch calls for ${settings.seconds} s to one workspace; the sandbox responds after ${settings.latencyMs} ms`,
  );
  try {
    const results = [
      await measure('one lane', `${namespace}one-`, { BATCHER_MAX_LANES: '1' }, settings),
      await measure(
        `${settings.maxLanes} lanes`,
        `${namespace}lanes-`,
        { BATCHER_MAX_LANES: String(settings.maxLanes) },
        settings,
      ),
    ];
    process.stdout.write(
      '\n  run            offered ev/s  delivered ev/s  backlog at stop  drain s\n',
    );
    for (const result of results) {
      const drain = result.drainSeconds === undefined ? 'timeout' : result.drainSeconds.toFixed(1);
      process.stdout.write(
        `  ${result.label.padEnd(13)}  ${formatNumber(Math.round(result.offeredPerSecond)).padStart(12)}  ${formatNumber(Math.round(result.deliveredPerSecond)).padStart(14)}  ${formatNumber(result.backlogAtStop).padStart(15)}  ${drain.padStart(7)}\n`,
      );
    }
    const [one, lanes] = results;
    if (one !== undefined && lanes !== undefined && one.deliveredPerSecond > 0) {
      const ratio = lanes.deliveredPerSecond / one.deliveredPerSecond;
      process.stdout.write(
        `  delivered with ${settings.maxLanes} lanes / with one lane = ${ratio.toFixed(2)}\n`,
      );
    }
    return 0;
  } finally {
    await deleteNamespaces(brokers, [namespace]);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
    exitWhenStopped(1);
  },
);
