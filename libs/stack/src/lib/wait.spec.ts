import { createServer, type Server } from 'node:http';
import { freePort, httpStatus, waitUntil } from './wait';

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
