// Three jest projects, one `npx jest` (npm test runs lint, build, then all three):
// - unit: pure functions, no disk, no network, no processes (test/kit/purity-guard.ts checks it);
// - integration: real throwaway servers on port 0, temp folders, the repo's own files, the security and
//   reliability suites that do not need a real browser or auth proxy;
// - e2e: the built CLI against real Chromium, Apache, nginx and the OpenID provider; in band, one file at a time
//   (test/kit/serial-runner.js), after the other two projects.
// Time budgets (the default test timeout too) come from fixtures/real-components/budgets.ts.

/** Suites outside test/e2e that start real Chromium, Apache or nginx: they run in the e2e project. */
const REAL_COMPONENT_SUITES = [
  '<rootDir>/test/security/path-confusion.test.ts',
  '<rootDir>/test/security/relay-phishing.test.ts',
  '<rootDir>/test/security/token-page-isolation.test.ts',
  '<rootDir>/test/security/admin-page-browser.test.ts',
];

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  setupFilesAfterEnv: ['<rootDir>/test/kit/jest-setup.ts'],
  clearMocks: true,
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      globals: { COOKIE_BRIDGE_PURE_UNIT: true },
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: [
        '<rootDir>/test/integration/**/*.test.ts',
        '<rootDir>/test/security/**/*.test.ts',
        '<rootDir>/test/reliability/**/*.test.ts',
      ],
      testPathIgnorePatterns: [
        '/node_modules/',
        ...REAL_COMPONENT_SUITES.map((suite) => suite.replace('<rootDir>', '')),
      ],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts', ...REAL_COMPONENT_SUITES],
      runner: '<rootDir>/test/kit/serial-runner.js',
    },
  ],
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/kit/summary-reporter.js'],
};
