import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/**
 * Measures how late the event loop runs timers. The histogram is reset at
 * each reading, so a reading covers the time since the previous one.
 */
export class EventLoopMonitor {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  private lastMaxMs = 0;

  constructor() {
    this.histogram.enable();
  }

  /** Returns the worst delay since the last call, in milliseconds. */
  maxDelayMs(): number {
    const max = this.histogram.max / 1e6;
    this.histogram.reset();
    // A reading right after another has seen almost nothing: keep the last one.
    this.lastMaxMs = Number.isFinite(max) && max > 0 ? max : this.lastMaxMs;
    return this.lastMaxMs;
  }

  stop(): void {
    this.histogram.disable();
  }
}
