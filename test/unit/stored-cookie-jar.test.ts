import { Cookie, CookieJar } from 'tough-cookie';
import { applyToJar, cookieHeaderFromJar, serialiseLoginJar } from '../../src/store/jar-file';
import { expiryMs, newJar, storedExpiryMs } from '../../src/store/stored-cookie-jar';

/** `api info` reads expiry from the jar's JSON without tough-cookie: it must agree with tough-cookie's view. */
describe('storedExpiryMs agrees with expiryMs on the serialised form', () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  it.each([
    ['a=1'],
    ['a=1; Expires=Wed, 25 Nov 2026 10:00:00 GMT'],
    ['a=1; Max-Age=3600'],
    ['a=1; Max-Age=0'],
    ['a=1; Max-Age=-5'],
    ['a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT'],
  ])('%s', (header) => {
    const cookie = Cookie.parse(header)!;
    cookie.creation = new Date(now);
    const entry = JSON.parse(JSON.stringify(cookie.toJSON())) as Record<string, unknown>;
    const expected = expiryMs(cookie);
    const actual = storedExpiryMs(entry);
    if (expected === undefined) expect(actual).toBeUndefined();
    else if (expected === -Infinity) expect(actual).toBe(-Infinity);
    else expect(actual).toBe(expected);
  });
});

/**
 * Secure cookies go only over HTTPS: a login at an https endpoint stores its cookies Secure, and the jar
 * leaves them out of a plain-http URL of the same host (the store answers only for the endpoint's own origin
 * besides: test/integration/tls-trust.test.ts).
 */
describe('Secure cookies of an https endpoint', () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);
  it('are replayed over https, never over http to the same host', async () => {
    const endpoint = 'https://api.example.test';
    const jar = await CookieJar.deserialize(
      await serialiseLoginJar(endpoint, [{ name: '_oauth2_proxy', value: 's3cret' }], now),
    );
    const [stored] = await jar.getCookies(`${endpoint}/`);
    expect(stored?.secure).toBe(true);
    expect(await cookieHeaderFromJar(jar, new URL(`${endpoint}/api`), now)).toBe('_oauth2_proxy=s3cret');
    expect(await cookieHeaderFromJar(jar, new URL('http://api.example.test/api'), now)).toBeUndefined();
  });

  it('a Secure Set-Cookie over https is kept Secure', async () => {
    const jar = newJar();
    await applyToJar(jar, new URL('https://api.example.test/x'), ['s=1; Path=/; Secure'], now, undefined);
    expect(await cookieHeaderFromJar(jar, new URL('https://api.example.test/'), now)).toBe('s=1');
    expect(await cookieHeaderFromJar(jar, new URL('http://api.example.test/'), now)).toBeUndefined();
  });
});
