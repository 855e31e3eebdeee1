import { Inject, Injectable, Logger } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { PartitionOffsets } from '@cio-pipeline/kafka';
import type { Workspace } from '@cio-pipeline/runtime';
import { decodePersonHashes, Headers, type DeadLetter } from '@cio-pipeline/schemas';
import { SENDER_CONFIG, type SenderConfig } from '../config/sender-config';
import { DEAD_LETTER_WRITER, DeliveryService, HandedBackError } from '../delivery/delivery.service';
import { DeadLetterWriter } from '../delivery/dead-letter.writer';

interface InFlight {
  offset: number;
  workspace: string;
  persons: Set<number>;
  done: Promise<void>;
  /** False while the batch waits for an earlier one about the same people. */
  handedOver: boolean;
}

/** The state of a partition this consumer owns, kept from one fetch to the next. */
interface PartitionState {
  /** Every fetched offset; an offset is complete once delivered or dead-lettered. */
  offsets: PartitionOffsets;
  /** Deliveries started and not settled yet, in start order. */
  inFlight: InFlight[];
  /** The offset this sender committed last, or the group's position at the first fetch. */
  committed: number | undefined;
  /** The commit in progress; commits of one partition run one at a time, in order. */
  committing: Promise<void>;
  /** The first delivery failure; it ends the partition's next call. */
  failure: { error: unknown } | undefined;
  /** Set once the partition is revoked, so that late deliveries commit nothing. */
  revoked: boolean;
}

/**
 * How long before the end of its round a call returns when a lane still has
 * work queued in its limiter, so that kafkajs's next fetch arrives before
 * that work runs out. An estimate: fetches of two 16 MB partitions took 40 to
 * 85 ms in a timing trace on a 2-core machine.
 */
const FETCH_LEAD_MS = 250;

/**
 * Reads batches of one partition and delivers each workspace's batches in a
 * lane of their own, with up to `maxInFlightPerWorkspace` in delivery at
 * once. A batch waits while an earlier one of its workspace about any of the
 * same people is still in flight, so each person's operations reach
 * Customer.io in order, and a waiting batch holds up only its own workspace.
 *
 * kafkajs fetches a broker's partitions together and fetches again only when
 * every one of them is finished, so one workspace with a long backlog at a
 * low limit would hold up the others. A call therefore hands each lane the
 * batches its limiter can start within `roundMs`, and returns shortly before
 * that work runs out. Deliveries go on while kafkajs fetches again, so a
 * limiter does not wait for a fetch. The next call skips the batches that
 * are delivered or in delivery, and an offset is committed once every batch
 * before it is delivered or dead-lettered.
 *
 * When this consumer learns of a rebalance, deliveries whose request has not
 * started are handed back: they stay uncommitted, and the partition's owner
 * after the rebalance sends them.
 * NOTE: a request already sent when the group rebalances runs to its end, so
 * one that lasts longer than the new owner's hold after a rebalance can
 * reach Customer.io after that owner's first requests.
 */
@Injectable()
export class BatchesService {
  private readonly logger = new Logger(BatchesService.name);
  private readonly workspaces: Map<string, Workspace>;
  private readonly partitions = new Map<number, PartitionState>();
  /**
   * The in-flight lists of dropped partition states, by partition. Their
   * deliveries remove themselves from these lists as they settle.
   */
  private readonly leftovers = new Map<number, InFlight[][]>();
  /** Aborted when a rebalance begins, which hands back the deliveries not started. */
  private generation = newGeneration();
  private closing = false;

  constructor(
    @Inject(SENDER_CONFIG) private readonly config: SenderConfig,
    private readonly delivery: DeliveryService,
    @Inject(DEAD_LETTER_WRITER) private readonly deadLetters: DeadLetterWriter,
  ) {
    this.workspaces = new Map(config.workspaces.map((workspace) => [workspace.siteId, workspace]));
  }

  /** Hands back every delivery whose request has not started: the group is rebalancing. */
  handBack(): void {
    this.generation.abort();
    this.generation = newGeneration();
  }

  /**
   * Starts a new group generation after a join. Hands back what has not
   * started and drops the state of the partitions this consumer no longer
   * owns, whose late deliveries commit nothing.
   */
  retainPartitions(assigned: number[]): void {
    this.handBack();
    for (const partition of [...this.partitions.keys()]) {
      if (!assigned.includes(partition)) {
        this.dropState(partition);
      }
    }
  }

  /** Ends new starts for shutdown, then waits as `finishInFlight` does. */
  async close(): Promise<void> {
    this.closing = true;
    this.handBack();
    await this.finishInFlight();
  }

