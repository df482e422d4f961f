import {
  classifyAuthProxyResponse,
  isLoginPath,
  isWorthInspecting,
  recogniseAuthProxyKind,
  type AuthProxyResponseInput,
} from '../../src/protocol/auth-proxy-signals';
import { authPageCases, readAuthPage } from '../../fixtures/auth-pages/auth-pages';

const ENDPOINT = 'https://api.example.com';
const HEALTH = `${ENDPOINT}/api/health`;

const APACHE_401 = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html><head>
<title>401 Unauthorized</title>
</head><body>
<h1>Unauthorized</h1>
<p>This server could not verify that you are authorized to access the document requested.</p>
</body></html>`;
const OAUTH2_PROXY_SIGN_IN = `<!DOCTYPE html><html lang="en" charset="utf-8"><head><title>Sign In</title></head><body>
<form method="GET" action="/oauth2/start"><input type="hidden" name="rd" value="/"><button type="submit">Sign in with OpenID Connect</button></form>
<footer>Secured with <a href="https://github.com/oauth2-proxy/oauth2-proxy#oauth2_proxy">OAuth2 Proxy</a> version 7.6.0</footer></body></html>`;
const IDP_AUTHORIZE =
  'https://idp.example.com/realms/x/protocol/openid-connect/auth?response_type=code&scope=openid&client_id=api&state=s3cr3t-state&redirect_uri=https%3A%2F%2Fapi.example.com%2Fredirect_uri&nonce=n0nce';
const OAUTH2_PROXY_AUTHORIZE =
  'https://idp.example.com/authorize?client_id=api&redirect_uri=https%3A%2F%2Fapi.example.com%2Foauth2%2Fcallback&response_type=code&state=abc';

type Case = [
  label: string,
  input: Partial<AuthProxyResponseInput>,
  expected: { rule: string; proxy: string } | undefined,
];

/** Login detection's probe of /api/health (the table below); `replay` for what the clients send. */
function input(partial: Partial<AuthProxyResponseInput>): AuthProxyResponseInput {
  return {
    endpoint: ENDPOINT,
    requestUrl: HEALTH,
    status: 200,
    headers: {},
    bodySnippet: '',
    expectJson: true,
    healthProbe: true,
    ...partial,
  };
}

/** A response to `request`, the SDK or the local proxy: no JSON-only promise, not a health probe. */
function replay(partial: Partial<AuthProxyResponseInput>): AuthProxyResponseInput {
  return {
    endpoint: ENDPOINT,
    requestUrl: `${ENDPOINT}/reports/weekly`,
    status: 200,
    headers: {},
    bodySnippet: '',
    expectJson: false,
    ...partial,
  };
}

/** Login detection's probe of /api/health: JSON asked, redirects followed. */
const cases: Case[] = [
  // --- oauth2-proxy
  [
    'oauth2-proxy: 401 {} for Accept: application/json',
    { status: 401, headers: { 'content-type': 'application/json' }, bodySnippet: '{}' },
    { rule: 'unauthorized-empty-json', proxy: 'unknown' },
  ],
  [
    'oauth2-proxy (older): 401 application/json with an empty body',
    { status: 401, headers: { 'content-type': 'application/json' }, bodySnippet: '' },
    { rule: 'unauthorized-not-json', proxy: 'unknown' },
  ],
  [
    'oauth2-proxy: 401 {} clearing a stale _oauth2_proxy cookie',
    {
      status: 401,
      headers: {
        'content-type': 'application/json',
        'set-cookie': ['_oauth2_proxy=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly'],
      },
      bodySnippet: '{}',
    },
    { rule: 'unauthorized-empty-json', proxy: 'oauth2-proxy' },
  ],
  [
    'oauth2-proxy: 302 to /oauth2/start?rd=…',
    { status: 302, headers: { location: '/oauth2/start?rd=%2Fapi%2Fhealth' }, expectJson: false },
    { rule: 'redirect-to-login-path', proxy: 'oauth2-proxy' },
  ],
  [
    'oauth2-proxy: 302 to the IdP with redirect_uri …/oauth2/callback',
    {
      status: 302,
      headers: { location: OAUTH2_PROXY_AUTHORIZE, 'set-cookie': '_oauth2_proxy_csrf=x; Path=/' },
      expectJson: false,
    },
    { rule: 'redirect-off-host', proxy: 'oauth2-proxy' },
  ],
  [
    'oauth2-proxy: 403 sign-in page for a browser',
    {
      status: 403,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      bodySnippet: OAUTH2_PROXY_SIGN_IN,
      expectJson: false,
    },
    { rule: 'unauthorized-not-json', proxy: 'oauth2-proxy' },
  ],
  [
    'oauth2-proxy: 200 sign-in page at /oauth2/sign_in (end of a redirect chain)',
    {
      requestUrl: `${ENDPOINT}/oauth2/sign_in?rd=%2F`,
      status: 200,
      headers: { 'content-type': 'text/html; charset=utf-8' },
      bodySnippet: OAUTH2_PROXY_SIGN_IN,
      expectJson: false,
    },
    { rule: 'sign-in-page', proxy: 'oauth2-proxy' },
  ],
  [
    'nginx auth_request: 401 text/plain Unauthorized from /oauth2/auth',
    { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8' }, bodySnippet: 'Unauthorized\n' },
    { rule: 'unauthorized-not-json', proxy: 'unknown' },
  ],
  // --- mod_auth_openidc
  [
    'mod_auth_openidc: 302 to the IdP authorization endpoint (Accept: */*)',
    {
      status: 302,
      headers: { location: IDP_AUTHORIZE, 'set-cookie': 'mod_auth_openidc_state_abc=xyz; Path=/; HttpOnly' },
      expectJson: false,
    },
    { rule: 'redirect-off-host', proxy: 'mod_auth_openidc' },
  ],
  [
    'a 302 with response_type=code and no product mark: toward the IdP, but naming no product',
    { status: 302, headers: { location: IDP_AUTHORIZE }, expectJson: false },
    { rule: 'redirect-off-host', proxy: 'unknown' },
  ],
  [
    'mod_auth_openidc: bare HTML 401 for Accept: application/json',
    { status: 401, headers: { 'content-type': 'text/html; charset=iso-8859-1' }, bodySnippet: APACHE_401 },
    { rule: 'unauthorized-not-json', proxy: 'unknown' },
  ],
  [
    'mod_auth_openidc: bare HTML 401 for X-Requested-With: XMLHttpRequest / Sec-Fetch-Mode: cors (not expecting JSON)',
    {
      status: 401,
      headers: { 'content-type': 'text/html; charset=iso-8859-1' },
      bodySnippet: APACHE_401,
      expectJson: false,
    },
    { rule: 'unauthorized-not-json', proxy: 'unknown' },
  ],
  [
    'mod_auth_openidc: 401 naming itself in the body',
    {
      status: 401,
      headers: { 'content-type': 'text/html' },
      bodySnippet: '<html><body>mod_auth_openidc: no session</body></html>',
    },
    { rule: 'unauthorized-not-json', proxy: 'mod_auth_openidc' },
  ],
  // --- generic
  [
    'redirect to a same-host /login path',
    { status: 302, headers: { location: '/login?next=%2Fapi%2Fhealth' } },
    { rule: 'redirect-to-login-path', proxy: 'unknown' },
  ],
  [
    'redirect to /sso/authorize',
    { status: 303, headers: { location: `${ENDPOINT}/sso/authorize` } },
    { rule: 'redirect-to-login-path', proxy: 'unknown' },
  ],
  [
    'an API call redirected to another host',
    { status: 302, headers: { location: 'https://portal.example.net/' } },
    { rule: 'redirect-off-host', proxy: 'unknown' },
  ],
  [
    'a download redirected to a CDN (not an API call)',
    { status: 302, headers: { location: 'https://cdn.example.net/file.tar.gz' }, expectJson: false },
    undefined,
  ],
  [
    'a same-host redirect to another API path (follow it)',
    { status: 301, headers: { location: '/v2/api/health' } },
    undefined,
  ],
  [
    'http → https on the same host (follow it)',
    {
      requestUrl: 'http://api.example.com/api/health',
      status: 308,
      headers: { location: 'https://api.example.com/api/health' },
    },
    undefined,
  ],
  ['a redirect without Location', { status: 304 }, undefined],
  [
    '403 with an empty body',
    { status: 403, headers: {}, bodySnippet: '' },
    { rule: 'unauthorized-not-json', proxy: 'unknown' },
  ],
  [
    '2xx HTML page where JSON was expected',
    {
      status: 200,
      headers: { 'content-type': 'text/html' },
      bodySnippet: '<!doctype html><html><body>Welcome</body></html>',
    },
    { rule: 'html-instead-of-json', proxy: 'unknown' },
  ],
  [
    '2xx HTML without a content type, where JSON was expected',
    { status: 200, bodySnippet: '  <html><body>portal</body></html>' },
    { rule: 'html-instead-of-json', proxy: 'unknown' },
  ],
  [
    '2xx IdP login form at /auth/realms/…/login-actions',
    {
      requestUrl: 'https://idp.example.com/auth/realms/x/login-actions/authenticate',
      status: 200,
      headers: { 'content-type': 'text/html' },
      bodySnippet:
        '<html><form action="/x" method="post"><input name="username"><input type="password" name="password"></form></html>',
      expectJson: false,
    },
    { rule: 'sign-in-page', proxy: 'unknown' },
  ],
  [
    '2xx HTML when the caller did not ask for JSON',
    {
      status: 200,
      headers: { 'content-type': 'text/html' },
      bodySnippet: '<html></html>',
      expectJson: false,
    },
    undefined,
  ],
  // --- the API's own answers are not proxy signals
  [
    "the API's own JSON 401",
    {
      status: 401,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      bodySnippet: '{"error":"invalid_token"}',
    },
    undefined,
  ],
  [
    "the API's own problem+json 403",
    {
      status: 403,
      headers: { 'content-type': 'application/problem+json' },
      bodySnippet: '{"title":"Forbidden","status":403}',
    },
    undefined,
  ],
  [
    "the API's JSON 401 cut at 4 KB",
    {
      status: 401,
      headers: { 'content-type': 'text/plain' },
      bodySnippet: `{"error":"denied","detail":"${'x'.repeat(5000)}`,
    },
    undefined,
  ],
  [
    "the API's own Basic auth challenge",
    {
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="api"', 'content-type': 'text/plain' },
      bodySnippet: 'Unauthorized',
    },
    undefined,
  ],
  [
    'JSON 200',
    { status: 200, headers: { 'content-type': 'application/json' }, bodySnippet: '{"ok":true}' },
    undefined,
  ],
  [
    'a 500 HTML error page',
    { status: 500, headers: { 'content-type': 'text/html' }, bodySnippet: '<html>oops</html>' },
    undefined,
  ],
  [
    'a 404',
    { status: 404, headers: { 'content-type': 'text/html' }, bodySnippet: '<html>not found</html>' },
    undefined,
  ],
];

