import { Inject, Injectable, Logger } from '@nestjs/common';
import { WorkspaceLimiter } from '@cio-pipeline/limiter';
import type { Workspace } from '@cio-pipeline/runtime';
import type { DeadLetter, DeadLetterError } from '@cio-pipeline/schemas';
import { SENDER_CONFIG, type SenderConfig } from '../config/sender-config';
import { classifyStatus, errorMessageOf, parsePartialErrors } from './classify';
import { DeadLetterWriter } from './dead-letter.writer';
import { TrackClient, TransportError, type TrackResponse } from './track-client';
import { SenderStats } from './sender-stats';

export const DEAD_LETTER_WRITER = Symbol('DEAD_LETTER_WRITER');
export const TRACK_CLIENT = Symbol('TRACK_CLIENT');

/** One `/api/v2/batch` body read from the batches topic. */
export interface DeliveryJob {
  workspace: Workspace;
  body: Buffer;
  operationCount: number;
  source: { topic: string; partition: number; offset: string };
  /** Gateway acceptance time of the batch's oldest operation, unix ms. */
  oldestAcceptedAt?: number;
  /** Names the batch in logs, with some of the gateway request ids it holds. */
  batchId?: string;
  requestIds?: string[];
}

interface Part {
  body: Buffer;
  /** Parsed operations, filled in when the body first needs splitting or reporting. */
  operations: unknown[] | undefined;
  count: number;
}

