import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  startStack,
  type Stack,
  type StackOptions,
  type StackWorkspace,
} from '@cio-pipeline/stack';

export const ROOT_DIR = join(__dirname, '..', '..', '..');

/** The broker that tools/test.sh started, or a clear failure when there is none. */
export function kafkaBrokers(): string {
  const brokers = process.env['KAFKA_BROKERS'];
  if (brokers === undefined || brokers === '') {
    throw new Error(
      'KAFKA_BROKERS is not set: run `npm test`, which starts a Kafka broker for the tests',
    );
  }
  return brokers;
}

/** Starts the built services under a namespace of their own, so tests share no topic or group. */
export async function startTestStack(
  workspaces: StackWorkspace[],
  options: Partial<StackOptions> = {},
): Promise<Stack> {
  for (const app of ['gateway', 'batcher', 'sender', 'sandbox']) {
    const main = join(ROOT_DIR, 'dist', 'apps', app, 'src', 'main.js');
    if (!existsSync(main)) {
      throw new Error(`${main} is missing: build first with npx nx run-many -t build`);
    }
  }
  const namespace = `e2e-${randomBytes(4).toString('hex')}-`;
  return startStack({
    rootDir: ROOT_DIR,
    logDir: join(ROOT_DIR, 'tmp', 'logs', namespace.slice(0, -1)),
    kafkaBrokers: kafkaBrokers(),
    namespace,
    workspaces,
    ...options,
  });
}

/** POSTs JSON with Basic auth and returns the status and parsed body. */
export async function postJson(
  url: string,
  credentials: string,
  body: unknown,
  method = 'POST',
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}
