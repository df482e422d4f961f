/**
 * The local forwarding proxy (createLocalForwardingProxy) against real throwaway servers on loopback:
 * the oauth2-proxy look-alike in front of the demo API (a real cookie session, signed in with node:http
 * and put into a FileCredentialStore in a temp home), and a small upstream of our own for WebSockets,
 * redirects and a response that waits for a signal half-way.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { WebSocket, WebSocketServer } from 'ws';
import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import type { BundleCookie } from '../../src/protocol/bundle-codec';
import { parseEndpoint } from '../../src/protocol/endpoint';
import { NotLoggedInError, PortInUseError } from '../../src/errors';
import {
  createLocalForwardingProxy,
  type LocalForwardingProxy,
  type LocalForwardingProxyOptions,
} from '../../src/local-proxy/local-forwarding-proxy';
import { makeTempHome } from '../kit/cli-runner';

const EMAIL = 'alice@example.com';
const JSON_ACCEPT = 'application/json';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

function send(
  port: number,
  path: string,
  options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Signs in to the look-alike as a browser would (start → callback with the CSRF cookie). */
async function signIn(lookalike: OAuth2ProxyLookalike): Promise<BundleCookie[]> {
  const start = await send(lookalike.port, '/oauth2/start?rd=%2F');
  const csrf = (start.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? '';
  const state = new URL(start.headers.location ?? '', lookalike.url).searchParams.get('state') ?? '';
  const form = new URLSearchParams({ rd: '/', state, email: EMAIL }).toString();
  const callback = await send(lookalike.port, '/oauth2/callback', {
    method: 'POST',
    headers: { cookie: csrf, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  });
  expect(callback.status).toBe(302);
  const cookies = (callback.headers['set-cookie'] ?? [])
    .map((line) => line.split(';')[0] ?? '')
    .map((pair) => ({ name: pair.slice(0, pair.indexOf('=')), value: pair.slice(pair.indexOf('=') + 1) }))
    .filter(
      (cookie) =>
        cookie.name.startsWith('_oauth2_proxy') && !cookie.name.endsWith('_csrf') && cookie.value !== '',
    );
  expect(cookies.length).toBeGreaterThan(0);
  return cookies;
}

async function saveCookieLogin(
  store: FileCredentialStore,
  endpoint: string,
  cookies: BundleCookie[],
): Promise<void> {
  await store.saveLogin(
    { endpoint, auth: { type: 'cookies' }, identity: EMAIL, loggedInAt: '2026-01-01T00:00:00.000Z' },
    cookies,
  );
}

async function sessionValue(store: FileCredentialStore, endpoint: string): Promise<string> {
  const cookies = await store.listCookies(endpoint);
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');
}

/** An upstream of our own: WebSockets, redirects, header echo and a response that waits half-way. */
interface TestUpstream {
  url: string;
  port: number;
  requests: number;
  upgrades: number;
  lastHeaders: http.IncomingHttpHeaders;
  /** The first half of /gated has been written; the rest waits for release(). */
  gated: { firstHalfSent: Promise<void>; release(): void; finished: boolean };
  close(): Promise<void>;
}

const GATED_HALF = 256 * 1024;

async function startTestUpstream(requiredCookie: string): Promise<TestUpstream> {
  let releaseGate: () => void = () => undefined;
  let firstHalfSent: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (releaseGate = resolve));
  const upstream: TestUpstream = {
    url: '',
    port: 0,
    requests: 0,
    upgrades: 0,
    lastHeaders: {},
    gated: {
      firstHalfSent: new Promise<void>((resolve) => (firstHalfSent = resolve)),
      release: () => releaseGate(),
      finished: false,
    },
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    upstream.requests++;
    upstream.lastHeaders = req.headers;
    if (req.url === '/redirect') {
      res.writeHead(302, { location: `${upstream.url}/landing?x=1` }).end();
    } else if (req.url === '/elsewhere') {
      res.writeHead(302, { location: 'http://example.invalid/away' }).end();
    } else if (req.url?.startsWith('/compressed/') === true) {
      // 401s as a compressing front server sends them: oauth2-proxy's `{}` for API calls, a sign-in page
      // behind the API's own Bearer challenge, and the API's own JSON error (which must pass).
      const [, , kind, coding] = req.url.split('/');
      const encode = coding === 'br' ? zlib.brotliCompressSync : zlib.gzipSync;
      const page = `<!DOCTYPE html><html><body><form action="/oauth2/sign_in">${'<p>Welcome</p>'.repeat(400)}</form></body></html>`;
      const [type, body, extra] =
        kind === 'proxy-json'
          ? ['application/json', '{}', {}]
          : kind === 'proxy-page'
            ? ['text/html', page, { 'www-authenticate': 'Bearer' }]
            : ['application/json', '{"error":"token_revoked"}', {}];
      res.writeHead(401, { 'content-type': type, 'content-encoding': coding ?? 'gzip', ...extra });
      res.end(encode(Buffer.from(body)));
    } else if (req.url === '/gated') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 2 * GATED_HALF });
      res.write(Buffer.alloc(GATED_HALF, 1), () => firstHalfSent());
      void gate.then(() => {
        res.end(Buffer.alloc(GATED_HALF, 2), () => (upstream.gated.finished = true));
      });
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'tracker=1; Path=/' });
      res.end(JSON.stringify({ path: req.url, sawCookie: req.headers.cookie === requiredCookie }));
    }
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    upstream.upgrades++;
    upstream.lastHeaders = req.headers;
    if (req.headers.cookie !== requiredCookie) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data) => ws.send(`echo:${String(data)}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream.port = (server.address() as AddressInfo).port;
  upstream.url = `http://127.0.0.1:${upstream.port}`;
  upstream.close = () =>
    new Promise<void>((resolve) => {
      releaseGate();
      for (const client of wss.clients) client.terminate();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return upstream;
}

/** Tries a WebSocket through the proxy: the echo on success, the status of the refusal otherwise. */
function tryWebSocket(
  port: number,
  headers: Record<string, string> = {},
): Promise<{ echo?: string; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers });
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (data) => {
      resolve({ echo: String(data) });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
      ws.terminate();
    });
    ws.on('error', (error) => reject(error));
  });
}

