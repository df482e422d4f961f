import { StringDecoder } from 'node:string_decoder';
import { MAX_BUNDLE_BYTES } from '../protocol/bundle-codec';
import { InvalidBundleError, LoginError } from '../errors';

/**
 * Reads a cookie bundle the user pastes into the terminal (the fallback when the browser cannot reach
 * the loopback listener). On a TTY it switches to raw mode, because canonical mode cuts a line at 4 KiB
 * and bundles are often larger; it then does its own line editing and never echoes the secret.
 */

/** The terminal (or pipe) a bundle can be pasted into; process.stdin fits. */
export type PasteInput = NodeJS.ReadableStream & {
  isTTY?: boolean | undefined;
  isRaw?: boolean | undefined;
  setRawMode?: ((raw: boolean) => unknown) | undefined;
  readableEnded?: boolean | undefined;
};

export interface ReadPastedBundleOptions {
  input: PasteInput;
  /** Aborting stops reading and resolves undefined. */
  signal: AbortSignal;
  /** Longest line taken; default 64 KiB. */
  maxBytes?: number | undefined;
  /** Called with the length in bytes of the line typed so far (show it instead of echoing the secret). */
  onProgress?: ((bytes: number) => void) | undefined;
}

const CTRL_C = '\x03';
const CTRL_D = '\x04';
const CTRL_U = '\x15';
const BACKSPACE = '\x7f';
const CTRL_H = '\x08';
const ESC = '\x1b';
const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

/**
 * Resolves with the first non-empty line, trimmed; undefined when the input ends (or Ctrl-D on an empty
 * line, or the signal aborts) with nothing. Rejects with E_LOGIN_CANCELLED on Ctrl-C (raw mode) and with
 * InvalidBundleError when a line grows past `maxBytes`.
 */
export function readPastedBundle(options: ReadPastedBundleOptions): Promise<string | undefined> {
  const { input, signal, onProgress } = options;
  const maxBytes = options.maxBytes ?? MAX_BUNDLE_BYTES;
  if (signal.aborted || input.readableEnded === true) return Promise.resolve(undefined);
  let raw = input.isTTY === true && typeof input.setRawMode === 'function';

  return new Promise<string | undefined>((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    const wasRaw = input.isRaw === true;
    let line = '';
    let lineBytes = 0;
    let pending = '';
    let inPaste = false;
    let settled = false;

    const cleanUp = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onEnd);
      input.off('close', onEnd);
      signal.removeEventListener('abort', onAbort);
      if (raw) {
        try {
          input.setRawMode?.(wasRaw);
        } catch {
          // The terminal went away; there is no mode left to restore.
        }
      }
      input.pause();
    };
    const finish = (value: string | undefined): void => {
      if (settled) return;
      settled = true;
      cleanUp();
      resolve(value);
    };
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      cleanUp();
      reject(error);
    };
    const grow = (text: string): boolean => {
      line += text;
      lineBytes += Buffer.byteLength(text, 'utf8');
      if (lineBytes > maxBytes) {
        fail(new InvalidBundleError(`the pasted text is longer than ${Math.floor(maxBytes / 1024)} KiB`));
        return false;
      }
      return true;
    };
    const endLine = (): void => {
      const trimmed = line.trim();
      line = '';
      lineBytes = 0;
      if (trimmed !== '') finish(trimmed);
    };

    /** Pipe mode: plain lines, no editing keys. */
    const takePiped = (text: string): void => {
      let rest = text;
      for (let newline = rest.search(/[\r\n]/); newline !== -1 && !settled; newline = rest.search(/[\r\n]/)) {
        if (!grow(rest.slice(0, newline))) return;
        endLine();
        rest = rest.slice(newline + 1);
      }
      if (!settled) grow(rest);
    };

    /** Raw mode: the terminal hands over every key; do the line editing canonical mode would have done. */
    const takeRaw = (text: string): void => {
      let rest = pending + text;
      pending = '';
      while (rest !== '' && !settled) {
        if (rest.startsWith(ESC)) {
          if (rest.startsWith(PASTE_START) || rest.startsWith(PASTE_END)) {
            inPaste = rest.startsWith(PASTE_START);
            rest = rest.slice(PASTE_START.length);
            continue;
          }

          const sequence = /^\x1b(?:\[[0-?]*[ -/]*[@-~]|[^[])/.exec(rest);
          if (sequence === null) {
            pending = rest; // an escape sequence split across chunks
            return;
          }
          rest = rest.slice(sequence[0].length); // arrow keys and the like: ignored
          continue;
        }
        const char = String.fromCodePoint(rest.codePointAt(0) ?? 0);
        rest = rest.slice(char.length);
        if (char === '\r' || char === '\n') {
          if (!inPaste) endLine(); // a line break inside a bracketed paste is not Enter
        } else if (char === CTRL_C) {
          fail(new LoginError('E_LOGIN_CANCELLED', 'login cancelled', { hint: 'nothing was saved' }));
        } else if (char === CTRL_D) {
          if (line.trim() === '') finish(undefined);
        } else if (char === BACKSPACE || char === CTRL_H) {
          const last = Array.from(line).pop() ?? '';
          line = line.slice(0, line.length - last.length);
          lineBytes -= Buffer.byteLength(last, 'utf8');
        } else if (char === CTRL_U) {
          line = '';
          lineBytes = 0;
        } else if (char >= ' ') {
          grow(char);
        }
      }
    };

    const onData = (chunk: Buffer | string): void => {
      const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
      if (raw) takeRaw(text);
      else takePiped(text);
      if (!settled) onProgress?.(lineBytes);
    };
    const onEnd = (): void => {
      if (settled) return;
      const rest = decoder.end();
      if (rest !== '') onData(rest);
      finish(line.trim() === '' ? undefined : line.trim());
    };
    const onAbort = (): void => finish(undefined);

    if (raw) {
      try {
        input.setRawMode?.(true);
      } catch {
        raw = false; // not a usable terminal after all: read lines as from a pipe
      }
    }
    signal.addEventListener('abort', onAbort, { once: true });
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onEnd);
    input.once('close', onEnd);
    input.resume();
  });
}
