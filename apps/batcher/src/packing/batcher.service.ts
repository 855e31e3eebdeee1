import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { PartitionOffsets } from '@cio-pipeline/kafka';
import {
  checkOperation,
  checkOperationLine,
  decodeOperationsMessage,
  DEFAULT_TRACK_LIMITS,
  encodePersonHashes,
  hashPerson,
  Headers,
  personKeyOf,
  UlidFactory,
  type DeadLetter,
  type DecodedEnvelope,
  type FieldError,
  type LinesEnvelope,
  type Operation,
  type OperationEnvelope,
  type TrackLimits,
} from '@cio-pipeline/schemas';
import { BATCHER_CONFIG, type BatcherConfig } from '../config/batcher-config';
import { batcherMetrics } from '../metrics/batcher-metrics';
import { OrderedWriter } from '../output/ordered-writer';
import { BatchBuffer, type PackedBatch, type Source } from './batch-buffer';
import { LaneSplitter } from './lanes';

export const BATCH_WRITER = Symbol('BATCH_WRITER');

interface OpenBatch {
  buffer: BatchBuffer;
  timer: NodeJS.Timeout;
}

interface PartitionOffset {
  partition: number;
  offset: number;
}

/**
 * Packs operations into `/api/v2/batch` bodies per workspace. A batch is
 * written when the next operation would not fit or when its first operation
 * has waited `lingerMs`. Operations in the lines format are copied into the
 * body unparsed, because the gateway checked them. Those in the JSON format
 * are checked in full first. An input offset is committed only after every
 * operation at or before it is in a written batch or in the dead-letter topic.
 */
@Injectable()
export class BatcherService {
  private readonly logger = new Logger(BatcherService.name);
  /** Each workspace's open batches by lane, in the order they were opened. */
  private readonly open = new Map<string, Map<number, OpenBatch>>();
  private readonly lanes: LaneSplitter;
  private readonly offsets = new Map<number, PartitionOffsets>();
  private readonly committed = new Map<number, number>();
  private readonly limits: TrackLimits;
  private bufferedBytes = 0;
  private commitScheduled = false;
  /** The commit in progress. At most one runs, so commits cannot pile up at the coordinator. */
  private committing: Promise<void> | undefined;
  /** Whether offsets became committable while `committing` ran. */
  private commitPending = false;
  /** Whether the last commit request failed, so that its offsets are still uncommitted. */
  private lastCommitFailed = false;
  /** The timer that tries a failed commit again when no written batch does so first. */
  private commitRetry: NodeJS.Timeout | undefined;
  private commitRetryDelayMs = COMMIT_RETRY_MIN_MS;
  /** Calls of `flushAll` in progress, which retry the last commit themselves. */
  private flushes = 0;
  private commitFn: ((offsets: PartitionOffset[]) => Promise<void>) | undefined;
  readonly stats = { batches: 0, operations: 0, bytes: 0, deadLetters: 0 };

  constructor(
    @Inject(BATCHER_CONFIG) private readonly config: BatcherConfig,
    @Inject(BATCH_WRITER) private readonly writer: OrderedWriter,
  ) {
    this.limits = { ...DEFAULT_TRACK_LIMITS, maxOperationBytes: config.maxOperationBytes };
    this.lanes = new LaneSplitter({
      windowMs: config.lingerMs,
      fullBatchBytes: config.maxBatchBytes,
      maxLanes: config.maxLanes,
      onChange: (workspace, lanes) => {
        this.logger.debug({ message: 'lane count changed', workspace, lanes });
        batcherMetrics.lanes.set({ workspace }, lanes);
        this.flushWorkspace(workspace);
      },
    });
  }

  /** Handles one fetched batch of the operations topic. */
  async consume(payload: EachBatchPayload, consumer: Consumer): Promise<void> {
    const { batch } = payload;
    const partition = batch.partition;
    const heartbeat = () => payload.heartbeat();
    this.commitFn = (offsets) =>
      consumer.commitOffsets(
        offsets.map(({ partition: p, offset }) => ({
          topic: batch.topic,
          partition: p,
          offset: String(offset),
        })),
      );

    for (const message of batch.messages) {
      if (!payload.isRunning() || payload.isStale()) {
        break;
      }
      await this.waitForRoom(heartbeat);
      const offset = Number(message.offset);
      const tracker = this.offsetsOf(partition, offset);
      const source = { partition, offset, tracker };
      const decoded = decodeOperationsMessage(message.value ?? Buffer.alloc(0));
      // Every operation, or the one dead letter of a bad envelope, completes one part.
      const parts = decoded.reduce(
        (sum, entry) => sum + (entry.ok ? entry.envelope.operations.length : 1),
        0,
      );
      tracker.track(offset, parts);
      for (const entry of decoded) {
        this.add(entry, source, batch.topic, message.offset);
      }
      payload.resolveOffset(message.offset);
    }
    await heartbeat();
  }

