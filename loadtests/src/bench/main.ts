import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TRACK_LIMITS } from '@cio-pipeline/schemas';
import {
  ServiceProcess,
  freePort,
  httpStatus,
  waitUntil,
  type StackWorkspace,
} from '@cio-pipeline/stack';
import { runClosedLoop, type LoadProgress, type LoadResult } from '../common/load';
import { formatNumber, log } from '../common/log';
import { loadProfile, ROOT_DIR } from '../common/repository';
import {
  basicAuthorization,
  deleteNamespaces,
  exitWhenStopped,
  kafkaBrokers,
  startLoadStack,
} from '../common/stack';
import { round } from '../common/stats';
import { CallPool, encodeCall } from '../common/call-pool';
import { TrafficGenerator } from '../workload/generator';
import type { Profile } from '../workload/profile';
import { fitOfProfile } from './capacity';
import {
  measureBacklogDrain,
  measureContinuousFeed,
  type DeliveryContext,
  type DeliveryMeasurement,
} from './end-to-end';
import { measureDeliveryLatency, type LatencyMeasurement } from './latency';
import { measurePerEvent } from './per-event';
import { runProducerBaseline } from './producer-baseline';
import { measureSustained } from './sustained';
import { formatOptional, formatTable, renderBenchChart, type BenchReport } from './report';
import { BENCH_HELP, readBenchSettings, type BenchSettings } from './settings';

/**
 * Runs the benchmark: gateway ingest next to a do-nothing Fastify server and a
 * bare kafkajs producer, then delivery into the sandbox at a binding rate
 * limit next to one Track API call per event. Then it measures delivery
 * latency at a fixed offered rate. Writes reports/bench.json and reports/bench.svg, or
 * reports/bench-latency.json and .svg with BENCH_ONLY=latency, so that a
 * latency-only run keeps the last full report.
 */
async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    printHelp();
    return 0;
  }
  const settings = readBenchSettings(process.env);
  const { profile, file } = loadProfile(settings.profile);
  const brokers = kafkaBrokers();
  const startedAt = new Date();
  const loadAverageAtStart = loadavg();
  const runId = startedAt.getTime();
  const prefixes = [
    `bench-${runId}-ingest-`,
    `bench-${runId}-delivery-`,
    `bench-${runId}-latency-`,
  ];
  log('bench', `profile ${profile.name} (${file}), Kafka at ${brokers.join(',')}`);

  const fit = fitOfProfile(profile, 20_000, settings.seed);
  log('bench', `${round(fit, 1)} operations of the event mix fit in one batch body`);

  try {
    const everything = settings.only === 'all';
    const ingest = everything
      ? await measureIngest(settings, profile, brokers, prefixes[0] ?? '')
      : undefined;
    const endToEnd = everything
      ? await measureEndToEnd(settings, profile, fit, prefixes[1] ?? '')
      : undefined;
    const latency = await measureLatency(settings, profile, prefixes[2] ?? '');
    const report: BenchReport = {
      startedAt: startedAt.toISOString(),
      elapsedSeconds: round((Date.now() - runId) / 1000, 1),
      profile: { name: profile.name, file },
      settings,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        loadAverageAtStart: loadAverageAtStart.map((value) => round(value, 2)),
        loadAverageAtEnd: loadavg().map((value) => round(value, 2)),
      },
      ...(ingest === undefined ? {} : { ingest }),
      ...(endToEnd === undefined ? {} : { endToEnd }),
      latency,
      problems: findProblems(ingest, endToEnd, latency),
    };
    writeReports(report, everything ? 'bench' : 'bench-latency');
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    await deleteNamespaces(brokers, prefixes);
  }
}

