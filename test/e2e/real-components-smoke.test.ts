// Proves the real-component kit works on its own (no cookie-bridge code involved): a real OpenID provider,
// Apache + mod_auth_openidc, nginx + auth_request + the oauth2-proxy look-alike, and headless Chromium.
//
// `.ci/run` must install the Debian packages first:
//   apt-get update && apt-get install -y chromium apache2 libapache2-mod-auth-openidc nginx
// With CI=true a missing one fails this suite; elsewhere it is skipped with a loud warning.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import {
  apacheOidcRedirectUri,
  CHROMIUM_DRIVER_KILL_MS,
  findFreePort,
  HTTP_REQUEST_TIMEOUT_MS,
  realComponentsAvailable,
  REAL_SETUP_TIMEOUT_MS,
  runChromiumBrowser,
  startApacheOidcProxy,
  startNginxAuthRequest,
  startOidcProvider,
  tail,
  type RunningComponent,
  type RunningOidcProvider,
} from '../kit/real-components';
import { processesWithSecretInArgv } from '../kit/process-argv';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const SETUP_TIMEOUT_MS = REAL_SETUP_TIMEOUT_MS;

interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  cookieNames: string[];
}

/** The protected app: echoes what reached it as JSON, and serves a minimal /token page. */
async function startEchoUpstream(): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const cookieNames = (req.headers.cookie ?? '')
      .split(';')
      .map((part) => part.split('=')[0]?.trim() ?? '')
      .filter((name) => name !== '');
    const entry = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, cookieNames };
    seen.push(entry);
    if ((req.url ?? '').startsWith('/token')) {
      // With local_port, hand the "bundle" to the loopback listener by a top-level form POST, as the real page does.
      const query = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
      const localPort = Number(query.get('local_port'));
      const handoff =
        Number.isInteger(localPort) && localPort > 0
          ? `<form id="handoff" method="post" action="http://127.0.0.1:${localPort}/callback">` +
            `<input type="hidden" name="bundle" value="x"><input type="hidden" name="state" value="${encodeURIComponent(query.get('state') ?? '')}">` +
            '</form><script>document.getElementById("handoff").submit()</script>'
          : '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!DOCTYPE html><title>token</title><textarea id="bundle">x</textarea>${handoff}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(entry));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A plain node:http GET (no fetch: Node's fetch always sends Sec-Fetch-Mode: cors). */
