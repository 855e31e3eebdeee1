/**
 * Tracks which offsets of one partition are still being processed, so the
 * committed offset never passes a message whose output is not yet written.
 * Offsets are tracked in increasing order and may complete in any order.
 */
export class PartitionOffsets {
  private readonly order: number[] = [];
  private head = 0;
  private readonly remaining = new Map<number, number>();
  private highest = -1;

  /** Marks `offset` as holding `parts` units of work (operations, requests). */
  track(offset: number, parts = 1): void {
    if (offset <= this.highest) {
      throw new Error(`offset ${offset} tracked after ${this.highest}: offsets must increase`);
    }
    this.highest = offset;
    if (parts <= 0) {
      return;
    }
    this.order.push(offset);
    this.remaining.set(offset, parts);
  }

  /** Returns whether `offset` comes after every offset tracked so far. */
  isAfterTracked(offset: number): boolean {
    return offset > this.highest;
  }

  /** Marks `parts` units of `offset` as done. */
  complete(offset: number, parts = 1): void {
    const left = this.remaining.get(offset);
    if (left === undefined) {
      return;
    }
    if (left <= parts) {
      this.remaining.delete(offset);
    } else {
      this.remaining.set(offset, left - parts);
    }
  }

  /** Returns the offset to commit (the next one to read), or undefined before any was tracked. */
  committable(): number | undefined {
    while (this.head < this.order.length && !this.remaining.has(this.order[this.head] ?? -1)) {
      this.head += 1;
    }
    if (this.head > 1024) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    const first = this.order[this.head];
    if (first !== undefined) {
      return first;
    }
    return this.highest < 0 ? undefined : this.highest + 1;
  }

  pendingCount(): number {
    return this.remaining.size;
  }
}
