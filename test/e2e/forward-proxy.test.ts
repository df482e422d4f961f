/**
 * Corporate forward proxies (HTTPS_PROXY, http_proxy, NO_PROXY, curl's rules: src/http/proxy-settings.ts) on
 * every outbound hop, through a real Debian tinyproxy started by the test: its own log proves each request went
 * through it (absolute-form `GET http://…` for http://, `CONNECT host:port` for https://), or did not (NO_PROXY).
 */
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { WebSocket, WebSocketServer } from 'ws';

import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import { createServeApp } from '../../src/server/create-serve-app';
import { createClient } from '../../src/sdk/create-client';
import { cliEnv, makeTempHome, runCli, startCli, REPO_ROOT } from '../kit/cli-runner';
import {
  createTestCa,
  findFreePort,
  HTTP_REQUEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_COMPONENT_PATHS,
  requireComponent,
  startTinyproxy,
  type RunningTinyproxy,
  type TestCa,
} from '../kit/real-components';

const execFileAsync = promisify(execFile);
const SCRIPTED_BROWSER_JS = path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js');
const SCRIPTED_BROWSER = `${process.execPath} ${SCRIPTED_BROWSER_JS}`;
const TOKEN = 'svc-token-0f8e1d2c3b4a59687766554433221100';
const PROXY_PASSWORD = 'pr0xy-pa55-9b8c7d6e5f4a';

const available =
  requireComponent('tinyproxy', REAL_COMPONENT_PATHS.tinyproxy) &&
  requireComponent('openssl', REAL_COMPONENT_PATHS.openssl);
const suite = available ? describe : describe.skip;

/** An API that wants `Authorization: Bearer TOKEN` (a service-account login, no browser), on http or https. */
function tokenApi(request: http.IncomingMessage, response: http.ServerResponse): void {
  response.setHeader('content-type', 'application/json');
  if (request.headers.authorization !== `Bearer ${TOKEN}`) {
    response.statusCode = 401;
    response.end(JSON.stringify({ error: 'unauthorized' }));
    return;
  }
  response.end(JSON.stringify({ status: 'ok', user: 'robot@example.com', path: request.url }));
}

async function listen(server: http.Server): Promise<{ url: string; port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = server instanceof https.Server ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One GET with node:http (no proxy): the local forwarding proxy's answer. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: HTTP_REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
  });
}

/** Runs `use` against a `cookie-bridge proxy` for `endpoint`, stops it (also when `use` fails), returns its stderr. */
async function withLocalProxy(
  endpoint: string,
  env: NodeJS.ProcessEnv,
  use: (url: string) => Promise<void>,
): Promise<string> {
  const cli = startCli(['proxy', '-e', endpoint, '--debug'], env);
  try {
    const [, url] = await cli.waitForStderr(/cookie-bridge proxy: (http:\/\/127\.0\.0\.1:\d+) →/);
    await cli.waitForStderr(/press Ctrl-C/);
    await use(url!);
  } finally {
    cli.child.kill('SIGTERM');
  }
  const result = await cli.result;
  expect(result.code).toBe(0);
  return result.stderr;
}

