import { Cookie } from 'tough-cookie';
import { expiryMs, storedExpiryMs } from '../../src/store/stored-cookie-jar';

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
