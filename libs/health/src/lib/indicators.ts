import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { ConsumerState } from '@cio-pipeline/kafka';
import type { EventLoopMonitor } from './event-loop';

/**
 * Health indicators built on the services' own state: the event loop's delay
 * and what kafkajs reported through its instrumentation events. A ping that
 * opens a connection would say nothing about a consumer that stopped fetching.
 */
export class Indicators {
  constructor(private readonly health: HealthIndicatorService) {}

  /** Down when the event loop was blocked longer than `maxDelayMs`. */
  eventLoop(monitor: EventLoopMonitor, maxDelayMs: number): HealthIndicatorResult {
    const session = this.health.check('eventLoop');
    const delayMs = Math.round(monitor.maxDelayMs());
    const details = { delayMs, maxDelayMs };
    return delayMs <= maxDelayMs ? session.up(details) : session.down(details);
  }

  /**
   * Liveness of a consumer: down when it crashed for good, or when it holds
   * partitions but has neither fetched nor crashed for `maxFetchGapMs`.
   * kafkajs fetches every few seconds even from idle partitions, and a lost
   * broker shows as crashes that kafkajs restarts from; silence means the
   * fetch loop is stuck, which a restart of the process cures.
   */
  consumerAlive(
    state: ConsumerState,
    maxFetchGapMs: number,
    now = Date.now(),
  ): HealthIndicatorResult {
    const session = this.health.check('consumer');
    if (state.crashed !== undefined) {
      return session.down({ reason: 'crashed', error: state.crashed });
    }
    const assigned = Object.values(state.assignment).some((partitions) => partitions.length > 0);
    const lastSign = Math.max(
      state.lastFetchAt ?? 0,
      state.lastCrashAt ?? 0,
      state.lastBatchAt ?? 0,
      state.startedAt,
    );
    const gapMs = now - lastSign;
    if (assigned && !state.rebalancing && gapMs > maxFetchGapMs) {
      return session.down({ reason: 'stopped fetching', lastFetchMsAgo: gapMs, maxFetchGapMs });
    }
    return session.up({ lastFetchMsAgo: gapMs });
  }

  /**
   * Readiness of a consumer: connected, not rebalancing, with partitions, a
   * fetch or heartbeat within `maxFetchGapMs`, and no crash since. A long
   * delivery holds up fetches but not heartbeats, which the sender sends
   * while it waits.
   */
  consumerReady(
    state: ConsumerState,
    maxFetchGapMs: number,
    now = Date.now(),
  ): HealthIndicatorResult {
    const session = this.health.check('consumer');
    const partitions = Object.values(state.assignment).reduce((sum, list) => sum + list.length, 0);
    const lastActivity = Math.max(state.lastFetchAt ?? 0, state.lastHeartbeatAt ?? 0);
    const lastFetchMsAgo = lastActivity === 0 ? undefined : now - lastActivity;
    const details = {
      connected: state.connected,
      rebalancing: state.rebalancing,
      partitions,
      lastFetchMsAgo,
    };
    if (state.crashed !== undefined) {
      return session.down({ ...details, reason: 'crashed', error: state.crashed });
    }
    if ((state.lastCrashAt ?? 0) > lastActivity) {
      return session.down({
        ...details,
        reason: 'crashed; kafkajs is restarting it',
        error: state.lastCrashError,
      });
    }
    if (lastFetchMsAgo === undefined || lastFetchMsAgo > maxFetchGapMs) {
      return session.down({ ...details, reason: 'not fetching' });
    }
    if (!state.connected || state.rebalancing || partitions === 0) {
      return session.down(details);
    }
    return session.up(details);
  }

  /** Readiness of a producer, from its connect and disconnect events. */
  producerReady(connected: boolean, details: Record<string, unknown> = {}): HealthIndicatorResult {
    const session = this.health.check('producer');
    return connected ? session.up(details) : session.down(details);
  }

  /** Any other condition, such as workspaces whose credentials Customer.io rejected. */
  condition(key: string, ok: boolean, details: Record<string, unknown>): HealthIndicatorResult {
    const session = this.health.check(key);
    return ok ? session.up(details) : session.down(details);
  }
}
