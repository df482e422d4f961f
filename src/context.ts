/**
 * The dependencies library code receives instead of reaching for globals.
 * Real defaults are wired only in the CLI (src/cli/cli-context.ts); tests pass their own.
 */

export interface Logger {
  /** Only shown with --debug. Callers redact secrets before calling (see protocol/redact.ts). */
  debug(message: string): void;
  /**
   * False when debug() shows nothing: callers whose message costs work to build (a redacted URL or header
   * list, on every request) skip it then (debugShown). A logger without it is taken to show them.
   */
  readonly debugEnabled?: boolean;
  /** Progress and status lines for a person (stderr in the CLI). */
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  debugEnabled: false,
  info: () => undefined,
  warn: () => undefined,
};

/** Whether `logger` shows debug messages: build a costly one only then. */
export function debugShown(logger: Logger): boolean {
  return logger.debugEnabled !== false;
}

/** Milliseconds since the epoch, like Date.now(); injected so tests control time. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** Schedules and cancels a callback, like setTimeout/clearTimeout; injected so tests fire time-outs themselves. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Lets the process exit while the timer waits, for a time-out that only guards something else that keeps
 * the process alive (a socket, a stream). A handle of systemTimers is a Node Timeout; a fake one has no unref.
 */
export function unrefTimer(handle: unknown): void {
  (handle as { unref?: () => void } | null | undefined)?.unref?.();
}

/**
 * A young-generation collection run every `everyBytes` of body a process streams. Every socket read allocates
 * a fresh buffer outside V8's heap, freed only when V8 collects, which garbage that small triggers only after
 * ~30–64 MB of them; collecting every few MiB frees them early. Library code never collects on its host's
 * process by itself: the CLI passes one for its own process (src/cli/young-generation-sweep.ts).
 */
export interface YoungGenerationSweep {
  collect(): void;
  everyBytes: number;
}

/** Called with the size of every body chunk; runs the sweep every `everyBytes` (one addition per chunk). */
export type BodyBytesCounter = (bytes: number) => void;

/** The counter for `sweep`; without one, a counter that does nothing. */
export function bodyBytesCounter(sweep: YoungGenerationSweep | undefined): BodyBytesCounter {
  if (sweep === undefined) return () => undefined;
  const { collect, everyBytes } = sweep;
  let sinceSweep = 0;
  return (bytes) => {
    sinceSweep += bytes;
    if (sinceSweep >= everyBytes) {
      sinceSweep = 0;
      collect();
    }
  };
}

/** Opens a URL in the user's browser; never throws (the CLI's: src/login/browser-opener.ts). */
export type BrowserOpener = (url: string) => Promise<void>;

/**
 * Where text for a person or a script goes: the CLI's stdout or stderr (src/cli/terminal-output.ts), a test's
 * stream. process.stdout fits; so does any Writable. `write` takes a callback for a caller that waits until
 * the chunk is taken (a body streamed to stdout).
 */
export interface TextOutput {
  write(chunk: string | Uint8Array, callback?: (error?: Error | null) => void): boolean;
  /** Whether it is a terminal (a spinner, a refusal to print a secret there). */
  readonly isTTY?: boolean | undefined;
}

/** The terminal (or pipe) a bundle or a secret can be typed into; process.stdin fits. */
export type Stdin = NodeJS.ReadableStream & {
  isTTY?: boolean | undefined;
  isRaw?: boolean | undefined;
  setRawMode?: ((raw: boolean) => unknown) | undefined;
  readableEnded?: boolean | undefined;
};

/**
 * The base of the one dependency object (AppContext below): what needs no type from another floor. Entry
 * points that need only these take `Pick<Context, …>` (CreateAppDeps, ServeAppOptions).
 */
export interface Context {
  logger: Logger;
  now: Clock;
  timers: Timers;
  /** ≥128 bits of URL-safe randomness. */
  randomState(): string;
  env: NodeJS.ProcessEnv;
}

/**
 * The one dependency object: Context plus the handles on the outside world. Every entry point takes the part
 * it needs by `Pick` (LoginDeps, ForwardingClientDeps, LocalForwardingProxyOptions; CreateAppDeps and
 * ServeAppOptions need only Context's part) and CliContext is a whole one. The CLI builds the real one
 * (src/cli/cli-context.ts), tests an in-memory fake (test/kit/fake-context.ts).
 *
 * This file is the base floor and imports nothing of ours, so the two members whose types belong to higher
 * floors come in as parameters: every user writes `AppContext<CredentialStore, HttpClient>` (src/store/
 * credential-types.ts, src/http/http-request.ts). One HttpClient carries every outbound hop (detection,
 * verification, the SDK, the relay client, the local proxy's upstream), so a proxy or CA setting is made there.
 */
export interface AppContext<Store, Http> extends Context {
  /** Where logins live. */
  store: Store;
  /** The outbound HTTP client. */
  http: Http;
  openBrowser: BrowserOpener;
  stdin: Stdin;
}
