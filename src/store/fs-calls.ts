/**
 * The store's file calls as promises, built on node:fs's callback API. `fs.promises` (and node:fs/promises)
 * loads Node's internal/fs/promises, which drags in readline, fs/dir and the file watchers: a few percent of a
 * bare node start, paid by every short command (`api info`, `api header`) that reads a login. Nothing here
 * touches `fs.promises`; a file is read through its descriptor (open, fstat, read, close) where a FileHandle
 * would be used, and the caller closes it (closeQuietly in a finally).
 *
 * util.promisify gives each call Node's own promise form (read resolves `{ bytesRead, buffer }`), with the
 * same errors (code, syscall, path) as fs.promises.
 */
// Named callback functions, never `promises` (which eslint forbids importing in src/store). Not the namespace:
// the bundle would copy all of node:fs's ~100 properties into a new object at start-up.
import {
  chmod as nodeChmod,
  close as nodeClose,
  fchmod as nodeFchmod,
  fstat as nodeFstat,
  fsync as nodeFsync,
  link as nodeLink,
  lstat as nodeLstat,
  mkdir as nodeMkdir,
  open as nodeOpen,
  read as nodeRead,
  readFile as nodeReadFile,
  readdir as nodeReaddir,
  rename as nodeRename,
  rm as nodeRm,
  stat as nodeStat,
  unlink as nodeUnlink,
  writeFile as nodeWriteFile,
} from 'node:fs';
import { promisify } from 'node:util';

export const lstat = promisify(nodeLstat);
export const stat = promisify(nodeStat);
export const readdir = promisify(nodeReaddir);
export const mkdir = promisify(nodeMkdir);
export const chmod = promisify(nodeChmod);
export const rename = promisify(nodeRename);
export const link = promisify(nodeLink);
export const unlink = promisify(nodeUnlink);
export const rm = promisify(nodeRm);
export const readFile = promisify(nodeReadFile);
export const writeFile = promisify(nodeWriteFile);

/** Descriptor calls: `open` resolves a file descriptor that the caller closes on every path. */
export const open = promisify(nodeOpen);
export const fstat = promisify(nodeFstat);
export const fchmod = promisify(nodeFchmod);
export const read = promisify(nodeRead);
export const fsync = promisify(nodeFsync);
export const close = promisify(nodeClose);

const READ_CHUNK_BYTES = 16 * 1024;

/**
 * The rest of the open file `fd` as UTF-8 text, read until end of file, as FileHandle.readFile does: a folder
 * fails with EISDIR (fs.readFile on a descriptor would give '' for a folder).
 */
export async function readText(fd: number): Promise<string> {
  const chunks: Buffer[] = [];
  for (;;) {
    const chunk = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    const { bytesRead } = await read(fd, chunk, 0, chunk.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks).toString('utf8');
    chunks.push(chunk.subarray(0, bytesRead));
  }
}

/** Closes `fd` when there is one, ignoring a failure: for finally blocks, where the outcome is already known. */
export async function closeQuietly(fd: number | undefined): Promise<void> {
  if (fd === undefined) return;
  await close(fd).catch(() => undefined);
}
