/**
 * Helpers for the security and reliability suites (test/security, test/reliability): a protected stack
 * (the oauth2-proxy look-alike in front of the demo API), raw loopback HTTP that never throws, the
 * secrets stored under a home folder, and the built CLI run under a shell prefix (umask, ulimit).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { startDemoApi } from '../../fixtures/demo-api';
import {
  startOAuth2ProxyLookalike,
  type OAuth2ProxyLookalikeOptions,
} from '../../fixtures/oauth2-proxy-lookalike';
import { CLI_PATH, REPO_ROOT, runCli, type CliResult } from './cli-runner';

export const SCRIPTED_BROWSER_JS = path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js');
/** $BROWSER value that plays the browser (signs in at the look-alike, posts the bundle to the listener). */
export const SCRIPTED_BROWSER = `${process.execPath} ${SCRIPTED_BROWSER_JS}`;

export interface ProtectedStack {
  endpoint: string;
  proxy: Awaited<ReturnType<typeof startOAuth2ProxyLookalike>>;
  close(): Promise<void>;
}

/** The demo API behind the oauth2-proxy look-alike, both on 127.0.0.1 port 0. */
export async function startProtectedStack(
  options: Omit<OAuth2ProxyLookalikeOptions, 'upstream'> = {},
): Promise<ProtectedStack> {
  const api = await startDemoApi();
  const proxy = await startOAuth2ProxyLookalike({ upstream: api.url, ...options });
  return {
    endpoint: proxy.url,
    proxy,
    close: async () => {
      await proxy.close();
      await api.close();
    },
  };
}

/** `api login` through the scripted browser (the whole browser flow, no detection shortcut). */
export function loginThroughBrowser(
  endpoint: string,
  env: NodeJS.ProcessEnv,
  email = 'alice@example.com',
  extraArgs: string[] = [],
): Promise<CliResult> {
  return runCli(['api', 'login', '-e', endpoint, '--timeout', '60', ...extraArgs], {
    ...env,
    BROWSER: SCRIPTED_BROWSER,
    SCRIPTED_BROWSER_EMAIL: email,
  });
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  path?: string;
  headers?: http.OutgoingHttpHeaders;
  body?: string | Buffer;
}

/**
 * One request on its own connection to 127.0.0.1:<port>. Resolves with the answer, or with
 * `{ error }` when the server drops the connection (a refusal may do that); never rejects.
 */
export function rawRequest(
  port: number,
  request: RawRequest,
): Promise<RawResponse | { error: string; status?: undefined; headers?: undefined }> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method ?? 'GET',
        path: request.path ?? '/',
        headers: request.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', (error) => resolve({ error: String(error) }));
      },
    );
    req.on('error', (error) => resolve({ error: String(error) }));
    req.end(request.body);
  });
}

/** Every file below `folder` (recursively); [] when it does not exist. */
/** A WebSocket upgrade request to 127.0.0.1:`port`; resolves with the status answered (0 when the connection was dropped). */
export function upgradeRequest(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

export function filesUnder(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(folder, entry.name)) : [path.join(folder, entry.name)],
  );
}

/**
 * The secrets stored under a cookie-bridge home: every cookie value in a jar, every token and password
 * in a profile. Short values (< 8 characters) are left out: they would match by chance.
 */
export function storedSecrets(cookieBridgeHome: string): string[] {
  const secrets = new Set<string>();
  for (const file of filesUnder(cookieBridgeHome)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    if (file.endsWith('cookies.json')) {
      const cookies = (parsed as { cookies?: Array<{ value?: unknown }> }).cookies ?? [];
      for (const cookie of cookies) if (typeof cookie.value === 'string') secrets.add(cookie.value);
    }
    if (file.endsWith('profile.json')) {
      const auth = (parsed as { auth?: { token?: unknown; password?: unknown } }).auth ?? {};
      if (typeof auth.token === 'string') secrets.add(auth.token);
      if (typeof auth.password === 'string') secrets.add(auth.password);
    }
  }
  return [...secrets].filter((secret) => secret.length >= 8);
}

/** The first secret that occurs in `text` (or undefined), for `expect(...).toBeUndefined()`. */
export function leakedSecret(text: string, secrets: Iterable<string>): string | undefined {
  for (const secret of secrets) if (text.includes(secret)) return secret;
  return undefined;
}

/**
 * Runs the built CLI through `sh -c '<prefix>; exec node main.js …'`, e.g. prefix `umask 000` or
 * `ulimit -f 1` (file size limit: every write beyond 1 KiB fails with EFBIG; Node ignores SIGXFSZ).
 */
export function runCliUnderShell(prefix: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `${prefix}; exec "$0" "$@"`, process.execPath, CLI_PATH, ...args], {
      env,
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code, signal) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr, stdoutBytes });
    });
  });
}

/**
 * Signs in to the oauth2-proxy look-alike (or nginx in front of it) as a browser would: /oauth2/start sets the
 * CSRF cookie, /oauth2/callback posts the email with the same state. Resolves the Cookie header of the session.
 */
export async function signInToLookalike(port: number, email: string): Promise<string> {
  const start = await rawRequest(port, { path: '/oauth2/start?rd=%2F' });
  if (start.status === undefined) throw new Error(`/oauth2/start failed: ${start.error}`);
  const csrf = (start.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? '';
  const state = new URL(start.headers.location ?? '', 'http://127.0.0.1').searchParams.get('state') ?? '';
  const callback = await rawRequest(port, {
    method: 'POST',
    path: '/oauth2/callback',
    headers: { cookie: csrf, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ rd: '/', state, email }).toString(),
  });
  const session = (callback.headers?.['set-cookie'] ?? [])
    .map((line) => line.split(';')[0] ?? '')
    .filter((pair) => pair.startsWith('_oauth2_proxy') && !pair.includes('_csrf=') && !pair.endsWith('='));
  if (callback.status !== 302 || session.length === 0) {
    throw new Error(`sign-in at the look-alike failed: ${callback.status ?? callback.error}`);
  }
  return session.join('; ');
}