async function measureIngest(
  settings: BenchSettings,
  profile: Profile,
  brokers: string[],
  namespace: string,
): Promise<BenchReport['ingest']> {
  const workspace: StackWorkspace = {
    siteId: 'bench-ingest',
    apiKey: 'key-bench-ingest',
    region: 'us',
    rateLimit: 100,
    sandboxRateLimit: 0,
  };
  log('bench', `starting the stack under ${namespace}* for the ingest runs`);
  const stack = await startLoadStack(namespace, [workspace]);
  const loop = (label: string, concurrency: number) => ({
    label,
    concurrency,
    warmupMs: settings.warmupSeconds * 1000,
    durationMs: settings.ingestSeconds * 1000,
    onProgress: printProgress,
  });
  const headers = { authorization: basicAuthorization(workspace) };
  // The same seed gives the gateway and the Fastify server the same calls.
  const singleCalls = () => {
    const generator = new TrafficGenerator(profile, generatorOptions(settings.seed));
    return new CallPool(settings.singleCallPoolSize, () => encodeCall(generator.singleCall()));
  };
  try {
    // Only the gateway is measured here, like the bare producer it is compared with.
    for (const service of [...stack.byRole('batcher'), ...stack.byRole('sender')]) {
      await service.stop();
    }
    const single = singleCalls();
    const gatewaySingle = await runClosedLoop(
      loop('gateway single calls', settings.singleConcurrency),
      { origin: stack.gatewayUrl, headers, next: () => single.next() },
    );
    report(gatewaySingle);
    const batch = batchCallPool(profile, settings, settings.seed + 1);
    const gatewayBatch = await runClosedLoop(
      loop('gateway v2 batch calls', settings.batchConcurrency),
      { origin: stack.gatewayUrl, headers, next: () => batch.next() },
    );
    report(gatewayBatch);
    // The baselines run without the gateway taking CPU time.
    await stack.stop();

    const noop = singleCalls();
    const fastifyNoop = await withNoopServer(namespace, (origin) =>
      runClosedLoop(loop('do-nothing Fastify', settings.singleConcurrency), {
        origin,
        headers,
        next: () => noop.next(),
      }),
    );
    report(fastifyNoop);
    const producerGenerator = new TrafficGenerator(profile, generatorOptions(settings.seed + 1));
    const producerCalls = new CallPool(settings.callPoolSize, () =>
      producerGenerator.batchOperations(),
    );
    const kafkaProducer = await runProducerBaseline({
      ...loop('bare kafkajs producer', settings.batchConcurrency),
      brokers,
      topic: `${namespace}producer-baseline`,
      partitions: 12,
      workspace: workspace.siteId,
      nextOperations: () => producerCalls.next(),
    });
    report(kafkaProducer);
    return {
      gatewaySingle,
      gatewayBatch,
      fastifyNoop,
      kafkaProducer,
      singleVsFastify: ratio(gatewaySingle.requestsPerSecond, fastifyNoop.requestsPerSecond),
      batchVsProducer: ratio(gatewayBatch.eventsPerSecond, kafkaProducer.eventsPerSecond),
    };
  } finally {
    await stack.stop();
  }
}

