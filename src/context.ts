/**
 * The dependencies library code receives instead of reaching for globals.
 * Real defaults are wired only in the CLI (src/cli/cli-context.ts); tests pass their own.
 */

export interface Logger {
  /** Only shown with --debug. Callers redact secrets before calling (see protocol/redact.ts). */
  debug(message: string): void;
  /** Progress and status lines for a person (stderr in the CLI). */
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};

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
 * The one dependency object: what library code receives instead of reaching for globals. Each entry point
 * takes the part it needs (`Pick<Context, …>` in LoginDeps, ForwardingClientDeps, CreateAppDeps,
 * ServeAppOptions; CliContext is a whole one). The CLI builds the real one (src/cli/cli-context.ts), tests a
 * fake (test/kit/fake-context.ts). The store, the HTTP client, the browser opener and stdin are typed in the
 * layers that own them and travel beside it.
 */
export interface Context {
  logger: Logger;
  now: Clock;
  timers: Timers;
  /** ≥128 bits of URL-safe randomness. */
  randomState(): string;
  env: NodeJS.ProcessEnv;
}
