module.exports = {
  ...require('../../jest.preset.js')(__dirname),
  // Each test starts the services as processes and waits for delivery.
  testTimeout: 180_000,
  // One stack at a time: each starts five processes on a two-core machine.
  maxWorkers: 1,
  // The fault-injection run takes minutes: `nx run pipeline-e2e:faults` runs it.
  testPathIgnorePatterns: ['/node_modules/', '/faults/'],
};
