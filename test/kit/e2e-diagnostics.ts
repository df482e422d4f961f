// Helpers for e2e tests that drive the built CLI through real components: failure messages with the CLI's
// output and the components' logs, the CLI's --json output, the stored jar, a plain GET, Chromium as $BROWSER.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';

import {
  CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
  HTTP_REQUEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  tail,
} from '../../fixtures/real-components';
import { CHROMIUM_BROWSER_COMMAND } from './run-chromium-browser';
import { cliEnv, runCli, type CliResult } from './cli-runner';

/** Named sources of logs for failure messages; read lazily, when an assertion fails. */
export type LogSource = { name: string; logs: () => string };

/** Runs `assertions`; on failure rethrows with the CLI's output and the tails of the component logs appended. */
export function withDiagnostics(
  context: { cli?: CliResult | CliResult[]; sources: LogSource[] },
  assertions: () => void,
): void {
  try {
    assertions();
  } catch (error) {
    const runs = context.cli === undefined ? [] : Array.isArray(context.cli) ? context.cli : [context.cli];
    const cliText = runs
      .map(
        (run, index) =>
          `----- CLI run ${index + 1}: exit ${String(run.code)} (signal ${String(run.signal)}) -----\n` +
          `stdout:\n${tail(run.stdout, 30)}\nstderr:\n${tail(run.stderr, 60)}`,
      )
      .join('\n');
    const logText = context.sources
      .map((source) => `===== ${source.name} =====\n${tail(safeLogs(source), 40)}`)
      .join('\n');
    const message = error instanceof Error ? error.message : String(error);
    const wrapped = new Error(`${message}\n\n${cliText}\n${logText}`);
    if (error instanceof Error && error.stack !== undefined) {
      wrapped.stack = `${wrapped.message}\n${error.stack.split('\n').slice(1).join('\n')}`;
    }
    throw wrapped;
  }
}

function safeLogs(source: LogSource): string {
  try {
    return source.logs();
  } catch (error) {
    return `(logs unavailable: ${error instanceof Error ? error.message : String(error)})`;
  }
}

export function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '(none)';
}

/** The JSON a `--json` CLI run printed on stdout, or an object saying why there is none. */
export function jsonOf(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    return { unparsableStdout: result.stdout };
  }
}

/** The stored cookie values for every endpoint, by cookie name, read from the CLI's jar on disk. */
export function storedCookies(home: string): Map<string, string> {
  const endpoints = join(home, 'cookie-bridge', 'endpoints');
  const cookies = new Map<string, string>();
  for (const slug of existsSync(endpoints) ? readdirSync(endpoints) : []) {
    const file = join(endpoints, slug, 'cookies.json');
    if (!existsSync(file)) continue;
    const jar = JSON.parse(readFileSync(file, 'utf8')) as { cookies?: Array<{ key: string; value: string }> };
    for (const cookie of jar.cookies ?? []) cookies.set(cookie.key, cookie.value);
  }
  return cookies;
}

/** A plain node:http GET with the given headers; resolves status, Location and body, never follows redirects. */
export function plainGet(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, timeout: HTTP_REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const location = res.headers.location;
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, ...(location === undefined ? {} : { location }), body });
      });
    });
    req.on('timeout', () =>
      req.destroy(new Error(`no answer from ${url} within ${HTTP_REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end();
  });
}

/** The environment for the CLI with Chromium as `$BROWSER`, logging its steps to `<workDir>/<name>.browser.log`. */
export function chromiumBrowserEnv(
  home: string,
  workDir: string,
  name: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return cliEnv(home, {
    BROWSER: CHROMIUM_BROWSER_COMMAND,
    CHROMIUM_BROWSER_LOG: join(workDir, `${name}.browser.log`),
    CHROMIUM_BROWSER_SCREENSHOT: join(workDir, `${name}.failure.png`),
    ...extra,
  });
}

export function browserLogSource(workDir: string, name: string): LogSource {
  return {
    name: `chromium-browser (${name})`,
    logs: () => readIfExists(join(workDir, `${name}.browser.log`)),
  };
}

/**
 * `api login -e <endpoint> --json` (plus `cliArgs`) with Chromium as `$BROWSER` signing in as `user`, the
 * driver's deadline and the CLI's from the budgets. Asserts exit 0 and `expected` in the JSON; on failure the
 * message carries the CLI's output, the browser's log and `sources`. Returns the environment (for the same
 * person's later commands) and the run.
 */
export async function loginThroughChromium(options: {
  home: string;
  workDir: string;
  /** Names the browser's log and failure screenshot in `workDir`. */
  name: string;
  user: string;
  endpoint: string;
  expected: Record<string, unknown>;
  sources: LogSource[];
  cliArgs?: string[];
  browserEnv?: Record<string, string>;
}): Promise<{ env: NodeJS.ProcessEnv; login: CliResult }> {
  const { home, workDir, name, endpoint } = options;
  const env = chromiumBrowserEnv(home, workDir, name, {
    CHROMIUM_BROWSER_LOGIN: options.user,
    CHROMIUM_BROWSER_TIMEOUT_MS: CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
    ...options.browserEnv,
  });
  const login = await runCli(
    [
      'api',
      'login',
      '-e',
      endpoint,
      ...(options.cliArgs ?? []),
      '--json',
      '--timeout',
      REAL_CLI_LOGIN_TIMEOUT_S,
    ],
    env,
  );
  withDiagnostics({ cli: login, sources: [browserLogSource(workDir, name), ...options.sources] }, () => {
    expect(login.code).toBe(0);
    expect(jsonOf(login)).toMatchObject(options.expected);
  });
  return { env, login };
}

/** Asserts the CLI answered like an expired session: exit 4, the message naming the endpoint, no HTML. */
export function expectSessionExpired(result: CliResult, endpoint: string): void {
  expect({ code: result.code, stdoutHasHtml: /<html|<!doctype/i.test(result.stdout) }).toEqual({
    code: 4,
    stdoutHasHtml: false,
  });
  expect(result.stderr).toContain(`session expired: run cookie-bridge api login -e ${endpoint}`);
}
