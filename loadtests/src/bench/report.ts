import { renderChart, type Panel, type Series } from '../common/chart';
import type { LoadResult } from '../common/load';
import { formatNumber } from '../common/log';
import type { DeliveryMeasurement } from './end-to-end';
import type { LatencyMeasurement } from './latency';
import type { PerEventMeasurement } from './per-event';
import type { BenchSettings } from './settings';
import type { SustainedMeasurement } from './sustained';

/** Everything one benchmark run measured; written to reports/bench.json. */
export interface BenchReport {
  startedAt: string;
  elapsedSeconds: number;
  profile: { name: string; file: string };
  settings: BenchSettings;
  /** Cores and load average, because the figures depend on what else the machine ran. */
  machine: {
    cpus: number;
    cpuModel: string;
    loadAverageAtStart: number[];
    loadAverageAtEnd: number[];
  };
  /** Absent when BENCH_ONLY=latency. */
  ingest?: {
    gatewaySingle: LoadResult;
    gatewayBatch: LoadResult;
    fastifyNoop: LoadResult;
    kafkaProducer: LoadResult;
    /** Gateway single-call requests/s divided by the do-nothing Fastify server's. */
    singleVsFastify: number;
    /** Gateway batch events/s divided by the bare producer's. */
    batchVsProducer: number;
  };
  /** Absent when BENCH_ONLY=latency. */
  endToEnd?: {
    operationsPerFullBatch: number;
    maxBatchBytes: number;
    binding: DeliveryMeasurement[];
    /** One measurement per workspace count, each workspace at the high limit. */
    continuous: DeliveryMeasurement[];
    /** A constant offered rate, shared by workspaces at the high limit. */
    sustained: SustainedMeasurement;
    perEvent: PerEventMeasurement;
    /** Pipeline delivered events/s with one workspace divided by the per-event baseline's. */
    pipelineVsPerEvent: number;
  };
  latency: LatencyMeasurement;
  problems: string[];
}

/** Formats the report as the table printed at the end of a run. */
export function formatTable(report: BenchReport): string {
  const lines: string[] = [];
  if (report.ingest !== undefined && report.endToEnd !== undefined) {
    lines.push(...formatThroughput(report.ingest, report.endToEnd, report.settings));
  }
  lines.push(...formatLatency(report.latency));
  if (report.problems.length > 0) {
    lines.push('Problems:', ...report.problems.map((problem) => `  - ${problem}`), '');
  }
  return lines.join('\n');
}

function formatThroughput(
  ingest: NonNullable<BenchReport['ingest']>,
  endToEnd: NonNullable<BenchReport['endToEnd']>,
  settings: BenchSettings,
): string[] {
  const lines: string[] = [];
  lines.push(
    '',
    `Gateway ingest: closed loop, ${settings.ingestSeconds} s measured after ${settings.warmupSeconds} s warm-up`,
  );
  lines.push(
    ...table(
      ['run', 'conns', 'events/s', 'requests/s', 'p50 ms', 'p99 ms', 'errors'],
      [ingest.gatewaySingle, ingest.fastifyNoop, ingest.gatewayBatch, ingest.kafkaProducer].map(
        (result) => [
          result.label,
          String(
            result === ingest.gatewayBatch || result === ingest.kafkaProducer
              ? settings.batchConcurrency
              : settings.singleConcurrency,
          ),
          formatNumber(result.eventsPerSecond),
          formatNumber(result.requestsPerSecond),
          formatNumber(result.latency.p50),
          formatNumber(result.latency.p99),
          String(result.errors),
        ],
      ),
    ),
  );
  lines.push(
    `  single calls: gateway requests/s / do-nothing Fastify requests/s = ${ingest.singleVsFastify}`,
    `  batch calls:  gateway events/s / bare kafkajs producer events/s  = ${ingest.batchVsProducer}`,
    '',
    `End to end: ${endToEnd.operationsPerFullBatch} operations of the event mix fit in a ${endToEnd.maxBatchBytes}-byte batch body`,
  );
  const drains = endToEnd.binding.map((measurement) => ['backlog drain', measurement] as const);
  const feeds = endToEnd.continuous.map((measurement) => ['continuous feed', measurement] as const);
  const rows = [...drains, ...feeds].map(([run, measurement]) => [
    run,
    String(measurement.workspaces.length),
    String(measurement.limit),
    formatNumber(measurement.capEventsPerSecond),
    formatNumber(measurement.deliveredEventsPerSecond),
    formatNumber(measurement.shareOfCap),
    formatOptional(measurement.shareOfCapAfterWarmUp),
    formatNumber(measurement.fillRatio),
    formatNumber(measurement.rateUse),
    String(measurement.throttled),
    measurement.drained ? 'yes' : 'NO',
  ]);
  lines.push(
    ...table(
      [
        'run',
        'workspaces',
        'limit/s',
        'cap ev/s',
        'delivered ev/s',
        'share of cap',
        'after warm-up',
        'fill',
        'rate use',
        '429s',
        'drained',
      ],
      rows,
    ),
  );
  const { continuous, perEvent } = endToEnd;
  lines.push(
    ...continuous.map(
      (measurement) =>
        `  continuous feed of ${measurement.workspaces.length} workspace(s) offered ${formatNumber(measurement.feed.eventsPerSecond)} events/s to the gateway at ${measurement.limit} requests/s each`,
    ),
    ...formatSustained(endToEnd.sustained),
    `  per-event baseline: ${formatNumber(perEvent.deliveredEventsPerSecond)} events/s (one call per event at ${perEvent.limit}/s, ${perEvent.throttled} got 429)`,
    `  pipeline with 1 workspace / per-event baseline = ${endToEnd.pipelineVsPerEvent}`,
    '',
  );
  return lines;
}

