/** Jest: real PostgreSQL, no mocks. See README "Testing". */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/__tests__/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  // jose is published as ES modules only: jest runs it through swc like our sources.
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  transform: {
    '^.+/node_modules/jose/.+\\.js$': ['@swc/jest', { module: { type: 'commonjs' } }],
    '^.+\\.ts$': ['@swc/jest', {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    }],
  },
  globalSetup: '<rootDir>/src/__testUtils__/globalSetup.ts',
  globalTeardown: '<rootDir>/src/__testUtils__/globalTeardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker is replaced after a test file once it holds more than this: the two workers reached
  // ~800 MB each by the end of the suite, and taking down a heap that size outlasted the 500 ms
  // jest gives a worker to exit ("A worker process has failed to exit gracefully" on every run,
  // with nothing left open: both had run their exit handlers).
  workerIdleMemoryLimit: '400MB',
};