suite('forward proxies (HTTPS_PROXY, http_proxy, NO_PROXY) through a real tinyproxy', () => {
  let tinyproxy: RunningTinyproxy;
  let temp: ReturnType<typeof makeTempHome>;

  beforeAll(async () => {
    tinyproxy = await startTinyproxy();
  });
  afterAll(async () => {
    await tinyproxy?.stop();
  });
  beforeEach(() => {
    temp = makeTempHome();
  });
  afterEach(() => temp.cleanup());

  describe('plain http:// through http_proxy (absolute-form requests)', () => {
    let api: RunningDemoApi;
    let lookalike: OAuth2ProxyLookalike;
    beforeEach(async () => {
      api = await startDemoApi();
      lookalike = await startOAuth2ProxyLookalike({ upstream: api.url });
    });
    afterEach(async () => {
      await lookalike.close();
      await api.close();
    });

    it('login detection and verification, request, the SDK and the local proxy all go through the proxy', async () => {
      const endpoint = lookalike.url;
      const hostPort = endpoint.slice('http://'.length);
      const env = cliEnv(temp.home, {
        BROWSER: SCRIPTED_BROWSER,
        SCRIPTED_BROWSER_EMAIL: 'alice@example.com',
        http_proxy: tinyproxy.url,
      });

      const login = await runCli(
        ['api', 'login', '-e', endpoint, '--timeout', REAL_CLI_LOGIN_TIMEOUT_S, '--debug'],
        env,
      );
      expect(login.stderr).toContain(`Logged in to ${endpoint} as alice@example.com`);
      expect(login.code).toBe(0);
      expect(login.stderr).toContain(`proxy: ${endpoint} via proxy ${tinyproxy.url} (http_proxy)`);
      // detection, then verification: both GET /api/health, both through the proxy
      const health = tinyproxy
        .requestsTo(hostPort)
        .filter((line) => line.includes(`GET ${endpoint}/api/health`));
      expect(health.length).toBeGreaterThanOrEqual(2);

      const request = await runCli(['request', '/api/whoami?via=request'], env);
      expect(request.code).toBe(0);
      expect(JSON.parse(request.stdout)).toMatchObject({ user: 'alice@example.com' });
      expect(tinyproxy.log()).toContain(`GET ${endpoint}/api/whoami?via=request HTTP/1.1`);

      const sdk = await createClient({
        endpoint,
        env: { COOKIE_BRIDGE_HOME: env.COOKIE_BRIDGE_HOME, http_proxy: tinyproxy.url },
      });
      const answer = await sdk.fetch('/api/whoami?via=sdk');
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ user: 'alice@example.com' });
      expect(tinyproxy.log()).toContain(`GET ${endpoint}/api/whoami?via=sdk HTTP/1.1`);

      const localProxyLog = await withLocalProxy(endpoint, env, async (url) => {
        const forwarded = await get(`${url}/api/whoami?via=local-proxy`);
        expect(forwarded.status).toBe(200);
        expect(JSON.parse(forwarded.body)).toMatchObject({ user: 'alice@example.com' });
      });
      expect(tinyproxy.log()).toContain(`GET ${endpoint}/api/whoami?via=local-proxy HTTP/1.1`);
      expect(localProxyLog).toContain(`proxy: ${endpoint} via proxy ${tinyproxy.url}`);
    });

    it('NO_PROXY alone sends a host direct: the proxy log shows nothing, --debug says why', async () => {
      const endpoint = lookalike.url;
      const env = cliEnv(temp.home, {
        BROWSER: SCRIPTED_BROWSER,
        http_proxy: tinyproxy.url,
        NO_PROXY: 'example.com,127.0.0.0/8',
      });
      const login = await runCli(
        ['api', 'login', '-e', endpoint, '--timeout', REAL_CLI_LOGIN_TIMEOUT_S, '--debug'],
        env,
      );
      expect(login.code).toBe(0);
      expect(login.stderr).toContain(`proxy: ${endpoint} direct (NO_PROXY)`);
      const request = await runCli(['request', '/api/whoami?via=no-proxy'], env);
      expect(request.code).toBe(0);
      expect(tinyproxy.requestsTo(endpoint.slice('http://'.length))).toEqual([]);
    });

    it('upper-case HTTP_PROXY is honoured, except inside a CGI request (httpoxy)', async () => {
      const endpoint = lookalike.url;
      const host = endpoint.slice('http://'.length);
      const env = cliEnv(temp.home, {
        BROWSER: SCRIPTED_BROWSER,
        SCRIPTED_BROWSER_EMAIL: 'alice@example.com',
        HTTP_PROXY: tinyproxy.url,
      });
      const login = await runCli(
        ['api', 'login', '-e', endpoint, '--timeout', REAL_CLI_LOGIN_TIMEOUT_S, '--debug'],
        env,
      );
      expect(login.code).toBe(0);
      expect(login.stderr).toContain(`proxy: ${endpoint} via proxy ${tinyproxy.url} (HTTP_PROXY)`);
      const request = await runCli(['request', '/api/whoami?via=upper'], env);
      expect(request.code).toBe(0);
      expect(tinyproxy.requestsTo(host).some((line) => line.includes('via=upper'))).toBe(true);

      const cgi = await runCli(['request', '/api/whoami?via=cgi', '--debug'], {
        ...env,
        REQUEST_METHOD: 'GET',
      });
      expect(cgi.code).toBe(0);
      expect(cgi.stderr).toContain('proxy: HTTP_PROXY is ignored inside a CGI request');
      expect(tinyproxy.requestsTo(host).filter((line) => line.includes('via=cgi'))).toEqual([]);
    });
  });

  it("the local proxy's WebSocket upgrades to an http:// endpoint take a CONNECT tunnel (proxies drop Upgrade)", async () => {
    const server = http.createServer(tokenApi);
    const wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) =>
        ws.on('message', (data) => ws.send(`echo:${String(data)}`)),
      );
    });
    const api = await listen(server);
    try {
      const env = cliEnv(temp.home, { http_proxy: tinyproxy.url });
      const login = await runCli(['api', 'login', '-e', api.url, '--token-stdin'], env, TOKEN);
      expect(login.code).toBe(0);
      await withLocalProxy(api.url, env, async (url) => {
        const echo = await new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(`${url.replace('http:', 'ws:')}/ws`);
          ws.on('open', () => ws.send('ping'));
          ws.on('message', (data) => {
            resolve(String(data));
            ws.close();
          });
          ws.on('unexpected-response', (_request, response) =>
            reject(new Error(`upgrade answered ${response.statusCode ?? 0}`)),
          );
          ws.on('error', reject);
        });
        expect(echo).toBe('echo:ping');
      });
      expect(tinyproxy.log()).toContain(`GET ${api.url}/api/health HTTP/1.1`);
      expect(tinyproxy.log()).toContain(`CONNECT 127.0.0.1:${api.port} HTTP/1.1`);
    } finally {
      for (const client of wss.clients) client.terminate();
      await api.close();
    }
  });

  it('relay registration and polling go through the proxy', async () => {
    const api = await startDemoApi();
    const { app, upgrade } = createServeApp({ upstream: api.url });
    const serveServer = http.createServer(app);
    serveServer.on('upgrade', upgrade);
    const serve = await listen(serveServer);
    const lookalike = await startOAuth2ProxyLookalike({
      upstream: serve.url,
      skipAuthPaths: [/^\/cookie-bridge\/relay\//],
    });
    try {
      const endpoint = lookalike.url;
      const env = cliEnv(temp.home, { http_proxy: tinyproxy.url });
      const cli = startCli(
        ['api', 'login', '-e', endpoint, '--relay', '--no-browser', '--timeout', REAL_CLI_LOGIN_TIMEOUT_S],
        env,
      );
      const [url] = await cli.waitForStderr(/http:\/\/\S+\/token\?\S+/);
      const [, code] = await cli.waitForStderr(/Confirmation code: ([0-9A-Z]{4}-[0-9A-Z]{4})/);
      await execFileAsync(process.execPath, [SCRIPTED_BROWSER_JS, url!], {
        env: {
          PATH: process.env.PATH,
          SCRIPTED_BROWSER_MODE: 'relay-confirm',
          SCRIPTED_BROWSER_CODE: code!,
          SCRIPTED_BROWSER_EMAIL: 'carol@example.com',
        },
      });
      const result = await cli.result;
      expect(result.stderr).toContain(`Logged in to ${endpoint} as carol@example.com`);
      expect(result.code).toBe(0);
      const log = tinyproxy.log();
      expect(log).toContain(`POST ${endpoint}/cookie-bridge/relay/register HTTP/1.1`);
      expect(log).toContain(`POST ${endpoint}/cookie-bridge/relay/claim HTTP/1.1`);
    } finally {
      await lookalike.close();
      await serve.close();
      await api.close();
    }
  });

  describe('https:// through HTTPS_PROXY (CONNECT), with a private CA', () => {
    let ca: TestCa;
    let api: Awaited<ReturnType<typeof listen>>;
    beforeAll(async () => {
      ca = createTestCa('forward-proxy-ca');
      const { certFile, keyFile } = ca.issue({ names: ['127.0.0.1'] });
      api = await listen(
        https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, tokenApi),
      );
    });
    afterAll(async () => {
      await api?.close();
      ca?.remove();
    });

    const envFor = (home: string, extra: Record<string, string>): NodeJS.ProcessEnv =>
      cliEnv(home, { NODE_EXTRA_CA_CERTS: ca.caFile, ...extra });

    it('login, request and the local proxy tunnel to the endpoint: the proxy log shows CONNECT', async () => {
      const env = envFor(temp.home, { HTTPS_PROXY: tinyproxy.url });
      const connects = (): number =>
        tinyproxy.requestsTo(`127.0.0.1:${api.port}`).filter((line) => line.includes('CONNECT')).length;
      const login = await runCli(['api', 'login', '-e', api.url, '--token-stdin', '--debug'], env, TOKEN);
      expect(login.stderr).toContain(`Logged in to ${api.url} as robot@example.com`);
      expect(login.code).toBe(0);
      expect(login.stderr).toContain(`proxy: ${api.url} via proxy ${tinyproxy.url} (HTTPS_PROXY)`);
      expect(tinyproxy.log()).toContain(`CONNECT 127.0.0.1:${api.port} HTTP/1.1`);

      const before = connects();
      const request = await runCli(['request', '/api/items'], env);
      expect(request.code).toBe(0);
      expect(JSON.parse(request.stdout)).toMatchObject({ user: 'robot@example.com', path: '/api/items' });
      expect(connects()).toBe(before + 1);

      await withLocalProxy(api.url, env, async (url) => {
        const forwarded = await get(`${url}/api/through-local-proxy`);
        expect(forwarded.status).toBe(200);
        expect(JSON.parse(forwarded.body)).toMatchObject({ path: '/api/through-local-proxy' });
      });
      expect(connects()).toBe(before + 2);
    });

    it('--cacert reaches the endpoint inside the tunnel: stored at login, used by request and the local proxy', async () => {
      const env = cliEnv(temp.home, { HTTPS_PROXY: tinyproxy.url });
      const connects = (): number =>
        tinyproxy.requestsTo(`127.0.0.1:${api.port}`).filter((line) => line.includes('CONNECT')).length;
      const before = connects();
      // Without the CA: the endpoint's certificate is refused inside the tunnel (E_TLS, not a proxy error).
      const untrusted = await runCli(['api', 'login', '-e', api.url, '--token-stdin', '--json'], env, TOKEN);
      expect(untrusted.code).toBe(9);
      expect(JSON.parse(untrusted.stdout)).toMatchObject({ error: { code: 'E_TLS' } });

      const login = await runCli(
        ['api', 'login', '-e', api.url, '--cacert', ca.caFile, '--token-stdin'],
        env,
        TOKEN,
      );
      expect(login.stderr).toContain(`Logged in to ${api.url} as robot@example.com`);
      expect(login.code).toBe(0);
      const request = await runCli(['request', '/api/stored-ca'], env);
      expect(request.code).toBe(0);
      expect(JSON.parse(request.stdout)).toMatchObject({ path: '/api/stored-ca' });
      await withLocalProxy(api.url, env, async (url) => {
        const forwarded = await get(`${url}/api/stored-ca-local-proxy`);
        expect(forwarded.status).toBe(200);
      });
      // untrusted, login (detection and verification), request, local proxy: all tunnelled
      expect(connects()).toBeGreaterThanOrEqual(before + 4);
    });

    it('NO_PROXY by host:port goes direct', async () => {
      const env = envFor(temp.home, { HTTPS_PROXY: tinyproxy.url, no_proxy: `127.0.0.1:${api.port}` });
      const before = tinyproxy.requestsTo(`127.0.0.1:${api.port}`).length;
      const login = await runCli(['api', 'login', '-e', api.url, '--token-stdin', '--debug'], env, TOKEN);
      expect(login.code).toBe(0);
      expect(login.stderr).toContain(`proxy: ${api.url} direct (no_proxy)`);
      expect(tinyproxy.requestsTo(`127.0.0.1:${api.port}`).length).toBe(before);
    });

    it('a proxy that is down: E_PROXY_UNREACHABLE (exit 5) naming the proxy, never its password', async () => {
      const down = await findFreePort();
      const env = envFor(temp.home, { HTTPS_PROXY: `http://alice:${PROXY_PASSWORD}@127.0.0.1:${down}` });
      const run = await runCli(
        ['api', 'login', '-e', api.url, '--token-stdin', '--json', '--debug'],
        env,
        TOKEN,
      );
      expect(run.code).toBe(5);
      expect(JSON.parse(run.stdout)).toMatchObject({
        ok: false,
        error: {
          code: 'E_PROXY_UNREACHABLE',
          message: `cannot reach ${api.url} through the proxy http://127.0.0.1:${down} (HTTPS_PROXY): connection refused (is the proxy running?)`,
          hint: expect.stringContaining('NO_PROXY') as unknown,
        },
      });
      expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);

      // The local proxy answers 502 naming the proxy (its upstream pool maps the failure the same way).
      const localProxyLog = await withLocalProxy(
        api.url,
        { ...env, COOKIE_BRIDGE_TOKEN: TOKEN },
        async (url) => {
          const answer = await get(`${url}/api/items`);
          expect(answer.status).toBe(502);
          expect(JSON.parse(answer.body)).toEqual({
            error: 'bad_gateway',
            message: `cannot reach ${api.url} through the proxy http://127.0.0.1:${down} (HTTPS_PROXY): connection refused (is the proxy running?)`,
          });
        },
      );
      expect(localProxyLog).not.toContain(PROXY_PASSWORD);
    });

    it('a proxy that refuses the CONNECT: E_PROXY_REFUSED (exit 5) with its status', async () => {
      const strict = await startTinyproxy({ connectPorts: [443] });
      try {
        const env = envFor(temp.home, { https_proxy: strict.url });
        const run = await runCli(['api', 'login', '-e', api.url, '--token-stdin'], env, TOKEN);
        expect(run.code).toBe(5);
        expect(run.stderr).toContain(
          `the proxy ${strict.url} (https_proxy) answered 403 to CONNECT 127.0.0.1:${api.port}`,
        );
        expect(run.stderr).toMatch(/hint: .*NO_PROXY/);
        expect(strict.log()).toContain(`CONNECT 127.0.0.1:${api.port}`);
      } finally {
        await strict.stop();
      }
    });

    it('a proxy with Basic credentials: they work, a missing one is a 407 hint, and the password is never shown', async () => {
      const guarded = await startTinyproxy({ basicAuth: { user: 'alice', password: PROXY_PASSWORD } });
      try {
        const withoutCredentials = await runCli(
          ['api', 'login', '-e', api.url, '--token-stdin'],
          envFor(temp.home, { HTTPS_PROXY: guarded.url }),
          TOKEN,
        );
        expect(withoutCredentials.code).toBe(5);
        expect(withoutCredentials.stderr).toContain(`the proxy ${guarded.url} (HTTPS_PROXY) answered 407`);
        expect(withoutCredentials.stderr).toContain('USER:PASSWORD@');

        const proxyUrl = `http://alice:${PROXY_PASSWORD}@127.0.0.1:${guarded.port}`;
        const env = envFor(temp.home, { HTTPS_PROXY: proxyUrl });
        const login = await runCli(['api', 'login', '-e', api.url, '--token-stdin', '--debug'], env, TOKEN);
        expect(login.code).toBe(0);
        expect(login.stderr).toContain(`via proxy ${guarded.url} (HTTPS_PROXY)`);
        const request = await runCli(['request', '/api/secret-proxy', '--debug'], env);
        expect(request.code).toBe(0);
        expect(guarded.log()).toContain(`CONNECT 127.0.0.1:${api.port}`);
        for (const run of [withoutCredentials, login, request]) {
          expect(run.stdout + run.stderr).not.toContain(PROXY_PASSWORD);
        }
      } finally {
        await guarded.stop();
      }
    });
  });
});