async function measureEndToEnd(
  settings: BenchSettings,
  profile: Profile,
  fit: number,
  namespace: string,
): Promise<BenchReport['endToEnd']> {
  const workspace = (siteId: string, limit: number): StackWorkspace => ({
    siteId,
    apiKey: `key-${siteId}`,
    region: 'us',
    rateLimit: limit,
    sandboxRateLimit: limit,
  });
  const widest = Math.max(...settings.workspaceCounts, settings.sustainedWorkspaces);
  const bound = Array.from({ length: widest }, (_, index) =>
    workspace(`bench-bound-${index + 1}`, settings.bindingLimit),
  );
  const fast = Array.from({ length: widest }, (_, index) =>
    workspace(`bench-fast-${index + 1}`, settings.fastLimit),
  );
  const direct = workspace('bench-per-event', settings.bindingLimit);
  log('bench', `starting the stack under ${namespace}* for the end-to-end runs`);
  const stack = await startLoadStack(namespace, [...bound, ...fast, direct]);
  try {
    const context: DeliveryContext = {
      stack,
      authorization: basicAuthorization,
      batchCalls: batchCallPool(profile, settings, settings.seed + 2),
      operationsPerFullBatch: fit,
      feedConcurrency: settings.batchConcurrency,
      timeoutMs: settings.timeoutSeconds * 1000,
      onProgress: printProgress,
    };
    const backlog = Math.ceil(settings.backlogSeconds * settings.bindingLimit * fit);
    const binding: DeliveryMeasurement[] = [];
    for (const count of settings.workspaceCounts) {
      const measurement = await measureBacklogDrain(context, bound.slice(0, count), backlog);
      log(
        'bench',
        `${count} workspace(s) at ${settings.bindingLimit}/s: ${formatNumber(measurement.deliveredEventsPerSecond)} events/s delivered, ${formatNumber(measurement.shareOfCap)} of the cap, ${formatOptional(measurement.shareOfCapAfterWarmUp)} after warm-up, ${measurement.throttled} 429s`,
      );
      binding.push(measurement);
    }
    const continuous: DeliveryMeasurement[] = [];
    for (const count of settings.workspaceCounts) {
      log(
        'bench',
        `feeding ${count} workspace(s) at ${settings.fastLimit}/s for ${settings.feedSeconds} s`,
      );
      const measurement = await measureContinuousFeed(
        context,
        fast.slice(0, count),
        settings.feedSeconds * 1000,
      );
      log(
        'bench',
        `${count} workspace(s) at ${settings.fastLimit}/s: fill ${measurement.fillRatio}, rate use ${measurement.rateUse}, ${measurement.throttled} responses were 429`,
      );
      continuous.push(measurement);
    }
    log(
      'bench',
      `offering ${formatNumber(settings.sustainedEventsPerSecond)} events/s to ${settings.sustainedWorkspaces} workspace(s) for ${settings.sustainedSeconds} s`,
    );
    const sustained = await measureSustained(context, fast.slice(0, settings.sustainedWorkspaces), {
      eventsPerSecond: settings.sustainedEventsPerSecond,
      durationMs: settings.sustainedSeconds * 1000,
      maxInFlight: settings.sustainedMaxInFlight,
    });
    log(
      'bench',
      `sustained: ${formatNumber(sustained.offeredEventsPerSecond)} events/s acknowledged, ${formatNumber(sustained.deliveredEventsPerSecond)} delivered, ${sustained.droppedCalls} calls dropped`,
    );
    const perEvent = await measurePerEvent({
      sandbox: stack.sandbox,
      workspace: direct,
      authorization: basicAuthorization(direct),
      generator: new TrafficGenerator(profile, generatorOptions(settings.seed + 3)),
      limit: settings.bindingLimit,
      durationMs: settings.perEventSeconds * 1000,
    });
    log('bench', `per-event baseline: ${perEvent.deliveredEventsPerSecond} events/s delivered`);
    return {
      operationsPerFullBatch: round(fit, 1),
      maxBatchBytes: DEFAULT_TRACK_LIMITS.maxBatchBytes,
      binding,
      continuous,
      sustained,
      perEvent,
      pipelineVsPerEvent: ratio(
        binding.find((measurement) => measurement.workspaces.length === 1)
          ?.deliveredEventsPerSecond ?? 0,
        perEvent.deliveredEventsPerSecond,
      ),
    };
  } finally {
    await stack.stop();
  }
}

/** Measures delivery latency on a stack of its own whose sandbox keeps the operations. */
async function measureLatency(
  settings: BenchSettings,
  profile: Profile,
  namespace: string,
): Promise<LatencyMeasurement> {
  const workspace: StackWorkspace = {
    siteId: 'bench-latency',
    apiKey: 'key-bench-latency',
    region: 'us',
    rateLimit: LATENCY_LIMIT,
    sandboxRateLimit: LATENCY_LIMIT,
  };
  const seconds = settings.warmupSeconds + settings.latencySeconds;
  // Room for every operation sent, with a margin for a rate rounded up.
  const retained = Math.ceil(seconds * settings.latencyEventsPerSecond * 1.2) + 10_000;
  log('bench', `starting the stack under ${namespace}* for the latency run`);
  const stack = await startLoadStack(namespace, [workspace], retained);
  try {
    const measurement = await measureDeliveryLatency({
      stack,
      workspace,
      authorization: basicAuthorization(workspace),
      generator: new TrafficGenerator(profile, generatorOptions(settings.seed + 4)),
      eventsPerSecond: settings.latencyEventsPerSecond,
      intervalMs: settings.latencyIntervalMs,
      warmupMs: settings.warmupSeconds * 1000,
      durationMs: settings.latencySeconds * 1000,
      lingerMs: settings.lingerMs,
      timeoutMs: settings.timeoutSeconds * 1000,
      maxBatchBytes: DEFAULT_TRACK_LIMITS.maxBatchBytes,
    });
    const { fromAcceptance } = measurement;
    log(
      'bench',
      `latency at ${formatNumber(measurement.offeredEventsPerSecond)} events/s: p50 ${fromAcceptance.p50} ms, p99 ${fromAcceptance.p99} ms, max ${fromAcceptance.max} ms, ${fromAcceptance.overTarget} over ${measurement.targetMs} ms`,
    );
    return measurement;
  } finally {
    await stack.stop();
  }
}

