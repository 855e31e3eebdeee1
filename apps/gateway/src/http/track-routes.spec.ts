import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { isUlid, type Operation } from '@cio-pipeline/schemas';
import {
  basicAuth,
  brokersFromEnv,
  deleteTopics,
  initGateway,
  testGatewayConfig,
  TopicReader,
  uniquePrefix,
  waitForReady,
} from '../testing/gateway-test-kit';
import { TrackApiService } from '../ingest/track-api.service';

jest.setTimeout(30_000);

const SITE = 'site-routes';
const API_KEY = `key-${randomBytes(8).toString('hex')}`;
const AUTH = basicAuth(SITE, API_KEY);
const BODY_LIMIT = 64 * 1024;
const EVENT_ID = '01HZY5B6J3N6Q8V2W4X7Y9Z0AB';
const ANY_ULID = expect.stringMatching(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/) as string;

interface Reply {
  status: number;
  body: unknown;
  requestId: string;
}

interface RouteCase {
  name: string;
  method: 'PUT' | 'POST' | 'DELETE';
  url: string;
  body?: unknown;
  operation: Operation;
  personKey: string;
}

const ROUTES: RouteCase[] = [
  {
    name: 'identify',
    method: 'PUT',
    url: '/api/v1/customers/person-1',
    body: { email: 'one@example.com', plan: 'pro', _timestamp: 1_700_000_000 },
    operation: {
      type: 'person',
      action: 'identify',
      identifiers: { id: 'person-1' },
      attributes: { email: 'one@example.com', plan: 'pro' },
      timestamp: 1_700_000_000,
    },
    personKey: 'id:person-1',
  },
  {
    name: 'identify by email',
    method: 'PUT',
    url: '/api/v1/customers/Person.Two@Example.com',
    body: { plan: 'free' },
    operation: {
      type: 'person',
      action: 'identify',
      identifiers: { email: 'Person.Two@Example.com' },
      attributes: { plan: 'free' },
    },
    personKey: 'email:person.two@example.com',
  },
  {
    name: 'delete person',
    method: 'DELETE',
    url: '/api/v1/customers/person-1',
    operation: { type: 'person', action: 'delete', identifiers: { id: 'person-1' } },
    personKey: 'id:person-1',
  },
  {
    name: 'track event',
    method: 'POST',
    url: '/api/v1/customers/person-1/events',
    body: {
      name: 'purchase',
      id: EVENT_ID.toLowerCase(),
      timestamp: 1_700_000_100,
      data: { price: 10 },
    },
    operation: {
      type: 'person',
      action: 'event',
      identifiers: { id: 'person-1' },
      name: 'purchase',
      id: EVENT_ID,
      timestamp: 1_700_000_100,
      attributes: { price: 10 },
    },
    personKey: 'id:person-1',
  },
  {
    name: 'track page view',
    method: 'POST',
    url: '/api/v1/customers/person-1/events',
    body: { name: '/pricing', type: 'page' },
    operation: {
      type: 'person',
      action: 'page',
      identifiers: { id: 'person-1' },
      name: '/pricing',
      id: ANY_ULID,
    },
    personKey: 'id:person-1',
  },
  {
    name: 'anonymous event',
    method: 'POST',
    url: '/api/v1/events',
    body: { name: 'viewed', anonymous_id: 'anon-1', data: { page: 'home' } },
    operation: {
      type: 'person',
      action: 'event',
      anonymous_id: 'anon-1',
      name: 'viewed',
      id: ANY_ULID,
      attributes: { page: 'home' },
    },
    personKey: 'anonymous_id:anon-1',
  },
  {
    name: 'add device',
    method: 'PUT',
    url: '/api/v1/customers/person-1/devices',
    body: { device: { id: 'token-1', platform: 'ios', last_used: 1_700_000_200 } },
    operation: {
      type: 'person',
      action: 'add_device',
      identifiers: { id: 'person-1' },
      device: { token: 'token-1', platform: 'ios', last_used: 1_700_000_200 },
    },
    personKey: 'id:person-1',
  },
  {
    name: 'delete device',
    method: 'DELETE',
    url: '/api/v1/customers/person-1/devices/token-1',
    operation: {
      type: 'person',
      action: 'delete_device',
      identifiers: { id: 'person-1' },
      device: { token: 'token-1' },
    },
    personKey: 'id:person-1',
  },
  {
    name: 'suppress',
    method: 'POST',
    url: '/api/v1/customers/person-1/suppress',
    operation: { type: 'person', action: 'suppress', identifiers: { id: 'person-1' } },
    personKey: 'id:person-1',
  },
  {
    name: 'unsuppress',
    method: 'POST',
    url: '/api/v1/customers/person-1/unsuppress',
    operation: { type: 'person', action: 'unsuppress', identifiers: { id: 'person-1' } },
    personKey: 'id:person-1',
  },
  {
    name: 'merge customers',
    method: 'POST',
    url: '/api/v1/merge_customers',
    body: { primary: { id: 'person-1' }, secondary: { email: 'old@example.com' } },
    operation: {
      type: 'person',
      action: 'merge',
      primary: { id: 'person-1' },
      secondary: { email: 'old@example.com' },
    },
    personKey: 'id:person-1',
  },
  {
    name: 'v2 entity',
    method: 'POST',
    url: '/api/v2/entity',
    body: {
      type: 'object',
      action: 'identify',
      identifiers: { object_type_id: '1', object_id: 'acme' },
      attributes: { name: 'Acme' },
    },
    operation: {
      type: 'object',
      action: 'identify',
      identifiers: { object_type_id: '1', object_id: 'acme' },
      attributes: { name: 'Acme' },
    },
    personKey: 'object:1:acme',
  },
];

