import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { REAL_COMPONENT_PATHS } from '../../fixtures/real-components/require-component';

/** What test/kit/chromium-browser.js exports for tests that drive Chromium themselves. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const driver = require('./chromium-browser.js') as {
  CHROMIUM_ARGS: string[];
  chromiumArgs(env: NodeJS.ProcessEnv, trustCertFiles?: string[]): string[];
  isLoopbackUrl(url: string): boolean;
};

export interface LaunchedChromium {
  browser: Browser;
  /** A fresh profile whose requests may only go to loopback (anything else is aborted). */
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's Chromium, headless, with the `$BROWSER` driver's arguments and loopback-only rule, for tests that
 * act as a page script or a person themselves (playwright-core; never downloads a browser).
 */
export async function launchChromium(
  options: {
    /** Server certificates (PEM files, e.g. from createTestCa().issue()) this browser accepts. */
    trustCertFiles?: string[];
  } = {},
): Promise<LaunchedChromium> {
  const browser = await chromium.launch({
    executablePath: REAL_COMPONENT_PATHS.chromium,
    headless: true,
    args: driver.chromiumArgs({}, options.trustCertFiles ?? []),
  });
  try {
    const context = await browser.newContext();
    await context.route('**/*', (route) =>
      driver.isLoopbackUrl(route.request().url()) ? route.continue() : route.abort('blockedbyclient'),
    );
    return { browser, context, close: () => browser.close() };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
