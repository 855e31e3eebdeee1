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
 * Log segment size of the load stacks' topics. With Kafka's default of
 * 1 GiB, runs of 50,000 events/s on the 2-core benchmark machine slowed to
 * 25,000 to 45,000 events/s. The slowdown began within a minute of the
 * batches topic's busy partitions reaching 1 GiB, and the broker's system
 * CPU time rose from about 5% to 30 to 40% of a core. With 128 MiB
 * segments, a run of 180 s held 50,000 past that point.
 * NOTE: the cause inside the broker was not traced.
 */
export const LOAD_SEGMENT_BYTES = String(128 * 1024 * 1024);

/**
 * Starts the pipeline on loopback with a plain HTTP gateway under its own
 * topic prefix. By default the sandbox keeps no operations
 * (SANDBOX_RETENTION_OPERATIONS=0) because most load tests read only its
 * counters, and millions of stored operations would grow its memory for
 * nothing. `retainedOperations` keeps that many for runs that read them, and
 * `env` adds settings per service, such as `{ batcher: { ... } }`. The
 * topics get 128 MiB log segments (`LOAD_SEGMENT_BYTES`). After SIGINT or
 * SIGTERM it starts nothing and raises an error.
 */
export async function startLoadStack(
  namespace: string,
  workspaces: StackWorkspace[],
  retainedOperations = 0,
  env: Record<string, Record<string, string>> = {},
): Promise<Stack> {
  stopStacksOnSignal(process, (code) => process.exit(code));
  const sandboxEnv = { SANDBOX_RETENTION_OPERATIONS: String(retainedOperations) };
  const segment = { KAFKA_SEGMENT_BYTES: LOAD_SEGMENT_BYTES };
  return processStacks.track(() =>
    startStack({
      rootDir: ROOT_DIR,
      logDir: join(ROOT_DIR, 'tmp', 'logs', namespace.replace(/\W+$/, '')),
      kafkaBrokers: kafkaBrokers().join(','),
      namespace,
      workspaces,
      env: {
        ...env,
        gateway: { ...segment, ...env['gateway'] },
        batcher: { ...segment, ...env['batcher'] },
        sender: { ...segment, ...env['sender'] },
        sandbox: sandboxEnv,
        'sandbox-eu': sandboxEnv,
      },
    }),
  );
}

/**
 * The stacks a harness started or is starting, so that a signal stops every
 * one of them. Once a stop is requested, no new stack starts, and a stack
 * that was starting is stopped as soon as it is up.
 */
export class StackRegistry {
  private readonly started = new Set<Pick<Stack, 'stop'>>();
  private readonly starting = new Set<Promise<unknown>>();
  private stopping: Promise<void> | undefined;

  /** Runs `start` and records its stack. Raises without starting once a stop was requested. */
  async track<S extends Pick<Stack, 'stop'>>(start: () => Promise<S>): Promise<S> {
    if (this.stopping !== undefined) {
      throw new Error('services not started: this run is stopping after a signal');
    }
    const starting = start().then((stack) => {
      this.started.add(stack);
      return stack;
    });
    this.starting.add(starting);
    try {
      return await starting;
    } finally {
      this.starting.delete(starting);
    }
  }

  /** Stops every stack after waiting for those still starting. A second call returns the same promise. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([...this.starting]);
      await Promise.allSettled([...this.started].map((stack) => stack.stop()));
    })();
    return this.stopping;
  }

  /** Resolves once a requested stop has finished, or at once when none was requested. */
  async settled(): Promise<void> {
    await this.stopping;
  }
}

/** The stacks of this process, which `startLoadStack` registers. */
export const processStacks = new StackRegistry();
const watched = new WeakSet<NodeJS.EventEmitter>();

/**
 * Stops every stack of `registry` when `target` gets SIGINT or SIGTERM, then
 * calls `exit` with 130 or 143. The services are child processes, so a
 * signal sent to the harness alone would otherwise leave them running. A
 * second signal during the stop changes nothing.
 */
export function stopStacksOnSignal(
  target: NodeJS.EventEmitter,
  exit: (code: number) => void,
  registry: StackRegistry = processStacks,
): void {
  if (watched.has(target)) {
    return;
  }
  watched.add(target);
  let signalled = false;
  const stopAll = (signal: string, code: number) => {
    if (signalled) {
      log('cleanup', `${signal}: already stopping the services this run started`);
      return;
    }
    signalled = true;
    log('cleanup', `${signal}: stopping the services this run started`);
    void registry.stopAll().then(() => {
      exit(code);
    });
  };
  target.on('SIGINT', () => {
    stopAll('SIGINT', 130);
  });
  target.on('SIGTERM', () => {
    stopAll('SIGTERM', 143);
  });
}

/**
 * Exits with `code` once a stop begun by a signal has finished, so that a
 * harness whose run failed because its services were stopping does not
 * leave the rest of them running.
 */
export function exitWhenStopped(code: number): void {
  void processStacks.settled().then(() => process.exit(code));
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
