export * from './lib/consumer-lag';
export * from './lib/event-loop';
export * from './lib/indicators';
export * from './lib/metrics';
