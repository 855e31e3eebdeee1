export * from './lib/workspace-limiter';
