export * from './lib/sandbox-client';
export * from './lib/service-process';
export * from './lib/stack';
export * from './lib/tls';
export * from './lib/wait';
