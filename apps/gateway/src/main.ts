import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { ConfigError } from '@cio-pipeline/runtime';
import { createGateway } from './bootstrap';
import { readGatewayConfig } from './config/gateway-config';

async function main(): Promise<void> {
  const config = readGatewayConfig();
  const app = await createGateway(config);
  await app.startAllMicroservices();
  await app.listen(config.port, config.host);
  const scheme = config.tls === undefined ? 'http' : 'https';
  const url = `${scheme}://${config.host}:${config.port}`;
  new Logger('Gateway').log({ message: 'gateway listening', url, grpc: config.grpcUrl ?? 'off' });
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`gateway: ${error.message}`);
  } else {
    console.error('gateway: failed to start', error);
  }
  process.exit(1);
});
