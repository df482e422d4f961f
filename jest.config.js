/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  // e2e suites start real servers and child processes: give them room, run them one at a time per worker.
  testTimeout: 60000,
  maxWorkers: 2,
  clearMocks: true,
  reporters: ['default', '<rootDir>/test/kit/summary-reporter.js'],
};
