import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { PartitionOffsets } from '@cio-pipeline/kafka';
import type { Workspace } from '@cio-pipeline/runtime';
import { decodePersonHashes, Headers, type DeadLetter } from '@cio-pipeline/schemas';
import { SENDER_CONFIG, type SenderConfig } from '../config/sender-config';
import { DEAD_LETTER_WRITER, DeliveryService } from '../delivery/delivery.service';
import { DeadLetterWriter } from '../delivery/dead-letter.writer';

interface InFlight {
  offset: number;
  workspace: string;
  persons: Set<number>;
  done: Promise<void>;
}

/**
 * Reads batches of one partition and delivers each workspace's batches in a
 * lane of their own, with up to `maxInFlightPerWorkspace` in delivery at
 * once. A batch waits while an earlier one of its workspace about any of the
 * same people is still in flight, so each person's operations reach
 * Customer.io in order, and a waiting batch holds up only its own workspace.
 * The fetched batch is finished, and its offsets committed, before kafkajs
 * hands over the next one or rejoins the group.
 *
 * kafkajs fetches a broker's partitions together and fetches again only when
 * every one of them is finished, so one workspace with a long backlog at a
 * low limit would hold up the others. A call therefore starts deliveries for
 * `roundMs` at most: a lane stops at the first batch that its limiter could
 * not start before then, and what is left is fetched again. Each lane starts
 * at least its first batch, so every call makes progress. Batches delivered
 * past the first unfinished offset are remembered per partition and skipped
 * when fetched again, so they are not sent twice.
 *
 * NOTE: a workspace paused by a 429's Retry-After or by rejected credentials
 * still starts its first batch, which waits out the pause inside the call, so
 * the broker's next fetch waits for that pause too.
 */
@Injectable()
export class BatchesService {
  private readonly logger = new Logger(BatchesService.name);
  private readonly workspaces: Map<string, Workspace>;
  /** Per partition, offsets at or past the committed one whose batches are already delivered. */
  private readonly deliveredAhead = new Map<number, Set<number>>();

  constructor(
    @Inject(SENDER_CONFIG) private readonly config: SenderConfig,
    private readonly delivery: DeliveryService,
    @Inject(DEAD_LETTER_WRITER) private readonly deadLetters: DeadLetterWriter,
  ) {
    this.workspaces = new Map(config.workspaces.map((workspace) => [workspace.siteId, workspace]));
  }

  /** Forgets what was delivered ahead on partitions this consumer no longer owns. */
  retainPartitions(assigned: number[]): void {
    for (const partition of [...this.deliveredAhead.keys()]) {
      if (!assigned.includes(partition)) {
        this.deliveredAhead.delete(partition);
      }
    }
  }

  async consume(payload: EachBatchPayload, consumer: Consumer): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const offsets = new PartitionOffsets();
    const inFlight: InFlight[] = [];
    const roundEndsAt = Date.now() + this.config.roundMs;
    const ahead = this.aheadOf(batch.partition);
    // Lanes that started a batch this round, and lanes that stopped for it.
    const startedLanes = new Set<string>();
    const closedLanes = new Set<string>();
    // The group's position is at the first fetched offset already.
    let committed: number | undefined =
      batch.messages[0] === undefined ? undefined : Number(batch.messages[0].offset);
    forgetBelow(ahead, committed);

