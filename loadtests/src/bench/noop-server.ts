import Fastify from 'fastify';

/**
 * Starts the do-nothing ceiling of the benchmark: a Fastify server on
 * 127.0.0.1:$PORT that parses the JSON body and responds with `{}` on every
 * path. The benchmark runs it as a child process, outside the load
 * generator's event loop.
 */
async function main(): Promise<void> {
  const port = Number(process.env['PORT']);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error(`PORT=${JSON.stringify(process.env['PORT'])} is invalid: expected a TCP port`);
  }
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: '/*',
    handler: () => ({}),
  });
  await app.listen({ host: '127.0.0.1', port });
  const close = () => {
    void app.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

main().catch((error: unknown) => {
  console.error(`noop server failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
