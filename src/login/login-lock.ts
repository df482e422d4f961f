/**
 * One login of an endpoint at a time. The first `api login` holds the endpoint's login lock file
 * (store/login-lock-file.ts) while it runs; a second one waits for it, saying so with the holder's pid, and
 * then reuses what the first saved instead of opening a second browser tab. When the first failed or was
 * cancelled (nothing new was saved) the second signs in itself. A lock whose holder died (its pid is gone on
 * this machine) or that is older than its holder's own bound (by mtime) is taken over.
 * Waiting uses the injected clock and timers, so tests need no sleeps.
 */
import { hostname as machineName } from 'node:os';
import type { Clock, Logger, Timers } from '../context';
import { errnoCode, LoginError } from '../errors';
import {
  createLoginLockFile,
  newLoginLockToken,
  readLoginLockFile,
  removeLoginLockFile,
  type LoginLockRecord,
} from '../store/login-lock-file';
import type { Progress } from './progress';

/** How often a waiting login looks at the lock again. */
export const LOGIN_LOCK_POLL_MS = 250;
/** Added to a holder's own time-out before its lock counts as stale (detection and verification take time too). */
export const LOGIN_LOCK_GRACE_MS = 120_000;

export interface LoginLockDeps {
  now: Clock;
  timers: Timers;
  progress: Progress;
  logger: Logger;
  /** Whether a process of this machine is alive; defaults to a signal-0 probe. */
  isAlive?: (pid: number) => boolean;
  /** This process's pid and machine name, recorded in the lock; default process.pid and os.hostname(). */
  pid?: number;
  hostname?: string;
}

export interface OneLoginAtATimeOptions<T> {
  /** The endpoint's lock file (CredentialStore.loginLockFile). */
  file: string;
  endpoint: string;
  /** How long to wait for another login (this login's own --timeout). */
  waitMs: number;
  /** Runs this login while the lock is held. */
  run: () => Promise<T>;
  /**
   * Called after another login ended (or died): the result that login saved, when it is good, or undefined
   * to sign in here.
   */
  reuse: (holder: LoginLockRecord | undefined) => Promise<T | undefined>;
  pollMs?: number;
}

/** How a wait for another login ended. */
type WaitOutcome = { ended: 'released' | 'taken-over'; holder: LoginLockRecord | undefined };

/** Runs `run` under the endpoint's login lock, or waits for the login that holds it and `reuse`s its result. */
export async function oneLoginAtATime<T>(
  options: OneLoginAtATimeOptions<T>,
  deps: LoginLockDeps,
): Promise<T> {
  const deadline = deps.now() + options.waitMs;
  for (;;) {
    const record: LoginLockRecord = {
      pid: deps.pid ?? process.pid,
      hostname: deps.hostname ?? machineName(),
      endpoint: options.endpoint,
      startedAt: new Date(deps.now()).toISOString(),
      staleAfterMs: options.waitMs + LOGIN_LOCK_GRACE_MS,
      token: newLoginLockToken(),
    };
    if (await createLoginLockFile(options.file, record)) {
      deps.logger.debug(`login lock: holding ${options.file}`);
      try {
        return await options.run();
      } finally {
        await removeLoginLockFile(options.file, record.token).catch((error: unknown) => {
          deps.logger.debug(`login lock: could not release ${options.file} (${String(errnoCode(error))})`);
        });
      }
    }
    const outcome = await waitForOtherLogin(options, deps, deadline);
    const reused = await options.reuse(outcome.holder);
    if (reused !== undefined) return reused;
    deps.logger.info(
      outcome.ended === 'released'
        ? 'the other login ended without a new session: signing in here'
        : 'signing in here',
    );
  }
}

/** Waits until the lock file is gone or its holder is (then removes it); throws E_LOGIN_TIMEOUT at `deadline`. */
async function waitForOtherLogin<T>(
  options: OneLoginAtATimeOptions<T>,
  deps: LoginLockDeps,
  deadline: number,
): Promise<WaitOutcome> {
  const isAlive = deps.isAlive ?? isProcessAlive;
  const here = deps.hostname ?? machineName();
  let announced: string | undefined;
  let holder: LoginLockRecord | undefined;
  try {
    for (;;) {
      const state = await readLoginLockFile(options.file);
      if (state === undefined) {
        deps.progress.stop(
          holder === undefined ? undefined : `the other login (pid ${holder.pid}) has ended`,
        );
        return { ended: 'released', holder };
      }
      holder = state.record;
      const who = holder === undefined ? 'pid unknown' : `pid ${holder.pid}`;
      const now = deps.now();
      const dead = holder !== undefined && holder.hostname === here && !isAlive(holder.pid);
      const stale = now - state.mtimeMs > (holder?.staleAfterMs ?? options.waitMs + LOGIN_LOCK_GRACE_MS);
      if (dead || stale) {
        if (await removeLoginLockFile(options.file, holder?.token)) {
          deps.progress.stop(
            `the login lock of ${options.endpoint} (${who}) was left by a ${dead ? 'process that is gone' : 'login that is long over'}: taking it over`,
          );
          return { ended: 'taken-over', holder };
        }
        continue;
      }
      const message = `another login for ${options.endpoint} is in progress (${who}); waiting for it…`;
      if (announced !== message) {
        deps.progress.start(message);
        announced = message;
      }
      const remaining = deadline - now;
      if (remaining <= 0) {
        throw new LoginError(
          'E_LOGIN_TIMEOUT',
          `another login for ${options.endpoint} (${who}) was still in progress after ${Math.round(options.waitMs / 1000)} s`,
          {
            hint: `finish or cancel that login${holder === undefined ? '' : ` (kill ${holder.pid})`} and run this one again, or give it longer with --timeout SECONDS`,
          },
        );
      }
      await sleepOn(deps.timers, Math.min(options.pollMs ?? LOGIN_LOCK_POLL_MS, remaining));
    }
  } finally {
    deps.progress.stop();
  }
}

function sleepOn(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => timers.setTimeout(resolve, ms));
}

/** Signal 0 checks a pid without touching it: ESRCH means gone; EPERM means alive (another user's). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}
