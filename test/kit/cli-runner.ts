import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { CHROMIUM_DRIVER_TIMEOUT_MS } from '../../fixtures/real-components/budgets';

export const REPO_ROOT = path.join(__dirname, '..', '..');
/**
 * The built CLI, run as users run it: the file package.json's `bin` names (the esbuild bundle of
 * scripts/build-cli.mjs). `npm test` builds before jest runs.
 */
export const CLI_PATH = path.join(
  REPO_ROOT,
  (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> })
    .bin['cookie-bridge'] ?? 'package.json has no bin cookie-bridge',
);

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the first match of `pattern` in stderr (waits on output events, bounded by the test timeout). */
  waitForStderr(pattern: RegExp): Promise<RegExpMatchArray>;
  stderrSoFar(): string;
  result: Promise<CliResult>;
}

export interface CliEnv {
  [name: string]: string | undefined;
}

/**
 * The forward-proxy variables the CLI reads (src/http/proxy-settings.ts) and the tools tests spawn (curl,
 * git) read: a child gets none of them unless the test sets them on purpose (CI may set HTTPS_PROXY).
 */
export const PROXY_VARIABLES = [
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'no_proxy',
  'NO_PROXY',
] as const;

/** Deletes the proxy variables from `env` (in place) and returns it. */
export function dropProxyVariables<T extends CliEnv>(env: T): T {
  for (const name of PROXY_VARIABLES) delete env[name];
  return env;
}

/**
 * A clean environment: only what the CLI needs, so the developer's own config and tokens never leak in
 * (nor a proxy: a test opts in with `extra`, e.g. `{ HTTPS_PROXY: proxy.url }`).
 */
export function cliEnv(home: string, extra: CliEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    COOKIE_BRIDGE_HOME: path.join(home, 'cookie-bridge'),
    LANG: 'C.UTF-8',
    // The Chromium driver's deadline when a test uses it as $BROWSER, scaled like every other budget.
    CHROMIUM_BROWSER_TIMEOUT_MS: String(CHROMIUM_DRIVER_TIMEOUT_MS),
  };
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/**
 * Starts the built CLI. `terminal: true` runs it in a pseudo-terminal (util-linux `script`): stdin, stdout
 * and stderr are then a TTY, what is written to `child.stdin` arrives as typed keys, and everything the
 * terminal shows (stdout and stderr) is what waitForStderr/stderrSoFar see. `detached: true` runs it in a
 * session of its own, without a controlling terminal, as under CI or a service manager.
 */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { stdin?: 'pipe' | 'close'; terminal?: boolean; detached?: boolean } = {},
): RunningCli {
  const child =
    options.terminal === true
      ? spawn('script', ['-qfec', shellCommand([process.execPath, CLI_PATH, ...args]), '/dev/null'], {
          env,
          cwd: REPO_ROOT,
          stdio: 'pipe',
        })
      : spawn(process.execPath, [CLI_PATH, ...args], {
          env,
          cwd: REPO_ROOT,
          stdio: 'pipe',
          // a session of its own: no controlling terminal, whatever terminal jest runs in
          ...(options.detached === true ? { detached: true } : {}),
        });
  const stdoutChunks: Buffer[] = [];
  let stderr = '';
  const stderrWaiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutChunks.push(chunk);
    if (options.terminal === true) onStderr(chunk);
  });
  const onStderr = (chunk: Buffer): void => {
    stderr += chunk.toString('utf8');
    for (const waiter of [...stderrWaiters]) {
      const match = stderr.match(waiter.pattern);
      if (match) {
        stderrWaiters.splice(stderrWaiters.indexOf(waiter), 1);
        waiter.resolve(match);
      }
    }
  };
  child.stderr.on('data', onStderr);
  if (options.stdin !== 'pipe') child.stdin.end();
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(stdoutChunks);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr, stdoutBytes });
    });
  });
  return {
    child,
    result,
    stderrSoFar: () => stderr,
    waitForStderr: (pattern) =>
      new Promise((resolve, reject) => {
        const match = stderr.match(pattern);
        if (match) return resolve(match);
        stderrWaiters.push({ pattern, resolve });
        void result.then((r) =>
          reject(new Error(`CLI exited (${r.code}) before printing ${pattern}:\n${r.stderr}`)),
        );
      }),
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string | Buffer): Promise<CliResult> {
  const running = startCli(args, env, { stdin: stdin === undefined ? 'close' : 'pipe' });
  if (stdin !== undefined) running.child.stdin.end(stdin);
  return running.result;
}

/** One POSIX shell command line: every word single-quoted. */
function shellCommand(words: string[]): string {
  return words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}

/** A throwaway home folder; call the returned cleanup in afterAll/afterEach. */
export function makeTempHome(prefix = 'cookie-bridge-test-'): { home: string; cleanup(): void } {
  const home = mkdtempSync(path.join(tmpdir(), prefix));
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}
