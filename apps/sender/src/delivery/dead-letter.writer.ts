import { Logger } from '@nestjs/common';
import type { Producer } from 'kafkajs';
import { Headers, type DeadLetter } from '@cio-pipeline/schemas';

const MAX_BACKOFF_MS = 10_000;

/**
 * Writes dead letters and resolves only once Kafka acknowledged them, so an
 * offset is never committed past an operation that is neither delivered nor
 * in the dead-letter topic. Kafka failures are retried until they pass.
 */
export class DeadLetterWriter {
  private readonly logger = new Logger(DeadLetterWriter.name);
  written = 0;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
  ) {}

  async write(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) {
      return;
    }
    const messages = letters.map((letter) => ({
      key: letter.workspace ?? null,
      value: JSON.stringify(letter),
      headers: {
        [Headers.attempts]: String(letter.attempts),
        ...(letter.workspace === undefined ? {} : { [Headers.workspace]: letter.workspace }),
      },
    }));
    for (let attempt = 1; ; attempt++) {
      try {
        await this.producer.send({ topic: this.topic, messages, acks: -1 });
        this.written += letters.length;
        return;
      } catch (error) {
        const backoffMs = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(attempt, 7));
        this.logger.error({
          message: 'dead-letter write failed; retrying',
          error: (error as Error).message,
          letters: letters.length,
          attempt,
          retryInMs: backoffMs,
        });
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
      }
    }
  }
}
