import { join } from 'node:path';

import { startChild } from './child-process-handle';
import { readLog, removeComponentDir } from './component-dir';
import { waitForHttp } from './readiness';
import type { RunningComponent } from './running-component';

export interface StartLoggedServerOptions {
  /** For messages: apache2, nginx. */
  name: string;
  command: string;
  args: string[];
  /** The component's own temp folder (removed on stop), holding logs/error.log and logs/access.log. */
  dir: string;
  port: number;
  /** Path answered once the server (and what it depends on) is up. */
  readinessPath: string;
  startupTimeoutMs?: number;
}

/**
 * Starts a server process that writes error.log and access.log under `<dir>/logs`, waits until it answers,
 * and returns the kit's RunningComponent: logs gathered for failure messages, a stop that kills the process
 * group and removes the folder (keeping the last logs).
 */
export async function startLoggedServer(options: StartLoggedServerOptions): Promise<RunningComponent> {
  const { dir, name } = options;
  const errorLog = join(dir, 'logs', 'error.log');
  const accessLog = join(dir, 'logs', 'access.log');
  const child = startChild({
    name,
    command: options.command,
    args: options.args,
    cwd: dir,
    // A clean environment and locale keep the servers' messages predictable.
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
    logFile: join(dir, 'logs', 'stdout-stderr.log'),
  });
  const logs = (): string =>
    [
      `--- ${name} output ---\n${child.output()}`,
      `--- error.log ---\n${readLog(errorLog)}`,
      `--- access.log ---\n${readLog(accessLog)}`,
    ].join('\n');
  let finalLogs: string | undefined;
  const stop = async (): Promise<void> => {
    await child.stop();
    finalLogs ??= logs();
    removeComponentDir(dir);
  };
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitForHttp(name, `${url}${options.readinessPath}`, {
      child,
      logs,
      timeoutMs: options.startupTimeoutMs ?? 30_000,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port: options.port, stop, logs: () => finalLogs ?? logs() };
}
