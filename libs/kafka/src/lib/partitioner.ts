const MURMUR2_SEED = 0x9747b28c;
const MURMUR2_M = 0x5bd1e995;

/**
 * Kafka's murmur2 hash of `data` as a signed 32-bit integer: the hash the
 * Java client's default partitioner and kafkajs's DefaultPartitioner use for
 * keyed messages, computed with 32-bit integer arithmetic.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const whole = length & ~3;
  let h = MURMUR2_SEED ^ length;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] ?? 0) |
      ((data[i + 1] ?? 0) << 8) |
      ((data[i + 2] ?? 0) << 16) |
      ((data[i + 3] ?? 0) << 24);
    k = Math.imul(k, MURMUR2_M);
    k ^= k >>> 24;
    k = Math.imul(k, MURMUR2_M);
    h = Math.imul(h, MURMUR2_M) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) {
    h ^= (data[whole + 2] ?? 0) << 16;
  }
  if (tail >= 2) {
    h ^= (data[whole + 1] ?? 0) << 8;
  }
  if (tail >= 1) {
    h ^= data[whole] ?? 0;
    h = Math.imul(h, MURMUR2_M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, MURMUR2_M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Returns the partition that kafkajs's DefaultPartitioner chooses for a
 * message with key `key` and no explicit partition, among `partitionCount`.
 */
export function partitionForKey(key: string, partitionCount: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitionCount;
}
