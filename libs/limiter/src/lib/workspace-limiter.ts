import Bottleneck from 'bottleneck';
import { performance } from 'node:perf_hooks';

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
  /**
   * Maximum time assumed between a request's start and Customer.io counting
   * it, for a request with no response yet. See `WorkspaceLimiter`.
   */
  transitAllowanceMs: number;
  now?: () => number;
}

export const DEFAULT_LIMITER_OPTIONS: Omit<LimiterOptions, 'limit'> = {
  headroom: 0.98,
  minShare: 0.05,
  increasePerSecond: 0.05,
  decreaseFactor: 0.5,
  transitAllowanceMs: 50,
};

export interface LimiterState {
  limit: number;
  /** Requests per second currently allowed. */
  rate: number;
  queued: number;
  running: number;
  /** Unix milliseconds until which no request starts, after a 429 or a rebalance. */
  pausedUntil: number;
  /** Unix milliseconds of the last request start; undefined before the first. */
  lastStartedAt: number | undefined;
}

/** A recent request: when it started and when its response came back, if it has. */
interface Sent {
  startedAt: number;
  settledAt: number | undefined;
}

/**
 * Keeps one workspace's requests under its rate limit. A Bottleneck limiter
 * with one slot queues the requests in order. The job in the slot waits until
 * `1000 / rate` ms have passed since the previous request actually started,
 * and until any pause ends, then starts its request and frees the slot.
 * Counting from actual starts matters, because Bottleneck's own `minTime`
 * counts from planned starts and gives every queued job its timer up front,
 * so a late timer or a pause could let two requests leave closer together
 * than the spacing. With starts at least `1000 / rate` ms apart, any window
 * of one second contains at most `rate` of them.
 *
 * Customer.io counts a request when it arrives, not when it leaves, and a
 * request held up on the way (a busy server, a retransmit) arrives closer to
 * the requests after it. So a request also waits until one second has passed
 * since the request `limit` places before it arrived at the latest: when its
 * response came back, or `transitAllowanceMs` after its start if that is
 * sooner. However late one request arrives, `limit + 1` requests then never
 * arrive within one second, as long as none takes longer than the allowance
 * without a response.
 *
 * A 429 lowers the rate by `decreaseFactor` and pauses for its Retry-After.
 * Each second without one adds back a share of the limit, up to
 * `limit * headroom`.
 */
export class WorkspaceLimiter {
  private readonly bottleneck = new Bottleneck({ maxConcurrent: 1 });
  private readonly now: () => number;
  private rate: number;
  private pausedUntil = 0;
  private readonly createdAt: number;
  private lastIncreaseAt: number;
  private running = 0;
  private stopped = false;
  /** The last `windowCount` requests, oldest first; the newest gives the last start. */
  private readonly recent: Sent[] = [];
  /** Maximum requests that one second may count. */
  private readonly windowCount: number;

  constructor(private readonly options: LimiterOptions) {
    // Sub-millisecond time: with whole milliseconds, a start at 1000.9 and
    // one at 1020.0 would pass as 20 ms apart.
    this.now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.rate = this.ceiling();
    this.windowCount = Math.max(1, Math.floor(options.limit));
    this.lastIncreaseAt = this.now();
    this.createdAt = this.now();
  }

  /** Runs `task` once the rate allows; resolves or rejects with the task's result. */
  async schedule<T>(task: () => Promise<T>): Promise<T> {
    const sent = await this.bottleneck.schedule(() => this.waitForTurn());
    this.running += 1;
    try {
      return await task();
    } finally {
      this.running -= 1;
      sent.settledAt = this.now();
    }
  }

  /**
   * Returns whether requests wait while none has started for `graceMs` past
   * the pause and the spacing, which means the limiter stopped releasing work.
   */
  isStalled(graceMs: number): boolean {
    if (this.state().queued === 0) {
      return false;
    }
    const since = Math.max(this.lastStartedAt() ?? 0, this.pausedUntil, this.createdAt);
    return this.now() - since > graceMs + this.spacingMs();
  }

  /**
   * Returns how many ms from now a request scheduled now would start, if the
   * rate and pause stay as they are: after every request already waiting,
   * each one spacing after the one before, or one share of a second and the
   * transit allowance if that is longer.
   */
  startDelayMs(): number {
    const now = this.now();
    // The first waiting request starts as waitForTurn allows, each later one a
    // spacing after, or its share of a window stretched by the transit allowance.
    const gapMs = Math.max(
      this.spacingMs(),
      (1000 + this.options.transitAllowanceMs) / this.windowCount,
    );
    return Math.max(now, this.earliestStart()) + gapMs * this.state().queued - now;
  }

  /** Lowers the rate after a 429 and holds every request for `retryAfterMs`. */
  throttled(retryAfterMs: number): void {
    const floor = this.options.limit * this.options.minShare;
    this.rate = Math.max(floor, this.rate * this.options.decreaseFactor);
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
    this.rate = Math.min(this.ceiling(), this.rate + step);
  }

  /** Holds every request for `ms`, e.g. so a new partition owner waits out the old owner's last second. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
  }

  state(): LimiterState {
    const counts = this.bottleneck.counts();
    return {
      limit: this.options.limit,
      rate: this.rate,
      queued: counts.RECEIVED + counts.QUEUED + counts.RUNNING + counts.EXECUTING,
      running: this.running,
      pausedUntil: this.pausedUntil,
      lastStartedAt: this.lastStartedAt(),
    };
  }

  /** Stops the limiter: requests still waiting for their turn are rejected. */
  async stop(): Promise<void> {
    if (this.stopped) {
      return;
    }
    this.stopped = true;
    await this.bottleneck.stop({
      dropWaitingJobs: true,
      dropErrorMessage: 'the limiter was stopped',
    });
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Waits until the next start is allowed, re-reading the rate, the pause and
   * the responses as they change, and records the start.
   */
  private async waitForTurn(): Promise<Sent> {
    for (;;) {
      if (this.stopped) {
        throw new Error('the limiter was stopped');
      }
      const waitMs = this.earliestStart() - this.now();
      if (waitMs <= 0) {
        const sent: Sent = { startedAt: this.now(), settledAt: undefined };
        this.recent.push(sent);
        if (this.recent.length > this.windowCount) {
          this.recent.shift();
        }
        return sent;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.ceil(waitMs)));
    }
  }

  private lastStartedAt(): number | undefined {
    return this.recent.at(-1)?.startedAt;
  }

  /** Unix ms before which no request may start, from the pause, the spacing and recent arrivals. */
  private earliestStart(): number {
    return Math.max(
      this.pausedUntil,
      (this.lastStartedAt() ?? -Infinity) + this.spacingMs(),
      this.windowFreeAt(),
    );
  }

  /** Returns the time one second after the request `windowCount` places back arrived at the latest. */
  private windowFreeAt(): number {
    const oldest = this.recent[0];
    if (oldest === undefined || this.recent.length < this.windowCount) {
      return -Infinity;
    }
    const arrivedBy = Math.min(
      oldest.settledAt ?? Infinity,
      oldest.startedAt + this.options.transitAllowanceMs,
    );
    return arrivedBy + 1000;
  }

  private ceiling(): number {
    return this.options.limit * this.options.headroom;
  }

  private spacingMs(): number {
    return 1000 / this.rate;
  }
}
