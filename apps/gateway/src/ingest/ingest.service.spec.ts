import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer, type Server } from 'node:net';
import { sleep, waitUntil } from '@cio-pipeline/stack';
import { KafkaUnavailableError, ProducerOverloadedError } from '@cio-pipeline/kafka';
import { basicAuth, initGateway, testGatewayConfig } from '../testing/gateway-test-kit';
import { unavailableMessage } from './ingest.service';

jest.setTimeout(30_000);

const SITE = 'site-down';
const API_KEY = 'key-down';

describe('gateway without Kafka', () => {
  let app: NestFastifyApplication | undefined;
  let refuser: Server | undefined;
  let connections = 0;

  beforeAll(async () => {
    // A port that closes every connection at once, as a Kafka that is down, and counts them.
    refuser = createServer((socket) => {
      connections += 1;
      socket.destroy();
    });
    const port = await new Promise<number>((resolve) => {
      refuser!.listen(0, '127.0.0.1', () => {
        const address = refuser!.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
    const config = testGatewayConfig({
      CIO_WORKSPACES: `${SITE}:${API_KEY}:us`,
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      KAFKA_TOPIC_PREFIX: 't-down-',
      GATEWAY_RETRY_AFTER_SECONDS: '7',
    });
    app = await initGateway(config);
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => refuser?.close(resolve));
  });

  /** Sends a request and fails the test if no response comes within `timeoutMs`. */
  async function inject(
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    body?: unknown,
    timeoutMs = 3000,
  ) {
    const fastify = app!.getHttpAdapter().getInstance();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${method} ${url} got no response within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([
        fastify.inject({
          method,
          url,
          headers: { authorization: basicAuth(SITE, API_KEY), 'content-type': 'application/json' },
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  it('reports not ready', async () => {
    const response = await inject('GET', '/health/ready');

    expect(response.statusCode).toBe(503);
  });

  it.each([
    { name: 'identify', method: 'PUT' as const, url: '/api/v1/customers/p-1', body: {} },
    {
      name: 'track',
      method: 'POST' as const,
      url: '/api/v1/customers/p-1/events',
      body: { name: 'clicked' },
    },
    {
      name: 'batch',
      method: 'POST' as const,
      url: '/api/v2/batch',
      body: { batch: [{ type: 'person', action: 'delete', identifiers: { id: 'p-1' } }] },
    },
  ])('returns 503 with Retry-After for $name', async ({ method, url, body }) => {
    const response = await inject(method, url, body);

    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('7');
    expect(JSON.parse(response.body)).toEqual({
      meta: { error: expect.stringContaining('Kafka') as string },
    });
  });

  it('stops connecting to Kafka once closed', async () => {
    await waitUntil('a first connection attempt', () => Promise.resolve(connections > 0), 5000, 20);
    await app!.close();
    app = undefined;
    const afterClose = connections;

    // kafkajs retries at growing intervals, several times within the first 5 s.
    await sleep(5000);

    expect(connections).toBe(afterClose);
  });
});

describe('unavailable message', () => {
  const waited = 'Kafka did not acknowledge within 10000 ms';

  it('marks queued write not accepted', () => {
    const error = new KafkaUnavailableError(`${waited}; nothing was written`, {
      cause: { written: false },
    });
    expect(unavailableMessage(error)).toBe(`not accepted: ${waited}; nothing was written; retry`);
  });

  it('marks sent write maybe stored', () => {
    const error = new KafkaUnavailableError(`${waited}; the write may still complete`, {
      cause: { written: 'unknown' },
    });
    const message = unavailableMessage(error);
    expect(message.startsWith('may have been accepted: ')).toBe(true);
    expect(message).toContain('give events an id of your own');
  });

  it('marks overload not accepted', () => {
    const message = unavailableMessage(new ProducerOverloadedError(2048, 1024));
    expect(message.startsWith('not accepted: ')).toBe(true);
  });
});
