import { Kafka, logLevel } from 'kafkajs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_TRACK_LIMITS, Topics } from '@cio-pipeline/schemas';
import type { Stack, StackWorkspace } from '@cio-pipeline/stack';
import { renderChart } from '../common/chart';
import { runOpenLoop, type LoadResult } from '../common/load';
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
import { TrafficGenerator } from '../workload/generator';
import { consumerLag } from './lag';
import { judgeMemory, type MemorySample, type MemoryVerdict } from './memory-verdict';
import { residentBytes } from './memory';
import { readSoakSettings, SOAK_HELP, type SoakSettings } from './settings';

/** Services whose memory the soak judges. The sandboxes are sampled but not judged. */
const JUDGED = ['gateway', 'batcher', 'sender'];

interface DrainResult {
  drained: boolean;
  seconds: number;
  delivered: number;
  batcherLag: number;
  senderLag: number;
}

/**
 * Runs the soak: a moderate open-loop load of mixed traffic for SOAK_SECONDS
 * while each service's resident memory is sampled, then a check that the
 * sandbox receives everything and both consumer groups have no lag. Exits 1
 * when memory passes the limit or grows, or when anything is missing.
 */
async function main(): Promise<number> {
  if (process.argv.includes('--help')) {
    const lines = [
      'Usage: npx nx run loadtests:soak',
      '',
      'Settings (environment variables):',
      ...SOAK_HELP.map(([name, meaning]) => `  ${name.padEnd(28)} ${meaning}`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  }
  const settings = readSoakSettings(process.env);
  const { profile, file } = loadProfile(settings.profile);
  const brokers = kafkaBrokers();
  const startedAt = new Date();
  const namespace = `soak-${startedAt.getTime()}-`;
  const workspace: StackWorkspace = {
    siteId: 'soak',
    apiKey: 'key-soak',
    region: 'us',
    rateLimit: 100,
    sandboxRateLimit: 100,
  };
  log('soak', `profile ${profile.name} (${file}); starting the stack under ${namespace}*`);
  const stack = await startLoadStack(namespace, [workspace]);
  try {
    const memory = new MemorySampler(stack, settings.sampleSeconds);
    const generator = new TrafficGenerator(profile, {
      seed: settings.seed,
      maxBatchBytes: DEFAULT_TRACK_LIMITS.maxBatchBytes,
    });
    log('soak', `${settings.rate} mixed calls per second for ${settings.seconds} s`);
    const load = await runOpenLoop(
      {
        label: 'soak',
        ratePerSecond: settings.rate,
        durationMs: settings.seconds * 1000,
        maxInFlight: settings.maxInFlight,
        onProgress: (progress) => {
          log(
            'soak',
            `${progress.elapsedSeconds.toFixed(0)} s: ${progress.requests} calls, ${progress.events} operations acknowledged, ${progress.errors} errors; ${memory.latestText()}`,
          );
        },
      },
      {
        origin: stack.gatewayUrl,
        headers: { authorization: basicAuthorization(workspace) },
        next: () => generator.next('mixed'),
      },
    );
    log('soak', `load stopped; waiting for ${load.acknowledgedEvents} operations to arrive`);
    const drain = await waitForDrain(stack, brokers, namespace, workspace, load, settings);
    memory.stop();

    const verdicts = JUDGED.map((service) =>
      judgeMemory(service, memory.samplesOf(service), {
        maxRssMb: settings.maxRssMb,
        maxSlopeMbPerMinute: settings.maxSlopeMbPerMinute,
        warmupSeconds: settings.warmupSeconds,
        untilSecond: settings.seconds,
      }),
    );
    const problems = findProblems(load, drain, verdicts, settings);
    writeReports(startedAt, settings, profile.name, load, drain, verdicts, memory, problems);
    return problems.length === 0 ? 0 : 1;
  } finally {
    await stack.stop();
    await deleteNamespaces(brokers, [namespace]);
  }
}

/** Samples VmRSS of every service process every `intervalSeconds`. */
class MemorySampler {
  private readonly startedAt = performance.now();
  private readonly samples = new Map<string, MemorySample[]>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly stack: Stack,
    intervalSeconds: number,
  ) {
    this.sample();
    this.timer = setInterval(() => {
      this.sample();
    }, intervalSeconds * 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  services(): string[] {
    return [...this.samples.keys()];
  }

  samplesOf(service: string): MemorySample[] {
    return this.samples.get(service) ?? [];
  }

  latestText(): string {
    return this.services()
      .map(
        (service) =>
          `${service} ${formatNumber(this.samplesOf(service).at(-1)?.megabytes ?? 0)} MB`,
      )
      .join(', ');
  }

  private sample(): void {
    const second = (performance.now() - this.startedAt) / 1000;
    for (const service of this.stack.services) {
      const pid = service.pid;
      const bytes = pid === undefined ? undefined : residentBytes(pid);
      if (bytes === undefined) {
        continue;
      }
      const list = this.samples.get(service.spec.name) ?? [];
      list.push({ second: round(second, 1), megabytes: round(bytes / 1024 / 1024, 1) });
      this.samples.set(service.spec.name, list);
    }
  }
}

/** Waits until the sandbox stored every acknowledged operation and both groups have no lag. */
async function waitForDrain(
  stack: Stack,
  brokers: string[],
  namespace: string,
  workspace: StackWorkspace,
  load: LoadResult,
  settings: SoakSettings,
): Promise<DrainResult> {
  const kafka = new Kafka({ clientId: 'loadtests-soak', brokers, logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  const startedAt = performance.now();
  const deadline = startedAt + settings.drainTimeoutSeconds * 1000;
  let result: DrainResult = {
    drained: false,
    seconds: 0,
    delivered: 0,
    batcherLag: -1,
    senderLag: -1,
  };
  try {
    while (performance.now() < deadline) {
      const stats = await stack.sandbox.stats();
      const delivered = stats.workspaces[workspace.siteId]?.operationsAccepted ?? 0;
      const batcherLag = await consumerLag(
        admin,
        `${namespace}cio-batcher`,
        `${namespace}${Topics.operations}`,
      );
      const senderLag = await consumerLag(
        admin,
        `${namespace}cio-sender`,
        `${namespace}${Topics.batches}`,
      );
      const drained = delivered >= load.acknowledgedEvents && batcherLag === 0 && senderLag === 0;
      const seconds = round((performance.now() - startedAt) / 1000, 1);
      result = { drained, seconds, delivered, batcherLag, senderLag };
      if (drained) {
        break;
      }
      log(
        'soak',
        `delivered ${delivered}/${load.acknowledgedEvents}, lag batcher ${batcherLag}, sender ${senderLag}`,
      );
      await sleep(1000);
    }
  } finally {
    await admin.disconnect();
  }
  return result;
}

function findProblems(
  load: LoadResult,
  drain: DrainResult,
  verdicts: MemoryVerdict[],
  settings: SoakSettings,
): string[] {
  const problems: string[] = [];
  if (load.errors > 0) {
    problems.push(
      `${load.errors} calls failed (statuses ${JSON.stringify(load.statuses)}, errors ${JSON.stringify(load.errorMessages)})`,
    );
  }
  if (load.dropped > 0) {
    problems.push(
      `${load.dropped} calls were not sent because ${settings.maxInFlight} were waiting: the gateway fell behind the offered rate`,
    );
  }
  if (!drain.drained) {
    problems.push(
      `after ${drain.seconds} s the sandbox had ${drain.delivered} of ${load.acknowledgedEvents} acknowledged operations, lag batcher ${drain.batcherLag}, sender ${drain.senderLag}`,
    );
  }
  for (const verdict of verdicts) {
    if (verdict.samples === 0) {
      problems.push(`${verdict.service}: no memory sample (is /proc readable?)`);
    }
    if (!verdict.underLimit) {
      problems.push(
        `${verdict.service}: resident memory reached ${verdict.maxMb} MB, limit ${settings.maxRssMb} MB`,
      );
    }
    if (!verdict.flat) {
      problems.push(
        `${verdict.service}: memory grew ${verdict.slopeMbPerMinute} MB per minute, limit ${settings.maxSlopeMbPerMinute}`,
      );
    }
  }
  return problems;
}

function writeReports(
  startedAt: Date,
  settings: SoakSettings,
  profile: string,
  load: LoadResult,
  drain: DrainResult,
  verdicts: MemoryVerdict[],
  memory: MemorySampler,
  problems: string[],
): void {
  const samples = Object.fromEntries(
    memory.services().map((service) => [service, memory.samplesOf(service)]),
  );
  const report = {
    startedAt: startedAt.toISOString(),
    profile,
    settings,
    load: { ...load, timeline: undefined },
    drain,
    memory: verdicts,
    // The sandboxes keep every event id to drop repeats, so their memory grows with traffic by design.
    notJudged: memory.services().filter((service) => !JUDGED.includes(service)),
    samples,
    timeline: load.timeline,
    problems,
  };
  const folder = join(ROOT_DIR, 'reports');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'soak.json'), `${JSON.stringify(report, null, 2)}\n`);
  const chart = renderChart(`cio-pipeline soak, ${report.startedAt} (profile ${profile})`, [
    {
      title: 'Resident memory of each service',
      xLabel: 'seconds since the load started',
      yLabel: 'MB',
      series: [
        ...memory.services().map((service) => ({
          label: service,
          points: memory
            .samplesOf(service)
            .map((sample) => ({ x: sample.second, y: sample.megabytes })),
        })),
        {
          label: `limit ${settings.maxRssMb} MB`,
          dashed: true,
          points: [
            { x: 0, y: settings.maxRssMb },
            { x: settings.seconds + drain.seconds, y: settings.maxRssMb },
          ],
        },
      ],
    },
    {
      title: 'Operations acknowledged by the gateway per second',
      xLabel: 'seconds since the load started',
      yLabel: 'events/s',
      series: [
        {
          label: 'acknowledged',
          points: load.timeline.map((point) => ({ x: point.second, y: point.events })),
        },
      ],
    },
  ]);
  writeFileSync(join(folder, 'soak.svg'), chart);

  const lines = [
    '',
    `Soak: ${settings.seconds} s at ${settings.rate} calls/s, ${load.acknowledgedEvents} operations acknowledged, p99 ${load.latency.p99} ms`,
    `  drain: ${drain.drained ? 'everything arrived' : 'INCOMPLETE'} after ${drain.seconds} s (batcher lag ${drain.batcherLag}, sender lag ${drain.senderLag})`,
    ...verdicts.map(
      (verdict) =>
        `  ${verdict.service.padEnd(8)} max ${verdict.maxMb} MB, slope ${verdict.slopeMbPerMinute} MB/min: ${verdict.underLimit && verdict.flat ? 'ok' : 'FAILED'}`,
    ),
    ...problems.map((problem) => `  problem: ${problem}`),
    'written to reports/soak.json and reports/soak.svg',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().then(
  (code) => {
    exitWhenStopped(code);
  },
  (error: unknown) => {
    console.error(`soak failed: ${(error as Error).stack ?? String(error)}`);
    exitWhenStopped(1);
  },
);