describe('local forwarding proxy in front of the oauth2-proxy look-alike', () => {
  let api: RunningDemoApi;
  let lookalike: OAuth2ProxyLookalike;
  let temp: ReturnType<typeof makeTempHome>;
  let store: FileCredentialStore;
  let proxy: LocalForwardingProxy | undefined;

  beforeEach(async () => {
    temp = makeTempHome();
    store = new FileCredentialStore({ home: temp.home });
    api = await startDemoApi();
    lookalike = await startOAuth2ProxyLookalike({ upstream: api.url, rotateOnEveryResponse: true });
    await saveCookieLogin(store, lookalike.url, await signIn(lookalike));
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await lookalike.close();
    await api.close();
    temp.cleanup();
  });

  async function startProxy(extra: Partial<LocalForwardingProxyOptions> = {}): Promise<number> {
    proxy = await createLocalForwardingProxy({ endpoint: lookalike.url, store, env: {}, ...extra });
    return (await proxy.listen(0)).port;
  }

  it('adds the stored session: the API sees the identity; the client never gets a cookie', async () => {
    const port = await startProxy();
    expect(proxy!.identity).toBe(EMAIL);
    expect(proxy!.credentialSource).toBe('cookie-jar');
    const whoami = await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT } });
    expect(whoami.status).toBe(200);
    expect(JSON.parse(whoami.text)).toEqual({ user: EMAIL });
    expect(whoami.headers['set-cookie']).toBeUndefined();

    const session = await sessionValue(store, lookalike.url);
    const echo = await send(port, '/api/echo?x=1', {
      headers: { accept: JSON_ACCEPT, cookie: 'mine=1', authorization: 'Bearer client-token' },
    });
    expect(echo.status).toBe(200);
    const body = JSON.parse(echo.text) as {
      cookieNames: string[];
      headers: Record<string, string>;
      query: unknown;
    };
    // the client's own Cookie and Authorization were replaced by the stored credential
    expect(body.cookieNames).not.toContain('mine');
    expect(body.cookieNames.every((name) => name.startsWith('_oauth2_proxy'))).toBe(true);
    expect(body.headers.authorization).toBeUndefined();
    expect(body.query).toEqual({ x: '1' });
    expect(echo.headers['set-cookie']).toBeUndefined();
    for (const pair of session.split('; '))
      expect(echo.text).not.toContain(pair.slice(pair.indexOf('=') + 1));
  });

  it('saves rotated session cookies to the jar and uses them next', async () => {
    const port = await startProxy();
    const before = await sessionValue(store, lookalike.url);
    const first = await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT } });
    expect(first.status).toBe(200);
    const after = await sessionValue(store, lookalike.url);
    expect(after).not.toBe(before);
    const second = await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT } });
    expect(JSON.parse(second.text)).toEqual({ user: EMAIL });
    expect(second.headers['set-cookie']).toBeUndefined();
    const latest = await sessionValue(store, lookalike.url);
    expect(latest).not.toBe(after);
    expect(latest).not.toBe(before);
  });

  it('sees a login written by another process (the jar file changed)', async () => {
    const port = await startProxy();
    expect((await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT } })).status).toBe(200);
    lookalike.expireAllSessions();
    // another process (here: another store object on the same home) logs in again
    await saveCookieLogin(
      new FileCredentialStore({ home: temp.home }),
      lookalike.url,
      await signIn(lookalike),
    );
    const whoami = await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT } });
    expect(whoami.status).toBe(200);
    expect(JSON.parse(whoami.text)).toEqual({ user: EMAIL });
  });

  it("re-reads the jar by the store's change signal (CredentialStore.jarVersion / jarVersionSync)", async () => {
    const asked: string[] = [];
    let checks = 0;
    const watched = Object.create(store, {
      jarVersion: {
        value: (endpoint: string) => {
          asked.push(endpoint);
          const version = store.jarVersion(endpoint);
          return async () => {
            checks += 1;
            return version();
          };
        },
      },
      // the synchronous twin, which the proxy prefers (one stat per request, no await)
      jarVersionSync: {
        value: (endpoint: string) => {
          asked.push(endpoint);
          const version = store.jarVersionSync(endpoint);
          return () => {
            checks += 1;
            return version();
          };
        },
      },
    }) as FileCredentialStore;
    const port = await startProxy({ store: watched });
    expect(asked).toEqual([parseEndpoint(lookalike.url).url, parseEndpoint(lookalike.url).url]);
    expect((await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT } })).status).toBe(200);
    expect(checks).toBeGreaterThan(0);
  });

  it('answers 401 session_expired when the session is gone (JSON and browser-style requests)', async () => {
    const port = await startProxy();
    lookalike.expireAllSessions();
    for (const accept of [JSON_ACCEPT, 'text/html,*/*', '*/*']) {
      const reply = await send(port, '/api/whoami', { headers: { accept } });
      expect(reply.status).toBe(401);
      expect(reply.headers.location).toBeUndefined();
      expect(reply.headers['set-cookie']).toBeUndefined();
      expect(JSON.parse(reply.text)).toEqual({
        error: 'session_expired',
        message: `session expired: run cookie-bridge api login -e ${lookalike.url}`,
      });
    }
  });

  it('refuses other Host names, other origins and cross-site requests without forwarding them', async () => {
    const port = await startProxy();
    const proxiedBefore = lookalike.stats.proxied;
    const refusals: Array<[http.OutgoingHttpHeaders, number]> = [
      [{ host: `evil.example:${port}` }, 421],
      [{ host: `127.0.0.1:${port + 1}` }, 421],
      [{ origin: 'http://evil.example' }, 403],
      [{ origin: 'null' }, 403],
      [{ origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' }, 403],
      [{ 'sec-fetch-site': 'same-site' }, 403],
    ];
    for (const [headers, status] of refusals) {
      const reply = await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT, ...headers } });
      expect({ headers, status: reply.status }).toEqual({ headers, status });
    }
    expect(lookalike.stats.proxied).toBe(proxiedBefore);
    // the proxy's own origin, localhost and same-origin fetches are fine
    for (const headers of [
      { origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' },
      { host: `localhost:${port}` },
      { 'sec-fetch-site': 'none' },
    ]) {
      expect((await send(port, '/api/whoami', { headers: { accept: JSON_ACCEPT, ...headers } })).status).toBe(
        200,
      );
    }
    expect(lookalike.stats.proxied).toBe(proxiedBefore + 3);
  });

  it('with a secret: missing → 401, wrong → 403, right → 200, and the header is not forwarded', async () => {
    const secret = 'per-run-secret-8c1f0b6a2d';
    const port = await startProxy({ secret });
    const proxiedBefore = lookalike.stats.proxied;
    expect((await send(port, '/api/echo', { headers: { accept: JSON_ACCEPT } })).status).toBe(401);
    const wrong = await send(port, '/api/echo', {
      headers: { accept: JSON_ACCEPT, 'x-cookie-bridge-secret': 'nope' },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.text).not.toContain(secret);
    expect(lookalike.stats.proxied).toBe(proxiedBefore);
    const right = await send(port, '/api/echo', {
      headers: { accept: JSON_ACCEPT, 'x-cookie-bridge-secret': secret },
    });
    expect(right.status).toBe(200);
    const echoed = JSON.parse(right.text) as { headers: Record<string, string> };
    expect(Object.keys(echoed.headers)).not.toContain('x-cookie-bridge-secret');
    expect(echoed.headers['x-auth-request-email']).toBe(EMAIL);
  });

  it('streams a 256 MiB body without holding it in memory', async () => {
    const port = await startProxy();
    const size = 256 * 1024 * 1024;
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    let received = 0;
    let chunks = 0;
    let patternOk = true;
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: `/api/bytes?size=${size}`, agent: false },
        (res) => {
          res.on('data', (chunk: Buffer) => {
            if (chunk[0] !== received % 256) patternOk = false;
            received += chunk.length;
            if (++chunks % 256 === 0) peak = Math.max(peak, process.memoryUsage().rss);
          });
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
    expect(status).toBe(200);
    expect(received).toBe(size);
    expect(patternOk).toBe(true);
    // three servers and the client share this process; buffering the body anywhere would add ≥ 256 MiB
    expect(peak - baseline).toBeLessThan(size / 2);
  });

  it('refuses to start without a login, and reports a taken port', async () => {
    await expect(
      createLocalForwardingProxy({ endpoint: 'http://127.0.0.1:9/none', store, env: {} }),
    ).rejects.toBeInstanceOf(NotLoggedInError);
    const port = await startProxy();
    const second = await createLocalForwardingProxy({ endpoint: lookalike.url, store, env: {} });
    await expect(second.listen(port)).rejects.toBeInstanceOf(PortInUseError);
    await second.close();
  });
});

