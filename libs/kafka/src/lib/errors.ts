/**
 * Errors of the Kafka layer. `retriable` tells a caller whether the same
 * request may succeed later, so HTTP callers can answer 503 with Retry-After.
 */
export class KafkaUnavailableError extends Error {
  readonly retriable = true;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'KafkaUnavailableError';
  }
}

export class ProducerOverloadedError extends Error {
  readonly retriable = true;

  constructor(pendingBytes: number, limit: number) {
    super(`producer has ${pendingBytes} bytes waiting for Kafka, over the limit of ${limit}`);
    this.name = 'ProducerOverloadedError';
  }
}
