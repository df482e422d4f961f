import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as ProperLockfile from 'proper-lockfile';
import type WriteFileAtomic from 'write-file-atomic';
import { CredentialFileError, errnoCode } from '../errors';

/**
 * Small, careful file primitives for credential files: private folders (0700) and files (0600),
 * atomic replacement (temp file, fsync, rename), JSON reads that tell "missing" from "corrupt",
 * and a cross-process lock on a sibling `<file>.lock` folder (proper-lockfile).
 */

/* Loaded on first use: proper-lockfile pulls in graceful-fs, which is slow to load and only needed for writes. */
/* eslint-disable @typescript-eslint/no-require-imports */
const loadLockfile = (): typeof ProperLockfile => require('proper-lockfile') as typeof ProperLockfile;
const loadWriteFileAtomic = (): typeof WriteFileAtomic =>
  require('write-file-atomic') as typeof WriteFileAtomic;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Loads the writers ahead of need (e.g. while a login waits for the browser), off the critical path. */
export function preloadSecureFileModules(): void {
  loadLockfile();
  loadWriteFileAtomic();
}

const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
const STICKY_BIT = 0o1000;

/** The atomic writer behind writeFileSecurely; a seam so tests can make a write fail half-way. */
export type AtomicWrite = (
  file: string,
  data: string,
  options: { mode: number; fsync: boolean; encoding: BufferEncoding },
) => Promise<void>;

export interface WriteFileSecurelyOptions {
  /** Defaults to write-file-atomic. */
  atomicWrite?: AtomicWrite;
}

export interface ReadJsonFileOptions {
  /** What to tell the user when the file is corrupt. Defaults to "fix or delete <file>". */
  hint?: string;
}

export interface FileLockOptions {
  /**
   * A lock folder whose mtime is older than this is taken over: its owner died (SIGKILL, power loss)
   * without removing it. The holder refreshes the mtime while it lives. Default 5000, minimum 2000.
   */
  staleMs?: number;
  /** Attempts after the first, with randomised exponential backoff from 25 ms up to 1 s. Default 15 (≈ 8–15 s). */
  retries?: number;
}

export const DEFAULT_LOCK_STALE_MS = 5000;
export const DEFAULT_LOCK_RETRIES = 15;

/** The lock folder withFileLock creates for `file`. */
export function lockPathFor(file: string): string {
  return `${file}.lock`;
}

/**
 * Reads and parses a JSON file. Returns undefined when the file does not exist ("not logged in").
 * An unreadable file or invalid JSON throws CredentialFileError E_CORRUPT_FILE naming the file;
 * the file is never deleted or rewritten here. The error never quotes the file's content.
 */
export async function readJsonFile(file: string, options: ReadJsonFileOptions = {}): Promise<unknown> {
  const hint = options.hint ?? defaultCorruptHint(file);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return undefined;
    throw new CredentialFileError(
      'E_CORRUPT_FILE',
      file,
      `cannot be read (${code ?? 'unknown error'})`,
      hint,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message can quote the content, which may be a secret: leave it out.
    throw new CredentialFileError(
      'E_CORRUPT_FILE',
      file,
      'is not valid JSON (truncated or edited by hand?)',
      hint,
    );
  }
}

/**
 * Creates `dir` (and missing parents) with mode 0700 and tightens an existing `dir` to 0700, because
 * `mkdir`'s mode is masked by the umask and ignored for folders that exist. Folders with the sticky bit
 * (shared ones such as /tmp) are left alone. Failures throw CredentialFileError E_WRITE_FAILED.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    if ((stat.mode & STICKY_BIT) === 0 && (stat.mode & 0o777) !== PRIVATE_DIR_MODE) {
      await fs.chmod(dir, PRIVATE_DIR_MODE);
    }
  } catch (error) {
    // mkdir reports a regular file in the way as EEXIST: name it for what it is.
    const cause =
      errnoCode(error) === 'EEXIST'
        ? Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
        : error;
    throw writeFailed(dir, cause, 'the folder cannot be created');
  }
}

/**
 * Replaces `file` atomically with `data`: its folder is made private (0700), the data goes to a temp file
 * with mode 0600 that is fsynced and renamed over `file`, then `file` is chmod'ed 0600 (a mode only applies
 * when a file is created) and the folder is fsynced. On any failure (ENOSPC, EROFS, EACCES…) the previous
 * content of `file` is intact and CredentialFileError E_WRITE_FAILED is thrown.
 */
