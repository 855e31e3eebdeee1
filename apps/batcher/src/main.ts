import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError } from '@cio-pipeline/runtime';
import { createBatcher } from './bootstrap';
import { readBatcherConfig } from './config/batcher-config';

async function main(): Promise<void> {
  const config = readBatcherConfig();
  const app = await createBatcher(config);
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  new Logger('Batcher').log({
    message: 'batcher running',
    health: `http://${config.host}:${config.port}/health/ready`,
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `batcher: ${error.message}` : error);
  process.exit(1);
});
