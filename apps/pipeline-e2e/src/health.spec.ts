import {
  freePort,
  httpStatus,
  waitUntil,
  type Stack,
  type StackWorkspace,
} from '@cio-pipeline/stack';
import { PrivateBroker } from './private-broker';
import { postJson, startTestStack } from './support';

const WORKSPACE: StackWorkspace = {
  siteId: 'site-health',
  apiKey: 'key-health',
  region: 'us',
  rateLimit: 20,
  sandboxRateLimit: 20,
};
const CREDENTIALS = `${WORKSPACE.siteId}:${WORKSPACE.apiKey}`;

async function body(url: string): Promise<string> {
  const response = await fetch(url);
  return response.text();
}

describe('health and metrics', () => {
  let broker: PrivateBroker;
  let stack: Stack;
  let urls: Record<'gateway' | 'batcher' | 'sender', string>;

  beforeAll(async () => {
    broker = new PrivateBroker(await freePort(), await freePort(), 'health');
    await broker.command('start');
    stack = await startTestStack([WORKSPACE], { kafkaBrokers: broker.brokers });
    const portOf = (role: 'batcher' | 'sender', name: string) =>
      stack.byRole(role)[0]?.spec.env[name] ?? '';
    urls = {
      gateway: stack.gatewayUrl,
      batcher: `http://127.0.0.1:${portOf('batcher', 'BATCHER_PORT')}`,
      sender: `http://127.0.0.1:${portOf('sender', 'SENDER_PORT')}`,
    };
  }, 180_000);

  afterAll(async () => {
    // The broker goes even when the stack never started, so no JVM outlives the test.
    try {
      await (stack as Stack | undefined)?.stop();
    } finally {
      await (broker as PrivateBroker | undefined)?.command('reset');
    }
  }, 120_000);

  async function sendAndAwait(person: string): Promise<void> {
    const before = (await stack.sandbox.stats()).total.operationsAccepted;
    const url = `${stack.gatewayUrl}/api/v1/customers/${person}/events`;
    const response = await postJson(url, CREDENTIALS, { name: 'checked' });
    expect(response.status).toBe(200);
    await waitUntil(
      `the event of ${person} in the sandbox`,
      async () => (await stack.sandbox.stats()).total.operationsAccepted > before,
      60_000,
    );
  }

  async function readiness(): Promise<number[]> {
    return Promise.all(Object.values(urls).map((url) => httpStatus(`${url}/health/ready`)));
  }

  it('exposes metrics of the work done', async () => {
    await sendAndAwait('person-1');

    const gateway = await body(`${urls.gateway}/metrics`);
    const batcher = await body(`${urls.batcher}/metrics`);
    const sender = await body(`${urls.sender}/metrics`);
    expect(gateway).toMatch(
      /cio_gateway_requests_total\{route="\/api\/v1\/customers\/:identifier\/events",status="200"\} 1/,
    );
    expect(gateway).toMatch(
      /cio_gateway_operations_total\{workspace="site-health",result="accepted"\} 1/,
    );
    expect(gateway).toContain('cio_gateway_produce_latency_seconds_bucket');
    expect(gateway).toContain('process_resident_memory_bytes');
    expect(batcher).toMatch(/cio_batcher_batches_total\{workspace="site-health"\} 1/);
    expect(batcher).toContain('cio_batcher_batch_bytes_bucket');
    expect(sender).toMatch(/cio_sender_requests_total\{workspace="site-health",status="200"\} 1/);
    expect(sender).toMatch(/cio_sender_limiter_rate\{workspace="site-health"\} 19\.6/);
    expect(sender).toContain('cio_delivery_latency_seconds_count 1');
    expect(gateway).not.toContain(WORKSPACE.apiKey);
    expect(sender).not.toContain(WORKSPACE.apiKey);
  });

  it('reports consumer lag per partition', async () => {
    await waitUntil(
      'a consumer lag sample',
      async () => (await body(`${urls.sender}/metrics`)).includes('cio_consumer_lag{'),
      30_000,
    );

    const sender = await body(`${urls.sender}/metrics`);
    expect(sender).toMatch(
      /cio_consumer_lag\{group="e2e-[0-9a-f]+-cio-sender",topic="e2e-[0-9a-f]+-cio\.batches\.v1",partition="\d+"\} 0/,
    );
  });

  it('turns unready without Kafka and back', async () => {
    expect(await readiness()).toEqual([200, 200, 200]);

    await broker.command('stop');
    await waitUntil(
      'every service unready',
      async () => (await readiness()).every((s) => s === 503),
      90_000,
      1000,
    );
    expect(await httpStatus(`${urls.gateway}/health/live`)).toBe(200);

    await broker.command('start');
    await waitUntil(
      'every service ready',
      async () => (await readiness()).every((s) => s === 200),
      120_000,
      1000,
    );
    await sendAndAwait('person-2');
  });
});
