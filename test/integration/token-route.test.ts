import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import type { Response } from 'supertest';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import type { Logger } from '../../src/context';
import { createApp, type CreateAppDeps } from '../../src/server/create-app';
import { MAX_TOKEN_QUERY_LENGTH } from '../../src/server/token-route';

const SECRET = 'Zm9vYmFyc2VjcmV0-session-value';
const COOKIES = `_oauth2_proxy=${SECRET}; theme=dark; _oauth2_proxy=second`;

interface Harness {
  agent: ReturnType<typeof request>;
  logs: string[];
  close(): Promise<void>;
}

/** Serves createApp on 127.0.0.1, port 0; collects log lines. */
async function serve(deps: Omit<CreateAppDeps, 'logger'> = {}): Promise<Harness> {
  const logs: string[] = [];
  const logger: Logger = {
    debug: (m) => logs.push(m),
    info: (m) => logs.push(m),
    warn: (m) => logs.push(m),
  };
  const server = http.createServer(createApp({ ...deps, logger }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    agent: request(`http://127.0.0.1:${port}`),
    logs,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}

let h: Harness;
beforeAll(async () => {
  h = await serve({
    configure: (app) => {
      app.get('/api/boom', () => {
        throw new Error(`boom ${SECRET}`);
      });
      app.post('/api/json', express.json(), (req, res) => {
        res.json({ got: req.body as unknown });
      });
    },
  });
});
afterAll(() => h.close());

function cspNonce(res: Response): string {
  const csp = String(res.headers['content-security-policy']);
  const match = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp);
  if (match?.[1] === undefined) throw new Error(`no script nonce in CSP: ${csp}`);
  return match[1];
}

function bundleFromPage(html: string): string {
  const match = /<textarea id="bundle" readonly[^>]*>([^<]*)<\/textarea>/.exec(html);
  if (match?.[1] === undefined) throw new Error('no bundle textarea on the page');
  return match[1];
}

function expectSecurityHeaders(res: Response, formAction: string): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['pragma']).toBe('no-cache');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['x-content-type-options']).toBe('nosniff');
  expect(res.headers['referrer-policy']).toBe('origin');
  expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
  expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
  expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(res.headers['x-powered-by']).toBeUndefined();
  const nonce = cspNonce(res);
  const directives = String(res.headers['content-security-policy'])
    .split(';')
    .map((d) => d.trim());
  expect(directives).toEqual([
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ]);
  // Every script and style tag carries this response's nonce.
  const tags = res.text.match(/<(script|style)\b[^>]*>/g) ?? [];
  expect(tags.length).toBeGreaterThan(0);
  for (const tag of tags) expect(tag).toContain(`nonce="${nonce}"`);
}

