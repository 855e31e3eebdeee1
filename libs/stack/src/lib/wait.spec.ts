import { createServer, type Server } from 'node:http';
import { assertPortFree, freePort, httpStatus, waitUntil, WaitAbortedError } from './wait';

describe('waitUntil', () => {
  it('resolves once the check passes', async () => {
    let calls = 0;

    await waitUntil('third call', () => Promise.resolve(++calls >= 3), 2000, 10);

    expect(calls).toBe(3);
  });

  it('names the wait and the last error on timeout', async () => {
    const check = () => Promise.reject(new Error('connection refused'));

    await expect(waitUntil('the broker', check, 100, 10)).rejects.toThrow(
      /timed out after 100 ms waiting for the broker: connection refused/,
    );
  });
});

describe('httpStatus', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    server = createServer((request, response) => {
      response.statusCode = request.url === '/ready' ? 200 : 503;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('returns the status of an answer', async () => {
    expect(await httpStatus(`http://127.0.0.1:${port}/ready`)).toBe(200);
    expect(await httpStatus(`http://127.0.0.1:${port}/other`)).toBe(503);
  });

  it('returns 0 when nothing listens', async () => {
    const closed = await freePort();

    expect(await httpStatus(`http://127.0.0.1:${closed}/ready`)).toBe(0);
  });
});

describe('assertPortFree', () => {
  it('passes for a free port', async () => {
    await expect(assertPortFree(await freePort(), 'gateway')).resolves.toBeUndefined();
  });

  it('names the role of a taken port', async () => {
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));

    await expect(assertPortFree(port, 'sandbox')).rejects.toThrow(
      `port ${port} for the sandbox is in use`,
    );
    await new Promise((resolve) => holder.close(resolve));
  });
});

describe('waitUntil aborts', () => {
  it('stops at a WaitAbortedError', async () => {
    const startedAt = Date.now();
    const check = () => Promise.reject(new WaitAbortedError('the process exited'));

    await expect(waitUntil('a service', check, 5000, 10)).rejects.toThrow(
      'stopped waiting for a service: the process exited',
    );
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });
});