/**
 * Delivers batches to Customer.io under each workspace's rate limit. Every
 * outcome ends in Customer.io's 2xx or in the dead-letter topic:
 * - 207: the failed items are dead-lettered with Customer.io's reason;
 * - 400, 413, 422: the batch is split in halves until the bad operations stand alone;
 * - 429: the workspace slows down and waits Retry-After, without limit;
 * - 5xx, timeouts, network errors: retried with backoff and jitter within
 *   the retry budget, then dead-lettered;
 * - 401, 403, redirects: the workspace is paused and reported, no retry is spent.
 * Retries resend the same bytes, so events keep their ids and Customer.io
 * drops repeats.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger(DeliveryService.name);
  private readonly limiters = new Map<string, WorkspaceLimiter>();
  private readonly paused = new Map<string, string>();
  private readonly shutdown = new AbortController();

  constructor(
    @Inject(SENDER_CONFIG) private readonly config: SenderConfig,
    @Inject(TRACK_CLIENT) private readonly client: TrackClient,
    @Inject(DEAD_LETTER_WRITER) private readonly deadLetters: DeadLetterWriter,
    private readonly stats: SenderStats,
  ) {}

  async deliver(job: DeliveryJob): Promise<void> {
    const part = { body: job.body, operations: undefined, count: job.operationCount };
    try {
      await this.deliverPart(job, part);
    } catch (error) {
      if (error instanceof ShutdownError) {
        throw error;
      }
      if (this.shutdown.signal.aborted) {
        // Such as Bottleneck dropping a retry that was still queued when close() stopped it.
        throw new ShutdownError({ cause: error });
      }
      // Anything else, such as a body that is not JSON when it must be split,
      // can never succeed: keep the bytes in the dead-letter topic.
      const message = (error as Error).message;
      this.logger.error({ message: 'batch cannot be delivered', ...traceOf(job), error: message });
      const letter = this.letterOf(job, job.body.toString('utf8'), 0, {
        reason: 'undeliverable',
        message,
      });
      await this.deadLetters.write([letter]);
      this.stats.operationsDeadLettered(job.workspace.siteId, 'undeliverable', job.operationCount);
    }
  }

  limiterOf(workspace: Workspace): WorkspaceLimiter {
    let limiter = this.limiters.get(workspace.siteId);
    if (limiter === undefined) {
      limiter = new WorkspaceLimiter({ ...this.config.limiter, limit: workspace.rateLimit });
      this.limiters.set(workspace.siteId, limiter);
    }
    return limiter;
  }

  /** Workspaces held back because Customer.io rejected their credentials or region, with why. */
  pausedWorkspaces(): Record<string, string> {
    return Object.fromEntries(this.paused);
  }

  limiterStates(): Record<string, ReturnType<WorkspaceLimiter['state']>> {
    return Object.fromEntries(
      [...this.limiters].map(([siteId, limiter]) => [siteId, limiter.state()]),
    );
  }

  /** Workspaces whose limiter holds requests but started none for `graceMs`. */
  stalledWorkspaces(graceMs: number): string[] {
    return [...this.limiters]
      .filter(([, limiter]) => limiter.isStalled(graceMs))
      .map(([siteId]) => siteId);
  }

  /** Holds every workspace's next request for `ms`. */
  pauseAll(ms: number): void {
    for (const limiter of this.limiters.values()) {
      limiter.pause(ms);
    }
  }

  /**
   * Starts shutdown: requests waiting for the limiter or for a backoff end at
   * once with a ShutdownError, so their batches stay uncommitted and go to
   * the partition's next owner. Requests already sent finish normally.
   */
  async close(): Promise<void> {
    this.shutdown.abort();
    await Promise.all([...this.limiters.values()].map((limiter) => limiter.stop()));
  }

  /** Waits `ms`, or throws a ShutdownError as soon as shutdown starts. */
  private async sleep(ms: number): Promise<void> {
    const signal = this.shutdown.signal;
    if (signal.aborted) {
      throw new ShutdownError();
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new ShutdownError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async deliverPart(job: DeliveryJob, part: Part): Promise<void> {
    const { workspace } = job;
    const limiter = this.limiterOf(workspace);
    const baseUrl = this.config.trackUrls[workspace.region];
    const startedAt = Date.now();

    for (let attempt = 1; ; attempt++) {
      let response: TrackResponse;
      try {
        response = await limiter.schedule(() => {
          this.stats.requestSent(part.body.length, part.count);
          return this.client.postBatch(baseUrl, workspace, part.body);
        });
      } catch (error) {
        if (!(error instanceof TransportError)) {
          throw error;
        }
        this.stats.noAnswer(workspace.siteId);
        const failure = {
          reason: error.timedOut ? 'timeout' : 'network_error',
          message: error.message,
        };
        if (await this.retryOrGiveUp(job, part, attempt, startedAt, failure)) {
          continue;
        }
        return;
      }

      const kind = classifyStatus(response.status);
      this.stats.answered(workspace.siteId, response.status);
      switch (kind) {
        case 'delivered':
          this.resume(workspace);
          limiter.succeeded();
          this.stats.operationsDelivered(workspace.siteId, part.count, job.oldestAcceptedAt);
          this.logger.debug({
            message: 'batch delivered',
            ...traceOf(job),
            operations: part.count,
            attempt,
          });
          return;
        case 'partial':
          this.resume(workspace);
          limiter.succeeded();
          await this.deadLetterItems(job, part, response, attempt);
          return;
        case 'invalid':
          this.resume(workspace);
          await this.isolate(job, part, response, attempt);
          return;
        case 'throttled': {
          const waitMs =
            (response.retryAfterSeconds ?? 0) * 1000 || this.config.retry.throttleBackoffMs;
          limiter.throttled(waitMs);
          this.logger.warn({
            message: 'throttled by Customer.io',
            workspace: workspace.siteId,
            waitMs,
            attempt,
          });
          continue;
        }
        case 'unauthorized':
        case 'misrouted': {
          const why =
            kind === 'unauthorized'
              ? `Customer.io rejected the credentials (${response.status}): ${errorMessageOf(response.body)}`
              : `Customer.io redirected the request (${response.status}): check the workspace's region`;
          await this.pauseWorkspace(workspace, why);
          attempt -= 1;
          continue;
        }
        case 'retriable': {
          const failure = {
            reason: 'server_error',
            message: errorMessageOf(response.body),
            status: response.status,
          };
          if (await this.retryOrGiveUp(job, part, attempt, startedAt, failure)) {
            continue;
          }
          return;
        }
        case 'rejected':
          await this.deadLetterAll(job, part, attempt, {
            reason: 'rejected',
            message: errorMessageOf(response.body),
            status: response.status,
          });
          return;
      }
    }
  }

  /** Waits a backoff and returns true, or dead-letters the part once the budget is spent. */
  private async retryOrGiveUp(
    job: DeliveryJob,
    part: Part,
    attempt: number,
    startedAt: number,
    failure: DeadLetterError,
  ): Promise<boolean> {
    const { initialBackoffMs, maxBackoffMs, budgetMs } = this.config.retry;
    const backoffMs = Math.random() * Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));
    if (Date.now() - startedAt + backoffMs > budgetMs) {
      await this.deadLetterAll(job, part, attempt, {
        ...failure,
        reason: 'retries_exhausted',
        message: `gave up after ${attempt} attempts: ${failure.reason}: ${failure.message}`,
      });
      return false;
    }
    this.stats.retried(job.workspace.siteId, failure.reason);
    this.logger.debug({
      message: 'delivery failed; retrying',
      ...traceOf(job),
      attempt,
      reason: failure.reason,
      retryInMs: Math.round(backoffMs),
    });
    await this.sleep(backoffMs);
    return true;
  }

  /** Splits a batch Customer.io rejected whole, so the valid operations still go through. */
  private async isolate(
    job: DeliveryJob,
    part: Part,
    response: TrackResponse,
    attempt: number,
  ): Promise<void> {
    const operations = operationsOf(part);
    if (operations.length <= 1) {
      await this.deadLetterAll(job, part, attempt, {
        reason: 'invalid',
        message: errorMessageOf(response.body),
        status: response.status,
      });
      return;
    }
    this.stats.split();
    const middle = Math.ceil(operations.length / 2);
    // The halves go one after the other, so operations keep their order.
    for (const half of [operations.slice(0, middle), operations.slice(middle)]) {
      await this.deliverPart(job, { body: bodyOf(half), operations: half, count: half.length });
    }
  }

  private async deadLetterItems(
    job: DeliveryJob,
    part: Part,
    response: TrackResponse,
    attempt: number,
  ) {
    const errors = parsePartialErrors(response.body);
    const operations = operationsOf(part);
    if (errors === undefined) {
      // Which items failed is unknown, so all of them are kept for a replay;
      // Customer.io drops the events it already took by their ids.
      this.logger.error({ message: '207 response without a readable errors[]', ...traceOf(job) });
      await this.deadLetterAll(job, part, attempt, {
        reason: 'unreadable_partial_failure',
        message: `207 response without a readable errors[]: ${response.body.slice(0, 200)}`,
        status: 207,
      });
      return;
    }
    const failed = new Map(
      errors.filter((e) => e.batch_index < operations.length).map((e) => [e.batch_index, e]),
    );
    const letters = [...failed.values()].map((error) =>
      this.letterOf(job, operations[error.batch_index], attempt, {
        reason: error.reason,
        message: error.message,
        status: 207,
        ...(error.field === undefined ? {} : { field: error.field }),
      }),
    );
    await this.deadLetters.write(letters);
    for (const letter of letters) {
      this.stats.operationsDeadLettered(job.workspace.siteId, letter.error.reason, 1);
    }
    const delivered = part.count - letters.length;
    this.stats.operationsDelivered(job.workspace.siteId, delivered, job.oldestAcceptedAt);
    this.logger.warn({
      message: 'batch partly rejected',
      ...traceOf(job),
      delivered,
      deadLettered: letters.length,
    });
  }

  private async deadLetterAll(
    job: DeliveryJob,
    part: Part,
    attempt: number,
    error: DeadLetterError,
  ) {
    const operations = operationsOf(part);
    this.logger.warn({
      message: 'operations dead-lettered',
      ...traceOf(job),
      operations: operations.length,
      reason: error.reason,
      status: error.status,
    });
    await this.deadLetters.write(
      operations.map((operation) => this.letterOf(job, operation, attempt, error)),
    );
    this.stats.operationsDeadLettered(job.workspace.siteId, error.reason, operations.length);
  }

  private letterOf(
    job: DeliveryJob,
    operation: unknown,
    attempts: number,
    error: DeadLetterError,
  ): DeadLetter {
    return {
      workspace: job.workspace.siteId,
      operation,
      error,
      attempts,
      failedAt: Date.now(),
      stage: 'sender',
      source: job.source,
    };
  }

  private async pauseWorkspace(workspace: Workspace, why: string): Promise<void> {
    if (!this.paused.has(workspace.siteId)) {
      this.logger.error({ message: 'workspace paused', workspace: workspace.siteId, reason: why });
    }
    this.paused.set(workspace.siteId, why);
    await this.sleep(this.config.retry.unauthorizedPauseMs);
  }

  private resume(workspace: Workspace): void {
    if (this.paused.delete(workspace.siteId)) {
      this.logger.log({ message: 'workspace resumed', workspace: workspace.siteId });
    }
  }
}

/** Log fields that tie a delivery to its batch and to the gateway requests in it. */
function traceOf(job: DeliveryJob) {
  return {
    workspace: job.workspace.siteId,
    batchId: job.batchId,
    requestIds: job.requestIds,
    partition: job.source.partition,
    offset: job.source.offset,
  };
}

function operationsOf(part: Part): unknown[] {
  part.operations ??= (JSON.parse(part.body.toString('utf8')) as { batch: unknown[] }).batch;
  return part.operations;
}

function bodyOf(operations: unknown[]): Buffer {
  return Buffer.from(JSON.stringify({ batch: operations }), 'utf8');
}

/** The sender is stopping; the batch is left uncommitted for the next owner of its partition. */
export class ShutdownError extends Error {
  constructor(options?: ErrorOptions) {
    super(
      'the sender is shutting down; the batch stays uncommitted for the next consumer',
      options,
    );
    this.name = 'ShutdownError';
  }
}
