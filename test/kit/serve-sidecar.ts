import { CHILD_STOP_GRACE_MS } from '../../fixtures/real-components/budgets';
import { cliEnv, makeTempHome, startCli, type RunningCli } from './cli-runner';

export interface ServeSidecar {
  url: string;
  /** The serve process's id (a test checks a replica was never restarted). */
  pid: number;
  /** Whether the process is still running. */
  running(): boolean;
  logs(): string;
  stop(): Promise<void>;
}

/** Time serve gets to exit after SIGTERM before it is killed: more than its own 10 s shutdown grace. */
const SERVE_STOP_GRACE_MS = Math.round(CHILD_STOP_GRACE_MS * 1.5);

/**
 * `cookie-bridge serve --upstream <upstream> --port 0 --debug` from the built CLI, as a sidecar on loopback.
 * `extraArgs` and `extraEnv` add serve flags (e.g. --trusted-proxy) and variables (e.g. the proxy secret).
 */
export async function startServeSidecar(
  upstreamUrl: string,
  extraArgs: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<ServeSidecar> {
  const home = makeTempHome('cookie-bridge-real-serve-');
  const serve: RunningCli = startCli(
    ['serve', '--upstream', upstreamUrl, '--port', '0', '--debug', ...extraArgs],
    cliEnv(home.home, extraEnv),
  );
  const stop = async (): Promise<void> => {
    if (serve.child.exitCode === null && serve.child.signalCode === null) serve.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>(
      (resolve) => (timer = setTimeout(() => resolve('late'), SERVE_STOP_GRACE_MS)),
    );
    if ((await Promise.race([serve.result, late])) === 'late') {
      serve.child.kill('SIGKILL');
      await serve.result;
    }
    clearTimeout(timer);
    home.cleanup();
  };
  try {
    const [, url] = await serve.waitForStderr(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    return {
      url: url ?? '',
      pid: serve.child.pid ?? 0,
      running: () => serve.child.exitCode === null && serve.child.signalCode === null,
      logs: () => serve.stderrSoFar(),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
