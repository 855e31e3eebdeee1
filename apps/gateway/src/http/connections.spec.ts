import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connect, type Socket } from 'node:net';
import { sleep, waitUntil } from '@cio-pipeline/stack';
import { createGateway } from '../bootstrap';
import {
  basicAuth,
  brokersFromEnv,
  deleteTopics,
  testGatewayConfig,
  uniquePrefix,
  waitForReady,
} from '../testing/gateway-test-kit';

jest.setTimeout(30_000);

const SITE = 'site-connections';
const API_KEY = 'key-connections';
const BODY = JSON.stringify({ name: 'clicked', data: { step: 1 } });

/** Status, headers and body of a raw HTTP/1.1 response. */
interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Request head of a track call whose body is BODY, sent in two parts by the tests. */
function requestHead(): string {
  return [
    'POST /api/v1/customers/person-1/events HTTP/1.1',
    'Host: 127.0.0.1',
    `Authorization: ${basicAuth(SITE, API_KEY)}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(BODY)}`,
    '',
    '',
  ].join('\r\n');
}

/** Parses one response of Content-Length framing from the start of `text`, or a head without body. */
function parseResponse(text: string): RawResponse {
  const headEnd = text.indexOf('\r\n\r\n');
  const [statusLine = '', ...headerLines] = text.slice(0, headEnd).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = text.slice(headEnd + 4, headEnd + 4 + length);
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

/** Collects what the server sends until it closes the connection, and parses each response. */
function responsesOf(socket: Socket): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const starts = [...text.matchAll(/HTTP\/1\.1 \d{3}/g)].map((match) => match.index);
      resolve(starts.map((start) => parseResponse(text.slice(start))));
    });
  });
}

describe('gateway connections', () => {
  const brokers = brokersFromEnv();
  const prefix = uniquePrefix();
  let app: NestFastifyApplication | undefined;
  let port = 0;

  beforeEach(async () => {
    const config = testGatewayConfig({
      CIO_WORKSPACES: `${SITE}:${API_KEY}:us`,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      GATEWAY_REQUEST_TIMEOUT_MS: '1000',
      GATEWAY_RETRY_AFTER_SECONDS: '5',
    });
    app = await createGateway(config);
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await deleteTopics(brokers, prefix);
  });

  it('returns 408 for stalled request', async () => {
    const socket = connect(port, '127.0.0.1');
    const responses = responsesOf(socket);
    const startedAt = Date.now();

    socket.write(requestHead() + BODY.slice(0, 10));

    expect((await responses).map((response) => response.status)).toEqual([408]);
    // Timeout of 1 s, checked every second.
    expect(Date.now() - startedAt).toBeLessThan(5000);
  });

  it('returns 503 during shutdown', async () => {
    await waitForReady(app!);
    const server = app!.getHttpServer();
    const socket = connect(port, '127.0.0.1');
    const responses = responsesOf(socket);
    // A request in progress keeps the connection open once shutdown begins.
    socket.write(requestHead() + BODY.slice(0, 10));
    await sleep(200);

    const closed = app!.close();
    app = undefined;
    await waitUntil(
      'the server to stop listening',
      () => Promise.resolve(!server.listening),
      5000,
      20,
    );
    // The first request ends, and a second one starts during shutdown.
    socket.write(BODY.slice(10) + requestHead() + BODY);

    const [first, second] = await responses;
    await closed;
    expect(first?.status).toBe(200);
    expect(second?.status).toBe(503);
    expect(second?.headers['retry-after']).toBe('5');
    expect(second?.headers['connection']).toBe('close');
    expect(JSON.parse(second?.body ?? '')).toEqual({
      meta: { error: 'the gateway is shutting down; retry' },
    });
  });
});
