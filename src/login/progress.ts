import { systemClock, type Clock, type TextOutput } from '../context';

/**
 * A status line for long waits (auth proxy detection, the browser sign-in). On a terminal it is a spinner
 * redrawn in place with the elapsed seconds; anywhere else (CI logs, a file) each start() and each
 * stop(finalLine) is one plain line, never repeated, with no control characters (update() prints nothing).
 */

export interface Progress {
  /** Shows `text` as the current status (replacing any running one). */
  start(text: string): void;
  /** Changes the text of the running status. */
  update(text: string): void;
  /** Clears the status; `finalLine`, when given, is printed as a plain line. */
  stop(finalLine?: string): void;
}

/** The timer functions the spinner uses; tests pass fakes. */
export interface ProgressTimers {
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface ProgressOptions {
  stream: TextOutput;
  clock?: Clock | undefined;
  /** Spinner frame interval; default 100 ms. */
  intervalMs?: number | undefined;
  timers?: ProgressTimers | undefined;
}

export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;
const CLEAR_LINE = '\r\x1b[2K';

const systemTimers: ProgressTimers = {
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export function createProgress(options: ProgressOptions): Progress {
  return options.stream.isTTY === true ? createSpinner(options) : createPlainProgress(options.stream);
}

function createSpinner(options: ProgressOptions): Progress {
  const { stream } = options;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const intervalMs = options.intervalMs ?? 100;
  let text = '';
  let frame = 0;
  let startedAt = 0;
  let handle: unknown;
  let running = false;

  const render = (): void => {
    const seconds = Math.max(0, Math.floor((clock() - startedAt) / 1000));
    stream.write(`${CLEAR_LINE}${SPINNER_FRAMES[frame % SPINNER_FRAMES.length] ?? ''} ${text} (${seconds}s)`);
  };
  const halt = (): void => {
    if (!running) return;
    running = false;
    timers.clearInterval(handle);
    handle = undefined;
    stream.write(CLEAR_LINE);
  };

  const start = (newText: string): void => {
    halt();
    text = printable(newText);
    frame = 0;
    startedAt = clock();
    running = true;
    render();
    handle = timers.setInterval(() => {
      frame += 1;
      render();
    }, intervalMs);
    unref(handle);
  };

  return {
    start,
    update(newText) {
      if (!running) return start(newText);
      text = printable(newText);
      render();
    },
    stop(finalLine) {
      halt();
      if (finalLine !== undefined) stream.write(`${printable(finalLine)}\n`);
    },
  };
}

function createPlainProgress(stream: TextOutput): Progress {
  let last: string | undefined;
  const line = (text: string): void => {
    const clean = printable(text);
    if (clean === '' || clean === last) return;
    last = clean;
    stream.write(`${clean}\n`);
  };
  return {
    start: line,
    // Updates (byte counts, sub-steps) would flood a log with near-identical lines: only starts and stops print.
    update: () => undefined,
    stop(finalLine) {
      if (finalLine !== undefined) line(finalLine);
      last = undefined;
    },
  };
}

/** One line of plain text: control characters (escape sequences, \r, \n) become spaces. */
function printable(text: string): string {
  return text

    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')

    .replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ')
    .trim();
}

function unref(handle: unknown): void {
  if (
    typeof handle === 'object' &&
    handle !== null &&
    'unref' in handle &&
    typeof handle.unref === 'function'
  ) {
    handle.unref();
  }
}
