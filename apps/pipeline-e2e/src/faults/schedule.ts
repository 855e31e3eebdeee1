import { readFileSync, statSync } from 'node:fs';
import { sleep, type ServiceProcess, type Stack } from '@cio-pipeline/stack';
import type { PrivateBroker } from '../private-broker';
import { between } from './random';

export type KilledRole = 'gateway' | 'batcher' | 'sender';
export type SandboxFault = 'throttle_storm' | 'error_storm' | 'latency' | 'hang' | 'down';
export type FaultKind = `kill_${KilledRole}` | 'broker_restart' | SandboxFault;

export interface PlannedFault {
  /** Time from the start of traffic, in ms. */
  atMs: number;
  kind: FaultKind;
}

export interface ScheduleSettings {
  durationMs: number;
  killsPerService: number;
  /** How long each sandbox storm, latency or hang period lasts, in ms. */
  stormMs: number;
  /** The sandbox's `downForMs`: how long it closes connections without a response. */
  downForMs: number;
  /** Delay added to every sandbox response during the latency period, in ms. */
  latencyMs: number;
}

/** Counts of the faults the injector applied, for the run's summary. */
export interface FaultReport {
  kills: Record<KilledRole, number>;
  brokerRestarts: number;
  sandboxFaults: Record<SandboxFault, number>;
  /** Planned kills skipped because every replica of the role was still restarting. */
  skipped: number;
  /** Restarts that failed because another socket took the service's port, by service name. */
  portConflicts: string[];
  /** Restarts or control requests that failed, with the fault they belonged to. */
  errors: string[];
}

const SANDBOX_FAULTS: SandboxFault[] = ['throttle_storm', 'error_storm', 'latency', 'hang', 'down'];

/**
 * Plans the faults at seeded random moments between 5% and 80% of the run,
 * so the pipeline has the rest of it to settle before traffic stops. The
 * sandbox faults get one slot each and never overlap, because the sandbox
 * rejects settings whose error, throttle and hang shares add up to more
 * than 1.
 */
export function planFaults(settings: ScheduleSettings, random: () => number): PlannedFault[] {
  const start = 0.05 * settings.durationMs;
  const end = 0.8 * settings.durationMs;
  const plan: PlannedFault[] = [];
  for (const role of ['gateway', 'batcher', 'sender'] as const) {
    for (let i = 0; i < settings.killsPerService; i++) {
      plan.push({ atMs: between(random, start, end), kind: `kill_${role}` });
    }
  }
  plan.push({
    atMs: between(random, 0.3 * settings.durationMs, 0.6 * settings.durationMs),
    kind: 'broker_restart',
  });

  // Fisher-Yates shuffle, so each order of the sandbox faults is equally likely.
  const order = [...SANDBOX_FAULTS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as SandboxFault, order[i] as SandboxFault];
  }
  const slotMs = (end - start) / order.length;
  order.forEach((kind, slot) => {
    const lengthMs = kind === 'down' ? settings.downForMs : settings.stormMs;
    const latest = Math.max(0, slotMs - lengthMs);
    plan.push({ atMs: start + slot * slotMs + random() * latest, kind });
  });
  return plan.sort((a, b) => a.atMs - b.atMs);
}

/**
 * Applies a planned schedule to a running stack: SIGKILLs and restarts
 * services, restarts the broker and sets the sandboxes' fault settings.
 * Restarts run in the background, so a slow Kafka rebalance does not delay
 * the next fault.
 */
export class FaultInjector {
  private readonly restarting = new Set<ServiceProcess>();
  private readonly tasks: Promise<void>[] = [];
  readonly report: FaultReport = {
    kills: { gateway: 0, batcher: 0, sender: 0 },
    brokerRestarts: 0,
    sandboxFaults: { throttle_storm: 0, error_storm: 0, latency: 0, hang: 0, down: 0 },
    skipped: 0,
    portConflicts: [],
    errors: [],
  };

  constructor(
    private readonly stack: Stack,
    private readonly broker: PrivateBroker,
    private readonly settings: ScheduleSettings,
    private readonly random: () => number,
    private readonly log: (message: string) => void,
  ) {}