describe('GET /token', () => {
  it('renders the bundle of the cookies sent, for copy/paste, without a hand-off form', async () => {
    const res = await h.agent
      .get('/token')
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', 'ada@example.com');
    expect(res.status).toBe(200);
    expectSecurityHeaders(res, "'none'");
    expect(res.text).not.toContain('<form');
    expect(res.text).toContain('ada@example.com');
    const bundle = decodeCookieBundle(bundleFromPage(res.text));
    expect(bundle).toEqual({
      format: 'cookie-bridge-v1',
      user: 'ada@example.com',
      // Only the auth proxy's session cookies travel: theme stays in the browser.
      cookies: [
        { name: '_oauth2_proxy', value: SECRET },
        { name: '_oauth2_proxy', value: 'second' },
      ],
    });
    expect(res.text).not.toContain('all-cookies-notice');
  });

  it('with local_port and state, carries the state and auto-posts to the loopback listener', async () => {
    const res = await h.agent
      .get('/token?local_port=49200&state=St4te_-abc')
      .set('Cookie', COOKIES)
      .set('x-auth-request-email', '  bob@example.com ');
    expect(res.status).toBe(200);
    expectSecurityHeaders(res, 'http://127.0.0.1:49200 http://localhost:49200');
    expect(res.text).toContain('<form id="handoff" method="post" action="http://127.0.0.1:49200/callback">');
    expect(res.text).toContain('<input type="hidden" name="state" value="St4te_-abc">');
    const text = bundleFromPage(res.text);
    expect(res.text).toContain(`<input type="hidden" name="bundle" value="${text}">`);
    const bundle = decodeCookieBundle(text);
    expect(bundle.state).toBe('St4te_-abc');
    expect(bundle.user).toBe('bob@example.com');
    expect(bundle.cookies.map((c) => c.value)).toEqual([SECRET, 'second']);
    expect(res.text).toContain('<strong id="handoff-port">127.0.0.1:49200</strong>');
  });

  it('accepts state without local_port (copy/paste login that still checks state)', async () => {
    const res = await h.agent.get('/token?state=abc').set('Cookie', 'a=1');
    expect(res.status).toBe(200);
    expectSecurityHeaders(res, "'none'");
    expect(res.text).not.toContain('<form');
    const bundle = decodeCookieBundle(bundleFromPage(res.text));
    expect(bundle).toEqual({
      format: 'cookie-bridge-v1',
      state: 'abc',
      cookies: [{ name: 'a', value: '1' }],
    });
  });

  it('uses a fresh nonce per response', async () => {
    const first = await h.agent.get('/token').set('Cookie', 'a=1');
    const second = await h.agent.get('/token').set('Cookie', 'a=1');
    expect(cspNonce(first)).not.toBe(cspNonce(second));
    expect(cspNonce(first).length).toBeGreaterThanOrEqual(22);
  });

  it.each([
    ['local_port=abc&state=s'],
    ['local_port=&state=s'],
    ['local_port=80&state=s'],
    ['local_port=1023&state=s'],
    ['local_port=65536&state=s'],
    ['local_port=99999&state=s'],
    ['local_port=0&state=s'],
    ['local_port=-8080&state=s'],
    ['local_port=8080.0&state=s'],
    ['local_port=1e4&state=s'],
    ['local_port=08080&state=s'],
    ['local_port=%208080&state=s'],
    ['local_port=8080&local_port=8081&state=s'],
    ['local_port=8080'],
    ['local_port=8080&state='],
    ['state='],
    ['state=a%20b'],
    ['state=a.b'],
    ['state=%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
    [`state=${'s'.repeat(257)}`],
    ['state=a&state=b'],
  ])('400 for ?%s', async (query) => {
    const res = await h.agent.get(`/token?${query}`).set('Cookie', COOKIES);
    expect(res.status).toBe(400);
    expectSecurityHeaders(res, "'none'");
    expect(res.text).toContain('<p id="error">');
    expect(res.text).not.toContain('<form');
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain('<script>alert');
  });

  it.each([
    ['no Cookie header', undefined],
    ['an empty Cookie header', ''],
    ['only malformed cookies', 'novalue; =x; a b=1'],
  ])('400 with an explanation for %s', async (_name, cookie) => {
    const req = h.agent.get('/token?local_port=49200&state=abc');
    const res = await (cookie === undefined ? req : req.set('Cookie', cookie));
    expect(res.status).toBe(400);
    expectSecurityHeaders(res, 'http://127.0.0.1:49200 http://localhost:49200');
    expect(res.text).toContain('sent no cookies');
    expect(res.text).toContain('not served behind the auth proxy');
    expect(res.text).not.toContain('<form');
  });

  it('414 for a query string over 2 KiB', async () => {
    const query = `state=abc&pad=${'x'.repeat(MAX_TOKEN_QUERY_LENGTH)}`;
    const res = await h.agent.get(`/token?${query}`).set('Cookie', COOKIES);
    expect(res.status).toBe(414);
    expectSecurityHeaders(res, "'none'");
    expect(res.text).not.toContain(SECRET);
  });

  it('accepts a query string of exactly 2 KiB', async () => {
    const prefix = 'state=abc&pad=';
    const res = await h.agent
      .get(`/token?${prefix}${'x'.repeat(MAX_TOKEN_QUERY_LENGTH - prefix.length)}`)
      .set('Cookie', 'a=1');
    expect(res.status).toBe(200);
  });

  it('never logs cookie values or the state', async () => {
    h.logs.length = 0;
    await h.agent.get('/token?local_port=49200&state=LoggedState123').set('Cookie', COOKIES);
    await h.agent.get('/token?local_port=1&state=LoggedState123').set('Cookie', COOKIES);
    expect(h.logs.length).toBeGreaterThan(0);
    const all = h.logs.join('\n');
    expect(all).toContain('_oauth2_proxy');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('LoggedState123');
  });

  it('reads the identity from a configured header', async () => {
    const other = await serve({ identityHeader: 'X-Forwarded-Email' });
    try {
      const res = await other.agent
        .get('/token')
        .set('Cookie', 'a=1')
        .set('X-Forwarded-Email', 'eve@example.com')
        .set('X-Auth-Request-Email', 'wrong@example.com');
      expect(decodeCookieBundle(bundleFromPage(res.text)).user).toBe('eve@example.com');
      const health = await other.agent.get('/api/health').set('X-Forwarded-Email', 'eve@example.com');
      expect(health.body).toEqual({ status: 'ok', user: 'eve@example.com' });
    } finally {
      await other.close();
    }
  });

  it('leaves out an identity with control characters', async () => {
    const res = await h.agent.get('/token').set('Cookie', 'a=1').set('X-Auth-Request-Email', 'a\tb');
    expect(res.status).toBe(200);
    expect(decodeCookieBundle(bundleFromPage(res.text)).user).toBeUndefined();
  });
});

describe('createApp', () => {
  it('GET /api/health answers status and user, not cached', async () => {
    const anonymous = await h.agent.get('/api/health');
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: 'ok', user: null });
    expect(anonymous.headers['cache-control']).toBe('no-store');
    const signedIn = await h.agent.get('/api/health').set('X-Auth-Request-Email', 'ada@example.com');
    expect(signedIn.body).toEqual({ status: 'ok', user: 'ada@example.com' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await h.agent.post('/nope');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: 'not_found', message: 'no such route' });
  });

  it('answers a thrown error with a 500 that shows no message or stack', async () => {
    h.logs.length = 0;
    const res = await h.agent.get('/api/boom');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal_error', message: 'internal server error' });
    expect(res.text).not.toContain('boom');
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    expect(h.logs.some((line) => line.includes('internal error on GET /api/boom'))).toBe(true);
  });

  it('answers a malformed JSON body with a 400 JSON error, no stack', async () => {
    const res = await h.agent.post('/api/json').set('Content-Type', 'application/json').send('{"a":');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('bad_request');
    expect(res.text).not.toContain('node_modules');
  });
});

