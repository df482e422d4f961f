/**
 * The login lock on its own (src/login/login-lock.ts over src/store/login-lock-file.ts): real files in a temp
 * config home, the clock and the timers fake, so every wait is driven by the test (no sleeping).
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { LoginError } from '../../src/errors';
import { oneLoginAtATime, isProcessAlive, type LoginLockDeps } from '../../src/login/login-lock';
import {
  createLoginLockFile,
  readLoginLockFile,
  removeLoginLockFile,
  type LoginLockRecord,
} from '../../src/store/login-lock-file';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { FAKE_NOW } from '../kit/fake-context';
import { recordingLogger, recordingProgress } from '../kit/in-process-login';
import { manualTimers } from '../kit/manual-timers';

const ENDPOINT = 'https://api.example.com';

/** The pid of a process that has exited (so is gone). */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

function record(overrides: Partial<LoginLockRecord> = {}): LoginLockRecord {
  return {
    pid: process.pid,
    hostname: hostname(),
    endpoint: ENDPOINT,
    startedAt: new Date(FAKE_NOW).toISOString(),
    staleAfterMs: 600_000,
    token: 'holder-token',
    ...overrides,
  };
}

describe('login lock', () => {
  let home: string;
  let file: string;
  let now: number;
  let deps: LoginLockDeps & {
    timers: ReturnType<typeof manualTimers>;
    progress: ReturnType<typeof recordingProgress>;
    logger: ReturnType<typeof recordingLogger>;
  };

  beforeEach(() => {
    home = mkdtempSync(path.join(tmpdir(), 'cb-login-lock-'));
    file = new FileCredentialStore({ home }).loginLockFile(ENDPOINT);
    now = FAKE_NOW;
    deps = {
      now: () => now,
      timers: manualTimers(),
      progress: recordingProgress(),
      logger: recordingLogger(),
    };
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('is one 0600 file per endpoint under the config home, naming its holder; only its holder removes it', async () => {
    expect(file.startsWith(path.join(home, 'login-locks'))).toBe(true);
    expect(new FileCredentialStore({ home }).loginLockFile(`${ENDPOINT}/`)).toBe(file);
    expect(await createLoginLockFile(file, record())).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, endpoint: ENDPOINT });
    // A second holder cannot create it, and the first's content is untouched.
    expect(await createLoginLockFile(file, record({ pid: 1, token: 'other' }))).toBe(false);
    expect((await readLoginLockFile(file))?.record?.token).toBe('holder-token');
    // No temp files are left next to it.
    expect(readdirSync(path.dirname(file))).toEqual([path.basename(file)]);
    expect(await removeLoginLockFile(file, 'other')).toBe(false);
    expect(existsSync(file)).toBe(true);
    expect(await removeLoginLockFile(file, 'holder-token')).toBe(true);
    expect(await readLoginLockFile(file)).toBeUndefined();
  });

  it('a free lock: runs the login, holding the lock meanwhile, and releases it afterwards (also on failure)', async () => {
    let heldDuringRun: boolean | undefined;
    const result = await oneLoginAtATime(
      {
        file,
        endpoint: ENDPOINT,
        waitMs: 60_000,
        run: async () => {
          heldDuringRun = (await readLoginLockFile(file))?.record?.pid === process.pid;
          return 'mine';
        },
        reuse: async () => 'reused',
      },
      deps,
    );
    expect(result).toBe('mine');
    expect(heldDuringRun).toBe(true);
    expect(existsSync(file)).toBe(false);

    const failing = oneLoginAtATime(
      {
        file,
        endpoint: ENDPOINT,
        waitMs: 60_000,
        run: () => Promise.reject(new Error('cancelled')),
        reuse: async () => 'x',
      },
      deps,
    );
    await expect(failing).rejects.toThrow('cancelled');
    expect(existsSync(file)).toBe(false);
  });

  it('a held lock: says who holds it, waits on the injected timers, and reuses what the holder saved', async () => {
    await createLoginLockFile(file, record({ pid: process.pid }));
    let ran = false;
    const waiting = oneLoginAtATime(
      {
        file,
        endpoint: ENDPOINT,
        waitMs: 60_000,
        run: async () => {
          ran = true;
          return 'mine';
        },
        reuse: async (holder) => `reused from ${holder?.pid}`,
      },
      deps,
    );
    const poll = await deps.timers.next();
    expect(deps.progress.lines).toContain(
      `start: another login for ${ENDPOINT} is in progress (pid ${process.pid}); waiting for it…`,
    );
    // Still held: it waits again, and says so once.
    poll.fire();
    const again = await deps.timers.next();
    await removeLoginLockFile(file, 'holder-token');
    again.fire();
    expect(await waiting).toBe(`reused from ${process.pid}`);
    expect(ran).toBe(false);
    expect(deps.progress.lines.filter((line) => line.startsWith('start: another login'))).toHaveLength(1);
    expect(deps.progress.lines).toContain(`stop: the other login (pid ${process.pid}) has ended`);
  });

  it('the holder ended without saving anything new: this login signs in itself', async () => {
    await createLoginLockFile(file, record());
    const waiting = oneLoginAtATime(
      { file, endpoint: ENDPOINT, waitMs: 60_000, run: async () => 'mine', reuse: async () => undefined },
      deps,
    );
    const poll = await deps.timers.next();
    await removeLoginLockFile(file, 'holder-token');
    poll.fire();
    expect(await waiting).toBe('mine');
    expect(deps.logger.lines).toContain('info: the other login ended without a new session: signing in here');
  });

  it('waits no longer than its own time-out (by the injected clock), then fails with E_LOGIN_TIMEOUT naming the pid', async () => {
    await createLoginLockFile(file, record());
    const waiting = oneLoginAtATime(
      { file, endpoint: ENDPOINT, waitMs: 1000, run: async () => 'mine', reuse: async () => 'reused' },
      deps,
    );
    const outcome = waiting.then(
      () => undefined,
      (error: unknown) => error,
    );
    const first = await deps.timers.next();
    expect(first.ms).toBe(250);
    now += 900;
    first.fire();
    const last = await deps.timers.next();
    expect(last.ms).toBe(100);
    now += 100;
    last.fire();
    const error = await outcome;
    expect(error).toBeInstanceOf(LoginError);
    expect(error).toMatchObject({ code: 'E_LOGIN_TIMEOUT', exitCode: 6 });
    expect((error as Error).message).toBe(
      `another login for ${ENDPOINT} (pid ${process.pid}) was still in progress after 1 s`,
    );
    // The holder's lock is left alone.
    expect((await readLoginLockFile(file))?.record?.token).toBe('holder-token');
  });

  it("a lock whose holder's pid is gone is taken over at once", async () => {
    const pid = await deadPid();
    expect(isProcessAlive(pid)).toBe(false);
    await createLoginLockFile(file, record({ pid, token: 'dead' }));
    let heldBy: number | undefined;
    const result = await oneLoginAtATime(
      {
        file,
        endpoint: ENDPOINT,
        waitMs: 60_000,
        run: async () => {
          heldBy = (await readLoginLockFile(file))?.record?.pid;
          return 'mine';
        },
        reuse: async () => undefined,
      },
      deps,
    );
    expect(result).toBe('mine');
    expect(heldBy).toBe(process.pid);
    expect(deps.progress.lines.join('\n')).toContain(
      `(pid ${pid}) was left by a process that is gone: taking it over`,
    );
  });

  it('a pid on another machine (shared home) is not judged by pid, only by age; an old lock (by mtime) is taken over', async () => {
    const pid = await deadPid();
    await createLoginLockFile(
      file,
      record({ pid, hostname: 'another-host', staleAfterMs: 60_000, token: 'remote' }),
    );
    utimesSync(file, new Date(now - 30_000), new Date(now - 30_000));
    const waiting = oneLoginAtATime(
      { file, endpoint: ENDPOINT, waitMs: 600_000, run: async () => 'mine', reuse: async () => undefined },
      deps,
    );
    const poll = await deps.timers.next();
    expect(deps.progress.lines.join('\n')).toContain(`in progress (pid ${pid}); waiting`);
    // Now the lock is older than its holder's own bound.
    now += 31_000;
    poll.fire();
    expect(await waiting).toBe('mine');
    expect(deps.progress.lines.join('\n')).toContain('was left by a login that is long over: taking it over');
  });

  it('an unreadable lock file is waited on, and taken over once old', async () => {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, 'garbage', { mode: 0o600 });
    utimesSync(file, new Date(now), new Date(now));
    const waiting = oneLoginAtATime(
      { file, endpoint: ENDPOINT, waitMs: 1000, run: async () => 'mine', reuse: async () => undefined },
      deps,
    );
    const poll = await deps.timers.next();
    expect(deps.progress.lines.join('\n')).toContain('(pid unknown); waiting');
    now += 1000 + 120_001;
    poll.fire();
    expect(await waiting).toBe('mine');
  });
});