function formatLatency(latency: LatencyMeasurement): string[] {
  const rows = [
    ['gateway 200 to sandbox 2xx', latency.fromAcceptance],
    ['client send to sandbox 2xx', latency.fromSend],
    ['gateway response', latency.gatewayResponse],
  ] as const;
  const lines = [
    `Delivery latency: open loop, ${formatNumber(latency.offeredEventsPerSecond)} events/s offered as ${latency.eventsPerCall} operations every ${latency.intervalMs} ms, ${latency.seconds} s measured after ${latency.warmupSeconds} s warm-up, 1 workspace at ${latency.limit} requests/s`,
    ...table(
      [
        'span',
        'events',
        'p50 ms',
        'p99 ms',
        'max ms',
        `share <= ${latency.targetMs} ms`,
        'over target',
      ],
      rows.map(([label, summary]) => [
        label,
        String(summary.count),
        formatNumber(summary.p50),
        formatNumber(summary.p99),
        formatNumber(summary.max),
        summary.shareWithinTarget.toFixed(4),
        String(summary.overTarget),
      ]),
    ),
    `  target: linger ${latency.lingerMs} ms + 200 ms = ${latency.targetMs} ms; ${latency.pairedEvents} of ${latency.acknowledgedEvents} acknowledged operations paired, ${latency.missingEvents} missing, ${latency.dropped} calls dropped`,
  ];
  const histogram = latency.senderHistogram;
  if (histogram === null) {
    lines.push("  sender's cio_delivery_latency_seconds: not read");
  } else {
    lines.push(
      `  sender's cio_delivery_latency_seconds (per request, from its oldest operation): ${histogram.observations} requests, ${formatNumber(histogram.shareWithinTarget)} <= ${histogram.targetBucketSeconds} s, p50 <= ${histogram.p50UpperBoundSeconds} s, p99 <= ${histogram.p99UpperBoundSeconds} s`,
    );
  }
  lines.push('');
  return lines;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (row: string[]) =>
    `  ${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  ')}`;
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...rows.map(format)];
}

/**
 * Renders reports/bench.svg: ingest throughput and latency, deliveries over
 * time, then the delivery latency distribution.
 */
export function renderBenchChart(report: BenchReport): string {
  const panels: Panel[] = [];
  if (report.ingest !== undefined && report.endToEnd !== undefined) {
    panels.push(...throughputPanels(report.ingest, report.endToEnd));
  }
  panels.push(latencyPanel(report.latency));
  return renderChart(
    `cio-pipeline benchmark, ${report.startedAt} (profile ${report.profile.name})`,
    panels,
  );
}

