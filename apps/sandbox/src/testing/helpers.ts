import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { request as httpRequest } from 'node:http';
import type { SandboxConfigInput, WorkspaceConfig } from '../config';
import { type Sandbox, type SandboxOptions, createSandbox } from '../sandbox';

export const US_WORKSPACE: WorkspaceConfig = { siteId: 'site-us', apiKey: 'key-us', region: 'us' };
export const EU_WORKSPACE: WorkspaceConfig = { siteId: 'site-eu', apiKey: 'key-eu', region: 'eu' };

export function basicAuth(siteId: string, apiKey: string): string {
  return `Basic ${Buffer.from(`${siteId}:${apiKey}`).toString('base64')}`;
}

export const US_AUTH = basicAuth(US_WORKSPACE.siteId, US_WORKSPACE.apiKey);

/** Creates a sandbox with a US and an EU workspace, silent logs and seed 1 unless `input` sets them. */
export function createTestSandbox(
  input: SandboxConfigInput = {},
  options: SandboxOptions = {},
): Sandbox {
  return createSandbox(
    { workspaces: [US_WORKSPACE, EU_WORKSPACE], logLevel: 'silent', seed: 1, ...input },
    options,
  );
}

/** Manual monotonic clock for rate-window tests. */
export class ManualClock {
  private current = 10_000;

  readonly now = (): number => this.current;

  advance(ms: number): void {
    this.current += ms;
  }
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Returns a valid ULID that differs for each `n`. */
export function testUlid(n: number): string {
  let suffix = '';
  let rest = n;
  for (let i = 0; i < 8; i += 1) {
    suffix = (CROCKFORD[rest % 32] ?? '0') + suffix;
    rest = Math.floor(rest / 32);
  }
  return `01HZX3NDEKTSV4RRFF${suffix}`;
}

/** Sends one request through `app.inject` with the US workspace's credentials unless `auth` is given. */
export function send(
  sandbox: Sandbox,
  method: InjectOptions['method'],
  url: string,
  body?: unknown,
  auth: string | null = US_AUTH,
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (auth !== null) {
    headers.authorization = auth;
  }
  const options: InjectOptions = { method, url, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    options.payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  return sandbox.app.inject(options);
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * Sends one request over a new TCP connection (no keep-alive) and rejects on a socket
 * error or when no response arrives within `timeoutMs`.
 */
export function sendHttp(
  baseUrl: string,
  options: { method: string; path: string; body?: unknown; auth?: string; timeoutMs: number },
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (options.auth !== undefined) {
      headers.authorization = options.auth;
    }
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const request = httpRequest(
      new URL(options.path, baseUrl),
      { method: options.method, headers, agent: false, timeout: options.timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        response.on('error', reject);
      },
    );
    request.on('timeout', () => {
      request.destroy(new Error(`timed out after ${options.timeoutMs} ms`));
    });
    request.on('error', reject);
    request.end(payload);
  });
}