describe('classifyAuthProxyResponse at login detection (/api/health)', () => {
  it.each(cases)('%s', (_label, partial, expected) => {
    const signal = classifyAuthProxyResponse(input(partial));
    if (expected === undefined) expect(signal).toBeUndefined();
    else expect(signal).toMatchObject(expected);
  });

  it('classifies each hop of a multi-hop redirect chain until a rule fires', () => {
    const chain: Array<Partial<AuthProxyResponseInput>> = [
      { requestUrl: `${ENDPOINT}/api/health`, status: 301, headers: { location: '/api/health/' } },
      { requestUrl: `${ENDPOINT}/api/health/`, status: 302, headers: { location: '/v2/health' } },
      {
        requestUrl: `${ENDPOINT}/v2/health`,
        status: 302,
        headers: { location: '/oauth2/start?rd=%2Fv2%2Fhealth' },
      },
    ];
    const signals = chain.map((hop) => classifyAuthProxyResponse(input({ ...hop, expectJson: false })));
    expect(signals.slice(0, 2)).toEqual([undefined, undefined]);
    expect(signals[2]).toMatchObject({ rule: 'redirect-to-login-path', proxy: 'oauth2-proxy' });
  });

  it('keeps secrets in the redirect query out of the detail', () => {
    const signal = classifyAuthProxyResponse(
      input({ status: 302, headers: { location: IDP_AUTHORIZE }, expectJson: false }),
    );
    expect(signal?.detail).toContain('https://idp.example.com/realms/x/protocol/openid-connect/auth');
    expect(signal?.detail).not.toMatch(/s3cr3t|n0nce|state=|client_id/);
  });

  it('reads headers whatever their case, and a header given as an array', () => {
    const signal = classifyAuthProxyResponse(
      input({ status: 302, headers: { Location: ['/oauth2/sign_in'] }, expectJson: false }),
    );
    expect(signal).toMatchObject({ rule: 'redirect-to-login-path', proxy: 'oauth2-proxy' });
  });
});

