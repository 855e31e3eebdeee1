import Fastify, { type FastifyInstance } from 'fastify';
import type { Workspace } from '@cio-pipeline/runtime';
import type { DeadLetter } from '@cio-pipeline/schemas';
import { readSenderConfig } from '../config/sender-config';
import type { DeadLetterWriter } from './dead-letter.writer';
import { DeliveryService, ShutdownError, type DeliveryJob } from './delivery.service';
import { SenderStats } from './sender-stats';
import { TrackClient } from './track-client';

type Handler = (
  body: { batch: { name?: string; poison?: boolean }[] } | string,
  host: string,
) => {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  hang?: boolean;
};

/** A stand-in for Customer.io whose answer each test sets, recording what it received. */
class FakeTrackApi {
  readonly server: FastifyInstance = Fastify();
  readonly received: { host: string; names: string[] }[] = [];
  handler: Handler = () => ({ status: 200, body: {} });

  async start(): Promise<string> {
    this.server.addContentTypeParser(
      'application/json',
      { parseAs: 'string' },
      (_request, text, done) => {
        try {
          done(null, JSON.parse(text as string));
        } catch {
          done(null, text);
        }
      },
    );
    this.server.post('/:host/api/v2/batch', async (request, reply) => {
      const host = (request.params as { host: string }).host;
      const body = request.body as Parameters<Handler>[0];
      const names =
        typeof body === 'string' ? [] : body.batch.map((operation) => operation.name ?? '');
      this.received.push({ host, names });
      const answer = this.handler(body, host);
      if (answer.hang === true) {
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
      return reply
        .status(answer.status)
        .headers(answer.headers ?? {})
        .send(answer.body ?? {});
    });
    return this.server.listen({ port: 0, host: '127.0.0.1' });
  }
}

const US: Workspace = { siteId: 'site-us', apiKey: 'key-us', region: 'us', rateLimit: 50 };
const EU: Workspace = { siteId: 'site-eu', apiKey: 'key-eu', region: 'eu', rateLimit: 50 };

function job(
  workspace: Workspace,
  names: string[],
  options: { poison?: string; raw?: string } = {},
): DeliveryJob {
  const batch = names.map((name) => ({
    type: 'person',
    action: 'event',
    identifiers: { id: name },
    name,
    ...(name === options.poison ? { poison: true } : {}),
  }));
  return {
    workspace,
    body: Buffer.from(options.raw ?? JSON.stringify({ batch })),
    operationCount: names.length,
    source: { topic: 'batches', partition: 0, offset: '0' },
  };
}

describe('DeliveryService', () => {
  const api = new FakeTrackApi();
  let url: string;
  let letters: DeadLetter[];
  let delivery: DeliveryService;
  let stats: SenderStats;

  beforeAll(async () => {
    url = await api.start();
  });

  afterAll(async () => {
    await api.server.close();
  });

  beforeEach(() => {
    api.received.length = 0;
    api.handler = () => ({ status: 200, body: {} });
    letters = [];
    const config = readSenderConfig({
      CIO_WORKSPACES: 'site-us:key-us:us:50,site-eu:key-eu:eu:50',
      CIO_US_URL: `${url}/us`,
      CIO_EU_URL: `${url}/eu`,
      SENDER_REQUEST_TIMEOUT_MS: '300',
      SENDER_RETRY_BUDGET_MS: '1500',
      SENDER_INITIAL_BACKOFF_MS: '20',
      SENDER_THROTTLE_BACKOFF_MS: '100',
      SENDER_UNAUTHORIZED_PAUSE_MS: '100',
    });
    // The origin of a URL drops its path, so the region prefix is put back here.
    config.trackUrls = { us: `${url}/us`, eu: `${url}/eu` };
    const writer = { write: (batch: DeadLetter[]) => Promise.resolve(void letters.push(...batch)) };
    stats = new SenderStats();
    delivery = new DeliveryService(
      config,
      new TrackClient(300),
      writer as unknown as DeadLetterWriter,
      stats,
    );
  });

  afterEach(async () => {
    await delivery.close();
  });

  it('sends EU workspaces to the EU host', async () => {
    await delivery.deliver(job(EU, ['a']));
    await delivery.deliver(job(US, ['b']));

    expect(api.received.map((request) => request.host)).toEqual(['eu', 'us']);
  });

  it('isolates a bad operation by splitting', async () => {
    const accepted: string[] = [];
    api.handler = (body) => {
      const batch = typeof body === 'string' ? [] : body.batch;
      if (batch.some((operation) => operation.poison === true)) {
        return { status: 400, body: { meta: { error: 'poison is not allowed' } } };
      }
      accepted.push(...batch.map((operation) => operation.name ?? ''));
      return { status: 200, body: {} };
    };

    await delivery.deliver(job(US, ['a', 'b', 'c', 'd', 'e'], { poison: 'c' }));

    expect(letters.map((letter) => (letter.operation as { name: string }).name)).toEqual(['c']);
    expect(letters[0]?.error).toMatchObject({
      reason: 'invalid',
      status: 400,
      message: 'poison is not allowed',
    });
    expect(stats.delivered).toBe(4);
    expect(accepted).toEqual(['a', 'b', 'd', 'e']);
  });

  it('dead-letters only the items a 207 names', async () => {
    api.handler = () => ({
      status: 207,
      body: { errors: [{ batch_index: 1, reason: 'invalid', field: 'name', message: 'too long' }] },
    });

    await delivery.deliver(job(US, ['a', 'b', 'c']));

    expect(letters).toHaveLength(1);
    expect(letters[0]?.operation).toMatchObject({ name: 'b' });
    expect(letters[0]?.error).toEqual({
      reason: 'invalid',
      field: 'name',
      message: 'too long',
      status: 207,
    });
    expect(stats.delivered).toBe(2);
  });

  it('keeps a 207 without errors for replay', async () => {
    api.handler = () => ({ status: 207, body: 'not json' });

    await delivery.deliver(job(US, ['a', 'b']));

    expect(letters).toHaveLength(2);
    expect(letters[0]?.error).toMatchObject({ reason: 'unreadable_partial_failure', status: 207 });
    expect(stats.delivered).toBe(0);
  });

  it('keeps an unsplittable body as a dead letter', async () => {
    api.handler = () => ({ status: 400, body: { meta: { error: 'bad body' } } });

    await delivery.deliver(job(US, ['a', 'b'], { raw: '{"batch": [not json' }));

    expect(letters).toHaveLength(1);
    expect(letters[0]?.operation).toBe('{"batch": [not json');
    expect(letters[0]?.error.reason).toBe('undeliverable');
  });

  it('honours Retry-After on 429', async () => {
    const times: number[] = [];
    api.handler = () => {
      times.push(Date.now());
      return times.length === 1
        ? { status: 429, body: { meta: { error: 'slow down' } }, headers: { 'retry-after': '1' } }
        : { status: 200, body: {} };
    };

    await delivery.deliver(job(US, ['a']));

    expect(times).toHaveLength(2);
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(990);
    expect(delivery.limiterStates()['site-us']?.rate).toBeLessThan(49);
    expect(letters).toHaveLength(0);
  });

  it('retries a hung request with the same body', async () => {
    let calls = 0;
    api.handler = () => ({ status: 200, body: {}, hang: ++calls === 1 });

    await delivery.deliver(job(US, ['a', 'b']));

    expect(api.received).toHaveLength(2);
    expect(api.received[1]?.names).toEqual(api.received[0]?.names);
    expect(stats.transportErrors).toBe(1);
    expect(letters).toHaveLength(0);
  });

  it('dead-letters after the retry budget', async () => {
    api.handler = () => ({ status: 503, body: { meta: { error: 'down' } } });

    await delivery.deliver(job(US, ['a', 'b']));

    expect(letters).toHaveLength(2);
    expect(letters[0]?.error).toMatchObject({ reason: 'retries_exhausted', status: 503 });
    expect(letters[0]?.attempts).toBeGreaterThan(1);
  });

  it('pauses on 401 without spending retries', async () => {
    let calls = 0;
    api.handler = () =>
      ++calls <= 3
        ? { status: 401, body: { meta: { error: 'bad key' } } }
        : { status: 200, body: {} };
    const sent = delivery.deliver(job(US, ['a']));
    await new Promise((resolve) => setTimeout(resolve, 150));

    expect(Object.keys(delivery.pausedWorkspaces())).toEqual(['site-us']);
    await sent;
    expect(delivery.pausedWorkspaces()).toEqual({});
    expect(letters).toHaveLength(0);
    expect(stats.delivered).toBe(1);
  });

  it('ends deliveries queued in the limiter on close', async () => {
    // The first request hangs, so the second waits in the limiter behind it.
    api.handler = (body) =>
      typeof body !== 'string' && body.batch[0]?.name === 'slow'
        ? { status: 200, body: {}, hang: true }
        : { status: 200, body: {} };
    const first = delivery.deliver(job(US, ['slow']));
    first.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const queued = delivery.deliver(job(US, ['queued']));

    await delivery.close();

    await expect(queued).rejects.toThrow(ShutdownError);
    expect(api.received.map((request) => request.names)).toEqual([['slow']]);
  });

  it('ends waiting deliveries on close', async () => {
    api.handler = () => ({ status: 503, body: {} });
    const sent = delivery.deliver(job(US, ['a']));
    await new Promise((resolve) => setTimeout(resolve, 50));

    await delivery.close();

    await expect(sent).rejects.toThrow(ShutdownError);
    expect(letters.map((letter) => letter.error)).toEqual([]);
  });
});
