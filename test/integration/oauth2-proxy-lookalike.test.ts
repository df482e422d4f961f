import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodeCookieBundle, encodeCookieBundle } from '../../src/protocol/bundle-codec';
import { httpRequest, readResponseText } from '../../src/http/http-request';
import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';

const SCRIPTED_BROWSER = path.join(__dirname, '..', 'kit', 'scripted-browser.js');

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

async function send(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const response = await httpRequest(new URL(url), {
    method: init.method ?? 'GET',
    headers: init.headers ?? {},
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: response.status, headers: response.headers, text: await readResponseText(response) };
}

function setCookies(reply: Reply): string[] {
  return reply.headers['set-cookie'] ?? [];
}

/** "a=1; Path=/" lines → "a=1; b=2" (cleared cookies dropped). */
function cookieHeaderFrom(lines: string[]): string {
  return lines
    .map((line) => line.split(';')[0] ?? '')
    .filter((pair) => !pair.endsWith('='))
    .join('; ');
}

interface Upstream {
  url: string;
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

/** An upstream that echoes requests as JSON and serves a /token hand-off page like cookie-bridge's server. */
async function startUpstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const url = new URL(req.url ?? '/', 'http://upstream');
      if (url.pathname === '/api/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      } else if (url.pathname === '/token') {
        const cookies = (req.headers.cookie ?? '')
          .split(';')
          .map((part) => part.trim())
          .filter((part) => part.includes('='))
          .map((part) => ({
            name: part.slice(0, part.indexOf('=')),
            value: part.slice(part.indexOf('=') + 1),
          }));
        const state = url.searchParams.get('state') ?? '';
        const email = req.headers['x-auth-request-email'];
        const bundle = encodeCookieBundle({
          cookies,
          state,
          ...(typeof email === 'string' ? { user: email } : {}),
        });
        const port = url.searchParams.get('local_port') ?? '0';
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!DOCTYPE html><html><body>
<form id="handoff" method="post" action="http://127.0.0.1:${port}/callback">
  <input type="hidden" name="bundle" value="${bundle}">
  <input type="hidden" name="state" value="${state}">
  <input type="hidden" name="extra" value="a&amp;b&quot;c&#39;d&lt;">
  <button type="submit">Continue</button>
</form>
<textarea id="bundle" readonly>${bundle}</textarea>
</body></html>`);
      } else {
        res.setHeader('set-cookie', 'app_pref=dark; Path=/');
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Logs in through the form flow the way a browser would; returns the session Set-Cookie lines. */
async function signIn(
  proxy: OAuth2ProxyLookalike,
  email = 'alice@example.com',
  rd = '/echo',
): Promise<Reply> {
  const start = await send(`${proxy.url}/oauth2/start?rd=${encodeURIComponent(rd)}`);
  expect(start.status).toBe(302);
  const signInUrl = new URL(start.headers.location ?? '', proxy.url);
  expect(signInUrl.pathname).toBe('/oauth2/sign_in');
  const csrf = cookieHeaderFrom(setCookies(start));
  const page = await send(signInUrl.href, { headers: { cookie: csrf } });
  expect(page.status).toBe(200);
  const callback = await send(`${proxy.url}/oauth2/callback`, {
    method: 'POST',
    headers: { cookie: csrf, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, rd, state: signInUrl.searchParams.get('state') ?? '' }).toString(),
  });
  expect(callback.status).toBe(302);
  return callback;
}

function sessionLines(reply: Reply, name = '_oauth2_proxy'): string[] {
  return setCookies(reply).filter((line) => new RegExp(`^${name}(_\\d+)?=[^;]`).test(line));
}

describe('oauth2-proxy look-alike', () => {
  let upstream: Upstream;
  const proxies: OAuth2ProxyLookalike[] = [];
  const start = async (options: Partial<Parameters<typeof startOAuth2ProxyLookalike>[0]> = {}) => {
    const proxy = await startOAuth2ProxyLookalike({ upstream: upstream.url, ...options });
    proxies.push(proxy);
    return proxy;
  };

  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    upstream.seen.length = 0;
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('answers API requests without a session with 401 {} (application/json) and proxies nothing', async () => {
    const proxy = await start();
    const reply = await send(`${proxy.url}/api/items`, { headers: { accept: 'application/json' } });
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.text).toBe('{}');
    expect(proxy.stats.proxied).toBe(0);
    expect(upstream.seen).toHaveLength(0);
  });

  it('sends browsers through /oauth2/start and /oauth2/sign_in to a sign-in form', async () => {
    const proxy = await start();
    const first = await send(`${proxy.url}/echo?x=1`, { headers: { accept: 'text/html,*/*' } });
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe(`/oauth2/start?rd=${encodeURIComponent('/echo?x=1')}`);
    const second = await send(`${proxy.url}${first.headers.location}`);
    expect(second.status).toBe(302);
    const signInUrl = new URL(second.headers.location ?? '', proxy.url);
    expect(signInUrl.pathname).toBe('/oauth2/sign_in');
    expect(signInUrl.searchParams.get('rd')).toBe('/echo?x=1');
    expect(setCookies(second).some((line) => line.startsWith('_oauth2_proxy_csrf='))).toBe(true);
    const page = await send(signInUrl.href);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<form method="POST" action="/oauth2/callback"');
    expect(page.text).toMatch(/name="email"[^>]*value="alice@example.com"/);
    expect(page.text).toContain('OAuth2 Proxy');
  });

  it('sets an HttpOnly, Lax session cookie with an expiry at the callback and redirects to rd', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const proxy = await start({ now: () => clock, cookieExpireSeconds: 3600 });
    const callback = await signIn(proxy, 'alice@example.com', '/echo?x=1');
    expect(callback.headers.location).toBe('/echo?x=1');
    const [line, ...others] = sessionLines(callback);
    expect(others).toHaveLength(0);
    expect(line).toMatch(
      /^_oauth2_proxy=[A-Za-z0-9_-]{20,}; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/,
    );
    expect(line).toContain(`Expires=${new Date(clock + 3600_000).toUTCString()}`);
    expect(setCookies(callback).some((l) => /^_oauth2_proxy_csrf=;.*Max-Age=0/.test(l))).toBe(true);
    expect(proxy.stats.signIns).toBe(1);

    const cookie = cookieHeaderFrom(sessionLines(callback));
    expect(
      (await send(`${proxy.url}/echo`, { headers: { cookie, accept: 'application/json' } })).status,
    ).toBe(200);
    clock += 3601_000;
    const expired = await send(`${proxy.url}/echo`, { headers: { cookie, accept: 'application/json' } });
    expect(expired.status).toBe(401);
    expect(setCookies(expired).some((l) => /^_oauth2_proxy=;/.test(l))).toBe(true);
  });

  it('refuses a callback without the CSRF cookie', async () => {
    const proxy = await start();
    const reply = await send(`${proxy.url}/oauth2/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=alice%40example.com&state=forged&rd=%2F',
    });
    expect(reply.status).toBe(403);
    expect(sessionLines(reply)).toHaveLength(0);
    expect(proxy.stats.signIns).toBe(0);
  });

  it('proxies method, query, body, Cookie and adds identity headers, stripping client-sent ones', async () => {
    const proxy = await start();
    const cookie = `${cookieHeaderFrom(sessionLines(await signIn(proxy, 'carol@example.com')))}; other=1`;
    const reply = await send(`${proxy.url}/echo/items?q=a%20b&n=2`, {
      method: 'PUT',
      headers: {
        cookie,
        accept: 'application/json',
        'content-type': 'text/plain',
        'x-auth-request-email': 'mallory@evil.example',
        'X-Forwarded-User': 'mallory',
        'x-custom': 'kept',
      },
      body: 'payload-123',
    });
    expect(reply.status).toBe(200);
    expect(reply.headers['x-upstream']).toBe('yes');
    expect(setCookies(reply)).toContain('app_pref=dark; Path=/');
    expect(JSON.parse(reply.text)).toEqual({
      method: 'PUT',
      url: '/echo/items?q=a%20b&n=2',
      body: 'payload-123',
    });
    const seen = upstream.seen.at(-1);
    expect(seen?.headers.cookie).toBe(cookie);
    expect(seen?.headers['x-auth-request-email']).toBe('carol@example.com');
    expect(seen?.headers['x-auth-request-user']).toBe('carol');
    expect(seen?.headers['x-forwarded-email']).toBe('carol@example.com');
    expect(seen?.headers['x-forwarded-user']).toBe('carol');
    expect(seen?.headers['x-custom']).toBe('kept');
    expect(proxy.stats.proxied).toBe(1);
  });

  it('lets skip-auth paths through without a session, still stripping identity headers', async () => {
    const proxy = await start({ skipAuthPaths: [/^\/api\/health$/] });
    const reply = await send(`${proxy.url}/api/health`, {
      headers: { accept: 'application/json', 'x-auth-request-email': 'mallory@evil.example' },
    });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toEqual({ ok: true });
    expect(upstream.seen.at(-1)?.headers['x-auth-request-email']).toBeUndefined();
    expect((await send(`${proxy.url}/api/other`, { headers: { accept: 'application/json' } })).status).toBe(
      401,
    );
  });

  it('splits a session cookie above 4 KB into _0, _1 and needs every part', async () => {
    const proxy = await start({ sessionPadding: 6000 });
    const lines = sessionLines(await signIn(proxy));
    expect(lines.map((line) => line.slice(0, line.indexOf('=')))).toEqual([
      '_oauth2_proxy_0',
      '_oauth2_proxy_1',
    ]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(4000);
    for (const line of lines) expect(line).toMatch(/; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Lax$/);
    const both = cookieHeaderFrom(lines);
    expect(
      (await send(`${proxy.url}/echo`, { headers: { cookie: both, accept: 'application/json' } })).status,
    ).toBe(200);
    const onlyFirst = cookieHeaderFrom(lines.slice(0, 1));
    const partial = await send(`${proxy.url}/echo`, {
      headers: { cookie: onlyFirst, accept: 'application/json' },
    });
    expect(partial.status).toBe(401);
  });

  it('rotates the session on every authenticated response, keeping old values valid until expireAllSessions', async () => {
    const proxy = await start({ rotateOnEveryResponse: true });
    const original = cookieHeaderFrom(sessionLines(await signIn(proxy)));
    const first = await send(`${proxy.url}/echo`, {
      headers: { cookie: original, accept: 'application/json' },
    });
    expect(first.status).toBe(200);
    const rotated = cookieHeaderFrom(sessionLines(first));
    expect(rotated).toMatch(/^_oauth2_proxy=/);
    expect(rotated).not.toBe(original);
    const second = await send(`${proxy.url}/echo`, {
      headers: { cookie: rotated, accept: 'application/json' },
    });
    expect(second.status).toBe(200);
    expect(cookieHeaderFrom(sessionLines(second))).not.toBe(rotated);
    expect(
      (await send(`${proxy.url}/echo`, { headers: { cookie: original, accept: 'application/json' } })).status,
    ).toBe(200);

    proxy.expireAllSessions();
    for (const cookie of [original, rotated]) {
      const reply = await send(`${proxy.url}/echo`, { headers: { cookie, accept: 'application/json' } });
      expect(reply.status).toBe(401);
      expect(reply.text).toBe('{}');
    }
    const browser = await send(`${proxy.url}/echo`, { headers: { cookie: rotated, accept: 'text/html' } });
    expect(browser.status).toBe(302);
    expect(browser.headers.location).toMatch(/^\/oauth2\/start\?rd=/);
  });

  it('serves /oauth2/auth for nginx auth_request: 202 with identity headers, else 401', async () => {
    const proxy = await start();
    const anonymous = await send(`${proxy.url}/oauth2/auth`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).toBe('Unauthorized\n');
    const cookie = cookieHeaderFrom(sessionLines(await signIn(proxy, 'dave@example.com')));
    const ok = await send(`${proxy.url}/oauth2/auth`, { headers: { cookie } });
    expect(ok.status).toBe(202);
    expect(ok.headers['x-auth-request-email']).toBe('dave@example.com');
    expect(ok.headers['x-auth-request-user']).toBe('dave');
    expect(proxy.stats.proxied).toBe(0);
  });

  it('signs out: clears the cookies, forgets the session and redirects to rd', async () => {
    const proxy = await start();
    const cookie = cookieHeaderFrom(sessionLines(await signIn(proxy)));
    const out = await send(`${proxy.url}/oauth2/sign_out?rd=%2Fbye`, { headers: { cookie } });
    expect(out.status).toBe(302);
    expect(out.headers.location).toBe('/bye');
    expect(setCookies(out).some((line) => /^_oauth2_proxy=;.*Max-Age=0/.test(line))).toBe(true);
    expect((await send(`${proxy.url}/oauth2/auth`, { headers: { cookie } })).status).toBe(401);
  });

  it.each([
    ['a local path', '/x?y=1', {}, '/x?y=1'],
    ['an absolute URL on the request host', 'http://HOST/x', {}, 'http://HOST/x'],
    [
      'an absolute URL on X-Forwarded-Host',
      'https://app.example.com/x',
      { 'x-forwarded-host': 'app.example.com' },
      'https://app.example.com/x',
    ],
    ['another host (open redirect)', 'https://evil.example/x', {}, '/'],
    ['a protocol-relative URL', '//evil.example/x', {}, '/'],
    ['a backslash trick', '/\\evil.example', {}, '/'],
    ['a javascript: URL', 'javascript:alert(1)', {}, '/'],
  ])('handles rd as %s', async (_label, rd, headers: Record<string, string>, expected) => {
    const proxy = await start();
    const host = `127.0.0.1:${proxy.port}`;
    const reply = await send(`${proxy.url}/oauth2/start?rd=${encodeURIComponent(rd.replace('HOST', host))}`, {
      headers,
    });
    const location = new URL(reply.headers.location ?? '', proxy.url);
    expect(location.searchParams.get('rd')).toBe(expected.replace('HOST', host));
  });

  it('answers 502 when the upstream is down', async () => {
    // The proxy binds its port while the upstream's is still taken (so it cannot be given that port), then the
    // upstream goes.
    const dead = await startUpstream();
    const proxy = await start({ upstream: dead.url, skipAuthPaths: [/^\/api\/health$/] });
    await dead.close();
    const reply = await send(`${proxy.url}/api/health`);
    expect(reply.status).toBe(502);
  });

  describe('scripted browser', () => {
    interface Receiver {
      port: number;
      posts: Array<{ headers: http.IncomingHttpHeaders; body: string }>;
      close(): Promise<void>;
    }
    const startReceiver = async (): Promise<Receiver> => {
      const posts: Receiver['posts'] = [];
      const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.writeHead(200, { 'content-type': 'text/html' }).end('<p>done</p>');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        port: (server.address() as AddressInfo).port,
        posts,
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    };
    const runBrowser = (url: string, env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [SCRIPTED_BROWSER, url], {
          env: { PATH: process.env.PATH ?? '', ...env },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });

    it('signs in, reaches /token and POSTs the hand-off form to the loopback listener', async () => {
      const receiver = await startReceiver();
      try {
        const proxy = await start({ sessionPadding: 5000 });
        const result = await runBrowser(`${proxy.url}/token?local_port=${receiver.port}&state=st4te`, {
          SCRIPTED_BROWSER_EMAIL: 'bob@example.com',
        });
        expect(result).toEqual({ code: 0, stderr: '' });
        expect(proxy.stats.signIns).toBe(1);
        expect(receiver.posts).toHaveLength(1);
        const post = receiver.posts[0];
        expect(post?.headers.origin).toBe(proxy.url);
        expect(post?.headers['content-type']).toBe('application/x-www-form-urlencoded');
        const form = new URLSearchParams(post?.body ?? '');
        expect(form.get('state')).toBe('st4te');
        expect(form.get('extra')).toBe('a&b"c\'d<');
        const bundle = decodeCookieBundle(form.get('bundle') ?? '');
        expect(bundle.state).toBe('st4te');
        expect(bundle.user).toBe('bob@example.com');
        expect(bundle.cookies.map((cookie) => cookie.name).sort()).toEqual([
          '_oauth2_proxy_0',
          '_oauth2_proxy_1',
        ]);
      } finally {
        await receiver.close();
      }
    });

    it('writes the bundle text to a file in print-bundle mode', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'scripted-browser-'));
      try {
        const proxy = await start();
        const out = path.join(dir, 'bundle.txt');
        const result = await runBrowser(`${proxy.url}/token?local_port=1&state=pasted`, {
          SCRIPTED_BROWSER_MODE: 'print-bundle',
          SCRIPTED_BROWSER_OUT: out,
        });
        expect(result).toEqual({ code: 0, stderr: '' });
        const bundle = decodeCookieBundle(readFileSync(out, 'utf8'));
        expect(bundle.state).toBe('pasted');
        expect(bundle.user).toBe('alice@example.com');
        expect(bundle.cookies.map((cookie) => cookie.name)).toEqual(['_oauth2_proxy']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses to visit a host that is not loopback', async () => {
      const result = await runBrowser('http://example.com/token?local_port=1&state=x');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('not a loopback host');
    });

    it('fails with a message when the hand-off POST is rejected', async () => {
      const proxy = await start();
      const refusing = http.createServer((_req, res) => res.writeHead(403).end('state mismatch'));
      await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
      try {
        const port = (refusing.address() as AddressInfo).port;
        const result = await runBrowser(`${proxy.url}/token?local_port=${port}&state=x`);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain('answered 403');
      } finally {
        await new Promise<void>((resolve) => refusing.close(() => resolve()));
      }
    });
  });
});
