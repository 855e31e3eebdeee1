import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Partitioners } from 'kafkajs';
import {
  decodeOperationsMessage,
  hashPerson,
  operationKey,
  personKeyOf,
  type Operation,
} from '@cio-pipeline/schemas';
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

const SITE = 'site-group';
const PARTITIONS = 3;

function event(person: string, step: number): Operation {
  return {
    type: 'person',
    action: 'event',
    identifiers: { id: person },
    name: 'step',
    attributes: { step },
  };
}

describe('operations per Kafka message', () => {
  const brokers = brokersFromEnv();
  const prefix = uniquePrefix();
  let app: NestFastifyApplication;
  let reader: TopicReader;

  beforeAll(async () => {
    const config = testGatewayConfig({
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_OPERATIONS_PARTITIONS: String(PARTITIONS),
      CIO_WORKSPACES: `${SITE}:key:us`,
    });
    app = await initGateway(config);
    await waitForReady(app);
    reader = await TopicReader.start(brokers, config.kafka.topics.operations.name);
  }, 60_000);

  afterAll(async () => {
    await reader.stop();
    await app.close();
    await deleteTopics(brokers, prefix);
  });

  it('writes one message per partition', async () => {
    const batch = Array.from({ length: 90 }, (_, i) => event(`person-${i % 30}`, i));
    const response = await app.inject({
      method: 'POST',
      url: '/api/v2/batch',
      headers: { authorization: basicAuth(SITE, 'key'), 'x-request-id': 'grouped-1' },
      payload: { batch },
    });
    expect(response.statusCode).toBe(200);

    const messages = await reader.waitFor(
      'grouped-1',
      (m) => m.envelope.requestId === 'grouped-1',
      1,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    const all = reader.ofRequest('grouped-1');

    expect(all.length).toBeLessThanOrEqual(PARTITIONS);
    expect(all.reduce((sum, message) => sum + message.envelope.operations.length, 0)).toBe(90);
    expect(messages.length).toBeGreaterThan(0);
  });

  it('keeps each person on its key partition, in order', async () => {
    const batch = Array.from({ length: 40 }, (_, i) => event(`person-${i % 8}`, i));
    await app.inject({
      method: 'POST',
      url: '/api/v2/batch',
      headers: { authorization: basicAuth(SITE, 'key'), 'x-request-id': 'grouped-2' },
      payload: { batch },
    });
    await reader.waitFor('grouped-2', (m) => m.envelope.requestId === 'grouped-2', 1);
    await new Promise((resolve) => setTimeout(resolve, 500));

    // Where kafkajs's default partitioner would put each person's key.
    const partitioner = Partitioners.DefaultPartitioner();
    const metadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
    }));
    for (const message of reader.ofRequest('grouped-2')) {
      const people = new Set(message.envelope.operations.map((op) => operationKey(SITE, op)));
      for (const key of people) {
        const expected = partitioner({
          topic: 't',
          partitionMetadata: metadata,
          message: { key, value: null },
        });
        expect(message.partition).toBe(expected);
      }
    }
    for (let person = 0; person < 8; person++) {
      const steps = reader
        .ofRequest('grouped-2')
        .flatMap((message) => message.envelope.operations)
        .filter(
          (op) =>
            op.identifiers !== undefined &&
            'id' in op.identifiers &&
            op.identifiers.id === `person-${person}`,
        )
        .map((op) => op.attributes?.['step']);
      expect(steps).toEqual([0, 1, 2, 3, 4].map((k) => person + 8 * k));
    }
  });

  it('writes the person hash of each operation', async () => {
    const batch: Operation[] = [
      event('person-1', 0),
      { type: 'person', action: 'identify', identifiers: { email: 'Ada@Example.com' } },
      {
        type: 'person',
        action: 'merge',
        primary: { id: 'person-2' },
        secondary: { email: 'old@example.com' },
      },
    ];
    await app.inject({
      method: 'POST',
      url: '/api/v2/batch',
      headers: { authorization: basicAuth(SITE, 'key'), 'x-request-id': 'grouped-3' },
      payload: { batch },
    });
    await reader.waitFor('grouped-3', (m) => m.envelope.requestId === 'grouped-3', 1);
    await new Promise((resolve) => setTimeout(resolve, 500));

    const pairs = reader.ofRequest('grouped-3').flatMap((message) =>
      decodeOperationsMessage(Buffer.from(message.raw, 'utf8')).flatMap((entry) => {
        if (!entry.ok || entry.format !== 'lines' || entry.envelope.requestId !== 'grouped-3') {
          return [];
        }
        const { operations, persons } = entry.envelope;
        return operations.map((text, index) => ({
          person: personKeyOf(JSON.parse(text.toString('utf8')) as Operation),
          hash: persons[index],
        }));
      }),
    );
    const expected = ['id:person-1', 'email:ada@example.com', 'id:person-2'].map((person) => ({
      person,
      hash: hashPerson(person),
    }));
    const byPerson = (a: { person: string }, b: { person: string }) =>
      a.person.localeCompare(b.person);
    expect(pairs.sort(byPerson)).toEqual(expected.sort(byPerson));
  });
});
