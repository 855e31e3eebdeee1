/**
 * Timestamps in ms of the events in the last `windowMs`, kept in a ring buffer that
 * doubles when full. Timestamps must be added in non-decreasing order.
 */
export class SlidingWindow {
  private times: Float64Array;
  private head = 0;
  private size = 0;

  constructor(
    private readonly windowMs = 1000,
    initialCapacity = 16,
  ) {
    this.times = new Float64Array(initialCapacity);
  }

  /** Drops timestamps at or before `now - windowMs` and returns the number in (now - windowMs, now]. */
  count(now: number): number {
    const cutoff = now - this.windowMs;
    const capacity = this.times.length;
    while (this.size > 0 && (this.times[this.head] ?? Infinity) <= cutoff) {
      this.head = (this.head + 1) % capacity;
      this.size -= 1;
    }
    return this.size;
  }

  add(now: number): void {
    if (this.size === this.times.length) {
      this.grow();
    }
    this.times[(this.head + this.size) % this.times.length] = now;
    this.size += 1;
  }

  clear(): void {
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const capacity = this.times.length;
    const grown = new Float64Array(capacity * 2);
    for (let i = 0; i < this.size; i += 1) {
      grown[i] = this.times[(this.head + i) % capacity] ?? 0;
    }
    this.times = grown;
    this.head = 0;
  }
}
