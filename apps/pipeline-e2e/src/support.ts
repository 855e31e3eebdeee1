import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { Topics, type DeadLetter, type UlidFactory } from '@cio-pipeline/schemas';
import {
  freePort,
  sleep,
  startStack,
  type SandboxClient,
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

/** A stack started by `startTestStack`, with the prefixed names of its topics. */
export interface TestStack extends Stack {
  /** Prefix of the stack's topic names and consumer group ids. */
  namespace: string;
  topics: Record<keyof typeof Topics, string>;
}

/** Starts the built services under a namespace of their own, so tests share no topic or group. */
export async function startTestStack(
  workspaces: StackWorkspace[],
  options: Partial<StackOptions> = {},
): Promise<TestStack> {
  for (const app of ['gateway', 'batcher', 'sender', 'sandbox']) {
    const main = join(ROOT_DIR, 'dist', 'apps', app, 'src', 'main.js');
    if (!existsSync(main)) {
      throw new Error(`${main} is missing: build first with npx nx run-many -t build`);
    }
  }
  const namespace = `e2e-${randomBytes(4).toString('hex')}-`;
  // The gateway's gRPC port defaults to a fixed 50051, so stacks running
  // side by side would conflict over it.
  const gatewayEnv = { GATEWAY_GRPC_PORT: String(await freePort()), ...options.env?.gateway };
  const stack = await startStack({
    rootDir: ROOT_DIR,
    logDir: join(ROOT_DIR, 'tmp', 'logs', namespace.slice(0, -1)),
    kafkaBrokers: kafkaBrokers(),
    namespace,
    workspaces,
    ...options,
    env: { ...options.env, gateway: gatewayEnv },
  });
  return {
    ...stack,
    namespace,
    topics: {
      operations: `${namespace}${Topics.operations}`,
      batches: `${namespace}${Topics.batches}`,
      deadLetters: `${namespace}${Topics.deadLetters}`,
    },
  };
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

/** Credentials of a workspace as `user:password` for `postJson`. */
export function credentialsOf(workspace: StackWorkspace): string {
  return `${workspace.siteId}:${workspace.apiKey}`;
}

/** Builds a v2 `event` operation about `personId`, with the ULID `id` the sandbox counts it by. */
export function eventOperation(
  personId: string,
  id: string,
  attributes: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    type: 'person',
    identifiers: { id: personId },
    action: 'event',
    name: 'e2e_event',
    id,
    attributes,
  };
}

/**
 * Posts `operations` to the gateway's `/api/v2/batch`, `perRequest` to a
 * request and `concurrency` requests at a time. Throws unless every request
 * gets 200, so a caller knows the gateway acknowledged all of them.
 */
export async function postBatches(
  stack: Stack,
  workspace: StackWorkspace,
  operations: Record<string, unknown>[],
  { perRequest = 100, concurrency = 4 } = {},
): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let start = 0; start < operations.length; start += perRequest) {
    chunks.push(operations.slice(start, start + perRequest));
  }
  let next = 0;
  const worker = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++] ?? [];
      const response = await postJson(
        `${stack.gatewayUrl}/api/v2/batch`,
        credentialsOf(workspace),
        { batch: chunk },
      );
      if (response.status !== 200) {
        throw new Error(
          `gateway returned ${response.status} to a batch of ${chunk.length}: ${JSON.stringify(response.body)}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * Makes `count` event operations spread over `people` people, posts them to
 * the gateway and returns their event ids in the order made.
 */
export async function sendEvents(
  stack: Stack,
  workspace: StackWorkspace,
  ids: UlidFactory,
  count: number,
  {
    people = 50,
    perRequest = 100,
    concurrency = 4,
    attributes = {},
  }: {
    people?: number;
    perRequest?: number;
    concurrency?: number;
    attributes?: Record<string, unknown>;
  } = {},
): Promise<string[]> {
  const eventIds: string[] = [];
  const operations = Array.from({ length: count }, (_, i) => {
    const id = ids.next();
    eventIds.push(id);
    return eventOperation(`person-${i % people}`, id, { ...attributes, step: i });
  });
  await postBatches(stack, workspace, operations, { perRequest, concurrency });
  return eventIds;
}

/** Counts how many times the sandbox stored each event id of a workspace. */
export async function storedEventIds(
  sandbox: SandboxClient,
  siteId: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { operation } of await sandbox.operations(siteId)) {
    if (operation.id !== undefined) {
      counts.set(operation.id, (counts.get(operation.id) ?? 0) + 1);
    }
  }
  return counts;
}

/** The result of comparing sent event ids with the ones the sandbox stored. */
export interface DeliveryCheck {
  expected: number;
  /** Sent ids the sandbox never stored. */
  missing: string[];
  /** Sent ids the sandbox stored more than once. */
  repeated: string[];
}

export function checkDelivery(ids: string[], stored: Map<string, number>): DeliveryCheck {
  return {
    expected: ids.length,
    missing: ids.filter((id) => !stored.has(id)),
    repeated: ids.filter((id) => (stored.get(id) ?? 0) > 1),
  };
}

/**
 * Waits until the workspace's unique event count in `sandbox` reaches
 * `ids.length` or `timeoutMs` passes, then compares the stored ids with
 * `ids`. It returns instead of throwing on timeout, so the caller's
 * assertions name the missing ids. `ids` must be every event id sent to the
 * workspace so far.
 */
export async function waitForEvents(
  sandbox: SandboxClient,
  siteId: string,
  ids: string[],
  timeoutMs: number,
): Promise<DeliveryCheck> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stats = (await sandbox.stats()).workspaces[siteId];
    if ((stats?.uniqueEventIds ?? 0) >= ids.length) {
      break;
    }
    await sleep(250);
  }
  return checkDelivery(ids, await storedEventIds(sandbox, siteId));
}

/**
 * The workspace figures of the sender's `/health/ready`. The sender returns
 * them in a Terminus body under `details.workspaces`, with 200 when ready and
 * 503 when not.
 */
export interface SenderReadiness {
  /** Terminus's overall status: `ok` or `error`. */
  status: string;
  pausedWorkspaces: Record<string, string>;
  limiters: Record<
    string,
    { limit: number; rate: number; queued: number; running: number; pausedUntil: number }
  >;
  stats: {
    requests: number;
    delivered: number;
    deadLettered: number;
    retries: number;
    transportErrors: number;
    statuses: Record<string, number>;
  };
}

/** GETs the first sender's `/health/ready` and returns its status code and workspace figures. */
export async function senderReadiness(
  stack: Stack,
): Promise<{ status: number; body: SenderReadiness }> {
  const sender = stack.byRole('sender')[0];
  const port = sender?.spec.env['SENDER_PORT'];
  if (port === undefined) {
    throw new Error('the stack has no sender with SENDER_PORT in its environment');
  }
  const response = await fetch(`http://127.0.0.1:${port}/health/ready`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json()) as {
    status?: string;
    details?: { workspaces?: Omit<SenderReadiness, 'status'> };
  };
  const workspaces = body.details?.workspaces;
  if (workspaces === undefined) {
    throw new Error(
      `sender /health/ready returned ${response.status} without details.workspaces: ${JSON.stringify(body).slice(0, 300)}`,
    );
  }
  return { status: response.status, body: { ...workspaces, status: body.status ?? '' } };
}

