import { writeSync } from 'node:fs';
import type { TextOutput } from '../context';

export interface FdOutputOptions {
  /** 1 (stdout) or 2 (stderr). */
  fd: number;
  /** The process's stream on the same fd (process.stdout): made only when it is needed (see createFdOutput). */
  stream: () => NodeJS.WriteStream;
  /** The reader went away (EPIPE): `cookie-bridge … | head` is the reader's choice, not an error. */
  onReaderGone: () => void;
}

/**
 * The CLI's stdout or stderr, written with write(2) on the fd, as Node writes to a file or a terminal.
 * Why not process.stdout: creating it loads Node's stream and net modules and builds a socket or tty
 * object, ~5 ms and ~400 KB of start-up for `api info`, which prints a few lines. process.stdout is made
 * only when something needs it: isTTY, or an fd that refuses a write for now (EAGAIN: a non-blocking pipe
 * shared with another process); every later write goes to it, so the order of the output is kept.
 * A write that blocks waits for the reader, as a full pipe makes any writer wait; a callback runs once the
 * chunk is written. EPIPE calls onReaderGone; any other error goes to the callback, else is thrown.
 */
export function createFdOutput(options: FdOutputOptions): TextOutput {
  let stream: NodeJS.WriteStream | undefined;
  const real = (): NodeJS.WriteStream => (stream ??= options.stream());
  return {
    write(chunk, callback) {
      if (stream !== undefined) return stream.write(chunk, callback);
      let bytes: Uint8Array | undefined;
      let written = 0;
      try {
        if (typeof chunk === 'string') {
          written = writeSync(options.fd, chunk);
          if (written < Buffer.byteLength(chunk)) bytes = Buffer.from(chunk);
        } else bytes = chunk;
        while (bytes !== undefined && written < bytes.length) {
          written += writeSync(options.fd, bytes, written, bytes.length - written);
        }
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          const rest = (bytes ?? Buffer.from(chunk)).subarray(written);
          return real().write(rest, callback);
        }
        if (code === 'EPIPE') options.onReaderGone();
        if (callback === undefined) throw error;
        process.nextTick(callback, error as Error);
        return false;
      }
      if (callback !== undefined) process.nextTick(callback);
      return true;
    },
    get isTTY() {
      return real().isTTY === true;
    },
  };
}
