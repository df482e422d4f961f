import { constants as fsConstants, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type * as ProperLockfile from 'proper-lockfile';
import type WriteFileAtomic from 'write-file-atomic';
import { CredentialFileError, errnoCode, UsageError } from '../errors';
import * as fs from './fs-calls';
import { TurnMemo } from './turn-memo';

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
/** Group- or world-writable: another user could add, replace or remove entries (the sticky bit does not help the owner of a folder). */
const WRITABLE_BY_OTHERS = 0o022;
/** Opens never follow a symlink in the last path component (0 where the platform has no such flag). */
const O_NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;

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
  return readJsonFileSync(file, options);
}

/** readJsonFile's work, synchronous like every read of the store's small files (fs-calls.ts says why). */
function readJsonFileSync(file: string, options: ReadJsonFileOptions): unknown {
  const hint = options.hint ?? defaultCorruptHint(file);
  checkPrivateDirSync(dirname(file));
  let text: string;
  let fd: number | undefined;
  try {
    fd = openNoFollow(file);
    assertPrivate(file, fs.fstatSync(fd), 'file');
    text = fs.readTextSync(fd);
  } catch (error) {
    if (error instanceof CredentialFileError) throw error;
    const code = errnoCode(error);
    if (code === 'ENOENT') return undefined;
    throw new CredentialFileError(
      'E_CORRUPT_FILE',
      file,
      `cannot be read (${code ?? 'unknown error'})`,
      hint,
    );
  } finally {
    fs.closeQuietlySync(fd);
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
 * `mkdir`'s mode is masked by the umask and ignored for folders that exist. An existing `dir` that another
 * user owns, that is a symbolic link or that others can write to (a shared sticky folder such as /tmp too)
 * is refused with CredentialFileError E_UNSAFE_PERMISSIONS, never used or "fixed". Other failures throw
 * CredentialFileError E_WRITE_FAILED.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  let stat = await lstatOrUndefined(dir, 'the folder cannot be created');
  if (stat === undefined) {
    try {
      await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    } catch (error) {
      // mkdir reports a regular file in the way as EEXIST: name it for what it is.
      const cause =
        errnoCode(error) === 'EEXIST'
          ? Object.assign(new Error('not a directory'), { code: 'ENOTDIR' })
          : error;
      throw writeFailed(dir, cause, 'the folder cannot be created');
    }
    stat = await lstatOrUndefined(dir, 'the folder cannot be created');
    if (stat === undefined) {
      throw writeFailed(dir, Object.assign(new Error('vanished'), { code: 'ENOENT' }), 'the folder vanished');
    }
  }
  assertPrivate(dir, stat, 'folder');
  if (!stat.isDirectory()) {
    throw writeFailed(
      dir,
      Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }),
      'the folder cannot be created',
    );
  }
  if ((stat.mode & 0o777) !== PRIVATE_DIR_MODE) {
    try {
      await fs.chmod(dir, PRIVATE_DIR_MODE);
    } catch (error) {
      throw writeFailed(dir, error, 'the folder cannot be made private');
    }
  }
}

/**
 * For reads: refuses (CredentialFileError E_UNSAFE_PERMISSIONS) a `dir` that exists and is a symbolic link,
 * is owned by another user or is writable by others, because whoever controls it controls the logins read
 * from it. A missing `dir` is fine ("not logged in"); a merely readable one is tightened on the next write.
 */
export async function checkPrivateDir(dir: string): Promise<void> {
  checkPrivateDirSync(dir);
}

/** Folders found private in this turn (turn-memo.ts): each is checked once a turn. */
const privateThisTurn = new TurnMemo<string, true>();

function checkPrivateDirSync(dir: string): void {
  if (privateThisTurn.get(dir) === true) return;
  let stat: Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    throw new CredentialFileError(
      'E_CORRUPT_FILE',
      dir,
      `cannot be read (${code ?? 'unknown error'})`,
      `check the owner and permissions of ${dir}, or set COOKIE_BRIDGE_HOME`,
    );
  }
  assertPrivate(dir, stat, 'folder');
  privateThisTurn.set(dir, true);
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
  const dir = dirname(file);
  await ensurePrivateDir(dir);
  // write-file-atomic resolves symlinks (realpath) and writes to their target: refuse a link instead.
  // Only this user can create one here now that the folder is known to be theirs and private.
  const existing = await lstatOrUndefined(file, 'cannot be written');
  if (existing !== undefined) assertPrivate(file, existing, 'file');
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
  // write-file-atomic gives the new file the owner of the one it replaces: writeFileSecurely has checked
  // that this is the current user.
  return loadWriteFileAtomic()(file, data, options);
}

/**
 * Throws CredentialFileError E_UNSAFE_PERMISSIONS when `target` (from lstat or fstat) is a symbolic link,
 * is owned by another user, or is writable by group or others. Ownership and modes are POSIX notions:
 * on Windows only the symlink rule applies.
 */
function assertPrivate(target: string, stat: Stats, kind: 'file' | 'folder'): void {
  const fix = kind === 'folder' ? `chmod 700 ${target}` : `chmod 600 ${target}`;
  const elsewhere =
    kind === 'folder'
      ? 'or set COOKIE_BRIDGE_HOME to a private folder of your own'
      : `or delete it and log in again`;
  if (stat.isSymbolicLink()) {
    throw unsafe(
      target,
      `is a symbolic link; cookie-bridge never follows links to read or write credentials`,
      kind === 'folder'
        ? `replace the link with a real folder (mkdir -m 700), or set COOKIE_BRIDGE_HOME to the folder it points to`
        : `delete the link and log in again`,
    );
  }
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw unsafe(
      target,
      `is owned by uid ${stat.uid}, not by you (uid ${uid}): its owner could read or replace your logins`,
      kind === 'folder'
        ? `set COOKIE_BRIDGE_HOME to a folder of your own (or, if it should be yours, chown ${uid} ${target} && ${fix})`
        : `delete it and log in again (or, if it should be yours, chown ${uid} ${target} && ${fix})`,
    );
  }
  if ((stat.mode & WRITABLE_BY_OTHERS) !== 0) {
    throw unsafe(
      target,
      `is writable by other users (mode ${(stat.mode & 0o7777).toString(8)}): they could replace your logins`,
      `${fix}, ${elsewhere}`,
    );
  }
}