function latencyPanel(latency: LatencyMeasurement): Panel {
  return {
    title: `Delivery latency at ${formatNumber(latency.offeredEventsPerSecond)} events/s: gateway 200 to sandbox 2xx`,
    xLabel: 'percent of operations',
    yLabel: 'ms',
    series: [
      {
        label: 'latency at percentile',
        points: latency.fromAcceptanceCurve.map((point) => ({ x: point.percent, y: point.ms })),
      },
      {
        label: `target ${latency.targetMs} ms`,
        dashed: true,
        points: [
          { x: 0, y: latency.targetMs },
          { x: 100, y: latency.targetMs },
        ],
      },
    ],
  };
}

function throughputPanels(
  ingest: NonNullable<BenchReport['ingest']>,
  endToEnd: NonNullable<BenchReport['endToEnd']>,
): Panel[] {
  const ingestRuns = [
    ingest.gatewaySingle,
    ingest.fastifyNoop,
    ingest.gatewayBatch,
    ingest.kafkaProducer,
  ];
  const throughput: Panel = {
    title: 'Ingest: acknowledged events per second',
    xLabel: 'seconds since the run started',
    yLabel: 'events/s',
    series: ingestRuns.map((run) => ({
      label: run.label,
      points: run.timeline.map((point) => ({ x: point.second, y: point.events })),
    })),
  };
  const latency: Panel = {
    title: 'Ingest: p99 latency of each second',
    xLabel: 'seconds since the run started',
    yLabel: 'ms',
    series: ingestRuns.map((run) => ({
      label: run.label,
      points: run.timeline.map((point) => ({ x: point.second, y: point.p99Ms })),
    })),
  };
  const deliveries: Series[] = [];
  for (const measurement of endToEnd.binding) {
    const label = `${measurement.workspaces.length} workspace(s) at ${measurement.limit}/s`;
    deliveries.push({
      label,
      points: measurement.timeline.map((point) => ({ x: point.second, y: point.events })),
    });
  }
  const widest = endToEnd.binding[endToEnd.binding.length - 1];
  if (widest !== undefined) {
    const end = Math.max(1, widest.timeline.length);
    deliveries.push({
      label: `cap, ${widest.workspaces.length} workspace(s)`,
      dashed: true,
      points: [
        { x: 0, y: widest.capEventsPerSecond },
        { x: end, y: widest.capEventsPerSecond },
      ],
    });
  }
  const { continuous, perEvent } = endToEnd;
  deliveries.push(
    ...continuous.map((measurement) => ({
      label: `continuous feed, ${measurement.workspaces.length} ws at ${measurement.limit}/s`,
      points: measurement.timeline.map((point) => ({ x: point.second, y: point.events })),
    })),
    {
      label: `sustained, ${endToEnd.sustained.workspaces.length} ws, ${formatNumber(endToEnd.sustained.targetEventsPerSecond)} ev/s offered`,
      points: endToEnd.sustained.timeline.map((point) => ({ x: point.second, y: point.events })),
    },
    {
      label: `per-event at ${perEvent.limit}/s: ${formatNumber(perEvent.deliveredEventsPerSecond)} ev/s`,
      points: perEvent.timeline.map((point) => ({ x: point.second, y: point.events })),
    },
  );
  const delivery: Panel = {
    title: 'End to end: operations stored by the sandbox per second',
    xLabel: 'seconds since delivery could start',
    yLabel: 'events/s',
    series: deliveries,
  };
  return [throughput, latency, delivery];
}

/** Formats a figure that a run may not have measured. */
export function formatOptional(value: number | undefined): string {
  return value === undefined ? 'n/a' : formatNumber(value);
}

function formatSustained(sustained: SustainedMeasurement): string[] {
  const drain =
    sustained.drainSeconds === undefined
      ? `${sustained.deliveredEvents} of ${sustained.acknowledgedEvents} delivered before the timeout`
      : `all delivered ${sustained.drainSeconds} s after the stop`;
  return [
    `  sustained open loop: ${formatNumber(sustained.targetEventsPerSecond)} events/s offered for ${sustained.seconds} s to ${sustained.workspaces.length} workspace(s) as ${sustained.operationsPerCall} operations per call`,
    `    acknowledged ${formatNumber(sustained.offeredEventsPerSecond)} events/s (${sustained.droppedCalls} calls dropped, ${sustained.errors} errors), delivered ${formatNumber(sustained.deliveredEventsPerSecond)} events/s during the feed`,
    `    ${formatNumber(sustained.backlogAtStop)} operations not yet delivered at the stop, ${drain}`,
  ];
}
