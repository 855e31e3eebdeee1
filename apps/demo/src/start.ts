import { Logger } from '@nestjs/common';
import { DEMO_WORKSPACES, localPorts, startLocalStack } from './lib/local-stack';

/** Runs the whole pipeline in the foreground until Ctrl-C. */
async function main(): Promise<void> {
  const logger = new Logger('stack');
  const { stack, caFile } = await startLocalStack('local-', localPorts());
  const [workspace] = DEMO_WORKSPACES;
  const credentials = `${workspace?.siteId ?? ''}:${workspace?.apiKey ?? ''}`;
  process.stdout.write(
    [
      '',
      `Gateway:  ${stack.gatewayUrl}  (Customer.io Track API; HTTPS with the self-signed certificate ${caFile})`,
      `gRPC:     ${stack.gatewayGrpcAddress}  (TLS with the same certificate; libs/schemas/proto/track.proto)`,
      `Sandbox:  ${stack.sandbox.baseUrl}/__sandbox/stats  (what "Customer.io" received)`,
      `Logs:     tmp/logs/local/`,
      '',
      'Try:',
      `  curl --cacert ${caFile} -u ${credentials} -X PUT ${stack.gatewayUrl}/api/v1/customers/42 \\`,
      `    -H 'content-type: application/json' -d '{"email":"ada@example.com","plan":"pro"}'`,
      `  curl -s ${stack.sandbox.baseUrl}/__sandbox/stats`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = () => {
    // Ctrl-C reaches this process twice: as SIGINT and as with-kafka.sh's SIGTERM.
    if (stopping) {
      return;
    }
    stopping = true;
    logger.log('stopping the stack');
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(`start: ${(error as Error).message}`);
  process.exit(1);
});
