import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '@cio-pipeline/stack';
import { DEMO_WORKSPACES, ROOT_DIR, startLocalStack } from './lib/local-stack';
import { TrafficReplay, type TrafficPlan } from './lib/traffic';
import { deliveredCount, verifyDelivery } from './lib/verify';

/**
 * The demo: starts the pipeline, replays identify and track traffic through
 * the official client plus v2 batch calls, waits until the sandbox holds
 * every acknowledged operation, and writes reports/demo.json. Exits 1 when
 * anything acknowledged was lost or arrived out of order.
 */
const PLAN: TrafficPlan = {
  people: Number(process.env['DEMO_PEOPLE'] ?? 2500),
  tracksPerPerson: Number(process.env['DEMO_TRACKS_PER_PERSON'] ?? 9),
  batches: Number(process.env['DEMO_BATCHES'] ?? 160),
  operationsPerBatch: Number(process.env['DEMO_OPERATIONS_PER_BATCH'] ?? 500),
  concurrency: Number(process.env['DEMO_CONCURRENCY'] ?? 48),
};
const DRAIN_TIMEOUT_MS = Number(process.env['DEMO_DRAIN_TIMEOUT_MS'] ?? 180_000);

async function main(): Promise<number> {
  const started = Date.now();
  const namespace = `demo-${started}-`;
  const planned = PLAN.people * (1 + PLAN.tracksPerPerson) + PLAN.batches * PLAN.operationsPerBatch;
  log(`starting Kafka topics ${namespace}*, two sandboxes (US, EU), gateway, batcher and sender`);
  const { stack, caFile } = await startLocalStack(namespace);
  const sandboxes = { us: stack.sandbox, eu: stack.sandboxEu };
  const replay = new TrafficReplay(stack.gatewayUrl, caFile, DEMO_WORKSPACES);

  try {
    log(`sending ${planned} operations to ${stack.gatewayUrl}`);
    const progress = setInterval(() => {
      void deliveredCount(DEMO_WORKSPACES, sandboxes).then((delivered) => {
        log(
          `acknowledged ${replay.sent.accepted.size}/${planned}, delivered to the sandbox ${delivered}`,
        );
      });
    }, 2000);
    await replay.run(PLAN).finally(() => {
      clearInterval(progress);
    });
    const sentSeconds = (Date.now() - started) / 1000;
    log(
      `all calls answered: ${replay.sent.accepted.size} acknowledged, ${replay.sent.rejected} rejected by validation`,
    );

    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    let delivered = 0;
    while (Date.now() < deadline) {
      delivered = await deliveredCount(DEMO_WORKSPACES, sandboxes);
      if (delivered >= replay.sent.accepted.size) {
        break;
      }
      log(`waiting for delivery: ${delivered}/${replay.sent.accepted.size} in the sandbox`);
      await sleep(1000);
    }

    const verdict = await verifyDelivery(replay.sent, DEMO_WORKSPACES, sandboxes);
    const report = {
      accepted: replay.sent.accepted.size,
      deliveredUnique: verdict.deliveredUnique,
      duplicates: verdict.duplicates,
      lost: verdict.lost,
      requests: verdict.requests,
      maxRequestsPerSecond: verdict.maxRequestsPerSecond,
      eventsPerRequest: Math.round(verdict.operationsPerRequest * 10) / 10,
      elapsedSeconds: Math.round((Date.now() - started) / 100) / 10,
      rejectedAtGateway: replay.sent.rejected,
      unexpected: verdict.unexpected,
      orderViolations: verdict.orderViolations,
      throttled: verdict.throttled,
      gatewayCalls: replay.sent.calls,
      sendSeconds: Math.round(sentSeconds * 10) / 10,
      rateLimitPerWorkspace: DEMO_WORKSPACES.map((w) => ({
        siteId: w.siteId,
        region: w.region,
        rateLimit: w.rateLimit,
      })),
    };
    mkdirSync(join(ROOT_DIR, 'reports'), { recursive: true });
    writeFileSync(join(ROOT_DIR, 'reports', 'demo.json'), JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(`\n${JSON.stringify(report, null, 2)}\n\nwritten to reports/demo.json\n`);
    const ok = report.lost === 0 && report.unexpected === 0 && report.orderViolations === 0;
    log(
      ok
        ? 'every acknowledged operation arrived, in order'
        : 'FAILED: see lost, unexpected and orderViolations',
    );
    return ok ? 0 : 1;
  } finally {
    replay.close();
    log('stopping the stack');
    await stack.stop();
  }
}

function log(message: string): void {
  process.stdout.write(`[demo ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
