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
 */
@Injectable()
export class BatchesService {
  private readonly logger = new Logger(BatchesService.name);
  private readonly workspaces: Map<string, Workspace>;

  constructor(
    @Inject(SENDER_CONFIG) private readonly config: SenderConfig,
    private readonly delivery: DeliveryService,
    @Inject(DEAD_LETTER_WRITER) private readonly deadLetters: DeadLetterWriter,
  ) {
    this.workspaces = new Map(config.workspaces.map((workspace) => [workspace.siteId, workspace]));
  }

  async consume(payload: EachBatchPayload, consumer: Consumer): Promise<void> {
    const { batch } = payload;
    const heartbeat = () => payload.heartbeat();
    const offsets = new PartitionOffsets();
    const inFlight: InFlight[] = [];
    // The group's position is at the first fetched offset already.
    let committed: number | undefined =
      batch.messages[0] === undefined ? undefined : Number(batch.messages[0].offset);

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
      const persons = new Set(decodePersonHashes(headerOf(message, Headers.personHashes) ?? ''));
      const workspace = headerOf(message, Headers.workspace) ?? '';
      offsets.track(offset);

      const start = async (): Promise<void> => {
        if (stopped()) {
          return;
        }
        await this.waitForTurn(inFlight, workspace, persons, heartbeat);
        if (stopped()) {
          return;
        }
        const delivered = this.handle(message, batch.topic, batch.partition);
        const entry: InFlight = { offset, workspace, persons, done: delivered };
        // The entry leaves the window once its delivery settles, failed or not.
        // A failure is raised at the end, and waitForTurn observes it through `done`.
        void delivered.then(
          async () => {
            inFlight.splice(inFlight.indexOf(entry), 1);
            offsets.complete(offset);
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