describe('local forwarding proxy: WebSockets, redirects, streaming, tokens, shutdown', () => {
  const COOKIE = 'session=3f2a9c8e1b7d4f60';
  let upstream: TestUpstream;
  let temp: ReturnType<typeof makeTempHome>;
  let store: FileCredentialStore;
  let proxy: LocalForwardingProxy | undefined;

  beforeEach(async () => {
    temp = makeTempHome();
    store = new FileCredentialStore({ home: temp.home });
    upstream = await startTestUpstream(COOKIE);
    await saveCookieLogin(store, upstream.url, [{ name: 'session', value: '3f2a9c8e1b7d4f60' }]);
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
    await upstream.close();
    temp.cleanup();
  });

  async function startProxy(extra: Partial<LocalForwardingProxyOptions> = {}): Promise<number> {
    proxy = await createLocalForwardingProxy({ endpoint: upstream.url, store, env: {}, ...extra });
    return (await proxy.listen(0)).port;
  }

  it('passes WebSocket upgrades with the credential', async () => {
    const port = await startProxy();
    expect(await tryWebSocket(port, { cookie: 'mine=1' })).toEqual({ echo: 'echo:ping' });
    expect(upstream.upgrades).toBe(1);
    expect(upstream.lastHeaders.cookie).toBe(COOKIE);
  });

  it('refuses WebSocket upgrades from other hosts, origins and sites, and without the secret', async () => {
    const secret = 'ws-secret-41d9e0';
    const port = await startProxy({ secret });
    const ok = { 'x-cookie-bridge-secret': secret };
    expect(await tryWebSocket(port, { ...ok, host: `evil.example:${port}` })).toEqual({ status: 421 });
    expect(await tryWebSocket(port, { ...ok, origin: 'http://evil.example' })).toEqual({ status: 403 });
    expect(await tryWebSocket(port, { ...ok, 'sec-fetch-site': 'cross-site' })).toEqual({ status: 403 });
    expect(await tryWebSocket(port)).toEqual({ status: 401 });
    expect(await tryWebSocket(port, { 'x-cookie-bridge-secret': 'wrong' })).toEqual({ status: 403 });
    expect(upstream.upgrades).toBe(0);
    expect(await tryWebSocket(port, { ...ok, origin: `http://127.0.0.1:${port}` })).toEqual({
      echo: 'echo:ping',
    });
    expect(upstream.upgrades).toBe(1);
    expect(upstream.lastHeaders['x-cookie-bridge-secret']).toBeUndefined();
    // the proxy's own origin is rewritten to the endpoint's
    expect(upstream.lastHeaders.origin).toBe(upstream.url);
  });

  it('answers an upgrade the upstream refuses for lack of a session with session_expired', async () => {
    const port = await startProxy();
    await store.saveLogin(
      { endpoint: upstream.url, auth: { type: 'cookies' }, loggedInAt: '2026-01-01T00:00:00.000Z' },
      [{ name: 'session', value: 'stale' }],
    );
    expect(await tryWebSocket(port)).toEqual({ status: 401 });
    expect(upstream.upgrades).toBe(1);
  });

  it('answers an upgrade whose upstream is down with 502, on the same pool as HTTP', async () => {
    const port = await startProxy();
    await upstream.close();
    expect(await tryWebSocket(port)).toEqual({ status: 502 });
    const response = await fetch(`http://127.0.0.1:${port}/anything`);
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: 'bad_gateway' });
  });

  it('decompresses the head of a gzip/br-encoded 401 for the session check, and passes the API error', async () => {
    const port = await startProxy();
    for (const path of [
      '/compressed/proxy-json/gzip',
      '/compressed/proxy-json/br',
      '/compressed/proxy-page/gzip',
      '/compressed/proxy-page/br',
    ]) {
      const reply = await send(port, path, { headers: { accept: JSON_ACCEPT } });
      expect({
        path,
        status: reply.status,
        error: (JSON.parse(reply.text) as { error?: string }).error,
      }).toEqual({ path, status: 401, error: 'session_expired' });
    }
    for (const coding of ['gzip', 'br']) {
      const own = await send(port, `/compressed/api-json/${coding}`, { headers: { accept: JSON_ACCEPT } });
      expect(own.status).toBe(401);
      expect(own.headers['content-encoding']).toBe(coding);
      const decoded = coding === 'br' ? zlib.brotliDecompressSync(own.body) : zlib.gunzipSync(own.body);
      expect(JSON.parse(decoded.toString('utf8'))).toEqual({ error: 'token_revoked' });
    }
  });

  it('rewrites redirects to the endpoint onto the proxy, and leaves other ones alone', async () => {
    const port = await startProxy();
    const redirect = await send(port, '/redirect');
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`http://127.0.0.1:${port}/landing?x=1`);
    const viaLocalhost = await send(port, '/redirect', { headers: { host: `localhost:${port}` } });
    expect(viaLocalhost.headers.location).toBe(`http://localhost:${port}/landing?x=1`);
    const elsewhere = await send(port, '/elsewhere');
    expect(elsewhere.headers.location).toBe('http://example.invalid/away');
    const plain = await send(port, '/plain');
    expect(JSON.parse(plain.text)).toEqual({ path: '/plain', sawCookie: true });
    expect(plain.headers['set-cookie']).toBeUndefined();
    // the upstream's own cookie went into the jar
    expect((await store.listCookies(upstream.url)).map((cookie) => cookie.name).sort()).toEqual([
      'session',
      'tracker',
    ]);
  });

  it('streams: the first bytes arrive while the upstream is still waiting to send the rest', async () => {
    const port = await startProxy();
    const result = await new Promise<{ early: number; total: number; upstreamFinishedEarly: boolean }>(
      (resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/gated', agent: false }, (res) => {
            let total = 0;
            let early = -1;
            let upstreamFinishedEarly = false;
            res.on('data', (chunk: Buffer) => {
              total += chunk.length;
              if (early === -1 && total >= GATED_HALF) {
                early = total;
                upstreamFinishedEarly = upstream.gated.finished;
                upstream.gated.release();
              }
            });
            res.on('end', () => resolve({ early, total, upstreamFinishedEarly }));
            res.on('error', reject);
          })
          .on('error', reject);
      },
    );
    expect(result.early).toBe(GATED_HALF);
    expect(result.upstreamFinishedEarly).toBe(false);
    expect(result.total).toBe(2 * GATED_HALF);
  });

  it('replaces the client Authorization with a stored token', async () => {
    await store.saveLogin({
      endpoint: upstream.url,
      auth: { type: 'token', token: 'tok-9a8b7c' },
      loggedInAt: 'x',
    });
    const port = await startProxy();
    await send(port, '/plain', { headers: { authorization: 'Bearer client' } });
    expect(upstream.lastHeaders.authorization).toBe('Bearer tok-9a8b7c');
    expect(upstream.lastHeaders.cookie).toBeUndefined();
  });

  it('close() cuts a response still streaming after the grace period and stops listening', async () => {
    const port = await startProxy({ shutdownGraceMs: 50 });
    const cut = new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/gated', agent: false }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve('ended'));
          res.on('error', () => resolve('cut'));
          res.on('aborted', () => resolve('cut'));
        })
        .on('error', () => resolve('cut'));
    });
    await upstream.gated.firstHalfSent;
    await proxy!.close();
    proxy = undefined;
    expect(await cut).toBe('cut');
    await expect(send(port, '/plain')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
