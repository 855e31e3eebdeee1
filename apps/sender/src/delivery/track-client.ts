import { Agent, request } from 'undici';
import type { Workspace } from '@cio-pipeline/runtime';

export interface TrackResponse {
  status: number;
  /** Seconds from a Retry-After header, when present and valid. */
  retryAfterSeconds: number | undefined;
  body: string;
}

/** The request got no HTTP answer: connection refused or reset, DNS failure, or timeout. */
export class TransportError extends Error {
  readonly retriable = true;

  constructor(
    message: string,
    readonly timedOut: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/**
 * Posts `/api/v2/batch` bodies to Customer.io with keep-alive connections.
 * A request that has not completed after `timeoutMs` is aborted, so a hung
 * connection cannot hold a batch forever.
 */
export class TrackClient {
  private readonly agent = new Agent({ keepAliveTimeout: 30_000, connections: 64, pipelining: 1 });

  constructor(private readonly timeoutMs: number) {}

  async postBatch(baseUrl: string, workspace: Workspace, body: Buffer): Promise<TrackResponse> {
    const credentials = Buffer.from(`${workspace.siteId}:${workspace.apiKey}`).toString('base64');
    try {
      const response = await request(`${baseUrl}/api/v2/batch`, {
        method: 'POST',
        dispatcher: this.agent,
        body,
        headers: {
          authorization: `Basic ${credentials}`,
          'content-type': 'application/json',
          'content-length': String(body.length),
        },
        signal: AbortSignal.timeout(this.timeoutMs),
        maxRedirections: 0,
      });
      const text = await response.body.text();
      return {
        status: response.statusCode,
        retryAfterSeconds: parseRetryAfter(response.headers['retry-after']),
        body: text,
      };
    } catch (error) {
      const timedOut =
        (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      const reason = timedOut
        ? `no response within ${this.timeoutMs} ms`
        : (error as Error).message;
      throw new TransportError(`request to ${baseUrl} failed: ${reason}`, timedOut, {
        cause: error,
      });
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Reads Retry-After as seconds or as an HTTP date; ignores anything else. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') {
    return undefined;
  }
  if (/^\d+(\.\d+)?$/.test(value.trim())) {
    return Number(value);
  }
  // Only an HTTP date has letters (a weekday and a month); Date.parse reads "-1" as a year.
  if (!/[A-Za-z]/.test(value)) {
    return undefined;
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}
