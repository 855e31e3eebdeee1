import type { LoggerService } from '@nestjs/common';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { KafkaUnavailableError, ProducerOverloadedError } from './errors';

export interface LingerOptions {
  /** How long the first queued message waits for others to share its request. */
  lingerMs: number;
  /** Bytes of message values that end the wait and start a request at once. */
  maxRequestBytes: number;
  /** Bytes queued or in flight past which `send` rejects instead of queueing. */
  maxPendingBytes: number;
  /** How long a caller waits for Kafka's acknowledgement before its send fails. */
  sendTimeoutMs: number;
  /** Joins messages bound for one partition into fewer messages; absent, each is sent as it is. */
  combine?: MessageCombiner;
}

/**
 * A way to carry several messages of one partition in one Kafka message, so
 * that a request of many small sends costs the producer few records. It
 * applies to a topic only when every message of the request for that topic
 * has an explicit partition, a string value and no headers.
 */
export interface MessageCombiner {
  /** Maximum value size of a joined message, in bytes. */
  maxBytes: number;
  /**
   * Returns the value of one message that carries `values` in their order,
   * adding at most one byte between values and two in all, as a JSON array
   * or values joined by newlines do.
   */
  join(values: string[]): string;
}

interface Pending {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface ProducerState {
  connected: boolean;
  pendingBytes: number;
  lastAcknowledgedAt: number | undefined;
  lastError: string | undefined;
}

/**
 * Groups the sends of concurrent callers into one Kafka request. One request
 * is in flight at a time: what arrives meanwhile forms the next request, so a
 * busy gateway makes few large requests and an idle one waits `lingerMs` at
 * most. A caller's promise resolves once Kafka acknowledged its messages with
 * every in-sync replica (the producer is created with `acks: -1`).
 */
export class LingerProducer {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private inFlightBytes = 0;
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;
  private connected = false;
  private lastAcknowledgedAt: number | undefined;
  private lastError: string | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly options: LingerOptions,
    private readonly logger: LoggerService,
  ) {
    producer.on(producer.events.CONNECT, () => {
      this.connected = true;
    });
    producer.on(producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  /** Waits for queued messages to be acknowledged, then disconnects. */
  async disconnect(): Promise<void> {
    clearTimeout(this.timer);
    while (this.queue.length > 0 || this.inFlight) {
      if (!this.inFlight) {
        this.flush();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.producer.disconnect();
  }

  state(): ProducerState {
    return {
      connected: this.connected,
      pendingBytes: this.queuedBytes + this.inFlightBytes,
      lastAcknowledgedAt: this.lastAcknowledgedAt,
      lastError: this.lastError,
    };
  }

  /** Resolves when Kafka acknowledged all of `messages`; they succeed or fail together. */
  send(topic: string, messages: Message[]): Promise<void> {
    const bytes = messages.reduce((sum, message) => sum + sizeOf(message), 0);
    const pendingBytes = this.queuedBytes + this.inFlightBytes;
    if (pendingBytes + bytes > this.options.maxPendingBytes) {
      return Promise.reject(
        new ProducerOverloadedError(pendingBytes, this.options.maxPendingBytes),
      );
    }

    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        topic,
        messages,
        bytes,
        resolve: () => {
          clearTimeout(deadline);
          resolve();
        },
        reject: (error) => {
          clearTimeout(deadline);
          reject(error);
        },
      };
      const deadline = setTimeout(() => {
        reject(this.expire(pending));
      }, this.options.sendTimeoutMs);
      this.queue.push(pending);
      this.queuedBytes += bytes;
      this.schedule();
    });
  }

  /**
   * A send still queued at its deadline is taken out, so nothing of it is
   * written. One already in a request may still be written: its error says so,
   * and the caller's retry relies on event ids to drop the repeat.
   */
  private expire(pending: Pending): KafkaUnavailableError {
    const index = this.queue.indexOf(pending);
    const waited = `Kafka did not acknowledge within ${this.options.sendTimeoutMs} ms`;
    if (index >= 0) {
      this.queue.splice(index, 1);
      this.queuedBytes -= pending.bytes;
      return new KafkaUnavailableError(`${waited}; nothing was written`, {
        cause: { written: false },
      });
    }
    return new KafkaUnavailableError(`${waited}; the write may still complete`, {
      cause: { written: 'unknown' },
    });
  }

  private schedule(): void {
    if (this.inFlight) {
      return;
    }
    if (this.queuedBytes >= this.options.maxRequestBytes) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.flush();
    }, this.options.lingerMs);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.inFlight || this.queue.length === 0) {
      return;
    }
    const taken = this.take();
    this.inFlight = true;
    void this.write(taken).finally(() => {
      this.inFlight = false;
      if (this.queue.length > 0) {
        // What queued during the request has waited long enough already.
        this.flush();
      }
    });
  }

  /** Takes queued sends up to the request size, always at least one. */
  private take(): Pending[] {
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length) {
      const next = this.queue[count];
      if (next === undefined || (count > 0 && bytes + next.bytes > this.options.maxRequestBytes)) {
        break;
      }
      bytes += next.bytes;
      count += 1;
    }
    const taken = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    this.queuedBytes -= bytes;
    this.inFlightBytes = bytes;
    return taken;
  }

  private async write(taken: Pending[]): Promise<void> {
    try {
      const topicMessages = groupByTopic(taken).map((entry) =>
        this.options.combine === undefined
          ? entry
          : { topic: entry.topic, messages: combineMessages(entry.messages, this.options.combine) },
      );
      await this.producer.sendBatch({ topicMessages, acks: -1 });
      this.lastAcknowledgedAt = Date.now();
      this.lastError = undefined;
      for (const pending of taken) {
        pending.resolve();
      }
    } catch (error) {
      const cause = error as Error;
      this.lastError = cause.message;
      this.logger.error({
        message: 'Kafka write failed',
        error: cause.message,
        sends: taken.length,
      });
      const failure = new KafkaUnavailableError(`Kafka write failed: ${cause.message}`, { cause });
      for (const pending of taken) {
        pending.reject(failure);
      }
    } finally {
      this.inFlightBytes = 0;
    }
  }
}

