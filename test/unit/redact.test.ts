import {
  describeHeaders,
  redactAuthorization,
  redactCookieHeader,
  redactSetCookie,
  redactUrl,
} from '../../src/core/redact';

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
});
