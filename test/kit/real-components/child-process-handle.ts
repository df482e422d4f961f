import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';

/** How a component's child process ended. */
export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildSpec {
  /** Short name used in messages, e.g. `apache2`. */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** stdout and stderr are appended to this file as they arrive, so the logs survive a crash of the test. */
  logFile?: string;
}

export interface ChildHandle {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;
  hasExited(): boolean;
  /** What the process printed so far, stdout and stderr interleaved (at most the last 256 KiB). */
  output(): string;
  /** SIGTERM to the process group, then SIGKILL after `graceMs`; resolves once it has exited. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const MAX_OUTPUT = 256 * 1024;

/** Process groups started by this kit and not yet reaped; killed if the test process exits without stopping them. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // A negative pid addresses the whole process group this kit created (detached: true), i.e. the
    // component and the workers it forked, and nothing else.
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Starts a component in its own process group, capturing its output. */
export function startChild(spec: ChildSpec): ChildHandle {
  installExitHook();
  const child = spawn(spec.command, [...spec.args], {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let exit: ChildExit | undefined;
  const record = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    output = (output + text).slice(-MAX_OUTPUT);
    if (spec.logFile !== undefined) {
      try {
        appendFileSync(spec.logFile, text);
      } catch {
        // The log folder may already be removed during shutdown.
      }
    }
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);

  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', (error) => {
      output += `\n[${spec.name}] failed to start: ${error.message}\n`;
      exit ??= { code: null, signal: null };
      resolve(exit);
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const pid = child.pid;
  if (pid !== undefined) {
    liveGroups.add(pid);
    void exited.then(() => {
      // The leader is gone; make sure no forked worker outlives it.
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    name: spec.name,
    pid: pid ?? -1,
    child,
    exited,
    hasExited: () => exit !== undefined,
    output: () => output,
    stop(graceMs = 10_000): Promise<void> {
      stopping ??= (async () => {
        if (exit !== undefined || pid === undefined) return;
        killGroup(pid, 'SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), graceMs);
        });
        const result = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        if (result === 'timeout') {
          killGroup(pid, 'SIGKILL');
          await exited;
        }
      })();
      return stopping;
    },
  };
}
