import type { Admin } from 'kafkajs';

/** High and low watermarks of a partition, as kafkajs's fetchTopicOffsets returns them. */
export interface PartitionWatermarks {
  partition: number;
  high: string;
  low: string;
}

/** A group's committed offset of a partition; `-1` when it committed none. */
export interface CommittedOffset {
  partition: number;
  offset: string;
}

/**
 * Messages a consumer group has not committed yet, summed over partitions.
 * A partition without a committed offset counts from its low watermark.
 */
export function computeLag(
  watermarks: readonly PartitionWatermarks[],
  committed: readonly CommittedOffset[],
): number {
  let lag = 0;
  for (const partition of watermarks) {
    const offset = committed.find((entry) => entry.partition === partition.partition)?.offset;
    const from =
      offset === undefined || Number(offset) < 0 ? Number(partition.low) : Number(offset);
    lag += Math.max(0, Number(partition.high) - from);
  }
  return lag;
}

/** Reads a consumer group's lag on one topic from the broker. */
export async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const watermarks = await admin.fetchTopicOffsets(topic);
  const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return computeLag(watermarks, offsets?.partitions ?? []);
}