/** Runs `measure` against the do-nothing Fastify server in a child process of its own. */
async function withNoopServer(
  namespace: string,
  measure: (origin: string) => Promise<LoadResult>,
): Promise<LoadResult> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = new ServiceProcess({
    name: 'noop-fastify',
    script: join(__dirname, 'noop-server.js'),
    cwd: ROOT_DIR,
    logFile: join(ROOT_DIR, 'tmp', 'logs', namespace.replace(/\W+$/, ''), 'noop-fastify.log'),
    env: { PORT: String(port) },
  });
  server.start();
  try {
    await waitUntil(
      `the do-nothing Fastify server at ${origin}`,
      async () => (await httpStatus(`${origin}/ready`)) === 200,
      15_000,
    );
    return await measure(origin);
  } finally {
    await server.stop();
  }
}

/** Requests per second per workspace at the sender and the sandbox in the latency run. */
const LATENCY_LIMIT = 100;

function generatorOptions(seed: number) {
  return { seed, maxBatchBytes: DEFAULT_TRACK_LIMITS.maxBatchBytes };
}

function batchCallPool(profile: Profile, settings: BenchSettings, seed: number) {
  const generator = new TrafficGenerator(profile, generatorOptions(seed));
  return new CallPool(settings.callPoolSize, () => encodeCall(generator.batchCall()));
}

function findProblems(
  ingest: BenchReport['ingest'],
  endToEnd: BenchReport['endToEnd'],
  latency: LatencyMeasurement,
): string[] {
  const problems: string[] = [];
  if (latency.acknowledgedEvents === 0) {
    problems.push(
      `latency: the gateway acknowledged no measured call (statuses ${JSON.stringify(latency.statuses)})`,
    );
  }
  if (latency.missingEvents > 0) {
    problems.push(
      `latency: the sandbox did not store ${latency.missingEvents} of ${latency.acknowledgedEvents} acknowledged operations before the timeout`,
    );
  }
  if (ingest === undefined || endToEnd === undefined) {
    return problems;
  }
  for (const result of [
    ingest.gatewaySingle,
    ingest.gatewayBatch,
    ingest.fastifyNoop,
    ingest.kafkaProducer,
  ]) {
    if (result.requests === 0) {
      problems.push(
        `${result.label}: no successful call in the measured window (statuses ${JSON.stringify(result.statuses)}, errors ${JSON.stringify(result.errorMessages)})`,
      );
    }
  }
  for (const measurement of [...endToEnd.binding, ...endToEnd.continuous, endToEnd.sustained]) {
    if (!measurement.drained) {
      problems.push(
        `${measurement.workspaces.join(', ')}: the sandbox accepted ${measurement.deliveredEvents} of ${measurement.acknowledgedEvents} acknowledged operations before the timeout`,
      );
    }
  }
  if (endToEnd.perEvent.deliveredEvents === 0) {
    problems.push(
      `per-event baseline: the sandbox accepted no call (statuses ${JSON.stringify(endToEnd.perEvent.statuses)})`,
    );
  }
  return problems;
}

function writeReports(report: BenchReport, name: string): void {
  const folder = join(ROOT_DIR, 'reports');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(folder, `${name}.svg`), renderBenchChart(report));
  process.stdout.write(formatTable(report));
  process.stdout.write(`written to reports/${name}.json and reports/${name}.svg\n`);
}

function report(result: LoadResult): void {
  log(
    'bench',
    `${result.label}: ${formatNumber(result.eventsPerSecond)} events/s, ${formatNumber(result.requestsPerSecond)} requests/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${result.errors} errors`,
  );
}

function printProgress(progress: LoadProgress): void {
  log(
    'bench',
    `${progress.label}: ${progress.elapsedSeconds.toFixed(0)} s, ${progress.requests} calls, ${progress.events} operations acknowledged, ${progress.errors} errors`,
  );
}

function ratio(value: number, baseline: number): number {
  return baseline === 0 ? 0 : round(value / baseline, 3);
}

function printHelp(): void {
  const lines = [
    'Usage: npx nx run loadtests:bench',
    '',
    'Starts the pipeline three times on 127.0.0.1 against KAFKA_BROKERS and measures gateway',
    'ingest, delivery into the sandbox and delivery latency. Settings (environment variables):',
    ...BENCH_HELP.map(([name, meaning]) => `  ${name.padEnd(26)} ${meaning}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  (code) => {
    exitWhenStopped(code);
  },
  (error: unknown) => {
    console.error(`bench failed: ${(error as Error).stack ?? String(error)}`);
    exitWhenStopped(1);
  },
);
