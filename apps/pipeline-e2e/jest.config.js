module.exports = {
  ...require('../../jest.preset.js')(__dirname),
  // Each test starts the services as processes and waits for delivery.
  testTimeout: 180_000,
};
