import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { WorkspaceLimiter, type LimiterOptions } from './workspace-limiter';

const OPTIONS: LimiterOptions = {
  limit: 50,
  headroom: 1,
  minShare: 0.05,
  increasePerSecond: 0.05,
  decreaseFactor: 0.5,
  transitAllowanceMs: 50,
};

/** Schedules `count` tasks that return at once and records when each starts, in ms. */
async function startTimes(limiter: WorkspaceLimiter, count: number): Promise<number[]> {
  const starts: number[] = [];
  await Promise.all(
    Array.from({ length: count }, () =>
      limiter.schedule(() => {
        starts.push(performance.now());
        return Promise.resolve();
      }),
    ),
  );
  return starts;
}

/** Returns the largest number of starts inside any window (t - windowMs, t]. */
function maxStartsPerWindow(starts: number[], windowMs: number): number {
  return Math.max(
    ...starts.map((end) => starts.filter((start) => start > end - windowMs && start <= end).length),
  );
}

/**
 * Returns the median gap between consecutive starts. Node timers fire on or
 * after their time, so a busy event loop delays a few starts. The median
 * ignores those few, but the mean or the span would not.
 */
function medianGapOf(starts: number[]): number {
  const gaps = gapsOf(starts).sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)]!;
}

function gapsOf(starts: number[]): number[] {
  return starts.slice(1).map((start, index) => start - starts[index]!);
}

