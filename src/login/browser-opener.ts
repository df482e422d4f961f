import type * as childProcess from 'node:child_process';
import { spawn as nodeSpawn } from 'node:child_process';
import type { Logger } from '../context';
import { describeSystemError } from '../errors';

/**
 * Opens the login URL in the user's browser. Never throws and never blocks the login on the browser:
 * the CLI prints the URL anyway, so a failure only earns a warning.
 */

/** The default export of the `open` package (ESM only, so it is loaded with import() on first use). */
export type OpenFunction = (url: string) => Promise<unknown>;

export interface OpenBrowserOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  spawn?: typeof childProcess.spawn | undefined;
  /** Loads the `open` package; tests inject a fake (jest cannot run a real import()). */
  openPackage?: (() => Promise<OpenFunction>) | undefined;
}

const BY_HAND = 'open the URL above by hand';

/**
 * With `$BROWSER` set, runs it (split on whitespace, no shell) with the URL as its last argument, or in
 * place of a `%s` argument; otherwise uses the `open` package. Resolves once the browser was started (or
 * failed to start); the browser command's exit status is logged later if it is not 0.
 */
export async function openBrowser(url: string, options: OpenBrowserOptions): Promise<void> {
  const { logger } = options;
  const browser = options.env.BROWSER?.trim();
  if (browser !== undefined && browser !== '') {
    await runBrowserCommand(browser, url, options);
    return;
  }
  try {
    const open = await (options.openPackage ?? loadOpenPackage)();
    const launched = await open(url);
    watchExit(launched, 'the system browser opener', logger);
  } catch (error) {
    logger.warn(`could not open a browser (${describeSystemError(error)}); ${BY_HAND}`);
  }
}

async function loadOpenPackage(): Promise<OpenFunction> {
  const loaded = await import('open');
  return loaded.default;
}

function runBrowserCommand(browser: string, url: string, options: OpenBrowserOptions): Promise<void> {
  const { logger } = options;
  const [command = browser, ...words] = browser.split(/\s+/);
  const args = words.some((word) => word.includes('%s'))
    ? words.map((word) => word.replaceAll('%s', url))
    : [...words, url];
  const label = `$BROWSER (${command})`;
  const spawn = options.spawn ?? nodeSpawn;
  return new Promise<void>((resolve) => {
    let child: childProcess.ChildProcess;
    try {
      child = spawn(command, args, {
        env: options.env,
        // stdout must not mix into the CLI's output (scripts read it); stderr may help the user.
        stdio: ['ignore', 'ignore', 'inherit'],
        windowsHide: true,
      });
    } catch (error) {
      logger.warn(`could not start ${label}: ${describeSystemError(error)}; ${BY_HAND}`);
      resolve();
      return;
    }
    child.once('error', (error) => {
      logger.warn(`could not start ${label}: ${describeSystemError(error)}; ${BY_HAND}`);
      resolve();
    });
    child.once('spawn', () => {
      logger.debug(`started ${label}`);
      watchExit(child, label, logger);
      resolve();
    });
    // The login goes on while the browser command runs; it must not keep the CLI alive once the login is done.
    child.unref();
  });
}

/** Logs a warning when a launched process exits with a failure; the listener keeps a reference to it. */
function watchExit(launched: unknown, label: string, logger: Logger): void {
  if (!isChildProcess(launched)) return;
  launched.once('exit', (code, signal) => {
    if (code === 0) logger.debug(`${label} exited with code 0`);
    else if (code !== null) logger.warn(`${label} exited with code ${code}; ${BY_HAND}`);
    else logger.warn(`${label} was stopped by ${signal ?? 'a signal'}; ${BY_HAND}`);
  });
}

function isChildProcess(value: unknown): value is childProcess.ChildProcess {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { once?: unknown }).once === 'function' &&
    'pid' in value
  );
}
