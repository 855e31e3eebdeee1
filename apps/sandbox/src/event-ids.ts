/**
 * Event ids seen by one workspace. A Set in Node 20 raises "Set maximum size exceeded"
 * at 2^24 entries, so the ids are spread over several Sets of at most `shardSize` each.
 */
export class EventIdSet {
  private readonly shards: Set<string>[] = [new Set()];
  private total = 0;

  constructor(private readonly shardSize = 8_000_000) {}

  get size(): number {
    return this.total;
  }

  /** Adds the id and returns true, or returns false when the id was already present. */
  addIfAbsent(id: string): boolean {
    for (const shard of this.shards) {
      if (shard.has(id)) {
        return false;
      }
    }
    let last = this.shards[this.shards.length - 1];
    if (last === undefined || last.size >= this.shardSize) {
      last = new Set();
      this.shards.push(last);
    }
    last.add(id);
    this.total += 1;
    return true;
  }

  clear(): void {
    this.shards.length = 0;
    this.shards.push(new Set());
    this.total = 0;
  }
}