    // Offsets are resolved only up to the first unfinished batch: if this
    // call fails, kafkajs fetches again from there instead of skipping it.
    const commit = async (): Promise<void> => {
      const next = offsets.committable();
      if (next === undefined || next === committed) {
        return;
      }
      payload.resolveOffset(String(next - 1));
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(next) },
      ]);
      committed = next;
      forgetBelow(ahead, next);
    };

    // Each workspace's lane starts its batches in partition order; lanes of
    // different workspaces do not wait for each other.
    const lanes = new Map<string, Promise<void>>();
    let failure: { error: unknown } | undefined;
    const stopped = () => failure !== undefined || !payload.isRunning() || payload.isStale();

    for (const message of batch.messages) {
      if (stopped()) {
        break;
      }
      const offset = Number(message.offset);
      if (ahead.has(offset)) {
        // An earlier call delivered it, then ended with an earlier offset unfinished.
        offsets.track(offset, 0);
        continue;
      }
      const persons = new Set(decodePersonHashes(headerOf(message, Headers.personHashes) ?? ''));
      const workspace = headerOf(message, Headers.workspace) ?? '';
      offsets.track(offset);

      const start = async (): Promise<void> => {
        if (stopped() || closedLanes.has(workspace)) {
          return;
        }
        await this.waitForTurn(inFlight, workspace, persons, heartbeat);
        if (stopped()) {
          return;
        }
        if (startedLanes.has(workspace) && this.startsTooLate(workspace, roundEndsAt)) {
          closedLanes.add(workspace);
          return;
        }
        startedLanes.add(workspace);
        const delivered = this.handle(message, batch.topic, batch.partition);
        const entry: InFlight = { offset, workspace, persons, done: delivered };
        // The entry leaves the window once its delivery settles, failed or not.
        // A failure is raised at the end, and waitForTurn observes it through `done`.
        void delivered.then(
          async () => {
            inFlight.splice(inFlight.indexOf(entry), 1);
            offsets.complete(offset);
            ahead.add(offset);
            await commit().catch((error: unknown) => {
              this.logger.warn({
                message: 'offset commit failed',
                error: (error as Error).message,
              });
            });
          },
          (error: unknown) => {
            inFlight.splice(inFlight.indexOf(entry), 1);
            failure ??= { error };
          },
        );
        inFlight.push(entry);
      };
      const lane = (lanes.get(workspace) ?? Promise.resolve())
        .then(start)
        .catch((error: unknown) => {
          failure ??= { error };
        });
      lanes.set(workspace, lane);
    }

    // Every delivery settles before this call ends, failed or not: kafkajs
    // fetches again from the first unfinished offset, and a batch still in
    // flight from this call could otherwise overtake its own repeat.
    await Promise.all(lanes.values());
    await this.waitForAll(inFlight, heartbeat);
    if (failure !== undefined) {
      throw failure.error;
    }
    await commit();
  }

  /** Returns whether a batch of `siteId` handed to its limiter now would start after `roundEndsAt`. */
  private startsTooLate(siteId: string, roundEndsAt: number): boolean {
    const workspace = this.workspaces.get(siteId);
    const delayMs = workspace === undefined ? 0 : this.delivery.limiterOf(workspace).startDelayMs();
    return Date.now() + delayMs >= roundEndsAt;
  }

  private aheadOf(partition: number): Set<number> {
    let ahead = this.deliveredAhead.get(partition);
    if (ahead === undefined) {
      ahead = new Set();
      this.deliveredAhead.set(partition, ahead);
    }
    return ahead;
  }

  private async handle(message: KafkaMessage, topic: string, partition: number): Promise<void> {
    const siteId = headerOf(message, Headers.workspace);
    const source = { topic, partition, offset: message.offset };
    const workspace = siteId === undefined ? undefined : this.workspaces.get(siteId);
    const body = message.value ?? Buffer.alloc(0);
    if (workspace === undefined) {
      await this.deadLetterUnknown(siteId, body, source);
      return;
    }
    const operationCount = Number(headerOf(message, Headers.operationCount) ?? '0');
    const oldestAcceptedAt = Number(headerOf(message, Headers.oldestAcceptedAt));
    const requestIds = headerOf(message, Headers.requestIds);
    await this.delivery.deliver({
      workspace,
      body,
      operationCount,
      source,
      ...(Number.isFinite(oldestAcceptedAt) ? { oldestAcceptedAt } : {}),
      ...(requestIds === undefined || requestIds === ''
        ? {}
        : { requestIds: requestIds.split(',') }),
      batchId: headerOf(message, Headers.batchId) ?? `${topic}/${partition}/${message.offset}`,
    });
  }

  /** No credentials for the workspace: nothing can deliver it until one is configured. */
  private async deadLetterUnknown(
    siteId: string | undefined,
    body: Buffer,
    source: DeadLetter['source'],
  ) {
    let operations: unknown[];
    try {
      operations = (JSON.parse(body.toString('utf8')) as { batch: unknown[] }).batch;
    } catch {
      operations = [body.toString('utf8')];
    }
    this.logger.error({
      message: 'batch for a workspace with no credentials dead-lettered',
      workspace: siteId,
    });
    const error = {
      reason: 'unknown_workspace',
      message: `no credentials configured for workspace ${siteId ?? '(none)'}: add it to CIO_WORKSPACES and replay`,
    };
    await this.deadLetters.write(
      operations.map((operation) => ({
        workspace: siteId,
        operation,
        error,
        attempts: 0,
        failedAt: Date.now(),
        stage: 'sender' as const,
        source,
      })),
    );
  }

  private async waitForTurn(
    inFlight: InFlight[],
    workspace: string,
    persons: Set<number>,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    for (;;) {
      const ownLane = inFlight.filter((other) => other.workspace === workspace);
      const blocking = ownLane.filter((other) => overlaps(other.persons, persons));
      if (ownLane.length < this.config.maxInFlightPerWorkspace && blocking.length === 0) {
        return;
      }
      const waitFor =
        blocking.length > 0
          ? blocking.map((other) => other.done)
          : ownLane.map((other) => other.done);
      await this.raceHeartbeat(Promise.race(waitFor), heartbeat);
    }
  }

  /** Waits until every delivery in flight has settled, whether it succeeded or failed. */
  private async waitForAll(inFlight: InFlight[], heartbeat: () => Promise<void>): Promise<void> {
    while (inFlight.length > 0) {
      await this.raceHeartbeat(Promise.allSettled(inFlight.map((entry) => entry.done)), heartbeat);
    }
  }

  /** Waits for `work`, sending a heartbeat every few seconds so a slow Customer.io causes no rebalance. */
  private async raceHeartbeat(
    work: Promise<unknown>,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const done = work.then(() => true);
    for (;;) {
      const finished = await Promise.race([done, sleep(1000).then(() => false)]);
      if (finished) {
        return;
      }
      await heartbeat().catch((error: unknown) => {
        this.logger.warn({ message: 'heartbeat failed', error: (error as Error).message });
      });
    }
  }
}

function forgetBelow(offsets: Set<number>, bound: number | undefined): void {
  if (bound === undefined) {
    return;
  }
  for (const offset of offsets) {
    if (offset < bound) {
      offsets.delete(offset);
    }
  }
}

function overlaps(a: Set<number>, b: Set<number>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const value of small) {
    if (large.has(value)) {
      return true;
    }
  }
  return false;
}

function headerOf(message: KafkaMessage, name: string): string | undefined {
  const value = message.headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
