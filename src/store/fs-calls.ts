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
// The namespace, never its `promises` (which eslint forbids importing in src/store): each call reads one function.
// eslint-disable-next-line no-restricted-imports
import * as fs from 'node:fs';
import { promisify } from 'node:util';

export const lstat = promisify(fs.lstat);
export const stat = promisify(fs.stat);
export const readdir = promisify(fs.readdir);
export const mkdir = promisify(fs.mkdir);
export const chmod = promisify(fs.chmod);
export const rename = promisify(fs.rename);
export const link = promisify(fs.link);
export const unlink = promisify(fs.unlink);
export const rm = promisify(fs.rm);
export const readFile = promisify(fs.readFile);
export const writeFile = promisify(fs.writeFile);

/** Descriptor calls: `open` resolves a file descriptor that the caller closes on every path. */
export const open = promisify(fs.open);
export const fstat = promisify(fs.fstat);
export const fchmod = promisify(fs.fchmod);
export const read = promisify(fs.read);
export const fsync = promisify(fs.fsync);
export const close = promisify(fs.close);

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
