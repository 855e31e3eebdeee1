import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface ServiceSpec {
  name: string;
  /** Script run with the current `node` binary. */
  script: string;
  env: Record<string, string>;
  /** File that receives the process's stdout and stderr. */
  logFile: string;
  cwd: string;
}

/** A service of the local stack running as a child process, with its output in a log file. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  starts = 0;

  constructor(readonly spec: ServiceSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  start(): void {
    if (this.running) {
      throw new Error(`${this.spec.name} is already running (pid ${this.pid ?? '?'})`);
    }
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    this.log = createWriteStream(this.spec.logFile, { flags: 'a' });
    const child = spawn(process.execPath, [this.spec.script], {
      cwd: this.spec.cwd,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        resolve(code);
      }),
    );
    this.child = child;
    this.starts += 1;
  }

  /** Sends SIGTERM and waits for exit; sends SIGKILL after `timeoutMs`. Returns the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    const child = this.child;
    if (child === undefined || !this.running) {
      return child?.exitCode ?? null;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    this.log?.end();
    return code;
  }

  /** Kills the process with SIGKILL, as a crash would, and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.child !== undefined && this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
