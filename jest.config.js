/** Jest: real PostgreSQL, no mocks. See README "Testing". */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/__tests__/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  transform: {
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
};