  /** Resolves once every delivery already started has settled and its commit request has finished. */
  async finishInFlight(): Promise<void> {
    for (;;) {
      const states = [...this.partitions.values()];
      const pending = [
        ...states.flatMap((state) => state.inFlight),
        ...[...this.leftovers.values()].flat(2),
      ];
      if (pending.length === 0) {
        await Promise.all(states.map((state) => state.committing));
        return;
      }
      await Promise.allSettled(pending.map((entry) => entry.done));
      // The commit after the last delivery starts in a callback of its own.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Drops a partition's state; deliveries still running from it commit nothing. */
  private dropState(partition: number): void {
    const state = this.partitions.get(partition);
    if (state === undefined) {
      return;
    }
    state.revoked = true;
    this.partitions.delete(partition);
    if (state.inFlight.length > 0) {
      this.leftovers.set(partition, [...(this.leftovers.get(partition) ?? []), state.inFlight]);
    }
  }

  async consume(payload: EachBatchPayload, consumer: Consumer): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const first = batch.messages[0] === undefined ? undefined : Number(batch.messages[0].offset);
    const state = await this.stateOf(batch.partition, first, heartbeat);
    const signal = this.generation.signal;
    const roundEndsAt = Date.now() + this.config.roundMs;
    // Lanes that stopped at a batch their limiter could not start this round.
    const closedLanes = new Set<string>();
    let startedCount = 0;

    // One commit at a time per partition, each for the latest committable
    // offset, so a slow commit cannot land after a later one.
    const commit = (): Promise<void> => {
      state.committing = state.committing
        .catch(() => undefined)
        .then(async () => {
          const next = state.offsets.committable();
          if (next === undefined || next === state.committed || state.revoked) {
            return;
          }
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: String(next) },
          ]);
          state.committed = next;
        });
      return state.committing;
    };

    // Each workspace's lane starts its batches in partition order; lanes of
    // different workspaces do not wait for each other.
    const lanes = new Map<string, Promise<void>>();
    const stopped = () =>
      this.closing ||
      state.failure !== undefined ||
      signal.aborted ||
      !payload.isRunning() ||
      payload.isStale();

    for (const message of batch.messages) {
      if (stopped()) {
        break;
      }
      const offset = Number(message.offset);
      if (state.offsets.isAfterTracked(offset)) {
        state.offsets.track(offset);
      } else if (!state.offsets.isPending(offset) || isStarted(state, offset)) {
        // Delivered, dead-lettered or in delivery since an earlier fetch.
        continue;
      }
      const persons = new Set(decodePersonHashes(headerOf(message, Headers.personHashes) ?? ''));
      const workspace = headerOf(message, Headers.workspace) ?? '';

      const start = async (): Promise<void> => {
        if (stopped() || closedLanes.has(workspace)) {
          return;
        }
        const turn = await this.waitForRoom(state.inFlight, workspace, roundEndsAt, heartbeat);
        const ownLane = state.inFlight.filter((other) => other.workspace === workspace);
        const waiting = ownLane.filter((other) => !other.handedOver).length;
        if (!turn || stopped() || this.startsTooLate(workspace, roundEndsAt, waiting)) {
          closedLanes.add(workspace);
          return;
        }
        startedCount += 1;
        // A batch about someone in an earlier batch still in flight is handed
        // to delivery only once that batch settled, so each person's
        // operations reach Customer.io in order.
        const blockers = ownLane.filter((other) => overlaps(other.persons, persons));
        const entry: InFlight = {
          offset,
          workspace,
          persons,
          done: Promise.resolve(),
          handedOver: blockers.length === 0,
        };
        const hand = () => {
          if (signal.aborted) {
            throw new HandedBackError('the consumer group is rebalancing');
          }
          entry.handedOver = true;
          return this.handle(message, batch.topic, batch.partition, signal);
        };
        const delivered =
          blockers.length === 0
            ? hand()
            : Promise.allSettled(blockers.map((other) => other.done)).then((settled) => {
                // An earlier batch about the same people that failed or was
                // handed back is sent again later, and this one must follow it.
                if (settled.some((result) => result.status === 'rejected')) {
                  throw new HandedBackError(
                    'an earlier batch about the same people was not delivered',
                  );
                }
                return hand();
              });
        entry.done = delivered;
        // The entry leaves the window once its delivery settles. A failure
        // ends the partition's next call, and batches chained behind it are handed back.
        void delivered.then(
          async () => {
            removeEntry(state, entry);
            state.offsets.complete(offset);
            await commit().catch((error: unknown) => {
              this.logger.warn({
                message: 'offset commit failed',
                partition: batch.partition,
                error: (error as Error).message,
              });
            });
          },
          (error: unknown) => {
            removeEntry(state, entry);
            // A handed-back batch stays pending, and a later call starts it again.
            if (!(error instanceof HandedBackError)) {
              state.failure ??= { error };
            }
          },
        );
        state.inFlight.push(entry);
      };
      const lane = (lanes.get(workspace) ?? Promise.resolve())
        .then(start)
        .catch((error: unknown) => {
          if (!(error instanceof HandedBackError)) {
            state.failure ??= { error };
          }
        });
      lanes.set(workspace, lane);
    }
    await Promise.all(lanes.values());

    if (state.failure !== undefined) {
      // kafkajs fetches again from the last resolved offset. The state stays,
      // so the next call skips what was delivered and starts the failed batch
      // again, after every batch of this partition still in flight.
      await this.waitForAll(state.inFlight, heartbeat);
      const { error } = state.failure;
      state.failure = undefined;
      throw error;
    }
    const next = state.offsets.committable();
    if (next !== undefined && first !== undefined && next > first) {
      payload.resolveOffset(String(next - 1));
    }
    await commit();
    if (!stopped()) {
      await this.pace(state, closedLanes.size > 0, startedCount, roundEndsAt, heartbeat);
    }
  }

  /**
   * Delays the end of a call that would otherwise make kafkajs fetch again
   * at once for nothing. When a lane stopped for its limiter, the call ends
   * shortly before that work runs out. When every fetched batch was already
   * in delivery, it ends once one of them settles.
   */
  private async pace(
    state: PartitionState,
    laneClosed: boolean,
    startedCount: number,
    roundEndsAt: number,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    if (laneClosed) {
      const leadMs = Math.min(FETCH_LEAD_MS, this.config.roundMs / 4);
      await this.raceHeartbeat(sleep(roundEndsAt - leadMs - Date.now()), heartbeat);
    } else if (startedCount === 0 && state.inFlight.length > 0) {
      const settled = state.inFlight.map((entry) => entry.done.catch(() => undefined));
      await this.raceHeartbeat(
        Promise.race([...settled, sleep(roundEndsAt - Date.now())]),
        heartbeat,
      );
    }
  }

  private async stateOf(
    partition: number,
    first: number | undefined,
    heartbeat: () => Promise<void>,
  ): Promise<PartitionState> {
    const known = this.partitions.get(partition);
    // A fetch from before the first tracked offset, or past the first pending
    // one, means the position moved (a seek, or another member committed while
    // this one was out of the group), so what was tracked no longer applies.
    if (
      known !== undefined &&
      first !== undefined &&
      (known.offsets.isBeforeTracked(first) || first > (known.offsets.committable() ?? first))
    ) {
      this.dropState(partition);
    }
    let state = this.partitions.get(partition);
    if (state === undefined) {
      // Requests still running from a dropped state finish first, so no batch
      // is sent twice at once and no later batch overtakes one of them.
      const leftover = this.leftovers.get(partition);
      for (const inFlight of leftover ?? []) {
        await this.waitForAll(inFlight, heartbeat);
      }
      this.leftovers.delete(partition);
      state = {
        offsets: new PartitionOffsets(),
        inFlight: [],
        committed: first,
        committing: Promise.resolve(),
        failure: undefined,
        revoked: false,
      };
      this.partitions.set(partition, state);
    }
    return state;
  }

  /**
   * Returns whether a batch of `siteId` would start after `roundEndsAt`
   * behind the requests in its limiter and `waiting` more of its batches.
   */
  private startsTooLate(siteId: string, roundEndsAt: number, waiting: number): boolean {
    const workspace = this.workspaces.get(siteId);
    const delayMs =
      workspace === undefined ? 0 : this.delivery.limiterOf(workspace).startDelayMs(waiting);
    return Date.now() + delayMs >= roundEndsAt;
  }

  private async handle(
    message: KafkaMessage,
    topic: string,
    partition: number,
    signal: AbortSignal,
  ): Promise<void> {
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
      signal,
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

  /**
   * Waits until `workspace` has fewer than `maxInFlightPerWorkspace` batches
   * in flight. Returns false when that did not happen before `deadline`, so
   * the batch waits for a later call.
   */
  private async waitForRoom(
    inFlight: InFlight[],
    workspace: string,
    deadline: number,
    heartbeat: () => Promise<void>,
  ): Promise<boolean> {
    for (;;) {
      const ownLane = inFlight.filter((other) => other.workspace === workspace);
      if (ownLane.length < this.config.maxInFlightPerWorkspace) {
        return true;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        return false;
      }
      const settled = ownLane.map((other) => other.done.catch(() => undefined));
      await this.raceHeartbeat(Promise.race([...settled, sleep(left)]), heartbeat);
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

/** Returns a controller for one group generation; every waiting delivery listens to its signal. */
function newGeneration(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

function isStarted(state: PartitionState, offset: number): boolean {
  return state.inFlight.some((entry) => entry.offset === offset);
}

function removeEntry(state: PartitionState, entry: InFlight): void {
  const index = state.inFlight.indexOf(entry);
  if (index >= 0) {
    state.inFlight.splice(index, 1);
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
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