describe('WorkspaceLimiter', () => {
  let limiters: WorkspaceLimiter[] = [];

  function createLimiter(options: Partial<LimiterOptions> = {}): WorkspaceLimiter {
    const limiter = new WorkspaceLimiter({ ...OPTIONS, ...options });
    limiters.push(limiter);
    return limiter;
  }

  afterEach(async () => {
    await Promise.all(limiters.map((limiter) => limiter.stop()));
    limiters = [];
  });

  describe('120 tasks at 50 per second', () => {
    let starts: number[] = [];

    beforeAll(async () => {
      const limiter = new WorkspaceLimiter(OPTIONS);
      starts = await startTimes(limiter, 120);
      await limiter.stop();
    }, 10_000);

    it('starts every task', () => {
      expect(starts).toHaveLength(120);
    });

    it('keeps median gap of 20 ms', () => {
      expect(medianGapOf(starts)).toBeGreaterThanOrEqual(19);
    });

    it('holds 50 starts per window', () => {
      expect(maxStartsPerWindow(starts, 1000)).toBeLessThanOrEqual(50);
    });
  });

  describe('arrival window', () => {
    /** Schedules tasks that respond after `responseMs[i]` and returns each start, in ms from the first. */
    async function startsWithResponses(
      limiter: WorkspaceLimiter,
      responseMs: number[],
    ): Promise<number[]> {
      const starts: number[] = [];
      await Promise.all(
        responseMs.map((ms) =>
          limiter.schedule(async () => {
            starts.push(performance.now());
            await sleep(ms);
          }),
        ),
      );
      return starts.map((start) => start - starts[0]!);
    }

    it('waits a second after slow response', async () => {
      const limiter = createLimiter({ limit: 5, transitAllowanceMs: 400 });
      // 200 ms apart; the sixth waits for the first response (150 ms) plus one second.
      const starts = await startsWithResponses(limiter, [150, 0, 0, 0, 0, 0]);
      expect(starts[4]).toBeLessThan(1000);
      expect(starts[5]).toBeGreaterThanOrEqual(1149);
    });

    it('uses allowance without a response', async () => {
      const limiter = createLimiter({ limit: 5, transitAllowanceMs: 100 });
      const starts = await startsWithResponses(limiter, [700, 0, 0, 0, 0, 0]);
      expect(starts[5]).toBeGreaterThanOrEqual(1099);
      expect(starts[5]).toBeLessThan(1500);
    });

    it('keeps late arrivals within limit', async () => {
      const limit = 10;
      const limiter = createLimiter({ limit, transitAllowanceMs: 60 });
      const arrivals: number[] = [];
      // Each request arrives somewhere between its start and its response.
      const responses = Array.from({ length: 25 }, (_, index) => (index * 37) % 90);
      await Promise.all(
        responses.map((ms, index) =>
          limiter.schedule(async () => {
            const transit = Math.min(ms, 60) * ((index * 7) % 10) * 0.1;
            arrivals.push(performance.now() + transit);
            await sleep(ms);
          }),
        ),
      );
      expect(arrivals).toHaveLength(25);
      expect(maxStartsPerWindow(arrivals, 1000)).toBeLessThanOrEqual(limit);
    }, 10_000);

    it('lets eleven through without allowance', async () => {
      // Spacing alone: the first arrives 60 ms late, and the eleventh starts a second after the first.
      const limit = 10;
      const limiter = createLimiter({ limit, transitAllowanceMs: 0 });
      const arrivals: number[] = [];
      await Promise.all(
        Array.from({ length: 11 }, (_, index) =>
          limiter.schedule(() => {
            arrivals.push(performance.now() + (index === 0 ? 60 : 0));
            return Promise.resolve();
          }),
        ),
      );
      expect(maxStartsPerWindow(arrivals, 1000)).toBe(limit + 1);
    });
  });

  describe('throttled', () => {
    it('halves the rate', () => {
      const limiter = createLimiter();
      limiter.throttled(0);
      expect(limiter.state().rate).toBe(25);
    });

    it('stops at minimum share', () => {
      const limiter = createLimiter();
      for (let i = 0; i < 10; i++) {
        limiter.throttled(0);
      }
      expect(limiter.state().rate).toBe(2.5);
    });

    it('sets pausedUntil', () => {
      const limiter = createLimiter({ now: () => 10_000 });
      limiter.throttled(300);
      expect(limiter.state().pausedUntil).toBe(10_300);
    });

    it('keeps later pause end', () => {
      let now = 10_000;
      const limiter = createLimiter({ now: () => now });
      limiter.throttled(500);
      now += 100;
      limiter.throttled(100);
      expect(limiter.state().pausedUntil).toBe(10_500);
    });
  });

  describe('requests held by throttled', () => {
    const pauseMs = 300;
    let throttledAt = 0;
    let starts: number[] = [];

    beforeAll(async () => {
      const limiter = new WorkspaceLimiter(OPTIONS);
      throttledAt = performance.now();
      limiter.throttled(pauseMs);
      starts = await startTimes(limiter, 6);
      await limiter.stop();
    });

    it('holds them for the pause', () => {
      // Timers fire on whole milliseconds, so allow 1 ms of rounding.
      expect(starts[0]! - throttledAt).toBeGreaterThanOrEqual(pauseMs - 1);
    });

    it('releases them at halved rate', () => {
      expect(medianGapOf(starts)).toBeGreaterThanOrEqual(39);
    });
  });

  it('holds already queued requests', async () => {
    const limiter = createLimiter();
    const starts: number[] = [];
    const done = Array.from({ length: 20 }, () =>
      limiter.schedule(() => {
        starts.push(performance.now());
        return Promise.resolve();
      }),
    );
    await sleep(100);
    const throttledAt = performance.now();
    limiter.throttled(500);
    await Promise.all(done);
    // Milliseconds after throttled() at which requests started inside the pause.
    const duringPause = starts
      .map((start) => start - throttledAt)
      .filter((offset) => offset >= 0 && offset < 500 - 1);
    expect(duringPause).toEqual([]);
  });

  describe('startDelayMs', () => {
    it('is 0 before any request', () => {
      expect(createLimiter({ now: () => 5000 }).startDelayMs()).toBe(0);
    });

    it('counts the spacing after the last start', async () => {
      let now = 10_000;
      const limiter = createLimiter({ now: () => now });
      await limiter.schedule(() => Promise.resolve());
      now += 5;
      // 50 per second: the next start is due 20 ms after the first.
      expect(limiter.startDelayMs()).toBe(15);
      now += 30;
      expect(limiter.startDelayMs()).toBe(0);
    });

    it('counts the requests already waiting', async () => {
      const limiter = createLimiter({ now: () => 10_000, transitAllowanceMs: 0 });
      await limiter.schedule(() => Promise.resolve());
      const waiting = [limiter.schedule(() => Promise.resolve())];
      waiting.push(limiter.schedule(() => Promise.resolve()));
      await sleep(5);
      // Two wait, due at 20 and 40 ms, so a third would start at 60 ms.
      expect(limiter.startDelayMs()).toBe(60);
      const settled = Promise.allSettled(waiting);
      await limiter.stop();
      await settled;
    });

    it('stretches the gap by the transit allowance', async () => {
      const limiter = createLimiter({ now: () => 10_000, transitAllowanceMs: 100 });
      limiter.pause(200);
      const waiting = [1, 2].map(() => limiter.schedule(() => Promise.resolve()));
      await sleep(5);
      // 50 per second with 100 ms allowed for transit: 1100 / 50 = 22 ms a request.
      expect(limiter.startDelayMs()).toBe(244);
      const settled = Promise.allSettled(waiting);
      await limiter.stop();
      await settled;
    });

    it('counts a pause', () => {
      const limiter = createLimiter({ now: () => 10_000 });
      limiter.throttled(700);
      expect(limiter.startDelayMs()).toBe(700);
    });

    it('adds the waiting requests to a pause', async () => {
      const limiter = createLimiter({ now: () => 10_000, transitAllowanceMs: 0 });
      limiter.pause(200);
      const waiting = [1, 2, 3].map(() => limiter.schedule(() => Promise.resolve()));
      await sleep(5);
      // Three wait, due at 200, 220 and 240 ms, so a fourth would start at 260 ms.
      expect(limiter.startDelayMs()).toBe(260);
      const settled = Promise.allSettled(waiting);
      await limiter.stop();
      await settled;
    });
  });

  describe('succeeded', () => {
    let now = 0;

    function throttledLimiter(options: Partial<LimiterOptions> = {}): WorkspaceLimiter {
      now = 1_000_000;
      const limiter = createLimiter({ now: () => now, ...options });
      limiter.throttled(0);
      return limiter;
    }

    it('keeps rate at ceiling', () => {
      now = 1_000_000;
      const limiter = createLimiter({ now: () => now, headroom: 0.9 });
      now += 10_000;
      limiter.succeeded();
      expect(limiter.state().rate).toBe(45);
    });

    it('waits a full second', () => {
      const limiter = throttledLimiter();
      now += 999;
      limiter.succeeded();
      expect(limiter.state().rate).toBe(25);
    });

    it('adds share per second', () => {
      const limiter = throttledLimiter();
      now += 1000;
      limiter.succeeded();
      expect(limiter.state().rate).toBe(27.5);
    });

    it('adds whole seconds only', () => {
      const limiter = throttledLimiter();
      now += 2500;
      limiter.succeeded();
      expect(limiter.state().rate).toBe(30);
    });

    it('stops at headroom ceiling', () => {
      const limiter = throttledLimiter({ headroom: 0.9 });
      now += 100_000;
      limiter.succeeded();
      expect(limiter.state().rate).toBe(45);
    });

    it('bounds rate for any sequence', async () => {
      const steps = fc.array(
        fc.record({
          advanceMs: fc.integer({ min: 0, max: 4000 }),
          throttled: fc.boolean(),
        }),
        { maxLength: 60 },
      );
      const settings = fc.record({
        limit: fc.integer({ min: 1, max: 500 }),
        headroom: fc.constantFrom(0.8, 0.98, 1),
        increasePerSecond: fc.constantFrom(0.01, 0.05, 0.2),
      });
      await fc.assert(
        fc.asyncProperty(settings, steps, async (options, sequence) => {
          let clock = 0;
          const limiter = new WorkspaceLimiter({ ...OPTIONS, ...options, now: () => clock });
          const ceiling = options.limit * options.headroom;
          const epsilon = 1e-9;
          let lastChangeAt = clock;
          try {
            for (const step of sequence) {
              clock += step.advanceMs;
              const before = limiter.state().rate;
              if (step.throttled) {
                limiter.throttled(0);
                lastChangeAt = clock;
                continue;
              }
              limiter.succeeded();
              const after = limiter.state().rate;
              const allowed =
                (options.limit * options.increasePerSecond * (clock - lastChangeAt)) / 1000;
              expect(after - before).toBeLessThanOrEqual(allowed + epsilon);
              expect(after).toBeLessThanOrEqual(ceiling + epsilon);
              if (after !== before) {
                lastChangeAt = clock;
              }
            }
          } finally {
            await limiter.stop();
          }
        }),
        { numRuns: 100 },
      );
    });
  });
});
