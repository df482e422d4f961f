/** Time to start the real components of a suite (nginx, Apache, the OpenID provider, Chromium). */
export const REAL_SETUP_TIMEOUT_MS = 120_000;
/** One test driving real Chromium through a real proxy: browser start, sign-in, a few pages. */
export const REAL_BROWSER_TEST_TIMEOUT_MS = 90_000;
