import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Topics } from '@cio-pipeline/schemas';
import { freePort, startStack, type Stack, type StackWorkspace } from '@cio-pipeline/stack';
import { ROOT_DIR } from '../support';

/** A stack on the fault run's private broker, with the names its services use. */
export interface FaultStack {
  stack: Stack;
  /** Prefix of the stack's topic names and consumer group ids. */
  namespace: string;
  logDir: string;
  topics: Record<keyof typeof Topics, string>;
  groups: { batcher: string; sender: string };
}

/**
 * Starts the built services against `brokers` under a namespace of their
 * own. Unlike `startTestStack`, it needs no KAFKA_BROKERS, because the fault
 * run brings its own broker.
 */
export async function startFaultStack(
  brokers: string,
  workspaces: StackWorkspace[],
  replicas: { batchers: number; senders: number },
): Promise<FaultStack> {
  for (const app of ['gateway', 'batcher', 'sender', 'sandbox']) {
    const main = join(ROOT_DIR, 'dist', 'apps', app, 'src', 'main.js');
    if (!existsSync(main)) {
      throw new Error(`${main} is missing: build first with npx nx run-many -t build`);
    }
  }
  const namespace = `faults-${randomBytes(4).toString('hex')}-`;
  const logDir = join(ROOT_DIR, 'tmp', 'logs', namespace.slice(0, -1));
  const stack = await startStack({
    rootDir: ROOT_DIR,
    logDir,
    kafkaBrokers: brokers,
    namespace,
    workspaces,
    ...replicas,
    // A restarted consumer can wait out a dead member's 30 s session
    // timeout, and a broker restart on top of it, before it is ready.
    startTimeoutMs: 120_000,
    // The gateway's gRPC port defaults to a fixed 50051, which other stacks may hold.
    ports: { 'gateway-grpc': await freePort() },
  });
  return {
    stack,
    namespace,
    logDir,
    topics: {
      operations: `${namespace}${Topics.operations}`,
      batches: `${namespace}${Topics.batches}`,
      deadLetters: `${namespace}${Topics.deadLetters}`,
    },
    groups: { batcher: `${namespace}cio-batcher`, sender: `${namespace}cio-sender` },
  };
}