export async function writeFileSecurely(
  file: string,
  data: string,
  options: WriteFileSecurelyOptions = {},
): Promise<void> {
  const dir = path.dirname(file);
  await ensurePrivateDir(dir);
  const atomicWrite = options.atomicWrite ?? defaultAtomicWrite;
  try {
    await atomicWrite(file, data, { mode: PRIVATE_FILE_MODE, fsync: true, encoding: 'utf8' });
    await fs.chmod(file, PRIVATE_FILE_MODE);
  } catch (error) {
    throw writeFailed(file, error, 'cannot be written');
  }
  await fsyncDir(dir);
}

/**
 * Runs `fn` while holding a cross-process lock on `file` (the folder `<file>.lock`; `file` itself need
 * not exist). A held lock is retried with backoff; a lock left by a dead process is taken over once it is
 * `staleMs` old. Throws CredentialFileError E_LOCK_FAILED when the lock cannot be had, or when it was lost
 * while `fn` ran (the process was suspended longer than `staleMs`). The lock is released even if `fn` throws.
 */
export async function withFileLock<T>(
  file: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const lockPath = lockPathFor(file);
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await loadLockfile().lock(file, {
      lockfilePath: lockPath,
      realpath: false,
      stale: options.staleMs ?? DEFAULT_LOCK_STALE_MS,
      retries: {
        retries: options.retries ?? DEFAULT_LOCK_RETRIES,
        factor: 1.5,
        minTimeout: 25,
        maxTimeout: 1000,
        randomize: true,
      },
      onCompromised: (error) => {
        compromised = error;
      },
    });
  } catch (error) {
    throw lockFailed(file, lockPath, error);
  }
  let result: T;
  try {
    result = await fn();
  } finally {
    // A release failure leaves a lock folder behind that others take over once it is stale.
    await release().catch(() => undefined);
  }
  if (compromised !== undefined) {
    throw new CredentialFileError(
      'E_LOCK_FAILED',
      lockPath,
      'the lock was taken over by another process while in use',
      'the process was suspended or too busy; run the command again',
    );
  }
  return result;
}

function defaultAtomicWrite(
  file: string,
  data: string,
  options: { mode: number; fsync: boolean; encoding: BufferEncoding },
): Promise<void> {
  return loadWriteFileAtomic()(file, data, options);
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename durable. Best effort: some platforms cannot open or fsync a folder.
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // ignored
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function defaultCorruptHint(file: string): string {
  return `fix ${file} or delete it (or run cookie-bridge api logout -e <endpoint>)`;
}

function writeFailed(file: string, error: unknown, what: string): CredentialFileError {
  const code = errnoCode(error);
  const hints: Record<string, string> = {
    ENOSPC: 'free some disk space and try again; the previous file was kept',
    EDQUOT: 'free some disk space and try again; the previous file was kept',
    EROFS: `the file system is read-only: set COOKIE_BRIDGE_HOME to a writable folder`,
    EACCES: `check the owner and permissions of ${path.dirname(file)}, or set COOKIE_BRIDGE_HOME`,
    EPERM: `check the owner and permissions of ${path.dirname(file)}, or set COOKIE_BRIDGE_HOME`,
    ENOTDIR: `a path component of ${file} is a file, not a folder: move it away or set COOKIE_BRIDGE_HOME`,
  };
  return new CredentialFileError(
    'E_WRITE_FAILED',
    file,
    `${what} (${code ?? 'unknown error'})`,
    (code === undefined ? undefined : hints[code]) ??
      'check the folder or set COOKIE_BRIDGE_HOME to another one; the previous file was kept',
  );
}

function lockFailed(file: string, lockPath: string, error: unknown): CredentialFileError {
  const code = errnoCode(error);
  if (code === 'ELOCKED') {
    return new CredentialFileError(
      'E_LOCK_FAILED',
      lockPath,
      'is held by another cookie-bridge process',
      `wait for it to finish and run the command again; if no cookie-bridge is running, delete ${lockPath}`,
    );
  }
  return new CredentialFileError(
    'E_LOCK_FAILED',
    lockPath,
    `cannot create the lock for ${path.basename(file)} (${code ?? 'unknown error'})`,
    `check the owner and permissions of ${path.dirname(lockPath)}, or set COOKIE_BRIDGE_HOME`,
  );
}
