import { join } from 'node:path';
import { SandboxClient } from './sandbox-client';
import { ServiceProcess } from './service-process';
import type { TlsPair } from './tls';
import { assertPortFree, freePort, httpStatus, waitUntil, WaitAbortedError } from './wait';

/**
 * Node.js options of the gateway, as its container image sets them. Young
 * generation semi-spaces of up to 32 MiB make scavenges rarer, because every
 * call allocates its parsed body, operation and promises. On the benchmark
 * machine this raised single-call throughput by about a tenth, for about
 * 30 MB more resident memory under full load.
 */
export const GATEWAY_NODE_OPTIONS = '--max-semi-space-size=32';

export type ServiceRole = 'sandbox' | 'sandbox-eu' | 'gateway' | 'batcher' | 'sender';
type PortName = ServiceRole | 'gateway-grpc';

export interface StackWorkspace {
  siteId: string;
  apiKey: string;
  region: 'us' | 'eu';
  /** Requests per second the sender holds the workspace to. */
  rateLimit: number;
  /** Requests per second the sandbox allows before answering 429; 0 for no limit. */
  sandboxRateLimit: number;
}

export interface StackOptions {
  /** Repository root; services run from `dist/apps/<name>/src/main.js`. */
  rootDir: string;
  logDir: string;
  kafkaBrokers: string;
  /** Prefix of topic names and consumer group ids, so runs on one broker stay apart. */
  namespace: string;
  workspaces: StackWorkspace[];
  /** Fixed ports; a role without one gets a free port. */
  ports?: Partial<Record<PortName, number>>;
  /** Serve the gateway over HTTPS with this pair. */
  tls?: TlsPair;
  batchers?: number;
  senders?: number;
  /** Extra environment per role. */
  env?: Partial<Record<ServiceRole, Record<string, string>>>;
  startTimeoutMs?: number;
}

export interface Stack {
  gatewayUrl: string;
  /** The gateway's gRPC address, `127.0.0.1:<port>`. */
  gatewayGrpcAddress: string;
  sandbox: SandboxClient;
  sandboxEu: SandboxClient;
  services: ServiceProcess[];
  byRole(role: ServiceRole): ServiceProcess[];
  /** Starts a stopped or killed service again and waits until it is ready. */
  restart(service: ServiceProcess): Promise<void>;
  stop(): Promise<void>;
}

interface Planned {
  process: ServiceProcess;
  role: ServiceRole;
  readyUrl: string;
}

/**
 * Starts the two sandboxes (US and EU hosts), the gateway, the batchers and
 * the senders as child processes against `kafkaBrokers`, and resolves once
 * every one reports ready. Kafka itself is started by tools/kafka/kafka.sh.
 */
/** Partitions of the batches topic when KAFKA_BATCHES_PARTITIONS is not set. */
const DEFAULT_BATCHES_PARTITIONS = 6;

/**
 * Returns SENDER_CONSUMERS so that the senders together run one consumer per
 * partition of the batches topic, as deploy/ sets it, unless `env` sets it.
 * With more, a sender can get no partition, and then it never reports ready.
 */
export function consumersPerSender(
  senders: number,
  env: Record<string, string | undefined>,
): Record<string, string> {
  if (env['SENDER_CONSUMERS'] !== undefined) {
    return {};
  }
  const partitions = Number(env['KAFKA_BATCHES_PARTITIONS'] ?? DEFAULT_BATCHES_PARTITIONS);
  return { SENDER_CONSUMERS: String(Math.max(1, Math.floor(partitions / senders))) };
}

