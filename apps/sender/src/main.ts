import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError } from '@cio-pipeline/runtime';
import { createSender } from './bootstrap';
import { readSenderConfig } from './config/sender-config';

async function main(): Promise<void> {
  const config = readSenderConfig();
  const app = await createSender(config);
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  new Logger('Sender').log({
    message: 'sender running',
    workspaces: config.workspaces.map(({ siteId, region, rateLimit }) => ({
      siteId,
      region,
      rateLimit,
    })),
    health: `http://${config.host}:${config.port}/health/ready`,
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? `sender: ${error.message}` : error);
  process.exit(1);
});
