import { type ConfigProblem, type FaultsConfig, validateFaults } from './config';
import { createRandom } from './random';

export const INJECTED_ERROR_STATUSES = [500, 502, 503, 504] as const;
export type InjectedErrorStatus = (typeof INJECTED_ERROR_STATUSES)[number];

/** Fault applied to one Track API request, before or instead of handling it. */
export type FaultDecision =
  | { kind: 'none' }
  | { kind: 'hang' }
  | { kind: 'error'; status: InjectedErrorStatus }
  | { kind: 'throttle' };

/** Body of `POST /__sandbox/faults`: the settings to change, plus an optional new seed. */
export type FaultsUpdate = Partial<FaultsConfig> & { seed?: number };

/** Current fault settings as returned by the control routes. */
export interface FaultsView {
  latencyMs: number;
  latencyJitterMs: number;
  errorRate: number;
  throttleRate: number;
  hangRate: number;
  /** Remaining time in ms during which Track API connections are closed without a response, 0 when up. */
  downRemainingMs: number;
  seed: number;
}

/**
 * Fault settings and the seeded generator that applies them. Each request draws one number
 * to choose between hang, 5xx, 429 and no fault, so the shares are exclusive. A 5xx draws
 * again for its status, and latency draws once more when jitter is set.
 */
export class FaultInjector {
  private settings: FaultsConfig;
  private seed: number;
  private random: () => number;
  private downUntil: number;

  constructor(
    settings: FaultsConfig,
    seed: number,
    private readonly now: () => number,
  ) {
    this.settings = { ...settings };
    this.seed = seed;
    this.random = createRandom(seed);
    this.downUntil = settings.downForMs > 0 ? now() + settings.downForMs : 0;
  }

  view(): FaultsView {
    return {
      latencyMs: this.settings.latencyMs,
      latencyJitterMs: this.settings.latencyJitterMs,
      errorRate: this.settings.errorRate,
      throttleRate: this.settings.throttleRate,
      hangRate: this.settings.hangRate,
      downRemainingMs: Math.max(0, Math.ceil(this.downUntil - this.now())),
      seed: this.seed,
    };
  }

  /**
   * Applies the given settings and leaves the others unchanged. `downForMs` starts a new
   * down period from now (0 ends it), and `seed` restarts the generator. Returns the
   * problems and changes nothing when the result would be invalid.
   */
  update(change: FaultsUpdate): ConfigProblem[] {
    const { seed, ...settings } = change;
    const next: FaultsConfig = { ...this.settings, ...settings };
    const problems = validateFaults(next);
    if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff)) {
      problems.push({ field: 'seed', value: seed, expected: 'an integer from 0 to 4294967295' });
    }
    if (problems.length > 0) {
      return problems;
    }
    this.settings = next;
    if (settings.downForMs !== undefined) {
      this.downUntil = settings.downForMs > 0 ? this.now() + settings.downForMs : 0;
    }
    if (seed !== undefined) {
      this.seed = seed;
      this.random = createRandom(seed);
    }
    return [];
  }

  isDown(now: number): boolean {
    return now < this.downUntil;
  }

  decide(): FaultDecision {
    const { hangRate, errorRate, throttleRate } = this.settings;
    if (hangRate === 0 && errorRate === 0 && throttleRate === 0) {
      return { kind: 'none' };
    }
    const draw = this.random();
    if (draw < hangRate) {
      return { kind: 'hang' };
    }
    if (draw < hangRate + errorRate) {
      const index = Math.floor(this.random() * INJECTED_ERROR_STATUSES.length);
      return { kind: 'error', status: INJECTED_ERROR_STATUSES[index] ?? 500 };
    }
    if (draw < hangRate + errorRate + throttleRate) {
      return { kind: 'throttle' };
    }
    return { kind: 'none' };
  }

  /** Returns the delay for the next response in ms: the latency plus a uniform draw of up to the jitter. */
  nextLatencyMs(): number {
    const { latencyMs, latencyJitterMs } = this.settings;
    if (latencyJitterMs === 0) {
      return latencyMs;
    }
    return latencyMs + Math.floor(this.random() * (latencyJitterMs + 1));
  }
}
