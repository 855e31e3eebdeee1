import { Partitioners, type Kafka, type Producer } from 'kafkajs';

/**
 * Creates the project's producer: idempotent, so retries cannot duplicate or
 * reorder messages within a partition, and with an explicit partitioner so
 * a key maps to the same partition whatever kafkajs's default becomes.
 * kafkajs needs one request in flight for idempotence to keep order.
 */
export function createIdempotentProducer(kafka: Kafka, transactionalId?: string): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
    ...(transactionalId === undefined ? {} : { transactionalId }),
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: 6 },
  });
}
