import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer } from 'node:net';

/** Thrown by a `waitUntil` check to end the wait at once: waiting longer cannot help. */
export class WaitAbortedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitAbortedError';
  }
}

/**
 * Polls `check` until it returns true; throws naming `what` after `timeoutMs`,
 * or at once when `check` throws a WaitAbortedError.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) {
        return;
      }
    } catch (error) {
      if (error instanceof WaitAbortedError) {
        throw new Error(`stopped waiting for ${what}: ${error.message}`);
      }
      lastError = (error as Error).message;
    }
    await sleep(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ''}`,
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Ports handed out for services, below Linux's default range for outgoing
 * connections (32768 to 60999): a port from that range could be taken by a
 * client's connection while the service that had it restarts.
 */
const SERVICE_PORTS = { first: 20_000, count: 12_000 };

/** Returns a TCP port on 127.0.0.1, outside the outgoing range, that was free a moment ago. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = SERVICE_PORTS.first + Math.floor(Math.random() * SERVICE_PORTS.count);
    if (await canListen(port)) {
      return port;
    }
  }
  throw new Error(
    `no free port found between ${SERVICE_PORTS.first} and ${SERVICE_PORTS.first + SERVICE_PORTS.count}`,
  );
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/**
 * GETs a loopback URL and returns its status, or 0 when nothing responded.
 * The certificate is not checked: the probe only asks whether a service that
 * this process started is up, and the local gateway's certificate is self-signed.
 */
export function httpStatus(url: string): Promise<number> {
  const get = url.startsWith('https:') ? httpsGet : httpGet;
  return new Promise((resolve) => {
    const request = get(url, { rejectUnauthorized: false, timeout: 2000 }, (response) => {
      response.resume();
      response.on('end', () => {
        resolve(response.statusCode ?? 0);
      });
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => {
      resolve(0);
    });
  });
}

/** Throws naming `role` when something already listens on 127.0.0.1:`port`. */
export function assertPortFree(port: number, role: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const reason =
        error.code === 'EADDRINUSE' ? 'is in use' : `cannot be opened (${error.message})`;
      reject(
        new Error(
          `port ${port} for the ${role} ${reason}: stop the process that uses it or choose another port`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve();
      });
    });
  });
}
