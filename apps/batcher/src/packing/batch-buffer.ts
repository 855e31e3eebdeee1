import { BATCH_ENVELOPE_BYTES, MAX_TRACED_REQUEST_IDS } from '@cio-pipeline/schemas';

const BODY_START = '{"batch":[';
const BODY_END = ']}';
const COMMA = 0x2c;
/** Body bytes allocated for a new batch; the body doubles as operations arrive. */
const INITIAL_BODY_BYTES = 16 * 1024;

/** Counts the written parts of an input offset. */
export interface OffsetTracker {
  complete(offset: number): void;
}

/**
 * The input position of an operation, so that its offset is committed once
 * it is written. `tracker` is the one that counted the offset's parts. After
 * kafkajs reads the offset again, a new tracker counts the second read, and
 * parts of the first must not complete it.
 */
export interface Source {
  partition: number;
  offset: number;
  tracker: OffsetTracker;
}

/** A finished `/api/v2/batch` body with what the sender and the commit need. */
export interface PackedBatch {
  workspace: string;
  body: Buffer;
  operationCount: number;
  personHashes: Uint32Array;
  oldestAcceptedAt: number;
  sources: Source[];
  /** Distinct request ids of the operations, at most `MAX_TRACED_REQUEST_IDS`. */
  requestIds: string[];
}

/**
 * Collects one workspace's serialized operations into a batch body that never
 * passes `maxBatchBytes`. `bytes` is the exact size of the body it would
 * produce now: the envelope, the operations and the commas between them.
 * Each operation is copied into the body as it is added, so the buffer keeps
 * no reference to the Kafka message it came from.
 */
export class BatchBuffer {
  private body: Buffer;
  private operationCount = 0;
  private sources: Source[] = [];
  private persons = new Set<number>();
  private oldestAcceptedAt = Number.POSITIVE_INFINITY;
  private requestIds = new Set<string>();
  private size = BATCH_ENVELOPE_BYTES;

  constructor(
    readonly workspace: string,
    private readonly maxBatchBytes: number,
  ) {
    this.body = this.emptyBody();
  }

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.operationCount;
  }

  /** Returns whether an operation of `operationBytes` still fits. */
  fits(operationBytes: number): boolean {
    const comma = this.operationCount === 0 ? 0 : 1;
    return this.size + comma + operationBytes <= this.maxBatchBytes;
  }

  /**
   * Adds an operation's UTF-8 JSON text. `personHash` is `hashPerson` of its
   * person key, and `secondaryHash` that of a merge's secondary person.
   */
  add(
    operation: Buffer,
    personHash: number,
    acceptedAt: number,
    source: Source,
    requestId?: string,
    secondaryHash?: number,
  ): void {
    const operationBytes = operation.length;
    if (!this.fits(operationBytes)) {
      throw new Error(
        `operation of ${operationBytes} bytes does not fit the batch: call fits() first`,
      );
    }
    const comma = this.operationCount === 0 ? 0 : 1;
    this.reserve(this.size + comma + operationBytes);
    let at = this.size - BODY_END.length;
    if (comma === 1) {
      this.body[at++] = COMMA;
    }
    operation.copy(this.body, at);
    this.size += comma + operationBytes;
    this.operationCount += 1;
    this.sources.push(source);
    this.persons.add(personHash);
    if (secondaryHash !== undefined) {
      this.persons.add(secondaryHash);
    }
    this.oldestAcceptedAt = Math.min(this.oldestAcceptedAt, acceptedAt);
    if (requestId !== undefined && this.requestIds.size < MAX_TRACED_REQUEST_IDS) {
      this.requestIds.add(requestId);
    }
  }

  /** Returns the batch and empties the buffer. */
  take(): PackedBatch {
    this.body.write(BODY_END, this.size - BODY_END.length, 'latin1');
    const batch: PackedBatch = {
      workspace: this.workspace,
      body: this.body.subarray(0, this.size),
      operationCount: this.operationCount,
      personHashes: Uint32Array.from(this.persons),
      oldestAcceptedAt: this.oldestAcceptedAt,
      sources: this.sources,
      requestIds: [...this.requestIds],
    };
    this.body = this.emptyBody();
    this.requestIds = new Set();
    this.operationCount = 0;
    this.sources = [];
    this.persons = new Set();
    this.oldestAcceptedAt = Number.POSITIVE_INFINITY;
    this.size = BATCH_ENVELOPE_BYTES;
    return batch;
  }

  /** Grows the body to hold `bytes` in all, doubling up to `maxBatchBytes`. */
  private reserve(bytes: number): void {
    if (bytes <= this.body.length) {
      return;
    }
    const capacity = Math.min(this.maxBatchBytes, Math.max(bytes, 2 * this.body.length));
    const grown = Buffer.allocUnsafe(capacity);
    this.body.copy(grown, 0, 0, this.size - BODY_END.length);
    this.body = grown;
  }

  private emptyBody(): Buffer {
    const capacity = Math.max(
      BATCH_ENVELOPE_BYTES,
      Math.min(INITIAL_BODY_BYTES, this.maxBatchBytes),
    );
    const body = Buffer.allocUnsafe(capacity);
    body.write(BODY_START, 0, 'latin1');
    return body;
  }
}