function unsafe(target: string, detail: string, hint: string): CredentialFileError {
  return new CredentialFileError('E_UNSAFE_PERMISSIONS', target, detail, hint);
}

async function lstatOrUndefined(target: string, what: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(target);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw writeFailed(target, error, what);
  }
}

/**
 * Opens `file` for reading without following a symlink; a link is reported as E_UNSAFE_PERMISSIONS.
 * Returns a file descriptor that the caller closes. Synchronous, like the reads that use it.
 */
function openNoFollow(file: string): number {
  if (O_NOFOLLOW === 0) {
    // No O_NOFOLLOW (Windows): check first.
    assertPrivate(file, fs.lstatSync(file), 'file');
    return fs.openSync(file, 'r');
  }
  try {
    return fs.openSync(file, fsConstants.O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    if (errnoCode(error) !== 'ELOOP') throw error;
    assertPrivate(file, fs.lstatSync(file), 'file');
    throw error;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename durable. Best effort: some platforms cannot open or fsync a folder.
  let fd: number | undefined;
  try {
    fd = await fs.open(dir, 'r');
    await fs.fsync(fd);
  } catch {
    // ignored
  } finally {
    await fs.closeQuietly(fd);
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
    EACCES: `check the owner and permissions of ${dirname(file)}, or set COOKIE_BRIDGE_HOME`,
    EPERM: `check the owner and permissions of ${dirname(file)}, or set COOKIE_BRIDGE_HOME`,
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
    `cannot create the lock for ${basename(file)} (${code ?? 'unknown error'})`,
    `check the owner and permissions of ${dirname(lockPath)}, or set COOKIE_BRIDGE_HOME`,
  );
}

export interface WriteNamedFileOptions {
  /**
   * Called with the start of an existing regular file at the path; false keeps it (UsageError, nothing
   * written). Default: any existing file is replaced.
   */
  mayReplace?: (head: string) => boolean;
  /** What to tell the user when mayReplace says no. */
  keepHint?: string;
}

/**
 * Writes a file the user named (`api cookies -o FILE`) so that only they can read it: the folder is used as
 * it is (never created or chmod'ed: it is the user's own folder, or the current one), a symbolic link or a
 * file of another user at `file` is refused (CredentialFileError E_UNSAFE_PERMISSIONS), and the data goes to
 * a new temp file beside it, opened O_EXCL|O_NOFOLLOW with mode 0600, fsynced and renamed over `file`, so a
 * reader never sees half a file and a failed write leaves the previous one intact (E_WRITE_FAILED).
 */
export async function writeNamedFileSecurely(
  file: string,
  data: string,
  options: WriteNamedFileOptions = {},
): Promise<void> {
  const existing = await lstatOrUndefined(file, 'cannot be written');
  if (existing !== undefined) {
    if (existing.isSymbolicLink()) {
      throw unsafe(
        file,
        'is a symbolic link; cookie-bridge does not follow links when it writes credentials',
        'name the file itself, or remove the link',
      );
    }
    if (!existing.isFile()) {
      throw new CredentialFileError(
        'E_WRITE_FAILED',
        file,
        'is not a regular file',
        'name a file, not a folder',
      );
    }
    const uid = process.getuid?.();
    if (uid !== undefined && existing.uid !== uid) {
      throw unsafe(
        file,
        `is owned by uid ${existing.uid}, not by you (uid ${uid})`,
        'write to a file of your own',
      );
    }
    if (options.mayReplace !== undefined && !options.mayReplace(readHead(file))) {
      throw new UsageError(`${file} exists and is not a cookie export; nothing was written`, {
        hint: options.keepHint ?? 'name another file',
      });
    }
  }
  const dir = dirname(file);
  // node:crypto loads here, not at start-up of every command.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { randomBytes } = require('node:crypto') as typeof import('node:crypto');
  const temp = join(dir, `.${basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = await fs.open(
      temp,
      fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | O_NOFOLLOW,
      PRIVATE_FILE_MODE,
    );
    await fs.fchmod(fd, PRIVATE_FILE_MODE);
    await fs.writeFile(fd, data, 'utf8');
    await fs.fsync(fd);
    const written = fd;
    fd = undefined;
    await fs.close(written);
    await fs.rename(temp, file);
  } catch (error) {
    await fs.closeQuietly(fd);
    await fs.unlink(temp).catch(() => undefined);
    const code = errnoCode(error);
    throw new CredentialFileError(
      'E_WRITE_FAILED',
      file,
      `cannot be written (${code ?? 'unknown error'})`,
      code === 'ENOENT'
        ? `the folder ${dir} does not exist: create it or name another file`
        : `check that ${dir} is writable and has free space; the previous file (if any) was kept`,
    );
  }
  await fsyncDir(dir);
}

function readHead(file: string): string {
  const fd = openNoFollow(file);
  try {
    const buffer = Buffer.alloc(256);
    const bytesRead = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    fs.closeQuietlySync(fd);
  }
}
