import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createFdOutput } from '../../src/cli/terminal-output';
import { CLI_PATH } from '../kit/cli-runner';

/**
 * createFdOutput on `fd`, with a stand-in for process.stdout that records what reaches it and how many times
 * it was made.
 */
function outputOn(fd: number): {
  output: ReturnType<typeof createFdOutput>;
  chunks: Buffer[];
  made: () => number;
  gone: () => number;
} {
  const chunks: Buffer[] = [];
  let made = 0;
  let gone = 0;
  const stream = {
    isTTY: false,
    write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): boolean {
      chunks.push(Buffer.from(chunk));
      if (callback !== undefined) process.nextTick(callback);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  const output = createFdOutput({
    fd,
    stream: () => {
      made += 1;
      return stream;
    },
    onReaderGone: () => (gone += 1),
  });
  return { output, chunks, made: () => made, gone: () => gone };
}

describe('createFdOutput (the CLI’s stdout and stderr)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cb-terminal-output-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes text and bytes straight to the fd, in order, and never makes the stream', async () => {
    const file = path.join(dir, 'out.txt');
    const fd = openSync(file, 'w');
    const { output, chunks, made } = outputOn(fd);
    expect(output.write('héllo\n')).toBe(true);
    expect(output.write(Buffer.from('bytes\n'))).toBe(true);
    await new Promise<void>((resolve, reject) =>
      output.write('last\n', (error) => (error ? reject(error) : resolve())),
    );
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('héllo\nbytes\nlast\n');
    expect(made()).toBe(0);
    expect(chunks).toEqual([]);
  });

  it('makes the stream only for isTTY, then sends every later write through it', () => {
    const file = path.join(dir, 'out.txt');
    const fd = openSync(file, 'w');
    const { output, chunks, made } = outputOn(fd);
    output.write('before\n');
    expect(made()).toBe(0);
    expect(output.isTTY).toBe(false);
    expect(made()).toBe(1);
    output.write('after\n');
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('before\n');
    expect(Buffer.concat(chunks).toString()).toBe('after\n');
    expect(made()).toBe(1);
  });

  it('an fd that refuses for now (EAGAIN on a full non-blocking pipe): the rest goes to the stream, nothing lost or reordered', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const { output, chunks, made } = outputOn(writer);
    // Numbered lines, more than a pipe holds (64 KiB on Linux), so one write meets a full pipe.
    const lines = Array.from({ length: 20000 }, (_, i) => `line ${String(i).padStart(6, '0')}\n`);
    let callbacks = 0;
    for (const line of lines) output.write(line, () => (callbacks += 1));
    await new Promise((resolve) => setImmediate(resolve));
    const fromPipe: Buffer[] = [];
    const buffer = Buffer.alloc(65536);
    for (;;) {
      let n = 0;
      try {
        n = readSync(reader, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw error;
      }
      if (n === 0) break;
      fromPipe.push(Buffer.from(buffer.subarray(0, n)));
    }
    closeSync(reader);
    closeSync(writer);
    expect(made()).toBe(1);
    expect(Buffer.concat(fromPipe).length).toBeGreaterThan(0);
    expect(chunks.length).toBeGreaterThan(0);
    expect(Buffer.concat([...fromPipe, ...chunks]).toString()).toBe(lines.join(''));
    expect(callbacks).toBe(lines.length);
  });

  it('a reader that has gone (EPIPE) calls onReaderGone; another error reaches the writer', async () => {
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(reader);
    const { output, made, gone } = outputOn(writer);
    // Node ignores SIGPIPE, so write(2) fails with EPIPE; the entry's onReaderGone exits (main.ts).
    const error = await new Promise<Error | null | undefined>((resolve) => output.write('x\n', resolve));
    expect((error as NodeJS.ErrnoException).code).toBe('EPIPE');
    expect(gone()).toBe(1);
    expect(made()).toBe(0);
    closeSync(writer);

    const file = path.join(dir, 'read-only.txt');
    closeSync(openSync(file, 'w'));
    const readOnly = openSync(file, 'r');
    const { output: refusing, gone: goneRefusing } = outputOn(readOnly);
    // EBADF (not open for writing): thrown without a callback, passed to one; onReaderGone is not called.
    expect(() => refusing.write('x')).toThrow(expect.objectContaining({ code: 'EBADF' }) as Error);
    const refused = await new Promise<Error | null | undefined>((resolve) => refusing.write('x', resolve));
    expect((refused as NodeJS.ErrnoException).code).toBe('EBADF');
    expect(goneRefusing()).toBe(0);
    closeSync(readOnly);
  });

  it('the built CLI: --help into a pipe whose reader is gone exits 0 and says nothing on stderr', async () => {
    const child = spawn(process.execPath, [CLI_PATH, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
