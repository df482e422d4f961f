/**
 * The store's file calls. None touches `fs.promises` (and node:fs/promises), which loads Node's
 * internal/fs/promises, readline, fs/dir and the file watchers: a few percent of a bare node start, paid by
 * every short command (`api info`, `api header`) that reads a login.
 *
 * Reads of the store's own small files (a login's profile.json and cookies.json, a few KB on the user's disk)
 * and the checks of their folders are synchronous (`readTextSync` and the `*Sync` calls below), through the
 * file's descriptor (open without following a link, fstat, read, close in a finally): each promised call is a
 * round trip through libuv's thread pool, whose four threads the first one starts. `api info` made 21 such
 * trips for its three reads (~3 ms of CPU, 4 threads, ~60 context switches), for syscalls that take
 * microseconds each. Writes, folder listings and locks stay promised (util.promisify of the callback API: the
 * same errors, with code, syscall and path, as fs.promises): they fsync, or wait on other processes.
 */
// Named callback functions, never `promises` (which eslint forbids importing in src/store). Not the namespace:
// the bundle would copy all of node:fs's ~100 properties into a new object at start-up.
import {
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  readSync,
  chmod as nodeChmod,
  close as nodeClose,
  fchmod as nodeFchmod,
  fsync as nodeFsync,
  link as nodeLink,
  lstat as nodeLstat,
  mkdir as nodeMkdir,
  open as nodeOpen,
  readFile as nodeReadFile,
  readdir as nodeReaddir,
  rename as nodeRename,
  rm as nodeRm,
  stat as nodeStat,
  unlink as nodeUnlink,
  writeFile as nodeWriteFile,
} from 'node:fs';
import { promisify } from 'node:util';

/**
 * The promised call `make` returns, made on the first call rather than when this module loads: promisify
 * copies the function's properties into a new one (~13 KB of young-generation garbage for the fifteen),
 * which the short commands, whose reads are synchronous, would otherwise pay at every start.
 */
function onFirstUse<Call extends (...args: never[]) => unknown>(make: () => Call): Call {
  let call: Call | undefined;
  return ((...args: Parameters<Call>) => (call ??= make())(...args)) as Call;
}

export const lstat = onFirstUse(() => promisify(nodeLstat));
export const stat = onFirstUse(() => promisify(nodeStat));
export const readdir = onFirstUse(() => promisify(nodeReaddir));
export const mkdir = onFirstUse(() => promisify(nodeMkdir));
export const chmod = onFirstUse(() => promisify(nodeChmod));
export const rename = onFirstUse(() => promisify(nodeRename));
export const link = onFirstUse(() => promisify(nodeLink));
export const unlink = onFirstUse(() => promisify(nodeUnlink));
export const rm = onFirstUse(() => promisify(nodeRm));
export const readFile = onFirstUse(() => promisify(nodeReadFile));
export const writeFile = onFirstUse(() => promisify(nodeWriteFile));

/** Descriptor calls: `open` resolves a file descriptor that the caller closes on every path. */
export const open = onFirstUse(() => promisify(nodeOpen));
export const fchmod = onFirstUse(() => promisify(nodeFchmod));
export const fsync = onFirstUse(() => promisify(nodeFsync));
export const close = onFirstUse(() => promisify(nodeClose));

const READ_CHUNK_BYTES = 16 * 1024;

/**
 * The rest of the open file `fd` as UTF-8 text, read until end of file (synchronously: see the top of this
 * file), as FileHandle.readFile does: a folder fails with EISDIR.
 */
export function readTextSync(fd: number): string {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    const bytesRead = readSync(fd, chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks).toString('utf8');
    chunks.push(chunk.subarray(0, bytesRead));
  }
}

/** The synchronous calls of the store's reads (see the top of this file). */
export { fstatSync, lstatSync, openSync, readSync };

/** Closes `fd` when there is one, ignoring a failure: for finally blocks, where the outcome is already known. */
export async function closeQuietly(fd: number | undefined): Promise<void> {
  if (fd === undefined) return;
  await close(fd).catch(() => undefined);
}

/** closeQuietly for the synchronous reads. */
export function closeQuietlySync(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {
    // The outcome is already known.
  }
}
