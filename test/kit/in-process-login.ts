import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger, type Logger } from '../../src/context';
import type { CredentialStore } from '../../src/core/credential-types';
import { login, type LoginDeps, type LoginOptions, type LoginResult } from '../../src/login/login-flow';
import type { Progress } from '../../src/login/progress';

export const SCRIPTED_BROWSER_PATH = path.join(__dirname, 'scripted-browser.js');

/** A Progress that records what it was told, for assertions. */
export function recordingProgress(): Progress & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    start: (text) => lines.push(`start: ${text}`),
    update: (text) => lines.push(`update: ${text}`),
    stop: (finalLine) => lines.push(`stop${finalLine === undefined ? '' : `: ${finalLine}`}`),
  };
}

/** Opens URLs by running test/kit/scripted-browser.js, as $BROWSER would; resolves when it started. */
export function scriptedBrowserOpener(env: NodeJS.ProcessEnv = {}): {
  open(url: string): Promise<void>;
  /** Settles when every browser run so far has exited (rejects if one failed). */
  done(): Promise<void>;
} {
  const runs: Array<Promise<void>> = [];
  return {
    open: async (url) => {
      runs.push(
        new Promise<void>((resolve, reject) => {
          execFile(
            process.execPath,
            [SCRIPTED_BROWSER_PATH, url],
            { env: { ...process.env, ...env } },
            (error, _o, stderr) =>
              error ? reject(new Error(`scripted browser failed: ${stderr}`)) : resolve(),
          );
        }),
      );
    },
    done: async () => {
      await Promise.all(runs);
    },
  };
}

export interface InProcessLoginSetup {
  store: CredentialStore;
  openBrowser?: (url: string) => Promise<void>;
  stdin?: PassThrough;
  logger?: Logger;
  now?: () => number;
}

/** Runs the real login flow in-process with test doubles only where a person would be. */
export function loginInProcess(options: LoginOptions, setup: InProcessLoginSetup): Promise<LoginResult> {
  const stdin = setup.stdin ?? new PassThrough();
  if (setup.stdin === undefined) stdin.end();
  const deps: LoginDeps = {
    store: setup.store,
    logger: setup.logger ?? silentLogger,
    openBrowser: setup.openBrowser ?? scriptedBrowserOpener().open,
    stdin,
    progress: recordingProgress(),
    randomState: () => randomBytes(32).toString('base64url'),
    now: setup.now ?? (() => Date.UTC(2026, 10, 22, 12, 0, 0)),
  };
  return login(options, deps);
}
