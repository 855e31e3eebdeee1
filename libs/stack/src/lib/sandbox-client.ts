/** Reads and steers a running Customer.io sandbox through its `/__sandbox/` control routes. */
export class SandboxClient {
  constructor(readonly baseUrl: string) {}

  async stats(): Promise<SandboxStats> {
    return (await this.request('GET', '/__sandbox/stats')) as SandboxStats;
  }

  /** Fetches every stored operation of a workspace, page by page, in arrival order. */
  async operations(workspace: string): Promise<StoredOperation[]> {
    const all: StoredOperation[] = [];
    let after = 0;
    for (;;) {
      const page = (await this.request(
        'GET',
        `/__sandbox/operations?workspace=${encodeURIComponent(workspace)}&after=${after}&limit=10000`,
      )) as { operations: StoredOperation[] };
      all.push(...page.operations);
      const last = page.operations.at(-1);
      if (last === undefined) {
        return all;
      }
      after = last.seq;
    }
  }

  async setFaults(faults: Record<string, unknown>): Promise<void> {
    await this.request('POST', '/__sandbox/faults', faults);
  }

  async reset(): Promise<void> {
    await this.request('POST', '/__sandbox/reset', {});
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(
        `sandbox ${method} ${path} returned ${response.status}: ${text.slice(0, 300)}`,
      );
    }
    return JSON.parse(text) as unknown;
  }
}

export interface Distribution {
  count: number;
  mean: number;
  max: number;
  total: number;
}

export interface WorkspaceStats {
  requests: number;
  requestsByStatus: Record<string, number>;
  operationsAccepted: number;
  operationsAcceptedByAction: Record<string, number>;
  uniqueEventIds: number;
  duplicatesDropped: number;
  rejectedOperations: number;
  /** The maximum number of requests in any sliding window of 1000 ms. */
  maxRequestsPerSecond: number;
  /** The shortest time in ms in which the rate limit plus one requests arrived; null when unlimited or too few arrived. */
  tightestSpanMs: number | null;
  batches: { bytes: Distribution; operations: Distribution };
}

export interface SandboxStats {
  region: 'us' | 'eu';
  total: WorkspaceStats;
  workspaces: Record<string, WorkspaceStats>;
}

export interface StoredOperation {
  seq: number;
  workspace: string;
  receivedAt: number;
  operation: {
    type: string;
    action: string;
    identifiers?: Record<string, string>;
    /** The visitor of an anonymous event, in place of `identifiers`. */
    anonymous_id?: string;
    id?: string;
    name?: string;
    attributes?: Record<string, unknown>;
  };
}
