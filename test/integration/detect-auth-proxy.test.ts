import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../src/context';
import { detectAuthProxy } from '../../src/login/detect-auth-proxy';
import { httpRequest, readResponseText } from '../../src/http/http-request';
import { EndpointUnreachableError } from '../../src/errors';
import { startOAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import { manualTimers } from '../kit/manual-timers';

interface TestServer {
  url: string;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, self: TestServer) => void,
): Promise<TestServer> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res, self);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const self: TestServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(self);
  return self;
}

function json(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, debug: (m) => lines.push(m), info: (m) => lines.push(m), warn: (m) => lines.push(m) };
}

const APACHE_401 =
  '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>401 Unauthorized</title>\n</head><body>\n<h1>Unauthorized</h1>\n</body></html>\n';

/**
 * Imitates mod_auth_openidc's oidc_is_auth_capable_request: XHR, a Sec-Fetch-Mode other than navigate, a
 * Sec-Fetch-Dest other than document, or an Accept without text/html, application/xhtml+xml or * / * get a
 * bare 401 (Apache's HTML page, no WWW-Authenticate); other requests a 302 to the IdP plus a state cookie.
 */
function modAuthOpenidc(idpOrigin: string) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const accept = req.headers.accept ?? '';
    const capable =
      String(req.headers['x-requested-with'] ?? '').toLowerCase() !== 'xmlhttprequest' &&
      [undefined, 'navigate'].includes(req.headers['sec-fetch-mode']) &&
      [undefined, 'document'].includes(req.headers['sec-fetch-dest'] as string | undefined) &&
      /text\/html|application\/xhtml\+xml|\*\/\*/.test(accept);
    if (!capable) {
      res.writeHead(401, { 'content-type': 'text/html; charset=iso-8859-1' }).end(APACHE_401);
      return;
    }
    const params = new URLSearchParams({
      response_type: 'code',
      scope: 'openid email',
      client_id: 'cookie-bridge-test',
      state: 'aWdub3JlLW1l',
      redirect_uri: `http://${req.headers.host ?? ''}/redirect_uri`,
      nonce: 'bm9uY2U',
    });
    res
      .writeHead(302, {
        location: `${idpOrigin}/authorize?${params.toString()}`,
        'set-cookie': 'mod_auth_openidc_state_aWdub3JlLW1l=c2VjcmV0; Path=/; HttpOnly; SameSite=Lax',
        'content-type': 'text/html; charset=iso-8859-1',
      })
      .end('<html><body>Found</body></html>');
  };
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('detectAuthProxy against the oauth2-proxy look-alike', () => {
  it('detects oauth2-proxy: the JSON probe gets 401 {}, the browser probe names the proxy', async () => {
    const upstream = await serve((_req, res) => json(res, 200, { ok: true, user: 'nobody' }));
    const proxy = await startOAuth2ProxyLookalike({ upstream: upstream.url });
    try {
      const logger = recordingLogger();
      const result = await detectAuthProxy(proxy.url, { logger });
      expect(result.kind).toBe('auth-proxy');
      if (result.kind !== 'auth-proxy') return;
      expect(result.signal).toMatchObject({ rule: 'redirect-to-login-path', proxy: 'oauth2-proxy' });
      expect(result.hops.map((hop) => [hop.mode, hop.status])).toEqual([
        ['json', 401],
        ['browser', 302],
      ]);
      expect(result.hops[1]?.location).toBe(`${proxy.url}/oauth2/start?rd=%2Fapi%2Fhealth`);
      expect(upstream.requests).toHaveLength(0);
      expect(logger.lines.join('\n')).toContain('rule redirect-to-login-path');
    } finally {
      await proxy.close();
    }
  });

  it('says no-proxy when the proxy exempts /api/health (why --cookies exists)', async () => {
    const upstream = await serve((_req, res) => json(res, 200, { ok: true }));
    const proxy = await startOAuth2ProxyLookalike({
      upstream: upstream.url,
      skipAuthPaths: [/^\/api\/health$/],
    });
    try {
      const result = await detectAuthProxy(proxy.url);
      expect(result).toEqual({
        kind: 'no-proxy',
        status: 200,
        hops: [
          { url: `${proxy.url}/api/health`, mode: 'json', status: 200, contentType: 'application/json' },
        ],
      });
    } finally {
      await proxy.close();
    }
  });
});

