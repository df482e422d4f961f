import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger, systemTimers, type Context, type Logger } from '../../src/context';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import type { CredentialStore } from '../../src/store/credential-types';
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

/**
 * Signs in like a browser at a /token URL (the scripted browser's print-bundle mode) and resolves with the
 * bundle text the page shows, without handing it to the listener.
 */
export function bundleFromTokenPage(url: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const folder = mkdtempSync(path.join(tmpdir(), 'cb-page-bundle-'));
  const out = path.join(folder, 'bundle.txt');
  return new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [SCRIPTED_BROWSER_PATH, url],
      { env: { ...process.env, ...env, SCRIPTED_BROWSER_MODE: 'print-bundle', SCRIPTED_BROWSER_OUT: out } },
      (error, _o, stderr) => {
        try {
          if (error) reject(new Error(`scripted browser failed: ${stderr}`));
          else resolve(readFileSync(out, 'utf8').trim());
        } finally {
          rmSync(folder, { recursive: true, force: true });
        }
      },
    );
  });
}

/**
 * The same cookies in SkyPilot's older stateless format (standard base64 of {"v":1,"user","cookies":{}}),
 * as an older /token page would post them, or a local attacker forge them; `user` is the bundle's claim.
 */
export function statelessBundle(cookies: Record<string, string>, user?: string): string {
  return Buffer.from(JSON.stringify({ v: 1, ...(user === undefined ? {} : { user }), cookies })).toString(
    'base64',
  );
}

/** The cookies of any bundle text, as the name → value map statelessBundle takes. */
export function cookiesOf(bundleText: string): Record<string, string> {
  return Object.fromEntries(decodeCookieBundle(bundleText).cookies.map((c) => [c.name, c.value]));
}

/** A Logger that records each line with its level ("info: …", "warn: …", "debug: …"). */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (message) => lines.push(`debug: ${message}`),
    info: (message) => lines.push(`info: ${message}`),
    warn: (message) => lines.push(`warn: ${message}`),
  };
}

export interface InProcessLoginSetup {
  store: CredentialStore;
  openBrowser?: (url: string) => Promise<void>;
  stdin?: PassThrough;
  logger?: Logger;
  now?: () => number;
  /** Replaces any part of the Context the login takes (logger, now, timers, randomState): see fake-context.ts. */
  context?: Partial<Pick<Context, 'logger' | 'now' | 'timers' | 'randomState'>>;
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
    timers: systemTimers,
    ...setup.context,
  };
  return login(options, deps);
}
