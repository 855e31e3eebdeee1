import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  basicAuth,
  brokersFromEnv,
  deleteTopics,
  initGateway,
  testGatewayConfig,
  uniquePrefix,
  waitForReady,
} from '../testing/gateway-test-kit';

const SITE = 'site-overload';
const MAX_PENDING_BYTES = 16 * 1024;

describe('gateway under overload', () => {
  const brokers = brokersFromEnv();
  const prefix = uniquePrefix();
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await initGateway(
      testGatewayConfig({
        KAFKA_BROKERS: brokers,
        KAFKA_TOPIC_PREFIX: prefix,
        CIO_WORKSPACES: `${SITE}:key:us`,
        GATEWAY_MAX_PENDING_BYTES: String(MAX_PENDING_BYTES),
      }),
    );
    await waitForReady(app);
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await deleteTopics(brokers, prefix);
  });

  it('answers the excess with 503 and Retry-After', async () => {
    const padding = 'x'.repeat(900);
    const calls = Array.from({ length: 400 }, (_, i) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/customers/person-${i}/events`,
        headers: { authorization: basicAuth(SITE, 'key'), 'content-type': 'application/json' },
        payload: { name: 'burst', data: { padding } },
      }),
    );

    const responses = await Promise.all(calls);
    const statuses = responses.map((response) => response.statusCode);
    const rejected = responses.filter((response) => response.statusCode === 503);

    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(rejected.length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(0);
    for (const response of rejected) {
      expect(response.headers['retry-after']).toBe('2');
      expect(response.body).toContain('waiting for Kafka, over the limit of 16384');
    }
  });

  it('takes traffic again after the burst', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/customers/after/events',
      headers: { authorization: basicAuth(SITE, 'key'), 'content-type': 'application/json' },
      payload: { name: 'calm' },
    });

    expect(response.statusCode).toBe(200);
  });
});
