// The fault-injection run: one long test under src/faults/, run only by the
// `faults` target. FAULTS_SECONDS sets the length of its traffic.
module.exports = {
  ...require('../../jest.preset.js')(__dirname),
  testMatch: ['<rootDir>/src/faults/**/*.spec.ts'],
  // The run sets its own timeouts from FAULTS_SECONDS.
  testTimeout: 60_000,
  maxWorkers: 1,
};