describe('detectAuthProxy against a mod_auth_openidc imitation', () => {
  it('answers API-like requests with a bare HTML 401, browser-like ones with a 302 to the IdP', async () => {
    const apache = await serve(modAuthOpenidc('http://127.0.0.1:9'));
    const get = async (headers: Record<string, string>) => {
      const response = await httpRequest(new URL(`${apache.url}/api/health`), { headers });
      await readResponseText(response);
      return response;
    };
    for (const headers of [
      { accept: 'application/json' },
      { accept: '*/*', 'x-requested-with': 'XMLHttpRequest' },
      { accept: '*/*', 'sec-fetch-mode': 'cors' },
    ]) {
      const response = await get(headers);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBeUndefined();
    }
    expect((await get({ accept: '*/*' })).status).toBe(302);
  });

  it('detects mod_auth_openidc from the redirect to the authorization endpoint, without following it', async () => {
    const idp = await serve((_req, res) => res.writeHead(500).end());
    const apache = await serve(modAuthOpenidc(idp.url));
    const logger = recordingLogger();
    const result = await detectAuthProxy(apache.url, { logger });
    expect(result.kind).toBe('auth-proxy');
    if (result.kind !== 'auth-proxy') return;
    expect(result.signal).toMatchObject({ rule: 'redirect-off-host', proxy: 'mod_auth_openidc' });
    expect(result.hops.map((hop) => hop.status)).toEqual([401, 302]);
    expect(idp.requests).toHaveLength(0);
    expect(apache.requests.map((req) => req.headers['sec-fetch-mode'])).toEqual([undefined, undefined]);
    const log = logger.lines.join('\n');
    expect(log).not.toContain('c2VjcmV0'); // the state cookie value
    expect(log).toContain('mod_auth_openidc_state_aWdub3JlLW1l=<redacted>');
  });
});

describe('detectAuthProxy names a product only on its own marks', () => {
  it('an app that signs people in itself (express-openid-connect: a 302 to the IdP, its own cookie) is `unknown`', async () => {
    const idp = await serve((_req, res) => res.writeHead(500).end());
    const app = await serve((req, res) => {
      const params = new URLSearchParams({
        client_id: 'orders',
        scope: 'openid profile email',
        response_type: 'id_token',
        response_mode: 'form_post',
        redirect_uri: `http://${req.headers.host ?? ''}/callback`,
        nonce: 'bm9uY2U',
        state: 'c3RhdGU',
      });
      res
        .writeHead(302, {
          location: `${idp.url}/authorize?${params.toString()}`,
          'set-cookie': 'auth_verification=eyJub25jZSI6Im4ifQ; Path=/; HttpOnly; SameSite=Lax',
        })
        .end();
    });
    const result = await detectAuthProxy(app.url);
    expect(result).toMatchObject({
      kind: 'auth-proxy',
      signal: { rule: 'redirect-off-host', proxy: 'unknown' },
    });
  });
});

