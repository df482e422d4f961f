import {
  formatDuration,
  jwtExpiryMs,
  sessionExpiry,
  type ExpiryCookie,
} from '../../src/protocol/session-expiry';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

/** A JWT-shaped value (unsigned: session-expiry never verifies) with these claims. */
function jwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256' }): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(claims)}.c2lnbmF0dXJl`;
}

const at = (ms: number): Date => new Date(ms);

describe('jwtExpiryMs', () => {
  it('reads exp (seconds) of a JWT without verifying it', () => {
    expect(jwtExpiryMs(jwt({ exp: NOW / 1000 + 3600, sub: 'alice' }))).toBe(NOW + 3_600_000);
  });

  it('reads a quoted value and an empty signature (alg none)', () => {
    expect(jwtExpiryMs(`"${jwt({ exp: 2_000_000_000 })}"`)).toBe(2_000_000_000_000);
    expect(jwtExpiryMs(jwt({ exp: 2_000_000_000 }).replace(/[^.]+$/, ''))).toBe(2_000_000_000_000);
  });

  it.each([
    ['not a JWT', 'opaque-session-value'],
    ['two parts', 'eyJhbGciOiJub25lIn0.eyJleHAiOjF9'],
    ['four parts', `${jwt({ exp: 2_000_000_000 })}.extra`],
    ['payload not base64url JSON', 'eyJhbGciOiJub25lIn0.!!!.sig'],
    ['payload not JSON', `eyJhbGciOiJub25lIn0.${Buffer.from('exp=5').toString('base64url')}.sig`],
    ['payload a JSON array', `eyJhbGciOiJub25lIn0.${Buffer.from('[1]').toString('base64url')}.sig`],
    ['exp missing', jwt({ sub: 'alice' })],
    ['exp a string', jwt({ exp: '2000000000' })],
    ['exp negative', jwt({ exp: -5 })],
    ['exp beyond any date', jwt({ exp: 1e300 })],
    ['empty', ''],
  ])('%s: undefined', (_label, value) => {
    expect(jwtExpiryMs(value)).toBeUndefined();
  });
});

describe('sessionExpiry', () => {
  it('a cookie with Expires/Max-Age (absolute in the jar): its time', () => {
    const cookies: ExpiryCookie[] = [
      { name: '_oauth2_proxy', value: 'opaque', expires: at(NOW + 7 * 60_000) },
    ];
    expect(sessionExpiry(cookies)).toEqual({
      expiresAtMs: NOW + 7 * 60_000,
      source: { cookie: '_oauth2_proxy', from: 'cookie-expiry' },
    });
  });

  it('session cookies without expiry and without a JWT: unknown', () => {
    expect(sessionExpiry([{ name: '_oauth2_proxy', value: 'opaque' }])).toEqual({ expiresAtMs: undefined });
    expect(sessionExpiry([])).toEqual({ expiresAtMs: undefined });
  });

  it("Cloudflare Access's CF_Authorization session cookie: the JWT's exp", () => {
    const exp = NOW / 1000 + 3 * 3600 + 12 * 60;
    expect(sessionExpiry([{ name: 'CF_Authorization', value: jwt({ exp, aud: ['x'] }) }])).toEqual({
      expiresAtMs: exp * 1000,
      source: { cookie: 'CF_Authorization', from: 'jwt-exp' },
    });
  });

  it('the earlier of a cookie expiry and its JWT exp wins', () => {
    const value = jwt({ exp: NOW / 1000 + 600 });
    expect(sessionExpiry([{ name: '_pomerium', value, expires: at(NOW + 3_600_000) }])).toEqual({
      expiresAtMs: NOW + 600_000,
      source: { cookie: '_pomerium', from: 'jwt-exp' },
    });
  });

  it('chunked cookies are joined in order before the JWT is read (_pomerium_0, _pomerium_1)', () => {
    const value = jwt({ exp: NOW / 1000 + 900, groups: 'x'.repeat(200) });
    const half = Math.floor(value.length / 2);
    // Listed out of order: the chunk number decides.
    const cookies: ExpiryCookie[] = [
      { name: '_pomerium_1', value: value.slice(half) },
      { name: '_pomerium_0', value: value.slice(0, half) },
    ];
    expect(sessionExpiry(cookies)).toEqual({
      expiresAtMs: NOW + 900_000,
      source: { cookie: '_pomerium', from: 'jwt-exp' },
    });
    // Neither chunk alone is a JWT.
    expect(jwtExpiryMs(value.slice(0, half))).toBeUndefined();
  });

  it("mod_auth_openidc's chunk count cookie is not part of the value", () => {
    const value = jwt({ exp: NOW / 1000 + 60 });
    const [a, b] = [value.slice(0, 20), value.slice(20)];
    const cookies: ExpiryCookie[] = [
      { name: 'mod_auth_openidc_session_chunks', value: '2' },
      { name: 'mod_auth_openidc_session_0', value: a },
      { name: 'mod_auth_openidc_session_1', value: b },
    ];
    expect(sessionExpiry(cookies)).toEqual({
      expiresAtMs: NOW + 60_000,
      source: { cookie: 'mod_auth_openidc_session', from: 'jwt-exp' },
    });
  });

  it("a malformed JWT in a session cookie is not a time: the cookie's own expiry is used", () => {
    const broken = jwt({ exp: NOW / 1000 + 60 }).replace(/\.[^.]+\./, '.bm90LWpzb24.');
    expect(sessionExpiry([{ name: 'CF_Authorization', value: broken, expires: at(NOW + 1000) }])).toEqual({
      expiresAtMs: NOW + 1000,
      source: { cookie: 'CF_Authorization', from: 'cookie-expiry' },
    });
    expect(sessionExpiry([{ name: 'CF_Authorization', value: broken }])).toEqual({ expiresAtMs: undefined });
  });

  it("with a known proxy's session cookie present, other cookies (a short CSRF cookie) do not count", () => {
    const cookies: ExpiryCookie[] = [
      { name: '_oauth2_proxy_csrf', value: 'x', expires: at(NOW + 60_000) },
      { name: '_oauth2_proxy', value: 'opaque', expires: at(NOW + 3_600_000) },
    ];
    expect(sessionExpiry(cookies).source).toEqual({ cookie: '_oauth2_proxy', from: 'cookie-expiry' });
  });

  it('with no known session cookie, any cookie holding a JWT (or an expiry) counts: the earliest', () => {
    const cookies: ExpiryCookie[] = [
      { name: 'theme', value: 'dark', expires: at(NOW + 86_400_000) },
      { name: 'app_session', value: jwt({ exp: NOW / 1000 + 300 }) },
    ];
    expect(sessionExpiry(cookies)).toEqual({
      expiresAtMs: NOW + 300_000,
      source: { cookie: 'app_session', from: 'jwt-exp' },
    });
  });

  it('a lone name with a number suffix is its own cookie, not a chunk', () => {
    expect(sessionExpiry([{ name: 'session_2024', value: jwt({ exp: NOW / 1000 }) }]).source).toEqual({
      cookie: 'session_2024',
      from: 'jwt-exp',
    });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [45_000, '45s'],
    [7 * 60_000 + 59_000, '7m'],
    [3 * 3_600_000 + 12 * 60_000 + 30_000, '3h 12m'],
    [2 * 3_600_000, '2h'],
    [2 * 86_400_000 + 4 * 3_600_000, '2d 4h'],
    [-5, '0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
