import 'reflect-metadata';
import {
  credentials,
  loadPackageDefinition,
  Metadata,
  status,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { TRACK_PROTO_PATH, type OperationEnvelope } from '@cio-pipeline/schemas';
import { createGateway } from '../bootstrap';
import { readGatewayConfig } from '../config/gateway-config';
import { envelopesOf } from '../testing/gateway-test-kit';
import { jsonToStruct } from './struct';

type Callback<T> = (error: ServiceError | null, response: T) => void;
interface BatchReply {
  request_id: string;
  accepted: number;
  errors: { batch_index: number; field: string; message: string }[];
}
interface TrackServiceClient {
  Identify(request: object, metadata: Metadata, callback: Callback<object>): void;
  Track(request: object, metadata: Metadata, callback: Callback<object>): void;
  Batch(request: object, metadata: Metadata, callback: Callback<BatchReply>): void;
  StreamBatches(metadata: Metadata): NodeJS.ReadWriteStream & { write(request: object): boolean };
  close(): void;
}

const brokers = process.env['KAFKA_BROKERS'];
const prefix = `t-grpc-${randomBytes(4).toString('hex')}-`;

function auth(credentialsText = 'site-grpc:key-grpc'): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Basic ${Buffer.from(credentialsText).toString('base64')}`);
  return metadata;
}

function call<T>(
  method: (request: object, metadata: Metadata, callback: Callback<T>) => void,
  request: object,
  metadata = auth(),
) {
  return new Promise<T>((resolve, reject) => {
    method(request, metadata, (error, response) => {
      if (error === null) {
        resolve(response);
      } else {
        reject(error);
      }
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

describe('gateway over gRPC', () => {
  let app: NestFastifyApplication;
  let client: TrackServiceClient;
  let consumer: Consumer;
  const received: OperationEnvelope[] = [];

  beforeAll(async () => {
    if (brokers === undefined || brokers === '') {
      throw new Error('KAFKA_BROKERS is not set: run `npm test`, which starts a Kafka broker');
    }
    const grpcPort = await freePort();
    const config = readGatewayConfig({
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC_PREFIX: prefix,
      CIO_WORKSPACES: 'site-grpc:key-grpc:us',
      GATEWAY_GRPC_PORT: String(grpcPort),
    });
    app = await createGateway(config);
    await app.startAllMicroservices();
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    for (let i = 0; i < 100; i++) {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      if (ready.statusCode === 200) {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    const definition = loadSync(TRACK_PROTO_PATH, {
      keepCase: true,
      longs: Number,
      defaults: false,
      oneofs: true,
    });
    const loaded = loadPackageDefinition(definition) as unknown as {
      cio: {
        track: {
          v1: {
            TrackService: new (
              url: string,
              creds: ReturnType<typeof credentials.createInsecure>,
            ) => TrackServiceClient;
          };
        };
      };
    };
    client = new loaded.cio.track.v1.TrackService(
      `127.0.0.1:${grpcPort}`,
      credentials.createInsecure(),
    );

    const kafka = new Kafka({ brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: `${prefix}reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}cio.operations.v1`, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        received.push(...envelopesOf(message.value?.toString() ?? '{}'));
        return Promise.resolve();
      },
    });
  }, 60_000);

  afterAll(async () => {
    client.close();
    await consumer.disconnect();
    await app.close();
  });

  async function operationsFor(person: string, count: number) {
    for (let i = 0; i < 100; i++) {
      const found = received
        .flatMap((envelope) => envelope.operations)
        .filter(
          (op) =>
            op.identifiers !== undefined && 'id' in op.identifiers && op.identifiers.id === person,
        );
      if (found.length >= count) {
        return found;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no ${count} operations for ${person} on Kafka`);
  }

  it('writes identify as HTTP does', async () => {
    await call(client.Identify.bind(client), {
      identifier: 'grpc-1',
      attributes: jsonToStruct({ plan: 'pro', seats: 3 }),
    });
    const http = await app.inject({
      method: 'PUT',
      url: '/api/v1/customers/http-1',
      headers: {
        authorization: `Basic ${Buffer.from('site-grpc:key-grpc').toString('base64')}`,
        'content-type': 'application/json',
      },
      payload: { plan: 'pro', seats: 3 },
    });

    expect(http.statusCode).toBe(200);
    const [viaGrpc] = await operationsFor('grpc-1', 1);
    const [viaHttp] = await operationsFor('http-1', 1);
    expect(viaGrpc).toEqual({ ...viaHttp, identifiers: { id: 'grpc-1' } });
  });

  it('assigns a ULID to a tracked event', async () => {
    await call(client.Track.bind(client), {
      identifier: 'grpc-2',
      event: jsonToStruct({ name: 'signed_up', data: { via: 'grpc' } }),
    });

    const [event] = await operationsFor('grpc-2', 1);
    expect(event?.action).toBe('event');
    expect(event?.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('reports bad batch items by index', async () => {
    const reply = await call(client.Batch.bind(client), {
      request_id: 'r-1',
      batch: [
        jsonToStruct({
          type: 'person',
          identifiers: { id: 'grpc-3' },
          action: 'identify',
          attributes: { a: 1 },
        }),
        jsonToStruct({ type: 'person', identifiers: { id: 'grpc-3' }, action: 'unknown' }),
      ],
    });

    expect(reply.request_id).toBe('r-1');
    expect(reply.accepted).toBe(1);
    expect(reply.errors.map((error) => error.batch_index)).toEqual([1]);
    expect(reply.errors[0]?.field).toBe('action');
  });

  it('rejects wrong credentials', async () => {
    const attempt = call(
      client.Identify.bind(client),
      { identifier: 'grpc-4' },
      auth('site-grpc:wrong'),
    );

    await expect(attempt).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('names the field, size and limit', async () => {
    const attributes = jsonToStruct({ bio: 'x'.repeat(1001) });
    const attempt = call(client.Identify.bind(client), { identifier: 'grpc-5', attributes });

    await expect(attempt).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(attempt).rejects.toThrow(/bio: .*1001 bytes.*1000 bytes/);
  });

  it('rejects deep nesting as invalid', async () => {
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 40; i++) {
      deep = { inner: deep };
    }
    const attempt = call(client.Identify.bind(client), {
      identifier: 'grpc-7',
      attributes: jsonToStruct(deep),
    });

    await expect(attempt).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(attempt).rejects.toThrow(/32 levels deep/);
  });

  it('answers streamed batches in order', async () => {
    const stream = client.StreamBatches(auth());
    const replies: BatchReply[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (reply: BatchReply) => replies.push(reply));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    for (let i = 0; i < 5; i++) {
      stream.write({
        request_id: `s-${i}`,
        batch: [
          jsonToStruct({
            type: 'person',
            identifiers: { id: 'grpc-6' },
            action: 'event',
            name: 'step',
            attributes: { i },
          }),
        ],
      });
    }
    stream.end();
    await done;

    expect(replies.map((reply) => reply.request_id)).toEqual(['s-0', 's-1', 's-2', 's-3', 's-4']);
    const events = await operationsFor('grpc-6', 5);
    expect(events.map((event) => event.attributes?.['i'])).toEqual([0, 1, 2, 3, 4]);
  });
});
