import { PassThrough } from 'node:stream';
import { InvalidBundleError, LoginError } from '../../src/errors';
import { readPastedBundle } from '../../src/login/paste-reader';

/** A PassThrough that looks like a terminal: records every setRawMode call. */
class FakeTty extends PassThrough {
  readonly isTTY = true;
  isRaw: boolean;
  readonly rawModes: boolean[] = [];
  constructor(initiallyRaw = false) {
    super();
    this.isRaw = initiallyRaw;
  }
  setRawMode(raw: boolean): this {
    this.rawModes.push(raw);
    this.isRaw = raw;
    return this;
  }
}

const never = (): AbortSignal => new AbortController().signal;

function expectDetached(stream: PassThrough): void {
  expect(stream.listenerCount('data')).toBe(0);
  expect(stream.listenerCount('end')).toBe(0);
  expect(stream.isPaused()).toBe(true);
}

describe('readPastedBundle from a pipe', () => {
  test('resolves with the first non-empty line, trimmed', async () => {
    const input = new PassThrough();
    const result = readPastedBundle({ input, signal: never() });
    input.write('\n   \r\n  cb1.first  \nsecond\n');
    await expect(result).resolves.toBe('cb1.first');
    expectDetached(input);
  });

  test('takes a last line that has no newline when the input ends', async () => {
    const input = new PassThrough();
    const result = readPastedBundle({ input, signal: never() });
    input.write('\n cb1.');
    input.end('tail ');
    await expect(result).resolves.toBe('cb1.tail');
  });

  test('resolves undefined when the input ends with nothing (CI without stdin)', async () => {
    const input = new PassThrough();
    const result = readPastedBundle({ input, signal: never() });
    input.end('\n \n');
    await expect(result).resolves.toBeUndefined();
  });

  test('a line split across chunks (and a UTF-8 character split across them) arrives whole', async () => {
    const input = new PassThrough();
    const result = readPastedBundle({ input, signal: never() });
    const bytes = Buffer.from('cb1.äbc\n', 'utf8');
    input.write(bytes.subarray(0, 5)); // cuts "ä" in half
    input.write(bytes.subarray(5));
    await expect(result).resolves.toBe('cb1.äbc');
  });

  test('rejects a line longer than maxBytes with InvalidBundleError', async () => {
    const input = new PassThrough();
    const result = readPastedBundle({ input, signal: never(), maxBytes: 100 });
    input.write('x'.repeat(60));
    input.write('x'.repeat(60));
    await expect(result).rejects.toBeInstanceOf(InvalidBundleError);
    expectDetached(input);
  });

  test('abort stops reading, detaches and pauses, and resolves undefined', async () => {
    const input = new PassThrough();
    const controller = new AbortController();
    let seen: (bytes: number) => void = () => undefined;
    const firstProgress = new Promise<number>((resolve) => (seen = resolve));
    const result = readPastedBundle({ input, signal: controller.signal, onProgress: (bytes) => seen(bytes) });
    input.write('cb1.partial');
    expect(await firstProgress).toBe(11);
    controller.abort();
    await expect(result).resolves.toBeUndefined();
    expectDetached(input);
  });

  test('an already aborted signal resolves undefined at once', async () => {
    const input = new PassThrough();
    const controller = new AbortController();
    controller.abort();
    await expect(readPastedBundle({ input, signal: controller.signal })).resolves.toBeUndefined();
    expect(input.listenerCount('data')).toBe(0);
  });
});

describe('readPastedBundle from a terminal', () => {
  test('switches to raw mode and restores it; a 16 KiB paste arrives whole, without echo', async () => {
    const input = new FakeTty();
    const progress: number[] = [];
    const bundle = `cb1.${'A'.repeat(16 * 1024)}`;
    const result = readPastedBundle({ input, signal: never(), onProgress: (bytes) => progress.push(bytes) });
    expect(input.rawModes).toEqual([true]);
    for (let offset = 0; offset < bundle.length; offset += 1000)
      input.write(bundle.slice(offset, offset + 1000));
    input.write('\r');
    await expect(result).resolves.toBe(bundle);
    expect(input.rawModes).toEqual([true, false]);
    expect(progress.at(-1)).toBe(bundle.length);
    expect(progress.length).toBeGreaterThan(10);
    expectDetached(input);
  });

  test('restores raw mode to what it was before', async () => {
    const input = new FakeTty(true);
    const result = readPastedBundle({ input, signal: never() });
    input.write('abc\n');
    await expect(result).resolves.toBe('abc');
    expect(input.rawModes).toEqual([true, true]);
  });

  test('handles backspace (DEL and ^H), Ctrl-U and ignores an empty Enter', async () => {
    const input = new FakeTty();
    const result = readPastedBundle({ input, signal: never() });
    input.write('\r');
    input.write('junk\x15abcX\x7f\x08Cd\x1b[D\r');
    await expect(result).resolves.toBe('abCd');
  });

  test('strips bracketed paste markers, also when split across chunks', async () => {
    const input = new FakeTty();
    const result = readPastedBundle({ input, signal: never() });
    input.write('\x1b[20');
    input.write('0~cb1.xy\nz\x1b[201~');
    input.write('\r');
    await expect(result).resolves.toBe('cb1.xyz');
  });

  test('Ctrl-C cancels the login and restores the mode', async () => {
    const input = new FakeTty();
    const result = readPastedBundle({ input, signal: never() });
    input.write('cb1.abc\x03');
    await expect(result).rejects.toMatchObject({ code: 'E_LOGIN_CANCELLED', message: 'login cancelled' });
    await expect(result).rejects.toBeInstanceOf(LoginError);
    expect(input.rawModes).toEqual([true, false]);
    expectDetached(input);
  });

  test('Ctrl-D on an empty line resolves undefined; on a non-empty line it is ignored', async () => {
    const first = new FakeTty();
    const empty = readPastedBundle({ input: first, signal: never() });
    first.write('\x04');
    await expect(empty).resolves.toBeUndefined();
    expect(first.rawModes).toEqual([true, false]);

    const second = new FakeTty();
    const typed = readPastedBundle({ input: second, signal: never() });
    second.write('ab\x04c\r');
    await expect(typed).resolves.toBe('abc');
  });

  test('abort restores the mode, detaches and pauses', async () => {
    const input = new FakeTty();
    const controller = new AbortController();
    const result = readPastedBundle({ input, signal: controller.signal });
    input.write('cb1.half');
    controller.abort();
    await expect(result).resolves.toBeUndefined();
    expect(input.rawModes).toEqual([true, false]);
    expectDetached(input);
  });

  test('over maxBytes in raw mode rejects and restores the mode', async () => {
    const input = new FakeTty();
    const result = readPastedBundle({ input, signal: never(), maxBytes: 10 });
    input.write('0123456789AB');
    await expect(result).rejects.toBeInstanceOf(InvalidBundleError);
    expect(input.rawModes).toEqual([true, false]);
  });
});
