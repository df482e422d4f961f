/** Commands that run until stopped: their HTTP parser should reach V8's optimising tier. */
const LONG_RUNNING_COMMANDS = new Set(['proxy', 'exec', 'serve']);

/**
 * undici parses HTTP with llhttp, a WebAssembly module. V8 compiles it at once with its baseline compiler
 * (Liftoff) and then again, in the background, with its optimising one; a process that is done stays alive
 * until that second compile ends: ~100 ms after `api info`'s one request on a 2-core machine, more than the
 * whole rest of the command. Commands that make a few requests and exit keep the baseline code
 * (`--liftoff-only`; bodies are still parsed in large spans, so `request` of a big body is not slowed, and
 * without the optimising pass its peak RSS is ~25 MB lower: 88 → 60 MB for a bare undici download here);
 * `proxy`, `exec` and `serve` keep V8's default. Must run before undici's first request (the flag applies to
 * modules compiled after it). Returns whether the flag was set.
 */
export function tuneV8ForCommand(command: string, setFlags: (flags: string) => void = setV8Flags): boolean {
  if (LONG_RUNNING_COMMANDS.has(command)) return false;
  setFlags('--liftoff-only');
  return true;
}

function setV8Flags(flags: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);
}
