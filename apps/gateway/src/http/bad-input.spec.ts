import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fc from 'fast-check';
import {
  basicAuth,
  brokersFromEnv,
  deleteTopics,
  initGateway,
  testGatewayConfig,
  uniquePrefix,
  waitForReady,
} from '../testing/gateway-test-kit';

const SITE = 'site-fuzz';
const KEY = 'key-fuzz';
const BODY_LIMIT = 64 * 1024;
const ROUTES: { method: 'PUT' | 'POST' | 'DELETE'; url: (id: string) => string }[] = [
  { method: 'PUT', url: (id) => `/api/v1/customers/${id}` },
  { method: 'DELETE', url: (id) => `/api/v1/customers/${id}` },
  { method: 'POST', url: (id) => `/api/v1/customers/${id}/events` },
  { method: 'POST', url: () => '/api/v1/events' },
  { method: 'PUT', url: (id) => `/api/v1/customers/${id}/devices` },
  { method: 'DELETE', url: (id) => `/api/v1/customers/${id}/devices/${id}` },
  { method: 'POST', url: (id) => `/api/v1/customers/${id}/suppress` },
  { method: 'POST', url: (id) => `/api/v1/customers/${id}/unsuppress` },
  { method: 'POST', url: () => '/api/v1/merge_customers' },
  { method: 'POST', url: () => '/api/v2/entity' },
  { method: 'POST', url: () => '/api/v2/batch' },
];

/** JSON that is deeply nested: arrays and objects inside each other `depth` times. */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '[1]' + '}'.repeat(depth);
}

const identifier = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ minLength: 140, maxLength: 400 }),
  fc.constantFrom('cio_', 'a@b', '%00', '%2F..%2F', '..', 'user%20one', '\u{1F600}'),
);

const bodyText = fc.oneof(
  fc.jsonValue({ maxDepth: 6 }).map((value) => JSON.stringify(value)),
  fc
    .record({
      name: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
      data: fc.jsonValue({ maxDepth: 4 }),
      id: fc.oneof(fc.string(), fc.integer()),
      timestamp: fc.oneof(fc.integer(), fc.double(), fc.string()),
    })
    .map((value) => JSON.stringify(value)),
  fc
    .record({
      batch: fc.array(
        fc.record({
          type: fc.constantFrom('person', 'object', 'delivery', 'x', 1),
          action: fc.constantFrom('identify', 'event', 'merge', 'add_device', 'nope', null),
          identifiers: fc.oneof(fc.record({ id: fc.string() }), fc.jsonValue({ maxDepth: 2 })),
          name: fc.string({ maxLength: 150 }),
          attributes: fc.dictionary(fc.string({ maxLength: 160 }), fc.jsonValue({ maxDepth: 3 }), {
            maxKeys: 8,
          }),
        }),
        { maxLength: 5 },
      ),
    })
    .map((value) => JSON.stringify(value)),
  fc.integer({ min: 1, max: 5000 }).map(nested),
  fc.string({ maxLength: 200 }),
  fc.constantFrom(
    '',
    '{',
    '{"batch":',
    'null',
    '[]',
    '"text"',
    '{"batch":null}',
    '{"__proto__":{"x":1}}',
  ),
);

const encoding = fc.constantFrom<'utf8' | 'latin1' | 'invalid'>('utf8', 'latin1', 'invalid');

const authorization = fc.oneof(
  fc.constant(basicAuth(SITE, KEY)),
  fc.constant(basicAuth(SITE, 'wrong')),
  fc.constant('Basic !!!'),
  fc.constant('Bearer token'),
  fc.constant('Basic ' + 'A'.repeat(5000)),
  fc.string({ maxLength: 60 }),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  undefined,
);

describe('gateway on bad input', () => {
  const brokers = brokersFromEnv();
  const prefix = uniquePrefix();
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await initGateway(
      testGatewayConfig({
        KAFKA_BROKERS: brokers,
        KAFKA_TOPIC_PREFIX: prefix,
        CIO_WORKSPACES: `${SITE}:${KEY}:us`,
        GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      }),
    );
    await waitForReady(app);
  }, 60_000);

  afterAll(async () => {
    await app.close();
    await deleteTopics(brokers, prefix);
  });

  it('never answers 5xx and explains every 4xx', async () => {
    const request = fc.record({
      route: fc.constantFrom(...ROUTES),
      id: identifier,
      body: bodyText,
      encoding,
      authorization,
      contentType,
    });

    await fc.assert(
      fc.asyncProperty(
        request,
        async ({ route, id, body, encoding: how, authorization: auth, contentType: type }) => {
          const payload =
            how === 'invalid'
              ? Buffer.concat([Buffer.from(body, 'utf8'), Buffer.from([0xff, 0xfe, 0xc3])])
              : Buffer.from(body, how);
          const headers: Record<string, string> = { authorization: auth };
          if (type !== undefined) {
            headers['content-type'] = type;
          }
          const response = await app.inject({
            method: route.method,
            url: route.url(encodeURIComponent(id)),
            headers,
            payload,
          });

          expect(response.statusCode).toBeLessThan(500);
          if (response.statusCode >= 400) {
            const answer = JSON.parse(response.body) as { meta?: { error?: unknown } };
            expect(typeof answer.meta?.error).toBe('string');
            expect(String(answer.meta?.error).length).toBeGreaterThan(10);
          }
          expect(response.body).not.toContain(KEY);
        },
      ),
      { numRuns: 3000 },
    );
  }, 600_000);

  it('answers 413 past the body limit', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v2/batch',
      headers: { authorization: basicAuth(SITE, KEY), 'content-type': 'application/json' },
      payload: JSON.stringify({ batch: [{ pad: 'x'.repeat(BODY_LIMIT) }] }),
    });

    expect(response.statusCode).toBe(413);
  });

  it('answers 400 to deep nesting', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/customers/42/events',
      headers: { authorization: basicAuth(SITE, KEY), 'content-type': 'application/json' },
      payload: `{"name":"deep","data":${nested(5000)}}`,
    });

    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('levels deep');
  });
});
