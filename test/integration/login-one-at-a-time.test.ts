/**
 * Two logins of one endpoint at once, in-process: real detection, listener, verification and a
 * FileCredentialStore in a temp home; the browser is the scripted one behind a counting opener.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { systemClock, systemTimers } from '../../src/context';
import { LoginTimeoutError } from '../../src/errors';
import { login, type LoginDeps, type LoginOptions } from '../../src/login/login-flow';
import type { Progress } from '../../src/login/progress';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { createLoginLockFile } from '../../src/store/login-lock-file';
import { recordingLogger, recordingProgress, scriptedBrowserOpener } from '../kit/in-process-login';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';
import { manualTimers } from '../kit/manual-timers';

/** A recording Progress that also resolves `waiting` when it announces a wait for another login. */
function watchedProgress(): Progress & { lines: string[]; waiting: Promise<void> } {
  const progress = recordingProgress();
  let announce: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => (announce = resolve));
  return {
    ...progress,
    lines: progress.lines,
    waiting,
    start: (text) => {
      progress.start(text);
      if (text.startsWith('another login for')) announce();
    },
  };
}

/** An opener that counts its calls and resolves `opened` on the first. */
function countingOpener(open: (url: string) => Promise<void>): ((url: string) => Promise<void>) & {
  urls: string[];
  opened: Promise<void>;
} {
  const urls: string[] = [];
  let first: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (first = resolve));
  return Object.assign(
    async (url: string) => {
      urls.push(url);
      first();
      await open(url);
    },
    { urls, opened },
  );
}

describe('one login of an endpoint at a time', () => {
  let stack: LookalikeStack;
  let home: string;
  let store: FileCredentialStore;

  beforeEach(async () => {
    stack = await startLookalikeStack();
    home = mkdtempSync(path.join(tmpdir(), 'cb-one-login-'));
    store = new FileCredentialStore({ home });
  });
  afterEach(async () => {
    await stack.close();
    rmSync(home, { recursive: true, force: true });
  });

  function deps(overrides: Partial<LoginDeps> & Pick<LoginDeps, 'openBrowser' | 'progress'>): LoginDeps {
    const stdin = new PassThrough();
    stdin.end();
    return {
      store,
      logger: recordingLogger(),
      stdin,
      randomState: () => randomBytes(32).toString('base64url'),
      now: systemClock,
      timers: systemTimers,
      ...overrides,
    };
  }

  it('the second waits for the first, says so with its pid, and reuses its session: one browser tab', async () => {
    const browser = scriptedBrowserOpener();
    const second = watchedProgress();
    // The browser signs in only once the second login is waiting, so the two really overlap.
    const opener = countingOpener(async (url) => {
      void second.waiting.then(() => browser.open(url));
    });
    const options: LoginOptions = { endpoint: stack.url, timeoutSeconds: 30 };
    const first = login(options, deps({ openBrowser: opener, progress: recordingProgress() }));
    await opener.opened;
    const secondOpener = countingOpener(async () => undefined);
    const other = login(options, deps({ openBrowser: secondOpener, progress: second }));

    const [a, b] = await Promise.all([first, other]);
    await browser.done();
    expect(opener.urls).toHaveLength(1);
    expect(secondOpener.urls).toHaveLength(0);
    expect(a).toMatchObject({ method: 'cookies', identity: 'alice@example.com', via: 'browser' });
    expect(a.reused).toBeUndefined();
    expect(b).toEqual({
      endpoint: stack.url,
      method: 'cookies',
      identity: 'alice@example.com',
      proxy: 'oauth2-proxy',
      reused: true,
    });
    expect(second.lines).toContain(
      `start: another login for ${stack.url} is in progress (pid ${process.pid}); waiting for it…`,
    );
    expect(second.lines).toContain(
      `start: Verifying the session saved by the other login (pid ${process.pid})`,
    );
    expect(existsSync(store.loginLockFile(stack.url))).toBe(false);
  });

  it('when the first fails (times out), the second signs in itself', async () => {
    const timersA = manualTimers();
    const second = watchedProgress();
    const openerA = countingOpener(async () => undefined);
    const browser = scriptedBrowserOpener();
    const openerB = countingOpener((url) => browser.open(url));
    const options: LoginOptions = { endpoint: stack.url, timeoutSeconds: 30 };
    const first = login(
      options,
      deps({ openBrowser: openerA, progress: recordingProgress(), timers: timersA }),
    );
    const firstOutcome = first.then(
      () => undefined,
      (error: unknown) => error,
    );
    await openerA.opened;
    const other = login(options, deps({ openBrowser: openerB, progress: second }));
    await second.waiting;
    (await timersA.next()).fire();
    expect(await firstOutcome).toBeInstanceOf(LoginTimeoutError);

    const result = await other;
    await browser.done();
    expect(result).toMatchObject({ method: 'cookies', identity: 'alice@example.com', via: 'browser' });
    expect(result.reused).toBeUndefined();
    expect(openerA.urls).toHaveLength(1);
    expect(openerB.urls).toHaveLength(1);
  });

  it('a lock left by a dead process is taken over, and the login goes on as usual', async () => {
    const pid = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('error', reject);
      child.on('exit', () => resolve(child.pid!));
    });
    await createLoginLockFile(store.loginLockFile(stack.url), {
      pid,
      hostname: hostname(),
      endpoint: stack.url,
      startedAt: new Date().toISOString(),
      staleAfterMs: 3_600_000,
      token: 'left-behind',
    });
    const browser = scriptedBrowserOpener();
    const opener = countingOpener((url) => browser.open(url));
    const progress = recordingProgress();
    const result = await login(
      { endpoint: stack.url, timeoutSeconds: 30 },
      deps({ openBrowser: opener, progress }),
    );
    await browser.done();
    expect(result).toMatchObject({ method: 'cookies', identity: 'alice@example.com' });
    expect(result.reused).toBeUndefined();
    expect(opener.urls).toHaveLength(1);
    expect(progress.lines.join('\n')).toContain(
      `(pid ${pid}) was left by a process that is gone: taking it over`,
    );
    expect(existsSync(store.loginLockFile(stack.url))).toBe(false);
  });
});
