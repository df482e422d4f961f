/** Time to start the real components of a suite (nginx, Apache, the OpenID provider, Chromium). */
export const REAL_SETUP_TIMEOUT_MS = 120_000;
/** One test driving real Chromium through a real proxy: browser start, sign-in, a few pages. */
export const REAL_BROWSER_TEST_TIMEOUT_MS = 90_000;
/** What the CLI may wait for a browser sign-in in such a test (seconds): below the test's budget, so the
 * CLI's own error shows rather than the test's timeout. */
export const REAL_CLI_LOGIN_TIMEOUT_S = String(REAL_BROWSER_TEST_TIMEOUT_MS / 1000 - 30);
