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

const SITE = 'site-auth';
const KEY = 'key-auth-secret-4f1c';
// Every row has three items: jest passes `done` in place of a missing last argument.
const ROUTES: [method: 'PUT' | 'POST' | 'DELETE', url: string, body: object | undefined][] = [
  ['PUT', '/api/v1/customers/42', { plan: 'pro' }],
  ['DELETE', '/api/v1/customers/42', undefined],
  ['POST', '/api/v1/customers/42/events', { name: 'signed_up' }],
  ['POST', '/api/v1/events', { name: 'viewed', anonymous_id: 'a-1' }],
  ['PUT', '/api/v1/customers/42/devices', { device: { id: 'token', platform: 'ios' } }],
  ['DELETE', '/api/v1/customers/42/devices/token', undefined],
  ['POST', '/api/v1/customers/42/suppress', undefined],
  ['POST', '/api/v1/customers/42/unsuppress', undefined],
  ['POST', '/api/v1/merge_customers', { primary: { id: '1' }, secondary: { id: '2' } }],
  ['POST', '/api/v2/entity', { type: 'person', identifiers: { id: '42' }, action: 'identify' }],
  [
    'POST',
    '/api/v2/batch',
    { batch: [{ type: 'person', identifiers: { id: '42' }, action: 'identify' }] },
  ],
];
const BAD_HEADERS: [string, string | undefined][] = [
  ['missing', undefined],
  ['wrong key', basicAuth(SITE, 'wrong')],
  ['unknown site', basicAuth('site-other', KEY)],
  ['no colon', `Basic ${Buffer.from('site-auth').toString('base64')}`],
  ['bad base64', 'Basic %%%'],
  ['other scheme', `Bearer ${KEY}`],
  ['empty', ''],
];

describe('gateway auth on every ingest path', () => {
  const brokers = brokersFromEnv();
  const prefix = uniquePrefix();
  let app: NestFastifyApplication;
  const output: string[] = [];
  let restore: () => void = () => undefined;

  beforeAll(async () => {
    app = await initGateway(
      testGatewayConfig({
        KAFKA_BROKERS: brokers,
        KAFKA_TOPIC_PREFIX: prefix,
        CIO_WORKSPACES: `${SITE}:${KEY}:us`,
        LOG_LEVEL: 'verbose',
      }),
    );
    await waitForReady(app);
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string | Uint8Array, ...rest: never[]) => {
      output.push(String(chunk));
      return write(chunk, ...rest);
    };
    restore = () => {
      process.stdout.write = write;
    };
  }, 60_000);

  afterAll(async () => {
    restore();
    await app.close();
    await deleteTopics(brokers, prefix);
  });

  it.each(ROUTES)('%s %s requires valid credentials', async (method, url, body) => {
    for (const [name, header] of BAD_HEADERS) {
      const response = await app.inject({
        method,
        url,
        headers: {
          ...(header === undefined ? {} : { authorization: header }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: body }),
      });

      expect({ name, status: response.statusCode }).toEqual({ name, status: 401 });
      expect((JSON.parse(response.body) as { meta: { error: string } }).meta.error).toMatch(
        /Authorization|Basic|site id/,
      );
    }
    const accepted = await app.inject({
      method,
      url,
      headers: {
        authorization: basicAuth(SITE, KEY),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: body }),
    });
    expect(accepted.statusCode).toBe(200);
  });

  it('never writes the API key to its output', () => {
    expect(output.join('')).not.toContain(KEY);
    expect(output.join('')).not.toContain(Buffer.from(`${SITE}:${KEY}`).toString('base64'));
  });
});
