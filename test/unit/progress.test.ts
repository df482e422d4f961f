import { createProgress, SPINNER_FRAMES, type ProgressTimers } from '../../src/login/progress';

/** Collects what is written; `isTTY` decides which kind of progress is made. */
function fakeStream(isTTY: boolean): NodeJS.WritableStream & { isTTY: boolean; text: () => string } {
  const writes: string[] = [];
  return {
    isTTY,
    text: () => writes.join(''),
    write: (chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    },
  } as unknown as NodeJS.WritableStream & { isTTY: boolean; text: () => string };
}

/** Timers the test fires by hand. */
function fakeTimers(): ProgressTimers & { tick: () => void; active: () => number; unrefs: () => number } {
  const callbacks = new Map<number, () => void>();
  let next = 1;
  let unrefs = 0;
  return {
    setInterval(callback) {
      const id = next++;
      callbacks.set(id, callback);
      return { id, unref: () => (unrefs += 1) };
    },
    clearInterval(handle) {
      callbacks.delete((handle as { id: number }).id);
    },
    tick: () => callbacks.forEach((callback) => callback()),
    active: () => callbacks.size,
    unrefs: () => unrefs,
  };
}

describe('createProgress on a terminal', () => {
  test('draws a spinner in place with the elapsed seconds from the clock', () => {
    const stream = fakeStream(true);
    const timers = fakeTimers();
    let now = 1_000_000;
    const progress = createProgress({ stream, timers, clock: () => now });

    progress.start('Waiting for the browser');
    expect(stream.text()).toBe(`\r\x1b[2K${SPINNER_FRAMES[0]} Waiting for the browser (0s)`);
    expect(timers.active()).toBe(1);
    expect(timers.unrefs()).toBe(1);

    now += 2_500;
    timers.tick();
    expect(stream.text().endsWith(`\r\x1b[2K${SPINNER_FRAMES[1]} Waiting for the browser (2s)`)).toBe(true);

    progress.update('Reading pasted bundle (10 bytes)');
    expect(stream.text().endsWith(`${SPINNER_FRAMES[1]} Reading pasted bundle (10 bytes) (2s)`)).toBe(true);

    progress.stop('Logged in');
    expect(timers.active()).toBe(0);
    expect(stream.text().endsWith('\r\x1b[2KLogged in\n')).toBe(true);
  });

  test('stop without a final line only clears the line; a new start restarts the timer', () => {
    const stream = fakeStream(true);
    const timers = fakeTimers();
    const progress = createProgress({ stream, timers, clock: () => 0 });
    progress.start('one');
    progress.start('two');
    expect(timers.active()).toBe(1);
    progress.stop();
    expect(timers.active()).toBe(0);
    expect(stream.text().endsWith('\r\x1b[2K')).toBe(true);
    progress.stop();
    expect(timers.active()).toBe(0);
  });

  test('keeps control characters in the text from breaking the line', () => {
    const stream = fakeStream(true);
    const progress = createProgress({ stream, timers: fakeTimers(), clock: () => 0 });
    progress.start('evil\r\n\x1b[31mred');
    expect(stream.text()).toBe(`\r\x1b[2K${SPINNER_FRAMES[0]} evil red (0s)`);
  });
});

describe('createProgress elsewhere (CI logs, files)', () => {
  test('prints one plain line per start and per final line, never repeats, no control characters', () => {
    const stream = fakeStream(false);
    const timers = fakeTimers();
    const progress = createProgress({ stream, timers });

    progress.start('Waiting for the browser');
    progress.update('Reading pasted bundle (10 bytes)');
    progress.update('Reading pasted bundle (20 bytes)');
    progress.start('Waiting for the browser');
    progress.stop('Logged in\x1b[0m');
    progress.stop();

    expect(stream.text()).toBe('Waiting for the browser\nLogged in\n');
    expect(timers.active()).toBe(0);
    expect(stream.text()).not.toContain('\x1b');
    expect(stream.text()).not.toContain('\r');
  });
});
