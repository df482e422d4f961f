import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import type { Logger } from '../context';
import { CommandStartError, describeSystemError, errnoCode } from '../errors';

/** What `exec` passes on to its command. SIGUSR1 is left alone: Node.js keeps it for its debugger. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR2',
];

/**
 * The signals a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\). The command runs in
 * cookie-bridge's process group, so when cookie-bridge has a terminal the command has had them already:
 * passing them on as well would deliver Ctrl-C twice (and "press Ctrl-C again to force quit" would fire).
 */
const TERMINAL_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT']);

export interface ChildCommandOptions {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Whether cookie-bridge has a controlling terminal (see hasControllingTerminal). */
  hasTerminal: boolean;
}

/**
 * Runs `command` with `args` (no shell, stdio inherited) and resolves with its exit code, or 128 + n when
 * signal n ended it, as shells do. While it runs, the signals in FORWARDED_SIGNALS that reach cookie-bridge
 * go to the command instead of ending cookie-bridge. A command that cannot start rejects with
 * CommandStartError: 127 when it is not found, 126 when it cannot be run.
 */
export function runChildCommand(
  command: string,
  args: readonly string[],
  options: ChildCommandOptions,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const forward = (signal: NodeJS.Signals): void => {
      if (options.hasTerminal && TERMINAL_SIGNALS.has(signal)) {
        options.logger.debug(`${signal}: the terminal sent it to the command too; not passed on again`);
        return;
      }
      options.logger.debug(`${signal}: passing it on to the command`);
      // handlers run from the event loop: by then `child` is there (spawn returns synchronously)
      if (child.pid !== undefined) child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const stopForwarding = (): void => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };

    let child: ChildProcess;
    try {
      child = spawn(command, [...args], { stdio: 'inherit', env: options.env });
    } catch (error) {
      // arguments node refuses (a NUL byte): nothing started
      stopForwarding();
      throw error;
    }
    child.once('error', (error) => {
      stopForwarding();
      reject(startError(command, error));
    });
    child.once('exit', (code, signal) => {
      stopForwarding();
      if (signal !== null) {
        options.logger.debug(`the command ended on ${signal}`);
        resolve(128 + (constants.signals[signal] ?? 0));
      } else resolve(code ?? 0);
    });
  });
}

function startError(command: string, error: unknown): CommandStartError {
  const errno = errnoCode(error);
  if (errno === 'ENOENT') {
    return new CommandStartError(
      'E_COMMAND_NOT_FOUND',
      command,
      command.includes('/') ? 'no such file' : 'not found in PATH',
    );
  }
  const detail = errno === 'EACCES' ? 'permission denied, or a folder' : describeSystemError(error);
  return new CommandStartError('E_COMMAND_NOT_EXECUTABLE', command, detail);
}

/** Whether this process has a controlling terminal (one that sends Ctrl-C to its process group). */
export function hasControllingTerminal(): boolean {
  if (process.platform === 'win32') return false;
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}
