import type { Operation } from './operations';

/** An accepted operation with its place in arrival order. */
export interface StoredOperation {
  /** Sequence number, from 1, increasing in arrival order across all workspaces. */
  seq: number;
  /** Site id of the workspace. */
  workspace: string;
  /** Arrival time, in ms since the Unix epoch. */
  receivedAt: number;
  /** Route that accepted the call, such as `POST /api/v2/batch`. */
  source: string;
  operation: Operation;
}

export interface OperationPage {
  operations: StoredOperation[];
  /** Value of `after` for the next page: the last sequence number returned, or the given `after`. */
  nextAfter: number;
  hasMore: boolean;
}

/**
 * Accepted operations in arrival order, all together and per workspace. Once
 * `retention` operations are stored, later ones get a sequence number and are counted
 * in `notStored`, but are not kept.
 */
export class OperationStore {
  private all: StoredOperation[] = [];
  private byWorkspace = new Map<string, StoredOperation[]>();
  private lastSeq = 0;
  private notStoredCount = 0;

  constructor(private readonly retention: number) {}

  get stored(): number {
    return this.all.length;
  }

  get notStored(): number {
    return this.notStoredCount;
  }

  get retentionLimit(): number {
    return this.retention;
  }

  /** Assigns the next sequence number and stores the operation unless the store is full. */
  add(workspace: string, source: string, operation: Operation, receivedAt: number): number {
    this.lastSeq += 1;
    if (this.all.length >= this.retention) {
      this.notStoredCount += 1;
      return this.lastSeq;
    }
    const record: StoredOperation = { seq: this.lastSeq, workspace, receivedAt, source, operation };
    this.all.push(record);
    let list = this.byWorkspace.get(workspace);
    if (list === undefined) {
      list = [];
      this.byWorkspace.set(workspace, list);
    }
    list.push(record);
    return this.lastSeq;
  }

  /** Returns up to `limit` operations with a sequence number above `after`, of one workspace or of all. */
  list(workspace: string | undefined, after: number, limit: number): OperationPage {
    const source = workspace === undefined ? this.all : (this.byWorkspace.get(workspace) ?? []);
    const start = firstIndexAfter(source, after);
    const operations = source.slice(start, start + limit);
    const last = operations[operations.length - 1];
    return {
      operations,
      nextAfter: last === undefined ? after : last.seq,
      hasMore: start + operations.length < source.length,
    };
  }

  clear(): void {
    this.all = [];
    this.byWorkspace = new Map();
    this.lastSeq = 0;
    this.notStoredCount = 0;
  }
}

/** Binary search for the first record with `seq > after`, since records are sorted by seq. */
function firstIndexAfter(records: readonly StoredOperation[], after: number): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((records[middle]?.seq ?? Infinity) <= after) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return low;
}
