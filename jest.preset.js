const path = require('node:path');

// Services under test log only warnings and errors unless LOG_LEVEL sets another level.
process.env.LOG_LEVEL ??= 'warn';

/** Shared Jest settings: ts-jest with the workspace path aliases mapped to library sources. */
module.exports = function jestPreset(projectDir) {
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.spec.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(projectDir, 'tsconfig.spec.json') }],
    },
    moduleFileExtensions: ['ts', 'js', 'json'],
    setupFiles: [path.join(__dirname, 'tools', 'jest', 'quiet-logger.js')],
    moduleNameMapper: {
      '^@cio-pipeline/(.*)$': path.join(__dirname, 'libs/$1/src/index.ts'),
    },
  };
};
