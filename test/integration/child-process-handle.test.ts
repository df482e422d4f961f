/**
 * The shared child-process handle (fixtures/real-components/child-process-handle.ts) that the real-component
 * launchers and the benchmarks start their children through: output kept whole and per stream, stdout
 * discarded on request. Every wait is on the child's exit, never a timer.
 */
import { startChild } from '../../fixtures/real-components/child-process-handle';

/** A node child that writes `out` to stdout and `err` to stderr, each in two chunks, then exits 0. */
function printer(out: string, err: string, stdout?: 'pipe' | 'ignore') {
  const script = [
    `process.stdout.write(${JSON.stringify(out.slice(0, 3))});`,
    `process.stderr.write(${JSON.stringify(err.slice(0, 3))});`,
    `process.stdout.write(${JSON.stringify(out.slice(3))});`,
    `process.stderr.write(${JSON.stringify(err.slice(3))});`,
  ].join('');
  return startChild({
    name: 'printer',
    command: process.execPath,
    args: ['-e', script],
    ...(stdout === undefined ? {} : { stdout }),
  });
}

describe('child-process handle', () => {
  it('keeps stdout apart from stderr, and both in output()', async () => {
    const handle = printer('listening 1234\n', 'a warning\n');
    expect(await handle.exited).toEqual({ code: 0, signal: null });
    expect(handle.stdout()).toBe('listening 1234\n');
    expect(handle.stderr()).toBe('a warning\n');
    const output = handle.output();
    expect(output).toHaveLength('listening 1234\n'.length + 'a warning\n'.length);
    expect(output).toContain('a w');
    expect(output).toContain('lis');
  });

  it("discards stdout with stdout: 'ignore' and still captures stderr", async () => {
    const handle = printer('1 GiB of body\n', 'request done\n', 'ignore');
    expect(handle.child.stdout).toBeNull();
    expect(await handle.exited).toEqual({ code: 0, signal: null });
    expect(handle.stdout()).toBe('');
    expect(handle.stderr()).toBe('request done\n');
    expect(handle.output()).toBe('request done\n');
  });

  it('reports its pid, the one /proc knows while it runs', async () => {
    const handle = startChild({
      name: 'waiter',
      command: process.execPath,
      args: ['-e', 'setInterval(() => undefined, 2 ** 30); process.stdout.write("up\\n")'],
    });
    await new Promise<void>((resolve) => handle.child.stdout?.once('data', () => resolve()));
    expect(handle.pid).toBe(handle.child.pid);
    expect(handle.hasExited()).toBe(false);
    await handle.stop();
    expect(handle.hasExited()).toBe(true);
  });
});
