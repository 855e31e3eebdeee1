/**
 * Kafka topics of the pipeline, versioned so that a change of message format
 * that current consumers cannot read gets a new topic instead of breaking
 * them in place. Partition counts and retention are settings applied when
 * the topics are created.
 */
export const Topics = {
  /**
   * Operation envelopes in the formats `decodeOperationsMessage` reads, on the
   * partition of their workspace and person. Batchers read every format that
   * gateways and the replay command write, so batchers are upgraded before
   * gateways whenever a new format is added.
   */
  operations: 'cio.operations.v1',
  /** One `/api/v2/batch` body per message, keyed by workspace. */
  batches: 'cio.batches.v1',
  /** Operations that Customer.io rejected or that could never be delivered. */
  deadLetters: 'cio.dead-letters.v1',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

/** Kafka header names. Values are UTF-8 strings. */
export const Headers = {
  workspace: 'cio-workspace',
  requestId: 'cio-request-id',
  acceptedAt: 'cio-accepted-at',
  /** Number of operations in the message (operations and batches topics). */
  operationCount: 'cio-operation-count',
  /** Batches only: distinct person hashes of the body, see `PersonHashes`. */
  personHashes: 'cio-person-hashes',
  /** Batches only: earliest gateway acceptance time of the body's operations. */
  oldestAcceptedAt: 'cio-oldest-accepted-at',
  /** Batches only: a ULID naming the batch in the batcher's and the sender's logs. */
  batchId: 'cio-batch-id',
  /** Batches only: request ids of the body's operations, comma-separated, at most `MAX_TRACED_REQUEST_IDS`. */
  requestIds: 'cio-request-ids',
  /** Dead letters only: delivery attempts made. */
  attempts: 'cio-attempts',
} as const;

/** Request ids carried in one batch header; enough to trace, small next to a 500 KB body. */
export const MAX_TRACED_REQUEST_IDS = 20;
