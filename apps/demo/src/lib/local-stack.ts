import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  ensureSelfSignedPair,
  startStack,
  type Stack,
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

/** Starts the whole pipeline on loopback with the gateway serving HTTPS on `gatewayPort`. */
export async function startLocalStack(
  namespace: string,
  gatewayPort?: number,
): Promise<LocalStack> {
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
    ...(gatewayPort === undefined
      ? {}
      : {
          ports: { gateway: gatewayPort, 'gateway-grpc': 50051, sandbox: 4010, 'sandbox-eu': 4011 },
        }),
  });
  return { stack, caFile: tls.certFile };
}
