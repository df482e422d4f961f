/**
 * `cookie-bridge serve` and relay login, as users run them: the built CLI as a child process, the
 * oauth2-proxy look-alike (relay prefix exempt) in front of createServeApp in front of the demo API, and a
 * scripted browser that confirms on the /token page.
 */
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import { createServeApp } from '../../src/server/create-serve-app';
import { cliEnv, makeTempHome, runCli, startCli, REPO_ROOT } from '../kit/cli-runner';
import { rawRequest } from '../kit/hostile-kit';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';

const execFileAsync = promisify(execFile);
const SCRIPTED_BROWSER_JS = path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js');

interface Stack {
  api: RunningDemoApi;
  serve: { url: string; close(): Promise<void> };
  proxy: OAuth2ProxyLookalike;
}

async function startStack(): Promise<Stack> {
  const api = await startDemoApi();
  const { app, upgrade } = createServeApp({ upstream: api.url });
  const server = http.createServer(app);
  server.on('upgrade', upgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const serveUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const proxy = await startOAuth2ProxyLookalike({
    upstream: serveUrl,
    skipAuthPaths: [/^\/cookie-bridge\/relay\//],
  });
  return {
    api,
    proxy,
    serve: {
      url: serveUrl,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    },
  };
}

describe('relay login through cookie-bridge serve behind the oauth2-proxy look-alike', () => {
  let stack: Stack;
  let temp: ReturnType<typeof makeTempHome>;

  beforeEach(async () => {
    temp = makeTempHome();
    stack = await startStack();
  });
  afterEach(async () => {
    await stack.proxy.close();
    await stack.serve.close();
    await stack.api.close();
    temp.cleanup();
  });

  it("--relay: the person types the terminal's code on the page, the CLI claims the sign-in and replays it", async () => {
    const endpoint = stack.proxy.url;
    const env = cliEnv(temp.home);
    const cli = startCli(
      ['api', 'login', '-e', endpoint, '--relay', '--no-browser', '--timeout', '60', '--json'],
      env,
    );
    const [url] = await cli.waitForStderr(/http:\/\/\S+\/token\?\S+/);
    const [, code] = await cli.waitForStderr(/Confirmation code: ([0-9A-Z]{4}-[0-9A-Z]{4})/);
    // No loopback listener: the URL carries the login state (echoed in the relayed bundle) and the challenge.
    expect(url).toMatch(new RegExp(`^${endpoint}/token\\?state=[A-Za-z0-9_-]{43}&relay=[A-Za-z0-9_-]{43}$`));

    // A wrong code typed on the page does not confirm.
    await expect(
      execFileAsync(process.execPath, [SCRIPTED_BROWSER_JS, url!], {
        env: {
          ...process.env,
          SCRIPTED_BROWSER_MODE: 'relay-confirm',
          SCRIPTED_BROWSER_CODE: code === 'AAAA-AAAA' ? 'BBBB-BBBB' : 'AAAA-AAAA',
        },
      }),
    ).rejects.toMatchObject({ stderr: expect.stringContaining('answered 403: not confirmed') as unknown });

    // The code the terminal shows, typed the forgiving way (lower case, no dash).
    await execFileAsync(process.execPath, [SCRIPTED_BROWSER_JS, url!], {
      env: {
        ...process.env,
        SCRIPTED_BROWSER_MODE: 'relay-confirm',
        SCRIPTED_BROWSER_CODE: code!.replace('-', '').toLowerCase(),
        SCRIPTED_BROWSER_EMAIL: 'carol@example.com',
      },
    });

    const result = await cli.result;
    expect(result.stderr).toContain(`Logged in to ${endpoint} as carol@example.com`);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      method: 'cookies',
      via: 'relay',
      identity: 'carol@example.com',
    });

    const whoami = await runCli(['request', '/api/whoami'], env);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ user: 'carol@example.com' });
  });

  it('without --relay the URL offers both; the loopback hand-off still wins when the browser can reach it', async () => {
    const endpoint = stack.proxy.url;
    const env = cliEnv(temp.home, { BROWSER: `${process.execPath} ${SCRIPTED_BROWSER_JS}` });
    const login = await runCli(['api', 'login', '-e', endpoint, '--timeout', '60', '--json'], env);
    expect(login.code).toBe(0);
    expect(login.stderr).toMatch(
      new RegExp(`${endpoint}/token\\?local_port=\\d+&state=[A-Za-z0-9_-]{43}&relay=[A-Za-z0-9_-]{43}`),
    );
    expect(login.stderr).toMatch(/Confirmation code: [0-9A-Z]{4}-[0-9A-Z]{4}/);
    expect(JSON.parse(login.stdout)).toMatchObject({ via: 'browser', identity: 'alice@example.com' });
  });

  it('--relay against a server without the relay fails at once with a hint', async () => {
    const env = cliEnv(temp.home);
    const result = await runCli(
      ['api', 'login', '-e', stack.api.url, '--cookies', '--relay', '--no-browser'],
      env,
    );
    expect(result.code).toBe(6);
    expect(result.stderr).toContain('does not offer relay login');
    expect(result.stderr).toContain('hint: run cookie-bridge serve');
  });
});

