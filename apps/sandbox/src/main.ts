import { ConfigError } from './config';
import { ENVIRONMENT_HELP } from './env';
import { startSandbox, stopSandbox } from './start';

function printHelp(): void {
  const width = Math.max(...ENVIRONMENT_HELP.map(([name]) => name.length));
  const lines = ENVIRONMENT_HELP.map(([name, help]) => `  ${name.padEnd(width)}  ${help}`);
  process.stdout.write(
    `Stand-in for Customer.io's Track API. Configured by environment variables:\n${lines.join('\n')}\n`,
  );
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) {
    printHelp();
    return;
  }
  const sandbox = await startSandbox(process.env);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      sandbox.log.warn({ event: 'stop', signal }, 'second signal during shutdown, exiting now');
      process.exit(1);
    }
    stopping = true;
    stopSandbox(sandbox, signal).catch((error: unknown) => {
      sandbox.log.error({ event: 'stop', err: error }, 'sandbox failed to stop cleanly');
      process.exitCode = 1;
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\nRun with --help to list the variables.\n`);
  } else {
    process.stderr.write(
      `sandbox failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exitCode = 1;
});