/** Creates a kafkajs client for the test's broker that logs nothing. */
export function kafkaClient(): Kafka {
  return new Kafka({
    clientId: 'pipeline-e2e',
    brokers: kafkaBrokers().split(','),
    logLevel: logLevel.NOTHING,
  });
}

/** Counts the messages in `topic` from its partitions' low and high watermarks. */
export async function countMessages(topic: string): Promise<number> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads every message in `topic` up to the high watermarks taken at the
 * start, with a consumer group of its own. Throws after `timeoutMs` if it
 * has not reached them.
 */
export async function readTopic(topic: string, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  const kafka = kafkaClient();
  const admin = kafka.admin();
  await admin.connect();
  let offsets: Awaited<ReturnType<typeof admin.fetchTopicOffsets>>;
  try {
    offsets = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  // The next offset to read per partition, until it reaches the high watermark.
  const remaining = new Map(
    offsets
      .filter((p) => Number(p.high) > Number(p.low))
      .map((p) => [p.partition, { next: Number(p.low), high: Number(p.high) }]),
  );
  if (remaining.size === 0) {
    return [];
  }

  const messages: KafkaMessage[] = [];
  const consumer = kafka.consumer({
    groupId: `e2e-reader-${randomBytes(4).toString('hex')}`,
    maxBytesPerPartition: 16 * 1024 * 1024,
    // Disconnecting waits for the fetch in progress, so keep the long poll short.
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        const position = remaining.get(partition);
        const offset = Number(message.offset);
        if (position !== undefined && offset < position.high) {
          messages.push(message);
          position.next = offset + 1;
        }
        return Promise.resolve();
      },
    });
    const deadline = Date.now() + timeoutMs;
    while ([...remaining.values()].some((p) => p.next < p.high)) {
      if (Date.now() > deadline) {
        throw new Error(
          `read ${messages.length} messages of ${topic} but not up to the high watermarks within ${timeoutMs} ms`,
        );
      }
      await sleep(100);
    }
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Reads and parses every dead letter in the stack's dead-letter topic. */
export async function readDeadLetters(stack: TestStack): Promise<DeadLetter[]> {
  const messages = await readTopic(stack.topics.deadLetters);
  return messages.map((message) => JSON.parse(message.value?.toString('utf8') ?? '') as DeadLetter);
}

/**
 * Polls the dead-letter topic until `matches` holds for at least `count`
 * letters or `timeoutMs` passes, and returns the matching letters either way.
 */
export async function waitForDeadLetters(
  stack: TestStack,
  matches: (letter: DeadLetter) => boolean,
  count: number,
  timeoutMs: number,
): Promise<DeadLetter[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const letters = (await readDeadLetters(stack)).filter(matches);
    if (letters.length >= count || Date.now() > deadline) {
      return letters;
    }
    await sleep(500);
  }
}