describe('cookie-bridge serve as a child process', () => {
  let api: RunningDemoApi;
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    api = await startDemoApi();
    temp = makeTempHome();
  });
  afterAll(async () => {
    await api.close();
    temp.cleanup();
  });

  it('listens on a free port with --port 0, serves /token and the relay, proxies the rest, stops on SIGTERM', async () => {
    const cli = startCli(['serve', '--upstream', api.url, '--port', '0'], cliEnv(temp.home));
    const [, base] = await cli.waitForStderr(
      /cookie-bridge serve: listening on (http:\/\/127\.0\.0\.1:\d+) → upstream (\S+)/,
    );
    expect(cli.stderrSoFar()).toContain(`→ upstream ${api.url}`);
    expect(base).not.toMatch(/:0$/);

    // A plain client (no fetch metadata): fetch() would send Sec-Fetch-Mode: cors, which /token refuses.
    const token = await rawRequest(Number(new URL(base!).port), {
      path: '/token',
      headers: { cookie: '_oauth2_proxy=abc', 'x-auth-request-email': 'e@x.y' },
    });
    expect(token.status).toBe(200);
    expect('body' in token ? token.body : '').toContain('<textarea id="bundle"');
    const scripted = await fetch(`${base}/token`, { headers: { cookie: '_oauth2_proxy=abc' } });
    expect(scripted.status).toBe(403);
    const items = await fetch(`${base}/api/items`);
    expect(((await items.json()) as { items: unknown[] }).items).toHaveLength(3);
    expect(await (await fetch(`${base}/cookie-bridge/relay/info`)).json()).toEqual({ relay: 1 });

    cli.child.kill('SIGTERM');
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
  });

  it('--session-cookie names the proxy cookie the /token bundle carries; a bad name is a usage error', async () => {
    const cli = startCli(
      ['serve', '--upstream', api.url, '--port', '0', '--session-cookie', 'my_sso'],
      cliEnv(temp.home),
    );
    const [, port] = await cli.waitForStderr(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    const token = await rawRequest(Number(port), {
      path: '/token',
      headers: { cookie: 'my_sso=s1; my_sso_1=s2; theme=dark' },
    });
    cli.child.kill('SIGTERM');
    const page = 'body' in token ? token.body : '';
    const bundle = /<textarea id="bundle"[^>]*>([^<]*)<\/textarea>/.exec(page)?.[1] ?? '';
    expect(decodeCookieBundle(bundle).cookies.map((cookie) => cookie.name)).toEqual(['my_sso', 'my_sso_1']);
    expect((await cli.result).code).toBe(0);

    const bad = await runCli(
      ['serve', '--upstream', api.url, '--session-cookie', 'no;good'],
      cliEnv(temp.home),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--session-cookie is not a cookie name');
  });

  it('turns a port in use into exit code 8', async () => {
    const result = await runCli(
      ['serve', '--upstream', api.url, '--port', String(api.port)],
      cliEnv(temp.home),
    );
    expect(result.code).toBe(8);
    expect(result.stderr).toContain(`port ${api.port} on 127.0.0.1 is already in use`);
  });

  it('refuses an upstream that is not an http(s) URL (usage, exit 2)', async () => {
    const result = await runCli(['serve', '--upstream', 'ftp://x'], cliEnv(temp.home));
    expect(result.code).toBe(2);
  });
});