describe('GET /token: which cookies travel, and only to a top-level navigation', () => {
  it('refuses a script or a frame loading it (fetch metadata), but serves navigations and old clients', async () => {
    for (const [mode, dest] of [
      ['cors', 'empty'],
      ['no-cors', 'empty'],
      ['same-origin', 'empty'],
      ['navigate', 'iframe'],
      ['navigate', 'embed'],
      [undefined, 'script'],
    ] as const) {
      const req = h.agent.get('/token?state=abc').set('Cookie', COOKIES).set('Sec-Fetch-Dest', dest);
      const res = await (mode === undefined ? req : req.set('Sec-Fetch-Mode', mode));
      expect({ mode, dest, status: res.status }).toEqual({ mode, dest, status: 403 });
      expect(res.text).not.toContain(SECRET);
      expect(res.text).not.toContain('cb1.');
      expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
    const navigation = await h.agent
      .get('/token?state=abc')
      .set('Cookie', COOKIES)
      .set('Sec-Fetch-Mode', 'navigate')
      .set('Sec-Fetch-Dest', 'document')
      .set('Sec-Fetch-Site', 'cross-site'); // after the IdP's redirect: still a legitimate navigation
    expect(navigation.status).toBe(200);
    expect(bundleFromPage(navigation.text)).toMatch(/^cb1\./);
    // No fetch metadata at all (curl, older browsers): served.
    expect((await h.agent.get('/token').set('Cookie', COOKIES)).status).toBe(200);
  });

  it('without a known session cookie, carries all cookies and says so on the page', async () => {
    const res = await h.agent.get('/token').set('Cookie', 'my_sso=s1; theme=dark');
    expect(res.status).toBe(200);
    expect(res.text).toContain('id="all-cookies-notice"');
    expect(decodeCookieBundle(bundleFromPage(res.text)).cookies.map((c) => c.name)).toEqual([
      'my_sso',
      'theme',
    ]);
  });

  it("the operator's sessionCookies (and their chunks) travel with the known ones; nothing else", async () => {
    const named = await serve({ sessionCookies: ['my_sso'] });
    try {
      const res = await named.agent
        .get('/token')
        .set('Cookie', 'my_sso_0=a; my_sso_1=b; my_sso=c; my_ssox=no; _session=idp; _session.sig=idp');
      expect(res.text).not.toContain('all-cookies-notice');
      expect(decodeCookieBundle(bundleFromPage(res.text)).cookies.map((c) => c.name)).toEqual([
        'my_sso_0',
        'my_sso_1',
        'my_sso',
      ]);
    } finally {
      await named.close();
    }
  });
});
