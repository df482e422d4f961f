import { execFile } from 'node:child_process';
import { resolve } from 'node:path';

import { CHROMIUM_DRIVER_KILL_MS, CHROMIUM_DRIVER_TIMEOUT_MS } from '../../fixtures/real-components/budgets';

/** test/kit/chromium-browser.js: use as `$BROWSER` for the CLI, or run it with runChromiumBrowser(). */
export const CHROMIUM_BROWSER_SCRIPT = resolve(__dirname, 'chromium-browser.js');

/** The `$BROWSER` value for the CLI under test: node running the driver (works whatever the file mode). */
export const CHROMIUM_BROWSER_COMMAND = `${process.execPath} ${CHROMIUM_BROWSER_SCRIPT}`;

export interface ChromiumBrowserEnv {
  /** `handoff` (default), `token-page`, `relay` or `url:<regex>`. */
  CHROMIUM_BROWSER_WAIT_FOR?: string;
  CHROMIUM_BROWSER_OUT?: string;
  /** With `relay`: the code the terminal shows, which the driver types into the page. */
  CHROMIUM_BROWSER_CODE?: string;
  CHROMIUM_BROWSER_LOGIN?: string;
  CHROMIUM_BROWSER_SCREENSHOT?: string;
  CHROMIUM_BROWSER_LOG?: string;
  CHROMIUM_BROWSER_TIMEOUT_MS?: string;
  /** `1`: progress lines on stderr. */
  CHROMIUM_BROWSER_VERBOSE?: string;
  CHROMIUM_BROWSER_EXECUTABLE?: string;
}

export interface ChromiumBrowserResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the chromium driver on `url` as a child process and resolves how it ended (never rejects on exit codes). */
export function runChromiumBrowser(
  url: string,
  env: ChromiumBrowserEnv = {},
): Promise<ChromiumBrowserResult> {
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      [CHROMIUM_BROWSER_SCRIPT, url],
      // The driver stops itself after its own deadline; this is the backstop if it cannot.
      {
        env: { ...process.env, CHROMIUM_BROWSER_TIMEOUT_MS: String(CHROMIUM_DRIVER_TIMEOUT_MS), ...env },
        timeout: CHROMIUM_DRIVER_KILL_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 4 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        resolvePromise({
          code,
          stdout,
          stderr: stderr + (error !== null && code === null ? `\n${error.message}` : ''),
        });
      },
    );
  });
}