describe('classifyAuthProxyResponse on the page table (fixtures/auth-pages), as the clients see it', () => {
  const table = authPageCases().map((entry) => [entry.name, entry] as const);
  it.each(table)('%s', (_name, entry) => {
    const signal = classifyAuthProxyResponse(
      replay({
        requestUrl: `${ENDPOINT}/pages/${entry.name}`,
        status: entry.status,
        headers: entry.headers,
        bodySnippet: entry.body.slice(0, 4096),
      }),
    );
    if (entry.expect === 'delivered') expect(signal).toBeUndefined();
    else
      expect({ expired: signal !== undefined, proxy: signal?.proxy }).toEqual({
        expired: true,
        proxy: entry.proxy ?? 'unknown',
      });
    // Every such response is read at all: a 2xx HTML page, a redirect or a 401/403.
    if (entry.expect === 'expired') expect(isWorthInspecting(entry.status, entry.headers)).toBe(true);
  });
});

describe('classifyAuthProxyResponse on what the clients replay: only the proxy’s evidence', () => {
  const dashboard = readAuthPage('app-dashboard.html');
  it.each([
    [
      "an app's HTML page, whatever was asked for (HTML where JSON was asked is not evidence)",
      { headers: { 'content-type': 'text/html' }, bodySnippet: dashboard },
    ],
    [
      "an app's HTML page at a path named like a login (the client asked for it; nothing was followed)",
      {
        requestUrl: `${ENDPOINT}/login-history`,
        headers: { 'content-type': 'text/html' },
        bodySnippet: '<html><body><h1>Login history</h1></body></html>',
      },
    ],
    [
      "an app's own JSON 403 that carries a refreshed proxy session cookie",
      {
        status: 403,
        headers: {
          'content-type': 'application/json',
          'set-cookie': ['_oauth2_proxy=fresh; Path=/; HttpOnly', 'mod_auth_openidc_session=s; Path=/'],
        },
        bodySnippet: '{"error":"forbidden"}',
      },
    ],
    [
      "an app's own plain-text 401 (express's sendStatus)",
      { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8' }, bodySnippet: 'Unauthorized' },
    ],
    ["an app's own empty 403", { status: 403, headers: {}, bodySnippet: '' }],
    [
      "an app's page with a sign-out form (to the proxy's /oauth2/sign_out or its own /auth/logout)",
      {
        headers: { 'content-type': 'text/html' },
        bodySnippet:
          '<html><form method="post" action="/oauth2/sign_out"><button>Sign out</button></form>' +
          '<form action="/auth/logout" method="post"></form></html>',
      },
    ],
    [
      'an API call redirected to another host that is no sign-in (a CDN, an object store)',
      { status: 307, headers: { location: 'https://files.example.net/export.csv?sig=x' }, expectJson: true },
    ],
  ] as Array<[string, Partial<AuthProxyResponseInput>]>)('delivered: %s', (_label, partial) => {
    expect(classifyAuthProxyResponse(replay(partial))).toBeUndefined();
  });

  it.each([
    [
      'a 401 whose proxy clears its session cookie',
      {
        status: 401,
        headers: { 'set-cookie': '_pomerium=; Path=/; Max-Age=0', 'content-type': 'application/json' },
        bodySnippet: '{"error":"unauthorized"}',
      },
      'pomerium',
    ],
    [
      'a 401 whose WWW-Authenticate names the proxy',
      {
        status: 401,
        headers: { 'www-authenticate': 'Bearer realm="authentik"', 'content-type': 'text/plain' },
        bodySnippet: 'Unauthorized',
      },
      'authentik',
    ],
    [
      'a same-host redirect setting the proxy sign-in (CSRF) cookie',
      { status: 302, headers: { location: '/', 'set-cookie': '_oauth2_proxy_csrf=x; Path=/' } },
      'oauth2-proxy',
    ],
    [
      "an HTML page with a password field (an IdP's login form)",
      {
        headers: { 'content-type': 'text/html' },
        bodySnippet: '<html><form method="post" action="/u/x"><input type="password" name="p"></form></html>',
      },
      'unknown',
    ],
    [
      'an HTML page whose form posts to /oauth2/',
      {
        headers: { 'content-type': 'text/html' },
        bodySnippet: '<html><form method="GET" action="/oauth2/start"><button>Sign in</button></form></html>',
      },
      'oauth2-proxy',
    ],
    [
      'an HTML page whose form posts to the IdP',
      {
        headers: { 'content-type': 'text/html' },
        bodySnippet:
          '<html><body onload="document.forms[0].submit()"><form method="post" action="http://127.0.0.1:9/oidc/auth"><input type="hidden" name="x"></form></body></html>',
      },
      'unknown',
    ],
  ] as Array<[string, Partial<AuthProxyResponseInput>, string]>)('expired: %s', (_label, partial, proxy) => {
    expect(classifyAuthProxyResponse(replay(partial))).toMatchObject({ proxy });
  });

  it("serve's own 401 token_invalid is evidence with its reason; the same shape from the app at 403, or without a message, is not", () => {
    const json = { 'content-type': 'application/json; charset=utf-8' };
    const refused = (status: number, body: string) =>
      classifyAuthProxyResponse(replay({ status, headers: json, bodySnippet: body }));
    expect(
      refused(
        401,
        '{"error":"token_invalid","message":"the service account was revoked","reason":"revoked"}',
      ),
    ).toMatchObject({
      rule: 'token-refused',
      tokenRefusal: { reason: 'revoked', message: 'the service account was revoked' },
      detail: expect.stringContaining('(revoked)'),
    });
    // A reason that is not a plain word is not echoed into messages.
    expect(refused(401, '{"error":"token_invalid","message":"m","reason":"<script>"}')).toMatchObject({
      tokenRefusal: { reason: 'unknown reason' },
    });
    expect(refused(403, '{"error":"token_invalid","message":"m","reason":"revoked"}')).toBeUndefined();
    expect(refused(401, '{"error":"token_invalid","reason":"revoked"}')).toBeUndefined();
    expect(refused(401, '{"error":"invalid_token","message":"the app\'s own"}')).toBeUndefined();
    // Not JSON by its Content-Type: the app's text, delivered.
    expect(
      classifyAuthProxyResponse(
        replay({
          status: 401,
          headers: { 'content-type': 'text/plain' },
          bodySnippet: '{"error":"token_invalid","message":"m"}',
        }),
      ),
    ).toBeUndefined();
  });

  it('a JSON-only caller (the SDK with expectJson: true) still takes an HTML page for the proxy', () => {
    const signal = classifyAuthProxyResponse(
      replay({ headers: { 'content-type': 'text/html' }, bodySnippet: dashboard, expectJson: true }),
    );
    expect(signal).toMatchObject({ rule: 'html-instead-of-json', proxy: 'unknown' });
  });
});

describe('isWorthInspecting', () => {
  it.each([
    [200, { 'content-type': 'text/html; charset=utf-8' }, true],
    [200, { 'content-type': 'application/json' }, false],
    [200, { 'content-type': 'application/octet-stream' }, false],
    [302, {}, true],
    [401, { 'content-type': 'application/json' }, true],
    [404, { 'content-type': 'text/html' }, false],
    [500, { 'content-type': 'text/html' }, false],
  ] as Array<[number, Record<string, string>, boolean]>)('%s %j → %s', (status, headers, expected) => {
    expect(isWorthInspecting(status, headers)).toBe(expected);
  });
});

describe('recogniseAuthProxyKind', () => {
  it.each([
    [
      'split oauth2-proxy cookies',
      { headers: { 'set-cookie': ['_oauth2_proxy_0=a; Path=/', '_oauth2_proxy_1=b; Path=/'] } },
      'oauth2-proxy',
    ],
    [
      'a mod_auth_openidc session cookie',
      { headers: { 'set-cookie': 'mod_auth_openidc_session=a; Path=/' } },
      'mod_auth_openidc',
    ],
    [
      'an oauth2-proxy page marker',
      { headers: {}, bodySnippet: 'Secured with OAuth2 Proxy' },
      'oauth2-proxy',
    ],
    ['nothing', { headers: { 'set-cookie': 'session=a' } }, 'unknown'],
    [
      'a plain authorization request to an IdP (express-openid-connect, passport): unknown',
      { headers: { 'set-cookie': 'auth_verification=x; Path=/' }, location: new URL(IDP_AUTHORIZE) },
      'unknown',
    ],
    ['a Pomerium cookie', { headers: { 'set-cookie': '_pomerium=x; Path=/' } }, 'pomerium'],
    [
      'a Pomerium path',
      { headers: {}, location: new URL('https://authenticate.example.com/.pomerium/sign_in') },
      'pomerium',
    ],
    ['a Pomerium header', { headers: { 'X-Pomerium-Intercepted-Response': 'true' } }, 'pomerium'],
    [
      'a Cloudflare Access cookie',
      { headers: { 'set-cookie': 'CF_Authorization=x; Path=/' } },
      'cloudflare-access',
    ],
    [
      'a Cloudflare Access login host',
      { headers: {}, location: new URL('https://team.cloudflareaccess.com/cdn-cgi/access/login/app') },
      'cloudflare-access',
    ],
    [
      'an authentik outpost cookie',
      { headers: { 'set-cookie': 'authentik_proxy_1a2b=x; Path=/' } },
      'authentik',
    ],
    [
      'an authentik outpost path',
      { headers: {}, location: new URL('https://app.example.com/outpost.goauthentik.io/start?rd=%2F') },
      'authentik',
    ],
  ] as Array<[string, Parameters<typeof recogniseAuthProxyKind>[0], string]>)(
    '%s',
    (_label, value, expected) => {
      expect(recogniseAuthProxyKind(value)).toBe(expected);
    },
  );
});

describe('isLoginPath', () => {
  it.each([
    ['/login', true],
    ['/oauth2/start', true],
    ['/sso/x', true],
    ['/auth/realms/x', true],
    ['/u/signin', true],
    ['/openid/authorize', true],
    ['/api/health', false],
    ['/authors/1', false],
    ['/blogin', false],
  ])('%s → %s', (path, expected) => {
    expect(isLoginPath(path)).toBe(expected);
  });
});