describe('detectAuthProxy against plain APIs', () => {
  it('says no-proxy with the user from a JSON health answer', async () => {
    const api = await serve((_req, res) => json(res, 200, { status: 'ok', user: 'alice@example.com' }));
    const result = await detectAuthProxy(api.url);
    expect(result).toMatchObject({ kind: 'no-proxy', status: 200, user: 'alice@example.com' });
    expect(api.requests).toHaveLength(1);
  });

  it.each<[string, unknown]>([
    ["Apache's (null)", '(null)'],
    ['null', null],
    ['""', ''],
  ])('a health answer naming nobody (%s) gives no user', async (_name, user) => {
    const api = await serve((_req, res) => json(res, 200, { status: 'ok', user }));
    const result = await detectAuthProxy(api.url);
    expect(result).toMatchObject({ kind: 'no-proxy', status: 200 });
    expect(result).not.toHaveProperty('user');
  });

  it("reports the API's own JSON 401 as api-error, sending the caller's Authorization only to the endpoint", async () => {
    const api = await serve((_req, res) =>
      json(res, 401, { error: 'token required' }, { 'www-authenticate': 'Bearer realm="api"' }),
    );
    const logger = recordingLogger();
    const result = await detectAuthProxy(api.url, {
      logger,
      headers: { authorization: 'Bearer tok-very-secret', accept: 'text/plain' },
    });
    expect(result).toMatchObject({ kind: 'api-error', status: 401 });
    expect(api.requests[0]?.headers.authorization).toBe('Bearer tok-very-secret');
    expect(api.requests[0]?.headers.accept).toBe('application/json');
    expect(logger.lines.join('\n')).not.toContain('tok-very-secret');
  });

  it('follows a 3-hop redirect chain to a JSON answer', async () => {
    const api = await serve((req, res) => {
      const next: Record<string, string> = { '/api/health': '/a', '/a': '/b', '/b': '/c' };
      const location = next[req.url ?? ''];
      if (location !== undefined) res.writeHead(302, { location }).end();
      else json(res, 200, { user: 'bob' });
    });
    const result = await detectAuthProxy(api.url);
    expect(result).toMatchObject({ kind: 'no-proxy', status: 200, user: 'bob' });
    expect(result.hops.map((hop) => new URL(hop.url).pathname)).toEqual(['/api/health', '/a', '/b', '/c']);
  });

  it('fires on the hop that reaches a login path at the end of a redirect chain', async () => {
    const api = await serve((req, res) => {
      const next: Record<string, string> = { '/api/health': '/a', '/a': '/b', '/b': '/sso/login' };
      const location = next[req.url ?? ''];
      if (location !== undefined) res.writeHead(302, { location }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
    });
    const result = await detectAuthProxy(api.url);
    expect(result).toMatchObject({ kind: 'auth-proxy', signal: { rule: 'redirect-to-login-path' } });
    // The rule names no proxy, so the browser-like probe runs too; neither follows the login redirect.
    expect(result.hops.map((hop) => `${hop.mode} ${new URL(hop.url).pathname}`)).toEqual([
      'json /api/health',
      'json /a',
      'json /b',
      'browser /api/health',
      'browser /a',
      'browser /b',
    ]);
    expect(api.requests.map((req) => req.url)).not.toContain('/sso/login');
  });

  it('stops a redirect loop with EndpointUnreachableError', async () => {
    const api = await serve((req, res) =>
      res.writeHead(302, { location: req.url === '/a' ? '/api/health' : '/a' }).end(),
    );
    const failure = detectAuthProxy(api.url);
    await expect(failure).rejects.toBeInstanceOf(EndpointUnreachableError);
    await expect(failure).rejects.toThrow(/redirect loop/);
    expect(api.requests).toHaveLength(2);
  });

  it('stops an endless redirect chain after maxHops', async () => {
    const api = await serve((req, res) => {
      const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? '0');
      res.writeHead(302, { location: `/next?n=${n + 1}` }).end();
    });
    await expect(detectAuthProxy(api.url, { maxHops: 5 })).rejects.toThrow(/more than 5 redirects/);
    expect(api.requests).toHaveLength(5);
  });

  it('says no-proxy for a plain-text health check after probing both ways', async () => {
    const api = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('OK'));
    const result = await detectAuthProxy(api.url);
    expect(result).toMatchObject({ kind: 'no-proxy', status: 200 });
    expect(result.hops.map((hop) => hop.mode)).toEqual(['json', 'browser']);
  });

  it('bounds the read of the body on the injected timers: a body that never ends fails when the time-out fires', async () => {
    const api = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":');
    });
    const timers = manualTimers();
    const failure = detectAuthProxy(api.url, { timeoutMs: 45_000, timers });
    const readLimit = await timers.next();
    expect(readLimit.ms).toBe(45_000);
    readLimit.fire();
    await expect(failure).rejects.toBeInstanceOf(EndpointUnreachableError);
    await expect(failure).rejects.toThrow(`cannot reach ${api.url}: no answer within 45 s`);
    expect(readLimit.cancelled).toBe(true);
  });

  it('throws EndpointUnreachableError naming the endpoint when it is down', async () => {
    const api = await serve((_req, res) => res.end());
    await api.close();
    servers.splice(servers.indexOf(api), 1);
    const failure = detectAuthProxy(api.url);
    await expect(failure).rejects.toBeInstanceOf(EndpointUnreachableError);
    await expect(failure).rejects.toThrow(`cannot reach ${api.url}: connection refused`);
  });
});