function get(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, timeout: HTTP_REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const location = res.headers.location;
        resolve({ status: res.statusCode ?? 0, body, ...(location === undefined ? {} : { location }) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`timeout for ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function logsOf(components: Array<{ name: string; component: RunningComponent | undefined }>): string {
  return components
    .filter((entry) => entry.component !== undefined)
    .map((entry) => `===== ${entry.name} =====\n${tail(entry.component?.logs() ?? '', 60)}`)
    .join('\n');
}

describeReal('real components on loopback', () => {
  let upstream: Awaited<ReturnType<typeof startEchoUpstream>>;
  let workDir: string;

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    workDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-smoke-'));
  });

  afterAll(async () => {
    await upstream?.close();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  describe('oidc-provider + Apache mod_auth_openidc', () => {
    let provider: RunningOidcProvider | undefined;
    let apache: RunningComponent | undefined;

    const clientSecret = randomBytes(16).toString('hex');

    beforeAll(async () => {
      const port = await findFreePort();
      const clientId = 'cookie-bridge-smoke';
      provider = await startOidcProvider({
        clients: [
          { client_id: clientId, client_secret: clientSecret, redirect_uris: [apacheOidcRedirectUri(port)] },
        ],
      });
      apache = await startApacheOidcProxy({
        issuer: provider.issuer,
        clientId,
        clientSecret,
        upstream: upstream.url,
        port,
        exemptPaths: ['/api/health', '/relay/'],
      });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await apache?.stop();
      await provider?.stop();
    }, SETUP_TIMEOUT_MS);

    const logs = (): string =>
      logsOf([
        { name: 'apache2', component: apache },
        { name: 'oidc-provider', component: provider },
      ]);

    it('keeps the client secret off every command line (the provider reads it from its environment)', () => {
      expect(provider?.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(processesWithSecretInArgv(clientSecret)).toEqual([]);
    });

    it('answers a non-browser request without a session with 401', async () => {
      const response = await get(`${apache?.url}/api/whoami`, { accept: 'application/json' });
      expect({ status: response.status, logs: response.status === 401 ? '' : logs() }).toEqual({
        status: 401,
        logs: '',
      });
    });

    it("redirects a browser-like request without a session to the provider's authorization endpoint", async () => {
      const response = await get(`${apache?.url}/api/whoami`, { accept: '*/*' });
      expect(response.status).toBe(302);
      expect(response.location).toMatch(new RegExp(`^${provider?.issuer}/auth\\?`));
      const location = new URL(response.location ?? '');
      expect(location.searchParams.get('redirect_uri')).toBe(apacheOidcRedirectUri(apache?.port ?? 0));
      expect(location.searchParams.get('client_id')).toBe('cookie-bridge-smoke');
    });

    it('lets exempted paths through without a session, and without a client-supplied identity', async () => {
      const before = upstream.seen.length;
      const response = await get(`${apache?.url}/api/health`, {
        accept: 'application/json',
        'x-auth-request-email': 'mallory@example.com',
      });
      expect(response.status).toBe(200);
      const seen = upstream.seen.slice(before).find((entry) => entry.path === '/api/health');
      expect(seen).toBeDefined();
      expect(seen?.headers['x-auth-request-email']).toBeUndefined();
      const relay = await get(`${apache?.url}/relay/abc`, { accept: 'application/json' });
      expect(relay.status).toBe(200);
    });

    it(
      'signs in with chromium and passes the identity and the session cookie upstream',
      async () => {
        const out = join(workDir, 'apache-bundle.txt');
        const before = upstream.seen.length;
        const result = await runChromiumBrowser(`${apache?.url}/token?state=smoke`, {
          CHROMIUM_BROWSER_WAIT_FOR: 'token-page',
          CHROMIUM_BROWSER_OUT: out,
          CHROMIUM_BROWSER_LOGIN: 'alice',
          CHROMIUM_BROWSER_SCREENSHOT: join(workDir, 'apache-failure.png'),
        });
        if (result.code !== 0)
          throw new Error(`chromium-browser exited ${result.code}: ${result.stderr}\n${logs()}`);
        expect(readFileSync(out, 'utf8').trim()).toBe('x');
        const tokenRequest = upstream.seen.slice(before).find((entry) => entry.path.startsWith('/token'));
        expect(tokenRequest?.headers['x-auth-request-email']).toBe('alice@example.com');
        expect(tokenRequest?.cookieNames).toContain('mod_auth_openidc_session');
      },
      CHROMIUM_DRIVER_KILL_MS,
    );
  });

  it(
    'drives chromium to the loopback listener when the /token page hands off (CHROMIUM_BROWSER_WAIT_FOR=handoff)',
    async () => {
      const received: string[] = [];
      const listener = createServer((req, res) => {
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (body += chunk));
        req.on('end', () => {
          received.push(`${req.method} ${req.url} ${body}`);
          res.writeHead(200, { 'content-type': 'text/html' });
          // An empty icon: without one Chromium may ask this server for /favicon.ico before it exits (seen
          // once under load), and the hand-off is to be the only request.
          res.end(
            '<!DOCTYPE html><link rel="icon" href="data:,"><p id="done">Logged in. You can close this window.</p>',
          );
        });
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = listener.address() as AddressInfo;
        // The page is served straight by the upstream here: no sign-in in between, only the hand-off is tested.
        const result = await runChromiumBrowser(`${upstream.url}/token?local_port=${port}&state=s1`);
        if (result.code !== 0) throw new Error(`chromium-browser exited ${result.code}: ${result.stderr}`);
        expect(received).toEqual(['POST /callback bundle=x&state=s1']);
      } finally {
        await new Promise<void>((resolve) => {
          listener.close(() => resolve());
          listener.closeAllConnections();
        });
      }
    },
    CHROMIUM_DRIVER_KILL_MS,
  );

  describe('nginx auth_request + oauth2-proxy look-alike', () => {
    let lookalike: OAuth2ProxyLookalike | undefined;
    let nginx: RunningComponent | undefined;

    beforeAll(async () => {
      lookalike = await startOAuth2ProxyLookalike({ upstream: upstream.url });
      nginx = await startNginxAuthRequest({
        oauth2ProxyUrl: lookalike.url,
        upstream: upstream.url,
        exemptPaths: ['/api/health'],
      });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await nginx?.stop();
      await lookalike?.close();
    }, SETUP_TIMEOUT_MS);

    const logs = (): string => logsOf([{ name: 'nginx', component: nginx }]);

    it('sends a request without a session to sign in, keeping its whole query, and lets exempted paths through', async () => {
      const response = await get(`${nginx?.url}/api/whoami?local_port=1234&state=abc`, {
        accept: 'application/json',
      });
      expect(response.status).toBe(302);
      const location = new URL(response.location ?? '', nginx?.url);
      expect(location.pathname).toBe('/oauth2/sign_in');
      expect(location.searchParams.get('rd')).toBe('/api/whoami?local_port=1234&state=abc');
      const before = upstream.seen.length;
      const health = await get(`${nginx?.url}/api/health`, { 'x-auth-request-email': 'mallory@example.com' });
      expect(health.status).toBe(200);
      const seen = upstream.seen.slice(before).find((entry) => entry.path === '/api/health');
      expect(seen?.headers['x-auth-request-email']).toBeUndefined();
    });

    it(
      'signs in with chromium and passes the identity upstream',
      async () => {
        const before = upstream.seen.length;
        const result = await runChromiumBrowser(`${nginx?.url}/token?state=smoke`, {
          CHROMIUM_BROWSER_WAIT_FOR: 'token-page',
          CHROMIUM_BROWSER_LOGIN: 'bob',
          CHROMIUM_BROWSER_SCREENSHOT: join(workDir, 'nginx-failure.png'),
        });
        if (result.code !== 0)
          throw new Error(`chromium-browser exited ${result.code}: ${result.stderr}\n${logs()}`);
        const tokenRequest = upstream.seen.slice(before).find((entry) => entry.path.startsWith('/token'));
        expect(tokenRequest?.headers['x-auth-request-email']).toBe('bob@example.com');
        expect(tokenRequest?.cookieNames).toContain('_oauth2_proxy');
      },
      CHROMIUM_DRIVER_KILL_MS,
    );
  });
});
