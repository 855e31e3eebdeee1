import { Logger } from '@nestjs/common';
import type { Message, Producer } from 'kafkajs';

interface Entry {
  topic: string;
  message: Message;
  bytes: number;
  onWritten: () => void;
}

const MAX_BACKOFF_MS = 10_000;

/**
 * Writes messages to Kafka in the order they were queued, retrying the
 * oldest until Kafka takes it. Later messages never overtake an earlier one
 * that failed, so a person's batches keep their order through an outage.
 */
export class OrderedWriter {
  private readonly logger = new Logger(OrderedWriter.name);
  private queue: Entry[] = [];
  private queuedBytes = 0;
  private running = false;
  private stopped = false;
  private failures = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly producer: Producer,
    private readonly maxRequestBytes: number,
  ) {}

  get pendingBytes(): number {
    return this.queuedBytes;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }

  write(topic: string, message: Message, bytes: number, onWritten: () => void): void {
    this.queue.push({ topic, message, bytes, onWritten });
    this.queuedBytes += bytes;
    if (!this.running) {
      this.running = true;
      void this.drain();
    }
  }

  /** Resolves once everything queued so far has been written. */
  idle(): Promise<void> {
    if (this.queue.length === 0 && !this.running) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const taken = this.take();
      try {
        await this.producer.sendBatch({ topicMessages: groupByTopic(taken), acks: -1 });
        this.failures = 0;
        this.queue.splice(0, taken.length);
        for (const entry of taken) {
          this.queuedBytes -= entry.bytes;
          entry.onWritten();
        }
      } catch (error) {
        this.failures += 1;
        const backoffMs = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.failures, 7));
        this.logger.error({
          message: 'Kafka write failed; retrying the oldest messages first',
          error: (error as Error).message,
          messages: taken.length,
          attempt: this.failures,
          retryInMs: backoffMs,
        });
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) {
      resolve();
    }
  }

  private take(): Entry[] {
    let bytes = 0;
    let count = 0;
    for (const entry of this.queue) {
      if (count > 0 && bytes + entry.bytes > this.maxRequestBytes) {
        break;
      }
      bytes += entry.bytes;
      count += 1;
    }
    return this.queue.slice(0, count);
  }
}

function groupByTopic(entries: Entry[]): { topic: string; messages: Message[] }[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, message } of entries) {
    const list = byTopic.get(topic) ?? [];
    list.push(message);
    byTopic.set(topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}
