import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IdentifierType, TrackClient } from 'customerio-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Operation } from '@cio-pipeline/schemas';
import { ensureSelfSignedPair } from '@cio-pipeline/stack';
import {
  brokersFromEnv,
  deleteTopics,
  initGateway,
  testGatewayConfig,
  TopicReader,
  uniquePrefix,
  waitForReady,
} from './testing/gateway-test-kit';

jest.setTimeout(30_000);

const SITE = 'site-client';
const API_KEY = 'key-client';
const ANY_ULID = expect.stringMatching(/^[0-7][0-9A-HJKMNP-TV-Z]{25}$/) as string;

/**
 * The official Node client, customerio-node 4.5.1, pointed at the gateway
 * over HTTPS: every call must resolve and arrive on Kafka as its v2 operation.
 */
describe('gateway with customerio-node', () => {
  let brokers: string;
  let prefix: string | undefined;
  let tlsFolder: string | undefined;
  let app: NestFastifyApplication | undefined;
  let reader: TopicReader | undefined;
  let client: TrackClient;

  beforeAll(async () => {
    brokers = brokersFromEnv();
    prefix = uniquePrefix();
    tlsFolder = mkdtempSync(join(tmpdir(), 'gateway-tls-'));
    const pair = ensureSelfSignedPair(tlsFolder);
    const config = testGatewayConfig({
      CIO_WORKSPACES: `${SITE}:${API_KEY}:us`,
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      GATEWAY_TLS_CERT_FILE: pair.certFile,
      GATEWAY_TLS_KEY_FILE: pair.keyFile,
    });
    app = await initGateway(config);
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    await waitForReady(app);
    reader = await TopicReader.start(brokers, config.kafka.topics.operations.name);
    client = new TrackClient(SITE, API_KEY, {
      url: `https://127.0.0.1:${port}/api/v1`,
      port,
      ca: readFileSync(pair.certFile),
    });
  });

  afterAll(async () => {
    await reader?.stop();
    await app?.close();
    if (prefix !== undefined) {
      await deleteTopics(brokers, prefix);
    }
    if (tlsFolder !== undefined) {
      rmSync(tlsFolder, { recursive: true, force: true });
    }
  });

  /** Waits for the single operation written for `personKey` and returns it. */
  async function operationOf(personKey: string): Promise<Operation | undefined> {
    const [message] = await reader!.waitFor(personKey, (m) => m.key === `${SITE}/${personKey}`, 1);
    expect(message!.envelope.workspace).toBe(SITE);
    expect(message!.envelope.operations).toHaveLength(1);
    return message!.envelope.operations[0];
  }

  it('identify reaches Kafka', async () => {
    await expect(
      client.identify('c-identify', { email: 'c@example.com', plan: 'pro' }),
    ).resolves.toEqual({});

    expect(await operationOf('id:c-identify')).toEqual({
      type: 'person',
      action: 'identify',
      identifiers: { id: 'c-identify' },
      attributes: { email: 'c@example.com', plan: 'pro' },
    });
  });

  it('track reaches Kafka', async () => {
    await expect(
      client.track('c-track', { name: 'purchase', data: { price: 5 } }),
    ).resolves.toEqual({});

    expect(await operationOf('id:c-track')).toEqual({
      type: 'person',
      action: 'event',
      identifiers: { id: 'c-track' },
      name: 'purchase',
      id: ANY_ULID,
      attributes: { price: 5 },
    });
  });

  it('trackAnonymous reaches Kafka', async () => {
    await expect(
      client.trackAnonymous('c-anonymous', { name: 'viewed', data: { page: 'home' } }),
    ).resolves.toEqual({});

    expect(await operationOf('anonymous_id:c-anonymous')).toEqual({
      type: 'person',
      action: 'event',
      anonymous_id: 'c-anonymous',
      name: 'viewed',
      id: ANY_ULID,
      attributes: { page: 'home' },
    });
  });

  it('trackPageView reaches Kafka', async () => {
    await expect(client.trackPageView('c-page', '/pricing')).resolves.toEqual({});

    expect(await operationOf('id:c-page')).toEqual({
      type: 'person',
      action: 'page',
      identifiers: { id: 'c-page' },
      name: '/pricing',
      id: ANY_ULID,
    });
  });

  it('addDevice reaches Kafka', async () => {
    await expect(
      client.addDevice('c-add-device', 'token-1', 'android', {
        last_used: 1_700_000_000,
        app_version: '1.2.3',
      }),
    ).resolves.toEqual({});

    expect(await operationOf('id:c-add-device')).toEqual({
      type: 'person',
      action: 'add_device',
      identifiers: { id: 'c-add-device' },
      device: {
        token: 'token-1',
        platform: 'android',
        last_used: 1_700_000_000,
        attributes: { app_version: '1.2.3' },
      },
    });
  });

  it('deleteDevice reaches Kafka', async () => {
    await expect(client.deleteDevice('c-delete-device', 'token-2')).resolves.toEqual({});

    expect(await operationOf('id:c-delete-device')).toEqual({
      type: 'person',
      action: 'delete_device',
      identifiers: { id: 'c-delete-device' },
      device: { token: 'token-2' },
    });
  });

  it('suppress reaches Kafka', async () => {
    await expect(client.suppress('c-suppress')).resolves.toEqual({});

    expect(await operationOf('id:c-suppress')).toEqual({
      type: 'person',
      action: 'suppress',
      identifiers: { id: 'c-suppress' },
    });
  });

  it('unsuppress reaches Kafka', async () => {
    await expect(client.unsuppress('c-unsuppress')).resolves.toEqual({});

    expect(await operationOf('id:c-unsuppress')).toEqual({
      type: 'person',
      action: 'unsuppress',
      identifiers: { id: 'c-unsuppress' },
    });
  });

  it('destroy reaches Kafka', async () => {
    await expect(client.destroy('c-destroy')).resolves.toEqual({});

    expect(await operationOf('id:c-destroy')).toEqual({
      type: 'person',
      action: 'delete',
      identifiers: { id: 'c-destroy' },
    });
  });

  it('mergeCustomers reaches Kafka', async () => {
    await expect(
      client.mergeCustomers(
        IdentifierType.Id,
        'c-merge',
        IdentifierType.Email,
        'old-merge@example.com',
      ),
    ).resolves.toEqual({});

    expect(await operationOf('id:c-merge')).toEqual({
      type: 'person',
      action: 'merge',
      primary: { id: 'c-merge' },
      secondary: { email: 'old-merge@example.com' },
    });
  });
});
