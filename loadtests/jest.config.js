const preset = require('../jest.preset.js')(__dirname);

module.exports = {
  ...preset,
  moduleNameMapper: {
    ...preset.moduleNameMapper,
    // src/workload imports its files as `./x.ts` for k6; ts-jest rewrites that to `./x.js`.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  // One test runs tsc over the k6 scripts, which takes several seconds.
  testTimeout: 120_000,
};