function groupByTopic(pending: Pending[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, messages } of pending) {
    const list = byTopic.get(topic);
    if (list === undefined) {
      byTopic.set(topic, [...messages]);
    } else {
      list.push(...messages);
    }
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** A run of messages of one partition that becomes one message. */
interface Joined {
  values: string[];
  bytes: number;
  first: Message;
}

/**
 * Joins the messages of each partition, in order, into as few messages as
 * `combiner.maxBytes` allows. A message bigger than that travels alone. A
 * message that stays alone keeps its key, and a joined one has none.
 */
export function combineMessages(messages: Message[], combiner: MessageCombiner): Message[] {
  const combinable = messages.every(
    (message) =>
      message.partition !== undefined &&
      typeof message.value === 'string' &&
      message.headers === undefined,
  );
  if (!combinable || messages.length < 2) {
    return messages;
  }
  const runs = new Map<number, Joined[]>();
  for (const message of messages) {
    const value = message.value as string;
    const bytes = Buffer.byteLength(value);
    const partition = message.partition as number;
    let partitionRuns = runs.get(partition);
    if (partitionRuns === undefined) {
      partitionRuns = [];
      runs.set(partition, partitionRuns);
    }
    const current = partitionRuns[partitionRuns.length - 1];
    if (current !== undefined && current.bytes + bytes + 1 <= combiner.maxBytes) {
      current.values.push(value);
      current.bytes += bytes + 1;
    } else {
      partitionRuns.push({ values: [value], bytes: bytes + 2, first: message });
    }
  }
  const combined: Message[] = [];
  for (const [partition, partitionRuns] of runs) {
    for (const run of partitionRuns) {
      combined.push(
        run.values.length === 1
          ? run.first
          : { partition, key: null, value: combiner.join(run.values) },
      );
    }
  }
  return combined;
}

function sizeOf(message: Message): number {
  const value = message.value;
  if (value === null) {
    return 0;
  }
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
