import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT_DIR } from './support';

const run = promisify(execFile);

/**
 * A Kafka broker of one test's own, started with tools/kafka/kafka.sh under a
 * state folder and ports of its own, so stopping or restarting it disturbs no
 * other test.
 */
export class PrivateBroker {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly port: number,
    controllerPort: number,
    name: string,
  ) {
    this.env = {
      ...process.env,
      KAFKA_STATE_DIR: join(ROOT_DIR, 'tmp', `kafka-${name}-${randomBytes(3).toString('hex')}`),
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
    };
    // kafka.sh does nothing when KAFKA_BROKERS names an external cluster.
    delete this.env['KAFKA_BROKERS'];
  }

  get brokers(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Runs a kafka.sh subcommand; `restart` keeps topics and committed offsets. */
  async command(name: 'start' | 'stop' | 'restart' | 'reset'): Promise<void> {
    await run('bash', [join(ROOT_DIR, 'tools', 'kafka', 'kafka.sh'), name], {
      env: this.env,
      cwd: ROOT_DIR,
      timeout: 120_000,
    });
  }
}