export async function startStack(options: StackOptions): Promise<Stack> {
  // A fixed port that something else holds would make a readiness probe
  // reach that other server, so it is checked before anything starts.
  const port = async (role: PortName) => {
    const fixed = options.ports?.[role];
    if (fixed === undefined) {
      return freePort();
    }
    await assertPortFree(fixed, role);
    return fixed;
  };
  const ports = {
    sandbox: await port('sandbox'),
    sandboxEu: await port('sandbox-eu'),
    gateway: await port('gateway'),
    gatewayGrpc: await port('gateway-grpc'),
  };
  const sandboxUrl = `http://127.0.0.1:${ports.sandbox}`;
  const sandboxEuUrl = `http://127.0.0.1:${ports.sandboxEu}`;
  const scheme = options.tls === undefined ? 'http' : 'https';
  const gatewayUrl = `${scheme}://127.0.0.1:${ports.gateway}`;

  const workspaces = options.workspaces
    .map((w) => `${w.siteId}:${w.apiKey}:${w.region}:${w.rateLimit}`)
    .join(',');
  const sandboxWorkspaces = options.workspaces
    .map((w) => `${w.siteId}:${w.apiKey}:${w.region}:${w.sandboxRateLimit}`)
    .join(',');
  const kafkaEnv = {
    KAFKA_BROKERS: options.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: options.namespace,
  };

  const planned: Planned[] = [];
  const plan = (
    role: ServiceRole,
    app: string,
    index: number,
    portValue: number,
    env: Record<string, string>,
  ) => {
    const name = index === 0 ? role : `${role}-${index + 1}`;
    const process = new ServiceProcess({
      name,
      script: join(options.rootDir, 'dist', 'apps', app, 'src', 'main.js'),
      cwd: options.rootDir,
      logFile: join(options.logDir, `${name}.log`),
      env: { ...env, ...options.env?.[role] },
    });
    const readyPath = app === 'sandbox' ? '/__sandbox/stats' : '/health/ready';
    const readyUrl = `${scheme === 'https' && app === 'gateway' ? 'https' : 'http'}://127.0.0.1:${portValue}${readyPath}`;
    planned.push({ process, role, readyUrl });
  };

  plan('sandbox', 'sandbox', 0, ports.sandbox, {
    SANDBOX_PORT: String(ports.sandbox),
    SANDBOX_REGION: 'us',
    SANDBOX_EU_URL: sandboxEuUrl,
    SANDBOX_WORKSPACES: sandboxWorkspaces,
  });
  plan('sandbox-eu', 'sandbox', 0, ports.sandboxEu, {
    SANDBOX_PORT: String(ports.sandboxEu),
    SANDBOX_REGION: 'eu',
    SANDBOX_WORKSPACES: sandboxWorkspaces,
  });
  plan('gateway', 'gateway', 0, ports.gateway, {
    ...kafkaEnv,
    NODE_OPTIONS: [process.env['NODE_OPTIONS'], GATEWAY_NODE_OPTIONS].filter(Boolean).join(' '),
    GATEWAY_PORT: String(ports.gateway),
    GATEWAY_GRPC_PORT: String(ports.gatewayGrpc),
    CIO_WORKSPACES: workspaces,
    ...(options.tls === undefined
      ? {}
      : { GATEWAY_TLS_CERT_FILE: options.tls.certFile, GATEWAY_TLS_KEY_FILE: options.tls.keyFile }),
  });
  for (let i = 0; i < (options.batchers ?? 1); i++) {
    const batcherPort = i === 0 ? await port('batcher') : await freePort();
    plan('batcher', 'batcher', i, batcherPort, {
      ...kafkaEnv,
      BATCHER_PORT: String(batcherPort),
      BATCHER_GROUP_ID: `${options.namespace}cio-batcher`,
    });
  }
  const senders = options.senders ?? 1;
  for (let i = 0; i < senders; i++) {
    const senderPort = i === 0 ? await port('sender') : await freePort();
    plan('sender', 'sender', i, senderPort, {
      ...kafkaEnv,
      ...consumersPerSender(senders, { ...process.env, ...options.env?.sender }),
      SENDER_PORT: String(senderPort),
      SENDER_GROUP_ID: `${options.namespace}cio-sender`,
      CIO_WORKSPACES: workspaces,
      CIO_US_URL: sandboxUrl,
      CIO_EU_URL: sandboxEuUrl,
    });
  }

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const waitReady = async (entry: Planned) => {
    await waitUntil(
      `${entry.process.spec.name} to be ready at ${entry.readyUrl} (log: ${entry.process.spec.logFile})`,
      async () => {
        if (!entry.process.running) {
          throw new WaitAbortedError(
            `${entry.process.spec.name} exited; see ${entry.process.spec.logFile}`,
          );
        }
        return (await httpStatus(entry.readyUrl)) === 200;
      },
      timeoutMs,
    );
  };

  const stop = async () => {
    // Producers first, so nothing new enters while the consumers drain.
    for (const role of ['gateway', 'batcher', 'sender', 'sandbox', 'sandbox-eu'] as const) {
      await Promise.all(planned.filter((p) => p.role === role).map((p) => p.process.stop()));
    }
  };

  try {
    for (const entry of planned) {
      entry.process.start();
    }
    for (const entry of planned) {
      await waitReady(entry);
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    gatewayUrl,
    gatewayGrpcAddress: `127.0.0.1:${ports.gatewayGrpc}`,
    sandbox: new SandboxClient(sandboxUrl),
    sandboxEu: new SandboxClient(sandboxEuUrl),
    services: planned.map((p) => p.process),
    byRole: (role) => planned.filter((p) => p.role === role).map((p) => p.process),
    restart: async (service) => {
      const entry = planned.find((p) => p.process === service);
      if (entry === undefined) {
        throw new Error(`${service.spec.name} is not part of this stack`);
      }
      if (!service.running) {
        service.start();
      }
      await waitReady(entry);
    },
    stop,
  };
}
