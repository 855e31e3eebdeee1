import { Kafka, logLevel } from 'kafkajs';
import { join } from 'node:path';
import { startStack, type Stack, type StackWorkspace } from '@cio-pipeline/stack';
import { log } from './log';
import { ROOT_DIR } from './repository';

/** Returns KAFKA_BROKERS, which tools/kafka/with-kafka.sh sets, as a list. */
export function kafkaBrokers(): string[] {
  const value = process.env['KAFKA_BROKERS'];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      'KAFKA_BROKERS is not set: run through tools/kafka/with-kafka.sh, which starts a broker',
    );
  }
  return value.split(',').map((broker) => broker.trim());
}

/**
 * Starts the pipeline on loopback with a plain HTTP gateway under its own
 * topic prefix. By default the sandbox keeps no operations
 * (SANDBOX_RETENTION_OPERATIONS=0) because most load tests read only its
 * counters, and millions of stored operations would grow its memory for
 * nothing. `retainedOperations` keeps that many for runs that read them.
 */
export async function startLoadStack(
  namespace: string,
  workspaces: StackWorkspace[],
  retainedOperations = 0,
): Promise<Stack> {
  const sandboxEnv = { SANDBOX_RETENTION_OPERATIONS: String(retainedOperations) };
  const stack = await startStack({
    rootDir: ROOT_DIR,
    logDir: join(ROOT_DIR, 'tmp', 'logs', namespace.replace(/\W+$/, '')),
    kafkaBrokers: kafkaBrokers().join(','),
    namespace,
    workspaces,
    env: { sandbox: sandboxEnv, 'sandbox-eu': sandboxEnv },
  });
  startedStacks.add(stack);
  stopStacksOnSignal(process, (code) => process.exit(code));
  return stack;
}

const startedStacks = new Set<Pick<Stack, 'stop'>>();
const watched = new WeakSet<NodeJS.EventEmitter>();

/**
 * Stops every stack started by this process when `target` gets SIGINT or
 * SIGTERM, then calls `exit` with 130 or 143. The services are child
 * processes, so a signal sent to the harness alone would otherwise leave them
 * running.
 */
export function stopStacksOnSignal(
  target: NodeJS.EventEmitter,
  exit: (code: number) => void,
  stacks: ReadonlySet<Pick<Stack, 'stop'>> = startedStacks,
): void {
  if (watched.has(target)) {
    return;
  }
  watched.add(target);
  const stopAll = (signal: string, code: number) => {
    log('cleanup', `${signal}: stopping the services this run started`);
    void Promise.allSettled([...stacks].map((stack) => stack.stop())).then(() => {
      exit(code);
    });
  };
  target.once('SIGINT', () => {
    stopAll('SIGINT', 130);
  });
  target.once('SIGTERM', () => {
    stopAll('SIGTERM', 143);
  });
}

/** Returns the Authorization header of a workspace: HTTP Basic with site id and API key. */
export function basicAuthorization(workspace: Pick<StackWorkspace, 'siteId' | 'apiKey'>): string {
  return `Basic ${Buffer.from(`${workspace.siteId}:${workspace.apiKey}`).toString('base64')}`;
}

/**
 * Deletes the topics and consumer groups whose names start with one of the
 * prefixes, so that repeated runs do not fill the broker's disk. Failures
 * are logged and not raised: the figures are already measured by then.
 */
export async function deleteNamespaces(brokers: string[], prefixes: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'loadtests-cleanup', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const owned = (name: string) => prefixes.some((prefix) => name.startsWith(prefix));
    const topics = (await admin.listTopics()).filter(owned);
    if (topics.length > 0) {
      await admin.deleteTopics({ topics });
    }
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter(owned);
    if (groups.length > 0) {
      await admin.deleteGroups(groups);
    }
    log('cleanup', `deleted ${topics.length} topics and ${groups.length} consumer groups`);
  } catch (error) {
    log('cleanup', `warning: could not delete the run's topics: ${(error as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}