  /** Injects each fault at its time from `startedAt`, then waits for every restart to finish. */
  async run(plan: PlannedFault[], startedAt: number): Promise<FaultReport> {
    for (const fault of plan) {
      await sleep(Math.max(0, startedAt + fault.atMs - Date.now()));
      this.log(`${((Date.now() - startedAt) / 1000).toFixed(1)} s: ${fault.kind}`);
      this.tasks.push(
        this.inject(fault.kind).catch((error: unknown) => {
          this.report.errors.push(`${fault.kind}: ${String(error)}`);
        }),
      );
    }
    await Promise.all(this.tasks);
    return this.report;
  }

  private async inject(kind: FaultKind): Promise<void> {
    switch (kind) {
      case 'kill_gateway':
        return this.killAndRestart('gateway');
      case 'kill_batcher':
        return this.killAndRestart('batcher');
      case 'kill_sender':
        return this.killAndRestart('sender');
      case 'broker_restart':
        this.report.brokerRestarts += 1;
        return this.broker.command('restart');
      case 'throttle_storm':
      case 'error_storm':
      case 'latency':
      case 'hang':
      case 'down':
        return this.sandboxFault(kind);
    }
  }

  private async killAndRestart(role: KilledRole): Promise<void> {
    const candidates = this.stack.byRole(role).filter((s) => !this.restarting.has(s));
    if (candidates.length === 0) {
      this.report.skipped += 1;
      return;
    }
    const service = candidates[Math.floor(this.random() * candidates.length)];
    if (service === undefined) {
      return;
    }
    this.restarting.add(service);
    try {
      await service.kill();
      this.report.kills[role] += 1;
      await sleep(between(this.random, 500, 3000));
      await this.restart(service);
    } finally {
      this.restarting.delete(service);
    }
  }

  /**
   * Restarts a service, and tries again up to twice when it exited because
   * its port was taken.
   */
  private async restart(service: ServiceProcess): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const logStart = statSync(service.spec.logFile).size;
      try {
        await this.stack.restart(service);
        return;
      } catch (error) {
        // NOTE: libs/stack picks ports with freePort(), which returns ports
        // from the ephemeral range, so an outgoing connection (a Kafka
        // client reconnecting, say) can take a killed service's port before
        // it is restarted. That is a fault of the test stack, not of the
        // service, so it is reported apart from other restart failures.
        const attemptLog = readFileSync(service.spec.logFile).subarray(logStart).toString('utf8');
        if (service.running || !attemptLog.includes('EADDRINUSE')) {
          throw error;
        }
        this.report.portConflicts.push(service.spec.name);
        if (attempt === 3) {
          return;
        }
        await sleep(5000);
      }
    }
  }

  private async sandboxFault(kind: SandboxFault): Promise<void> {
    this.report.sandboxFaults[kind] += 1;
    if (kind === 'down') {
      // The sandbox ends a down period by itself after downForMs.
      await this.setFaults({ downForMs: this.settings.downForMs });
      await sleep(this.settings.downForMs);
      return;
    }
    const on: Record<Exclude<SandboxFault, 'down'>, Record<string, number>> = {
      throttle_storm: { throttleRate: 1 },
      error_storm: { errorRate: 1 },
      latency: {
        latencyMs: this.settings.latencyMs,
        latencyJitterMs: Math.round(this.settings.latencyMs / 2),
      },
      hang: { hangRate: 1 },
    };
    const off = Object.fromEntries(Object.keys(on[kind]).map((key) => [key, 0]));
    await this.setFaults(on[kind]);
    await sleep(this.settings.stormMs);
    await this.setFaults(off);
  }

  /** Applies settings to both regions' sandboxes, since the workspaces live in both. */
  private async setFaults(settings: Record<string, number>): Promise<void> {
    await Promise.all([
      this.stack.sandbox.setFaults(settings),
      this.stack.sandboxEu.setFaults(settings),
    ]);
  }
}
