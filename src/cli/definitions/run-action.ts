import type { CliContext } from '../cli-context';

/** Wraps a command's function as commander's action: the context is built, the exit code kept (run-cli.ts). */
export type RunAction = (
  action: (ctx: CliContext, ...args: never[]) => Promise<number | void>,
) => (...args: unknown[]) => Promise<void>;
