import Bottleneck from 'bottleneck';

export interface LimiterOptions {
  /** Requests per second that Customer.io allows the workspace. */
  limit: number;
  /** Share of the limit actually used, so clock jitter between hosts cannot push a second over. */
  headroom: number;
  /** Lowest share of the limit that repeated 429s can push the rate down to. */
  minShare: number;
  /** Share of the limit added back per second without a 429 (additive increase). */
  increasePerSecond: number;
  /** Factor applied to the rate on a 429 (multiplicative decrease). */
  decreaseFactor: number;
  now?: () => number;
}

export const DEFAULT_LIMITER_OPTIONS: Omit<LimiterOptions, 'limit'> = {
  headroom: 0.98,
  minShare: 0.05,
  increasePerSecond: 0.05,
  decreaseFactor: 0.5,
};

export interface LimiterState {
  limit: number;
  /** Requests per second currently allowed. */
  rate: number;
  queued: number;
  running: number;
  /** Unix milliseconds until which no request starts, after a 429 or a rebalance. */
  pausedUntil: number;
}

/**
 * Holds one workspace's requests under its rate limit with a Bottleneck
 * limiter. Requests start at least `1000 / rate` ms apart, so any window of
 * one second holds at most `rate` starts. A 429 halves the rate and pauses
 * for its Retry-After; each second without one adds back a share of the
 * limit, up to `limit * headroom`.
 */
export class WorkspaceLimiter {
  private readonly bottleneck: Bottleneck;
  private readonly now: () => number;
  private rate: number;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private lastIncreaseAt: number;

  constructor(private readonly options: LimiterOptions) {
    this.now = options.now ?? Date.now;
    this.rate = this.ceiling();
    this.lastIncreaseAt = this.now();
    this.bottleneck = new Bottleneck({ minTime: this.spacingMs(), maxConcurrent: null });
  }

  /** Runs `task` when the rate allows; the wait counts from the previous start. */
  schedule<T>(task: () => Promise<T>): Promise<T> {
    return this.bottleneck.schedule(task);
  }

  /** Lowers the rate after a 429 and holds every request for `retryAfterMs`. */
  throttled(retryAfterMs: number): void {
    const floor = this.options.limit * this.options.minShare;
    this.setRate(Math.max(floor, this.rate * this.options.decreaseFactor));
    this.pause(retryAfterMs);
    this.lastIncreaseAt = this.now();
  }

  /** Raises the rate gradually after successes, once per second at most. */
  succeeded(): void {
    const now = this.now();
    const seconds = (now - this.lastIncreaseAt) / 1000;
    if (seconds < 1 || this.rate >= this.ceiling()) {
      return;
    }
    this.lastIncreaseAt = now;
    const step = this.options.limit * this.options.increasePerSecond * Math.floor(seconds);
    this.setRate(Math.min(this.ceiling(), this.rate + step));
  }

  /**
   * Holds every request for `ms`, e.g. so a new partition owner waits out the
   * old owner's last second. An empty reservoir stops Bottleneck from starting
   * jobs at all, so the held requests leave one spacing apart afterwards
   * instead of together.
   */
  pause(ms: number): void {
    const until = this.now() + ms;
    if (until <= this.pausedUntil) {
      return;
    }
    this.pausedUntil = until;
    clearTimeout(this.resumeTimer);
    void this.bottleneck.updateSettings({ reservoir: 0 });
    this.resumeTimer = setTimeout(() => {
      this.resumeTimer = undefined;
      void this.bottleneck.updateSettings({ reservoir: null });
    }, ms);
  }

  state(): LimiterState {
    const counts = this.bottleneck.counts();
    return {
      limit: this.options.limit,
      rate: this.rate,
      queued: counts.QUEUED + counts.RECEIVED,
      running: counts.RUNNING + counts.EXECUTING,
      pausedUntil: this.pausedUntil,
    };
  }

  async stop(): Promise<void> {
    clearTimeout(this.resumeTimer);
    await this.bottleneck.stop({ dropWaitingJobs: false });
  }

  private ceiling(): number {
    return this.options.limit * this.options.headroom;
  }

  private spacingMs(): number {
    return Math.ceil(1000 / this.rate);
  }

  private setRate(rate: number): void {
    this.rate = rate;
    void this.bottleneck.updateSettings({ minTime: this.spacingMs() });
  }
}