  /** Writes every buffered batch and waits until Kafka has them; used on shutdown. */
  async flushAll(): Promise<void> {
    this.flushes += 1;
    this.cancelCommitRetry();
    try {
      for (const workspace of [...this.open.keys()]) {
        this.flushWorkspace(workspace);
      }
      await this.writer.idle();
      await this.commit();
      // No later commit would cover a failed last one, and the next owner of the partitions
      // would write those batches again, so it is retried a few times.
      for (let attempt = 1; this.lastCommitFailed && attempt <= FINAL_COMMIT_RETRIES; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, FINAL_COMMIT_BACKOFF_MS * attempt));
        await this.commit();
      }
    } finally {
      this.flushes -= 1;
    }
  }

  /** Forgets partitions this consumer no longer owns after a rebalance. */
  retainPartitions(assigned: number[]): void {
    for (const partition of [...this.offsets.keys()]) {
      if (!assigned.includes(partition)) {
        this.offsets.delete(partition);
        this.committed.delete(partition);
      }
    }
  }

  /** Returns how many batches of the workspace are filled at once. */
  lanesOf(workspace: string): number {
    return this.lanes.lanesOf(workspace);
  }

  bufferedByteCount(): number {
    return this.bufferedBytes;
  }

  /** Adds a message's operations to their workspace's batch, or dead-letters them. */
  private add(decoded: DecodedEnvelope, source: Source, topic: string, offset: string): void {
    if (!decoded.ok) {
      const { workspace, content, message } = decoded;
      const error = { reason: 'invalid_message', message };
      const letter = {
        workspace,
        operation: content,
        error,
        attempts: 0,
        stage: 'batcher' as const,
      };
      this.deadLetter(letter, source, topic, offset);
    } else if (decoded.format === 'lines') {
      this.addLines(decoded.envelope, source, topic, offset);
    } else {
      this.addJson(decoded.envelope, source, topic, offset);
    }
  }

  private addLines(envelope: LinesEnvelope, source: Source, topic: string, offset: string): void {
    const { workspace, acceptedAt, operations, persons, requestId } = envelope;
    operations.forEach((text, index) => {
      const checked = checkOperationLine(text, this.limits);
      if (checked.ok) {
        const secondaryHash = secondaryHashOfLine(text);
        const personHash = persons[index] ?? 0;
        this.append(workspace, text, personHash, acceptedAt, source, requestId, secondaryHash);
      } else {
        this.rejectOperation(workspace, lineContent(text), checked.error, source, topic, offset);
      }
    });
  }

  private addJson(
    envelope: OperationEnvelope,
    source: Source,
    topic: string,
    offset: string,
  ): void {
    const { workspace, acceptedAt, operations, requestId } = envelope;
    for (const operation of operations) {
      const checked = checkOperation(operation, { limits: this.limits });
      if (checked.ok) {
        const text = Buffer.from(checked.value.serialized, 'utf8');
        const personHash = hashPerson(personKeyOf(checked.value.operation));
        const secondaryHash = secondaryHashOf(checked.value.operation);
        this.append(workspace, text, personHash, acceptedAt, source, requestId, secondaryHash);
      } else {
        this.rejectOperation(workspace, operation, checked.error, source, topic, offset);
      }
    }
  }

  /**
   * Adds an operation to its lane's batch. A merge's batch also carries its
   * secondary person's hash, so the sender orders it against that person's
   * batches too. With more than one lane, the open batches are written
   * before a merge and its own batch right after it, because its two people
   * may be in different lanes.
   */
  private append(
    workspace: string,
    text: Buffer,
    personHash: number,
    acceptedAt: number,
    source: Source,
    requestId: string,
    secondaryHash: number | undefined,
  ): void {
    const lane = this.lanes.laneOf(workspace, personHash, text.length);
    const isolate = secondaryHash !== undefined && this.lanes.lanesOf(workspace) > 1;
    if (isolate) {
      this.flushWorkspace(workspace);
    }
    const buffer = this.bufferFor(workspace, lane, text.length);
    const before = buffer.bytes;
    buffer.add(text, personHash, acceptedAt, source, requestId, secondaryHash);
    this.bufferedBytes += buffer.bytes - before;
    if (isolate) {
      this.flushWorkspace(workspace);
    }
  }

  private rejectOperation(
    workspace: string,
    operation: unknown,
    { reason, message, field }: FieldError,
    source: Source,
    topic: string,
    offset: string,
  ): void {
    const error = { reason, message, field };
    this.deadLetter(
      { workspace, operation, error, attempts: 0, stage: 'batcher' },
      source,
      topic,
      offset,
    );
  }

  /** Returns the lane's open batch, writing the current one first when `bytes` would not fit. */
  private bufferFor(workspace: string, lane: number, bytes: number): BatchBuffer {
    const current = this.open.get(workspace)?.get(lane);
    if (current?.buffer.fits(bytes)) {
      return current.buffer;
    }
    if (current !== undefined) {
      this.flush(workspace, lane);
    }
    const buffer = new BatchBuffer(workspace, this.config.maxBatchBytes);
    const timer = setTimeout(() => {
      this.flush(workspace, lane);
    }, this.config.lingerMs);
    let lanes = this.open.get(workspace);
    if (lanes === undefined) {
      lanes = new Map();
      this.open.set(workspace, lanes);
    }
    lanes.set(lane, { buffer, timer });
    return buffer;
  }

  /** Writes the workspace's open batches in the order they were opened. */
  private flushWorkspace(workspace: string): void {
    for (const lane of [...(this.open.get(workspace)?.keys() ?? [])]) {
      this.flush(workspace, lane);
    }
  }

  private flush(workspace: string, lane: number): void {
    const lanes = this.open.get(workspace);
    const entry = lanes?.get(lane);
    if (lanes === undefined || entry === undefined) {
      return;
    }
    clearTimeout(entry.timer);
    lanes.delete(lane);
    if (lanes.size === 0) {
      this.open.delete(workspace);
    }
    const buffer = entry.buffer;
    if (buffer.count === 0) {
      return;
    }
    const batch = buffer.take();
    this.bufferedBytes -= batch.body.length;
    this.writer.write(
      this.config.kafka.topics.batches.name,
      toMessage(batch),
      batch.body.length,
      () => {
        batcherMetrics.batches.inc({ workspace: batch.workspace });
        batcherMetrics.batchBytes.observe(batch.body.length);
        batcherMetrics.batchOperations.observe(batch.operationCount);
        this.stats.batches += 1;
        this.stats.operations += batch.operationCount;
        this.stats.bytes += batch.body.length;
        this.completeSources(batch.sources);
      },
    );
  }

  private deadLetter(
    letter: Omit<DeadLetter, 'source' | 'failedAt'>,
    source: Source,
    topic: string,
    offset: string,
  ): void {
    const full: DeadLetter = {
      ...letter,
      failedAt: Date.now(),
      source: { topic, partition: source.partition, offset },
    };
    this.logger.warn({
      message: 'operation dead-lettered',
      workspace: letter.workspace,
      reason: letter.error.reason,
      detail: letter.error.message,
      partition: source.partition,
      offset,
    });
    const value = JSON.stringify(full);
    const headers: Record<string, string> = { [Headers.attempts]: '0' };
    if (letter.workspace !== undefined) {
      headers[Headers.workspace] = letter.workspace;
    }
    this.writer.write(
      this.config.kafka.topics.deadLetters.name,
      { key: letter.workspace ?? null, value, headers },
      value.length,
      () => {
        batcherMetrics.deadLetters.inc({ reason: letter.error.reason });
        this.stats.deadLetters += 1;
        this.completeSources([source]);
      },
    );
  }

  private completeSources(sources: Source[]): void {
    for (const { offset, tracker } of sources) {
      tracker.complete(offset);
    }
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(() => {
        this.commitScheduled = false;
        void this.commit();
      });
    }
  }

  /**
   * Commits every partition's committable offset, then again while offsets
   * became committable meanwhile. A call during a commit waits for that one
   * and the next. Kafka serves one request per connection at a time, and
   * the consumer's heartbeats share the connection, so one commit per
   * written batch (hundreds a second) delayed heartbeats, and with them
   * consumption, by up to seconds.
   */
  private commit(): Promise<void> {
    this.commitPending = true;
    this.committing ??= this.commitWhilePending();
    return this.committing;
  }

  private async commitWhilePending(): Promise<void> {
    try {
      while (this.commitPending) {
        this.commitPending = false;
        await this.commitOnce();
      }
    } finally {
      // In the same step as the last check of commitPending, so that a commit() call after
      // that check starts a new loop instead of waiting for this one.
      this.committing = undefined;
    }
  }

  /** Commits the offsets not committed yet, all partitions in one request. */
  private async commitOnce(): Promise<void> {
    const commit = this.commitFn;
    if (commit === undefined) {
      return;
    }
    const offsets: PartitionOffset[] = [];
    for (const [partition, tracker] of this.offsets) {
      const next = tracker.committable();
      if (next !== undefined && next !== this.committed.get(partition)) {
        offsets.push({ partition, offset: next });
      }
    }
    if (offsets.length === 0) {
      // Nothing owned is left uncommitted, for example after a rebalance took the partitions.
      this.clearCommitFailure();
      return;
    }
    try {
      await commit(offsets);
      this.clearCommitFailure();
      for (const { partition, offset } of offsets) {
        // Skips a partition lost to a rebalance during the commit.
        if (this.offsets.has(partition)) {
          this.committed.set(partition, offset);
        }
      }
    } catch (error) {
      // A rebalance can reject a commit. The next commit, the retry timer or the new owner
      // covers it.
      this.lastCommitFailed = true;
      const retryInMs = this.scheduleCommitRetry();
      this.logger.warn({
        message: 'offset commit failed',
        offsets: offsets.map(({ partition, offset }) => `${partition}:${offset}`).join(','),
        error: (error as Error).message,
        retryInMs,
      });
    }
  }

  private clearCommitFailure(): void {
    this.lastCommitFailed = false;
    this.cancelCommitRetry();
    this.commitRetryDelayMs = COMMIT_RETRY_MIN_MS;
  }

  /**
   * Tries a failed commit again after a delay that doubles up to 30 s, so
   * that an idle batcher does not leave written batches uncommitted, which
   * the next owner of the partitions would write again. Returns the delay,
   * or undefined when a retry is already scheduled or `flushAll` retries.
   */
  private scheduleCommitRetry(): number | undefined {
    if (this.flushes > 0 || this.commitRetry !== undefined) {
      return undefined;
    }
    const delayMs = this.commitRetryDelayMs;
    this.commitRetryDelayMs = Math.min(delayMs * 2, COMMIT_RETRY_MAX_MS);
    this.commitRetry = setTimeout(() => {
      this.commitRetry = undefined;
      if (this.lastCommitFailed && this.flushes === 0) {
        void this.commit();
      }
    }, delayMs);
    this.commitRetry.unref();
    return delayMs;
  }

  private cancelCommitRetry(): void {
    clearTimeout(this.commitRetry);
    this.commitRetry = undefined;
  }

  /**
   * Returns the partition's tracker, anew when `offset` is not past the last
   * one tracked: kafkajs went back to the committed offset after a rebalance,
   * so the messages from there on are read again and tracked afresh.
   */
  private offsetsOf(partition: number, offset: number): PartitionOffsets {
    let offsets = this.offsets.get(partition);
    if (offsets === undefined || !offsets.isAfterTracked(offset)) {
      offsets = new PartitionOffsets();
      this.offsets.set(partition, offsets);
    }
    return offsets;
  }

  private async waitForRoom(heartbeat: () => Promise<void>): Promise<void> {
    while (this.bufferedBytes + this.writer.pendingBytes > this.config.maxBufferedBytes) {
      await heartbeat();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

const MERGE_ACTION = Buffer.from('"action":"merge"', 'utf8');
/** Retries of the commit that `flushAll` makes last, waiting 250, 500 and 750 ms. */
const FINAL_COMMIT_RETRIES = 3;
const FINAL_COMMIT_BACKOFF_MS = 250;
/** Wait before the first retry of a failed commit while running. */
const COMMIT_RETRY_MIN_MS = 1000;
/** Maximum wait between retries of a failed commit while running. */
const COMMIT_RETRY_MAX_MS = 30_000;

/** Returns the person hash of a merge's secondary, or undefined for any other operation. */
function secondaryHashOf(operation: Operation): number | undefined {
  if (operation.action !== 'merge' || operation.secondary === undefined) {
    return undefined;
  }
  const { type, secondary } = operation;
  return hashPerson(personKeyOf({ type, action: 'identify', identifiers: secondary }));
}

/** Returns `secondaryHashOf` a line, parsing only lines that may be merges. */
function secondaryHashOfLine(text: Buffer): number | undefined {
  if (!text.includes(MERGE_ACTION)) {
    return undefined;
  }
  try {
    return secondaryHashOf(JSON.parse(text.toString('utf8')) as Operation);
  } catch {
    return undefined;
  }
}

/** Returns a rejected line as the replay command needs it: parsed when it is JSON, else its text. */
function lineContent(text: Buffer): unknown {
  const content = text.toString('utf8');
  try {
    return JSON.parse(content) as unknown;
  } catch {
    return content;
  }
}

const batchIds = new UlidFactory();

function toMessage(batch: PackedBatch) {
  return {
    key: batch.workspace,
    value: batch.body,
    headers: {
      [Headers.workspace]: batch.workspace,
      [Headers.operationCount]: String(batch.operationCount),
      [Headers.personHashes]: encodePersonHashes(batch.personHashes),
      [Headers.oldestAcceptedAt]: String(batch.oldestAcceptedAt),
      [Headers.batchId]: batchIds.next(),
      [Headers.requestIds]: batch.requestIds.join(','),
    },
  };
}
