import {
  describeHeaders,
  redactAuthorization,
  redactCookieHeader,
  redactHeaderValue,
  redactSetCookie,
  redactUrl,
} from '../../src/protocol/redact';

describe('redaction', () => {
  it.each([
    ['a=1; b=two', 'a=<redacted>; b=<redacted>'],
    ['_oauth2_proxy_0=abc; _oauth2_proxy_1=def', '_oauth2_proxy_0=<redacted>; _oauth2_proxy_1=<redacted>'],
    ['novalue', '<redacted>'],
  ])('cookie header %j', (input, expected) => {
    expect(redactCookieHeader(input)).toBe(expected);
  });

  it('keeps Set-Cookie attributes but not the value', () => {
    expect(redactSetCookie('_oauth2_proxy=s3cr3t; Path=/; HttpOnly')).toBe(
      '_oauth2_proxy=<redacted>; Path=/; HttpOnly',
    );
  });

  it('keeps the Authorization scheme only', () => {
    expect(redactAuthorization('Bearer tok123')).toBe('Bearer <redacted>');
    expect(redactAuthorization('tok123')).toBe('<redacted>');
  });

  it('describeHeaders redacts every secret header, whatever its case', () => {
    const text = describeHeaders({
      Cookie: 'sid=cookievalue1',
      'set-cookie': ['a=setcookievalue2; Path=/'],
      AUTHORIZATION: 'Basic dXNlcjpwYXNz',
      'X-Cookie-Bridge-Secret': 'proxysecret3',
      accept: 'application/json',
    });
    for (const secret of ['cookievalue1', 'setcookievalue2', 'dXNlcjpwYXNz', 'proxysecret3']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('accept: application/json');
  });

  it('redactUrl drops passwords and secret-looking query values', () => {
    const out = redactUrl('https://u:pw123@h.example/p?state=abc&token=t0k&x=1');
    expect(out).not.toContain('pw123');
    expect(out).not.toContain('t0k');
    expect(out).toContain('x=1');
  });

  // Guards SECRET_HEADER_NAME: headers the user adds with -H, and vendor headers, are masked whole.
  it.each([
    ['X-Api-Key', 'k3y-value'],
    ['x-api-key', 'k3y-value'],
    ['Private-Token', 'glpat-value'],
    ['X-Auth-Token', 'auth-token-value'],
    ['X-Auth-Request-Access-Token', 'access-value'],
    ['X-Amz-Security-Token', 'amz-token-value'],
    ['X-Hub-Signature-256', 'sha256=abcdef'],
    ['X-Session-Id', 'session-value'],
    ['X-Client-Secret', 'client-secret-value'],
    ['Ocp-Apim-Subscription-Key', 'subscription-value'],
    ['X-Password', 'pw-value'],
    ['X-Cookie-Bridge-Secret', 'proxy-secret-value'],
  ])('masks the whole value of %s', (name, value) => {
    expect(redactHeaderValue(name, value)).toBe('<redacted>');
    expect(describeHeaders({ [name]: value })).toBe(`${name}: <redacted>`);
  });

  it.each([
    ['Proxy-Authorization', 'Basic dXNlcjpwYXNz', 'Basic <redacted>'],
    ['authorization', 'Bearer tok', 'Bearer <redacted>'],
    ['Accept', 'application/json', 'application/json'],
    ['Content-Type', 'text/plain', 'text/plain'],
    ['WWW-Authenticate', 'Basic realm="x"', 'Basic realm="x"'],
    ['Location', '/oauth2/start', '/oauth2/start'],
    ['X-Auth-Request-Email', 'a@example.com', 'a@example.com'],
  ])('%s: %j → %j', (name, value, expected) => {
    expect(redactHeaderValue(name, value)).toBe(expected);
  });

  // Guards SECRET_PARAM_NAME: signed URLs, API keys and OAuth parameters.
  it.each([
    ['sig', 'https://h.example/f?sig=S1&sv=2020', 'sv=2020'],
    ['signature', 'https://h.example/f?signature=S1&a=1', 'a=1'],
    ['X-Amz-Signature', 'https://b.example/o?X-Amz-Date=20260101&X-Amz-Signature=S1', 'X-Amz-Date=20260101'],
    ['X-Amz-Credential', 'https://b.example/o?X-Amz-Credential=S1&x=1', 'x=1'],
    ['X-Amz-Security-Token', 'https://b.example/o?X-Amz-Security-Token=S1&x=1', 'x=1'],
    ['token', 'https://h.example/p?token=S1&page=2', 'page=2'],
    ['access_token', 'https://h.example/p?access_token=S1&page=2', 'page=2'],
    ['key', 'https://h.example/p?key=S1&q=cats', 'q=cats'],
    ['api_key', 'https://h.example/p?api_key=S1&q=cats', 'q=cats'],
    ['apikey', 'https://h.example/p?apikey=S1&q=cats', 'q=cats'],
    ['code', 'https://h.example/cb?code=S1&scope=openid', 'scope=openid'],
    ['state', 'https://h.example/token?local_port=5&state=S1', 'local_port=5'],
    ['code_verifier', 'https://h.example/t?code_verifier=S1&x=1', 'x=1'],
    ['verifier', 'https://h.example/t?verifier=S1&x=1', 'x=1'],
    ['password', 'https://h.example/t?password=S1&x=1', 'x=1'],
    ['client_secret', 'https://h.example/t?client_secret=S1&x=1', 'x=1'],
    ['session', 'https://h.example/t?session=S1&x=1', 'x=1'],
    ['auth', 'https://h.example/t?auth=S1&x=1', 'x=1'],
    ['fragment access_token', 'https://h.example/cb#access_token=S1&token_type=bearer', 'h.example/cb#'],
    ['repeated', 'https://h.example/p?token=S1&token=S1&x=1', 'x=1'],
    ['userinfo', 'https://user:S1@h.example/p?x=1', 'user:redacted@'],
    ['unparsable', 'not a url //u:S1@h/p?token=S1', '//<credentials>@'],
  ])('redactUrl masks %s', (_label, url, kept) => {
    const out = redactUrl(url);
    expect(out).not.toContain('S1');
    expect(out).toContain(kept);
  });

  it.each([
    'https://h.example/p?page=2&sort=asc',
    'https://h.example/design?signed=yes',
    'https://h.example/api/items',
  ])('redactUrl leaves %s as it was', (url) => {
    expect(redactUrl(url)).toBe(url);
  });
});
