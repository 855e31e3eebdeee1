import { HealthIndicatorService } from '@nestjs/terminus';
import type { ConsumerState } from '@cio-pipeline/kafka';
import { EventLoopMonitor } from './event-loop';
import { Indicators } from './indicators';

const NOW = 1_000_000;

function state(overrides: Partial<ConsumerState> = {}): ConsumerState {
  return {
    connected: true,
    rebalancing: false,
    assignment: { topic: [0, 1] },
    crashed: undefined,
    lastCrashAt: undefined,
    lastCrashError: undefined,
    lastHeartbeatAt: NOW - 1000,
    lastFetchAt: NOW - 1000,
    lastBatchAt: undefined,
    startedAt: NOW - 60_000,
    ...overrides,
  };
}

describe('Indicators', () => {
  const indicators = new Indicators(new HealthIndicatorService());

  function statusOf(result: Record<string, { status: string }>): string | undefined {
    return Object.values(result)[0]?.status;
  }

  describe('consumerReady', () => {
    it('is up while fetching', () => {
      expect(statusOf(indicators.consumerReady(state(), 15_000, NOW))).toBe('up');
    });

    it('is down without a recent fetch', () => {
      const stale = state({ lastFetchAt: NOW - 20_000, lastHeartbeatAt: NOW - 20_000 });

      expect(statusOf(indicators.consumerReady(stale, 15_000, NOW))).toBe('down');
    });

    it('counts heartbeats during long work', () => {
      const working = state({ lastFetchAt: NOW - 60_000, lastHeartbeatAt: NOW - 2000 });

      expect(statusOf(indicators.consumerReady(working, 15_000, NOW))).toBe('up');
    });

    it('is down after a crash', () => {
      const crashed = state({ lastCrashAt: NOW - 500, lastCrashError: 'broker gone' });

      expect(statusOf(indicators.consumerReady(crashed, 15_000, NOW))).toBe('down');
    });

    it('is down without partitions', () => {
      expect(statusOf(indicators.consumerReady(state({ assignment: {} }), 15_000, NOW))).toBe(
        'down',
      );
    });

    it('is down while rebalancing', () => {
      expect(statusOf(indicators.consumerReady(state({ rebalancing: true }), 15_000, NOW))).toBe(
        'down',
      );
    });
  });

  describe('consumerAlive', () => {
    it('is up while fetching', () => {
      expect(statusOf(indicators.consumerAlive(state(), 60_000, NOW))).toBe('up');
    });

    it('stays up while kafkajs restarts', () => {
      const restarting = state({ lastFetchAt: NOW - 120_000, lastCrashAt: NOW - 5000 });

      expect(statusOf(indicators.consumerAlive(restarting, 60_000, NOW))).toBe('up');
    });

    it('is down when fetching went silent', () => {
      const silent = state({
        lastFetchAt: NOW - 120_000,
        lastHeartbeatAt: NOW - 120_000,
        startedAt: NOW - 600_000,
      });

      expect(statusOf(indicators.consumerAlive(silent, 60_000, NOW))).toBe('down');
    });

    it('is down after a final crash', () => {
      expect(statusOf(indicators.consumerAlive(state({ crashed: 'fatal' }), 60_000, NOW))).toBe(
        'down',
      );
    });
  });

  describe('eventLoop', () => {
    it('is down after a blocked loop', async () => {
      const monitor = new EventLoopMonitor();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // Block the event loop on purpose.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));

      const result = indicators.eventLoop(monitor, 100);
      monitor.stop();

      expect(statusOf(result)).toBe('down');
    });
  });

  it('reports a condition with its details', () => {
    const result = indicators.condition('workspaces', false, { paused: ['site'] });

    expect(result).toEqual({ workspaces: { status: 'down', paused: ['site'] } });
  });
});
