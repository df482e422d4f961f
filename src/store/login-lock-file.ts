/**
 * The file an `api login` holds while it runs, one per endpoint (store-layout.ts: `login-locks/<slug>`), so a
 * second login of the same endpoint waits for the first instead of opening a second browser tab
 * (src/login/login-lock.ts decides when to wait, reuse or take over).
 *
 * The file is created 0600 with its whole content at once: written to a temp file first, then hard-linked to
 * its name, which fails with EEXIST when another login holds it, so nobody ever reads a half-written holder.
 * Removing it (release, or taking over one left by a dead process) happens under a short proper-lockfile lock
 * and only when the file still names the holder that was judged, so a fresh holder is never removed.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { CredentialFileError, errnoCode } from '../errors';
import * as fs from './fs-calls';
import { ensurePrivateDir, withFileLock } from './secure-file';
import { isRecord } from './store-layout';

/** Who holds a login lock. Holds no secret. */
export interface LoginLockRecord {
  pid: number;
  hostname: string;
  endpoint: string;
  /** ISO time the login started (the holder's clock). */
  startedAt: string;
  /** The holder's own bound: a lock file older than this (by mtime) is stale. */
  staleAfterMs: number;
  /** Tells this holder from a later one with the same pid. */
  token: string;
}

/** What is found at a login lock's path. `record` is undefined when the file cannot be parsed. */
export interface LoginLockFileState {
  record: LoginLockRecord | undefined;
  mtimeMs: number;
}

const PRIVATE_FILE_MODE = 0o600;

/** A fresh token for a LoginLockRecord. */
export function newLoginLockToken(): string {
  return randomBytes(9).toString('base64url');
}

/** Creates the lock file holding `record`; false (and nothing changed) when another holder has it. */
export async function createLoginLockFile(file: string, record: LoginLockRecord): Promise<boolean> {
  await ensurePrivateDir(path.dirname(file));
  const temp = `${file}.${record.token}.tmp`;
  try {
    await fs.writeFile(temp, `${JSON.stringify(record)}\n`, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    await fs.chmod(temp, PRIVATE_FILE_MODE);
    await fs.link(temp, file);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw lockFileFailed(file, error);
  } finally {
    await fs.rm(temp, { force: true }).catch(() => undefined);
  }
}

/** The lock file's holder and age; undefined when there is no lock file (nobody logs in). */
export async function readLoginLockFile(file: string): Promise<LoginLockFileState | undefined> {
  let text: string;
  let mtimeMs: number;
  try {
    const stat = await fs.lstat(file);
    mtimeMs = stat.mtimeMs;
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw lockFileFailed(file, error);
  }
  return { record: parseRecord(text), mtimeMs };
}

/**
 * Removes the lock file if it still holds the holder with `token` (undefined: a file that cannot be parsed);
 * true when it was removed, false when it was gone or another holder has it now.
 */
export async function removeLoginLockFile(file: string, token: string | undefined): Promise<boolean> {
  try {
    await fs.lstat(path.dirname(file));
  } catch {
    return false;
  }
  return withFileLock(file, async () => {
    const state = await readLoginLockFile(file);
    if (state === undefined || state.record?.token !== token) return false;
    try {
      await fs.rm(file, { force: true });
    } catch (error) {
      throw lockFileFailed(file, error);
    }
    return true;
  });
}

function parseRecord(text: string): LoginLockRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const { pid, hostname, endpoint, startedAt, staleAfterMs, token } = value;
  if (
    typeof pid !== 'number' ||
    !Number.isSafeInteger(pid) ||
    pid <= 0 ||
    typeof hostname !== 'string' ||
    typeof endpoint !== 'string' ||
    typeof startedAt !== 'string' ||
    typeof staleAfterMs !== 'number' ||
    !(staleAfterMs > 0) ||
    typeof token !== 'string'
  )
    return undefined;
  return { pid, hostname, endpoint, startedAt, staleAfterMs, token };
}

function lockFileFailed(file: string, error: unknown): CredentialFileError {
  return new CredentialFileError(
    'E_LOCK_FAILED',
    file,
    `the login lock cannot be used (${errnoCode(error) ?? 'unknown error'})`,
    `check the owner and permissions of ${path.dirname(file)}, or set COOKIE_BRIDGE_HOME`,
  );
}
