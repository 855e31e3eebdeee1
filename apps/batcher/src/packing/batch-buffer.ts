import { BATCH_ENVELOPE_BYTES, MAX_TRACED_REQUEST_IDS } from '@cio-pipeline/schemas';

const BODY_START = '{"batch":[';
const BODY_END = ']}';
const COMMA = 0x2c;

/** Where an operation came from, so its offset can be committed once it is written. */
export interface Source {
  partition: number;
  offset: number;
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
 * Operations may be views into fetched Kafka messages. `take` copies them
 * into the body, so those messages stay in memory until the batch is
 * written, `lingerMs` at most.
 */
export class BatchBuffer {
  private operations: Buffer[] = [];
  private sources: Source[] = [];
  private persons = new Set<number>();
  private oldestAcceptedAt = Number.POSITIVE_INFINITY;
  private requestIds = new Set<string>();
  private size = BATCH_ENVELOPE_BYTES;

  constructor(
    readonly workspace: string,
    private readonly maxBatchBytes: number,
  ) {}

  get bytes(): number {
    return this.size;
  }

  get count(): number {
    return this.operations.length;
  }

  /** Returns whether an operation of `operationBytes` still fits. */
  fits(operationBytes: number): boolean {
    const comma = this.operations.length === 0 ? 0 : 1;
    return this.size + comma + operationBytes <= this.maxBatchBytes;
  }

  /** Adds an operation's UTF-8 JSON text; `personHash` is `hashPerson` of its person key. */
  add(
    operation: Buffer,
    personHash: number,
    acceptedAt: number,
    source: Source,
    requestId?: string,
  ): void {
    const operationBytes = operation.length;
    if (!this.fits(operationBytes)) {
      throw new Error(
        `operation of ${operationBytes} bytes does not fit the batch: call fits() first`,
      );
    }
    this.size += operationBytes + (this.operations.length === 0 ? 0 : 1);
    this.operations.push(operation);
    this.sources.push(source);
    this.persons.add(personHash);
    this.oldestAcceptedAt = Math.min(this.oldestAcceptedAt, acceptedAt);
    if (requestId !== undefined && this.requestIds.size < MAX_TRACED_REQUEST_IDS) {
      this.requestIds.add(requestId);
    }
  }

  /** Returns the batch and empties the buffer. */
  take(): PackedBatch {
    const body = Buffer.allocUnsafe(this.size);
    let at = body.write(BODY_START, 0, 'latin1');
    this.operations.forEach((operation, index) => {
      if (index > 0) {
        body[at++] = COMMA;
      }
      at += operation.copy(body, at);
    });
    at += body.write(BODY_END, at, 'latin1');
    if (at !== body.length) {
      throw new Error(`batch body of ${body.length} bytes was filled to ${at}`);
    }
    const batch: PackedBatch = {
      workspace: this.workspace,
      body,
      operationCount: this.operations.length,
      personHashes: Uint32Array.from(this.persons),
      oldestAcceptedAt: this.oldestAcceptedAt,
      sources: this.sources,
      requestIds: [...this.requestIds],
    };
    this.requestIds = new Set();
    this.operations = [];
    this.sources = [];
    this.persons = new Set();
    this.oldestAcceptedAt = Number.POSITIVE_INFINITY;
    this.size = BATCH_ENVELOPE_BYTES;
    return batch;
  }
}