describe('gateway Track API', () => {
  let brokers: string;
  let prefix: string | undefined;
  let app: NestFastifyApplication | undefined;
  let reader: TopicReader | undefined;
  let requestCount = 0;
  /** Ids of requests the gateway rejected whole: none of them may reach Kafka. */
  const rejectedRequests: string[] = [];

  beforeAll(async () => {
    brokers = brokersFromEnv();
    prefix = uniquePrefix();
    const config = testGatewayConfig({
      CIO_WORKSPACES: `${SITE}:${API_KEY}:us`,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT),
    });
    app = await initGateway(config);
    await waitForReady(app);
    reader = await TopicReader.start(brokers, config.kafka.topics.operations.name);
  });

  afterAll(async () => {
    await reader?.stop();
    await app?.close();
    if (prefix !== undefined) {
      await deleteTopics(brokers, prefix);
    }
  });

  /**
   * Sends one request with valid credentials and an `x-request-id` of its own.
   * `authorization: null` sends no Authorization header, and `body` is sent as JSON.
   */
  async function call(
    method: 'PUT' | 'POST' | 'DELETE',
    url: string,
    options: {
      body?: unknown;
      payload?: string;
      authorization?: string | null;
      requestId?: boolean;
    } = {},
  ): Promise<Reply> {
    requestCount += 1;
    const requestId = `test-${requestCount}`;
    const headers: Record<string, string> = {};
    if (options.requestId !== false) {
      headers['x-request-id'] = requestId;
    }
    const authorization = options.authorization === undefined ? AUTH : options.authorization;
    if (authorization !== null) {
      headers['authorization'] = authorization;
    }
    const payload = options.body === undefined ? options.payload : JSON.stringify(options.body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const response = await app!
      .getHttpAdapter()
      .getInstance()
      .inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
    return {
      status: response.statusCode,
      body: response.body === '' ? undefined : JSON.parse(response.body),
      requestId,
    };
  }

  describe('v1 and v2 routes', () => {
    it.each(ROUTES)('$name writes its v2 operation', async (route) => {
      const before = Date.now();

      const reply = await call(route.method, route.url, { body: route.body });

      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: {} });
      const messages = await reader!.waitForRequest(reply.requestId, 1);
      expect(messages).toHaveLength(1);
      const message = messages[0]!;
      expect(message.envelope).toEqual({
        workspace: SITE,
        acceptedAt: expect.any(Number) as number,
        requestId: reply.requestId,
        operations: [route.operation],
      });
      expect(message.envelope.acceptedAt).toBeGreaterThanOrEqual(before);
      expect(message.envelope.acceptedAt).toBeLessThanOrEqual(Date.now());
      expect(message.key).toBe(`${SITE}/${route.personKey}`);
      // The envelope carries every field, so the message has no headers.
      expect(message.headers).toEqual({});
    });

    it('names requests without x-request-id', async () => {
      const reply = await call('POST', '/api/v1/customers/person-no-request-id/suppress', {
        requestId: false,
      });
      expect(reply.status).toBe(200);

      const [message] = await reader!.waitFor(
        'person-no-request-id',
        (m) => m.key === `${SITE}/id:person-no-request-id`,
        1,
      );
      expect(isUlid(message!.envelope.requestId)).toBe(true);
    });

    it('gives each event without id a ULID', async () => {
      const first = await call('POST', '/api/v1/customers/person-4/events', {
        body: { name: 'clicked' },
      });
      const second = await call('POST', '/api/v1/customers/person-4/events', {
        body: { name: 'clicked', id: '' },
      });
      const anonymous = await call('POST', '/api/v1/events', {
        body: { name: 'clicked', anonymous_id: 'anon-4' },
      });
      expect([first.status, second.status, anonymous.status]).toEqual([200, 200, 200]);

      const ids: string[] = [];
      for (const reply of [first, second, anonymous]) {
        const [message] = await reader!.waitForRequest(reply.requestId, 1);
        ids.push(message!.envelope.operations[0]?.id ?? '');
      }
      expect(ids.map((id) => isUlid(id))).toEqual([true, true, true]);
      expect(new Set(ids).size).toBe(3);
    });
  });

  describe('v2 batch', () => {
    const event = (person: string, name: string) => ({
      type: 'person',
      action: 'event',
      identifiers: { id: person },
      name,
    });

    it('writes every item of a valid batch', async () => {
      const items = [
        event('person-5', 'first'),
        event('person-6', 'second'),
        { type: 'person', action: 'identify', identifiers: { id: 'person-5' } },
      ];

      const reply = await call('POST', '/api/v2/batch', { body: { batch: items } });

      expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: {} });
      // One message per person, with that person's operations in request order.
      const messages = await reader!.waitForRequest(reply.requestId, 2);
      expect(messages).toHaveLength(2);
      const person5 = messages.filter((m) => m.key === `${SITE}/id:person-5`);
      const person6 = messages.filter((m) => m.key === `${SITE}/id:person-6`);
      expect(person5).toHaveLength(1);
      expect(person6).toHaveLength(1);
      expect(person5[0]!.envelope.operations.map((operation) => operation.action)).toEqual([
        'event',
        'identify',
      ]);
      expect(person6[0]!.envelope.operations.map((operation) => operation.name)).toEqual([
        'second',
      ]);
      const eventIds = messages.flatMap((m) =>
        m.envelope.operations.flatMap((operation) =>
          operation.action === 'event' ? [operation.id ?? ''] : [],
        ),
      );
      expect(eventIds.map((id) => isUlid(id))).toEqual([true, true]);
    });

    it('returns 207 for a bad item', async () => {
      const items = [
        event('person-7', 'kept-first'),
        { type: 'person', action: 'event', name: 'dropped-marker' },
        event('person-8', 'kept-second'),
      ];

      const reply = await call('POST', '/api/v2/batch', { body: { batch: items } });

      expect(reply.status).toBe(207);
      expect(reply.body).toEqual({
        errors: [
          {
            batch_index: 1,
            field: 'identifiers',
            reason: 'required',
            message: 'identifiers is required',
          },
        ],
      });
      const messages = await reader!.waitForRequest(reply.requestId, 2);
      const names = messages.flatMap((m) =>
        m.envelope.operations.map((operation) => operation.name),
      );
      expect(names.sort()).toEqual(['kept-first', 'kept-second']);
      expect(reader!.messages.filter((m) => m.raw.includes('dropped-marker'))).toHaveLength(0);
    });

    it('returns 207 when every item is bad', async () => {
      const reply = await call('POST', '/api/v2/batch', {
        body: { batch: [{ type: 'person', action: 'nope', identifiers: { id: 'person-9' } }] },
      });
      rejectedRequests.push(reply.requestId);

      expect(reply.status).toBe(207);
      expect(reply.body).toMatchObject({ errors: [{ batch_index: 0, field: 'action' }] });
    });
  });

  describe('authentication', () => {
    const cases: { name: string; authorization: string | null; error: string }[] = [
      { name: 'missing header', authorization: null, error: 'Authorization header is missing' },
      { name: 'wrong key', authorization: basicAuth(SITE, 'wrong-key'), error: 'not valid' },
      { name: 'unknown site', authorization: basicAuth('other', API_KEY), error: 'not valid' },
      { name: 'bearer scheme', authorization: `Bearer ${API_KEY}`, error: 'must be "Basic' },
      { name: 'invalid base64', authorization: 'Basic %%%', error: 'invalid base64' },
      {
        name: 'no colon',
        authorization: `Basic ${Buffer.from(SITE).toString('base64')}`,
        error: 'site_id:api_key',
      },
    ];

    it.each(cases)('returns 401 for $name', async ({ authorization, error }) => {
      const reply = await call('PUT', '/api/v1/customers/person-10', {
        body: { plan: 'pro' },
        authorization,
      });
      rejectedRequests.push(reply.requestId);

      expect(reply.status).toBe(401);
      expect(reply.body).toEqual({ meta: { error: expect.stringContaining(error) as string } });
    });
  });

  describe('request errors', () => {
    it('names field, size and limit of a long attribute', async () => {
      const reply = await call('PUT', '/api/v1/customers/person-11', {
        body: { plan: 'x'.repeat(1001) },
      });
      rejectedRequests.push(reply.requestId);

      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        meta: {
          error: 'plan: value of attribute "plan" is 1001 bytes, over the limit of 1000 bytes',
        },
      });
    });

    it('counts attribute bytes, not characters', async () => {
      // 500 two-byte characters and one ASCII character: 501 characters, 1001 bytes.
      const reply = await call('POST', '/api/v2/entity', {
        body: {
          type: 'person',
          action: 'identify',
          identifiers: { id: 'person-12' },
          attributes: { bio: `${'é'.repeat(500)}x` },
        },
      });
      rejectedRequests.push(reply.requestId);

      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({
        meta: { error: expect.stringContaining('1001 bytes, over the limit of 1000') as string },
      });
    });

    it('accepts an attribute at the limit', async () => {
      const reply = await call('PUT', '/api/v1/customers/person-13', {
        body: { plan: 'x'.repeat(1000) },
      });

      expect(reply.status).toBe(200);
      const [message] = await reader!.waitForRequest(reply.requestId, 1);
      expect(message!.envelope.operations[0]?.attributes).toEqual({ plan: 'x'.repeat(1000) });
    });

    it('returns 413 above the body limit', async () => {
      const items = Array.from({ length: 700 }, (_, i) => ({
        type: 'person',
        action: 'identify',
        identifiers: { id: `person-${i}` },
        attributes: { note: 'n'.repeat(60) },
      }));
      const payload = JSON.stringify({ batch: items });
      expect(Buffer.byteLength(payload)).toBeGreaterThan(BODY_LIMIT);

      const reply = await call('POST', '/api/v2/batch', { payload });
      rejectedRequests.push(reply.requestId);

      expect(reply.status).toBe(413);
      expect(reply.body).toEqual({ meta: { error: expect.any(String) as string } });
    });

    it('returns 400 for malformed JSON', async () => {
      const reply = await call('POST', '/api/v1/customers/person-14/events', {
        payload: '{"name": "clicked",',
      });
      rejectedRequests.push(reply.requestId);

      expect(reply.status).toBe(400);
      expect(reply.body).toEqual({ meta: { error: expect.any(String) as string } });
    });

    it.each([
      ['PUT', '/api/v1/customers/'],
      ['DELETE', '/api/v1/customers/'],
      ['POST', '/api/v1/customers//events'],
      ['PUT', '/api/v1/customers//devices'],
      ['DELETE', '/api/v1/customers/person-15/devices/'],
      ['DELETE', '/api/v1/customers//devices/device-1'],
      ['POST', '/api/v1/customers//suppress'],
      ['POST', '/api/v1/customers//unsuppress'],
    ] as const)('returns 404 for %s %s', async (method, url) => {
      const body = method === 'DELETE' ? undefined : { name: 'x', device: { id: 'd' } };

      const signed = await call(method, url, { body });
      const unsigned = await call(method, url, { body, authorization: null });
      rejectedRequests.push(signed.requestId, unsigned.requestId);

      expect(signed.status).toBe(404);
      expect(signed.body).toEqual({ meta: { error: `Cannot ${method} ${url}` } });
      expect(unsigned.status).toBe(404);
    });

    it('returns 500 for unexpected error', async () => {
      const service = app!.get(TrackApiService);
      const failure = jest
        .spyOn(service, 'acceptOne')
        .mockRejectedValueOnce(new Error('secret detail of the failure'));

      try {
        const reply = await call('POST', '/api/v1/customers/person-16/events', {
          body: { name: 'clicked' },
        });
        rejectedRequests.push(reply.requestId);

        expect(reply.status).toBe(500);
        expect(reply.body).toEqual({
          meta: { error: expect.stringMatching(/^internal error; request id \S+$/) as string },
        });
        expect(JSON.stringify(reply.body)).not.toContain('secret detail');
      } finally {
        failure.mockRestore();
      }
    });
  });

  describe('response metrics', () => {
    /** Returns the count of `status` responses of `route` on GET /metrics, 0 before the first. */
    async function responses(route: string, status: number): Promise<number> {
      const response = await app!.getHttpAdapter().getInstance().inject('/metrics');
      const sample = `cio_gateway_requests_total{route="${route}",status="${status}"} `;
      const line = response.body.split('\n').find((text) => text.startsWith(sample));
      return line === undefined ? 0 : Number(line.slice(sample.length));
    }

    it('counts responses by route pattern', async () => {
      const route = '/api/v1/customers/:identifier/events';
      const accepted = await responses(route, 200);
      const rejected = await responses(route, 400);
      const unmatched = await responses('unmatched', 200);

      const good = await call('POST', '/api/v1/customers/person-counted/events', {
        body: { name: 'counted' },
      });
      const bad = await call('POST', '/api/v1/customers/person-counted/events', {
        body: { name: 5 },
      });
      rejectedRequests.push(bad.requestId);

      expect(good.status).toBe(200);
      expect(bad.status).toBe(400);
      expect(await responses(route, 200)).toBe(accepted + 1);
      expect(await responses(route, 400)).toBe(rejected + 1);
      expect(await responses('/api/v1/customers/person-counted/events', 200)).toBe(0);
      expect(await responses('unmatched', 200)).toBe(unmatched);
    });

    it('counts unknown paths as unmatched', async () => {
      const before = await responses('unmatched', 404);

      const reply = await call('POST', '/api/v1/no-such-route');

      expect(reply.status).toBe(404);
      expect(await responses('unmatched', 404)).toBe(before + 1);
    });

    it('counts invalid URLs as unmatched', async () => {
      const before = await responses('unmatched', 400);

      const reply = await call('POST', '/api/v1/customers/%zz/events', { body: { name: 'x' } });
      rejectedRequests.push(reply.requestId);

      expect(reply.status).toBe(400);
      expect(await responses('unmatched', 400)).toBe(before + 1);
    });
  });

  describe('Kafka contents', () => {
    it('holds nothing of rejected requests', async () => {
      // A request written after all the others: once it is read, so would be any earlier one.
      const last = await call('POST', '/api/v1/customers/person-last/suppress');
      expect(last.status).toBe(200);
      await reader!.waitForRequest(last.requestId, 1);

      expect(rejectedRequests.length).toBeGreaterThan(5);
      const written = reader!.messages.filter((m) =>
        rejectedRequests.includes(m.envelope.requestId),
      );
      expect(written).toEqual([]);
    });

    it('holds no API key', () => {
      const credentials = AUTH.slice('Basic '.length);
      expect(reader!.messages.length).toBeGreaterThan(ROUTES.length);
      for (const message of reader!.messages) {
        const stored = JSON.stringify([message.key, message.raw, message.headers]);
        expect(stored).not.toContain(API_KEY);
        expect(stored).not.toContain(credentials);
      }
    });
  });
});
