import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ensureSelfSignedPair,
  startStack,
  type Stack,
  type StackOptions,
  type StackWorkspace,
} from '@cio-pipeline/stack';

/** The repository root: the nearest folder above this file that holds nx.json. */
export const ROOT_DIR = findRoot(__dirname);

function findRoot(start: string): string {
  let folder = start;
  while (!existsSync(join(folder, 'nx.json'))) {
    const parent = dirname(folder);
    if (parent === folder) {
      throw new Error(`no nx.json above ${start}: run from inside the repository`);
    }
    folder = parent;
  }
  return folder;
}

/** The demo's workspaces: one per region, each at Customer.io's default 100 requests per second. */
export const DEMO_WORKSPACES: StackWorkspace[] = [
  { siteId: 'site-demo', apiKey: 'key-demo', region: 'us', rateLimit: 100, sandboxRateLimit: 100 },
  {
    siteId: 'site-demo-eu',
    apiKey: 'key-demo-eu',
    region: 'eu',
    rateLimit: 100,
    sandboxRateLimit: 100,
  },
];

export interface LocalStack {
  stack: Stack;
  caFile: string;
}

export type LocalPorts = NonNullable<StackOptions['ports']>;

/**
 * Reads the fixed ports of `npm start` from GATEWAY_PORT, GATEWAY_GRPC_PORT,
 * SANDBOX_PORT and SANDBOX_EU_PORT, with 3000, 50051, 4010 and 4011 by default.
 */
export function localPorts(env: NodeJS.ProcessEnv = process.env): LocalPorts {
  const read = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1 || value > 65_535) {
      throw new Error(
        `${name}=${JSON.stringify(env[name])} is invalid: expected a port from 1 to 65535`,
      );
    }
    return value;
  };
  return {
    gateway: read('GATEWAY_PORT', 3000),
    'gateway-grpc': read('GATEWAY_GRPC_PORT', 50051),
    sandbox: read('SANDBOX_PORT', 4010),
    'sandbox-eu': read('SANDBOX_EU_PORT', 4011),
  };
}

/** Starts the whole pipeline on loopback with the gateway serving HTTPS, on `ports` or free ones. */
export async function startLocalStack(namespace: string, ports?: LocalPorts): Promise<LocalStack> {
  const kafkaBrokers = process.env['KAFKA_BROKERS'];
  if (kafkaBrokers === undefined || kafkaBrokers === '') {
    throw new Error(
      'KAFKA_BROKERS is not set: run through tools/kafka/with-kafka.sh, which starts a broker',
    );
  }
  const tls = ensureSelfSignedPair(join(ROOT_DIR, 'tmp', 'tls'));
  const stack = await startStack({
    rootDir: ROOT_DIR,
    logDir: join(ROOT_DIR, 'tmp', 'logs', namespace.replace(/\W+$/, '') || 'stack'),
    kafkaBrokers,
    namespace,
    workspaces: DEMO_WORKSPACES,
    tls,
    ...(ports === undefined ? {} : { ports }),
  });
  return { stack, caFile: tls.certFile };
}
