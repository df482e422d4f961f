import {
  BUNDLE_PREFIX,
  MAX_BUNDLE_BYTES,
  MAX_BUNDLE_COOKIES,
  decodeCookieBundle,
  encodeCookieBundle,
  type BundleCookie,
  type CookieBundle,
} from '../../src/protocol/bundle-codec';
import { InvalidBundleError } from '../../src/errors';

const SECRET = 'S3cr3tV4lue-do-not-leak';
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
const own = (payload: unknown): string =>
  BUNDLE_PREFIX + Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');

describe('encodeCookieBundle / decodeCookieBundle round trip', () => {
  const cases: Array<{ name: string; cookies: BundleCookie[]; state?: string; user?: string }> = [
    { name: 'one cookie', cookies: [{ name: '_oauth2_proxy', value: SECRET }] },
    {
      name: 'state and user',
      cookies: [{ name: 'a', value: '1' }],
      state: 'Abc_-123',
      user: 'ada@example.com',
    },
    {
      name: 'several cookies, duplicates kept in order, quoted and empty values',
      cookies: [
        { name: 'a', value: '1' },
        { name: 'a', value: '2' },
        { name: 'mod_auth_openidc_session', value: '"quoted"' },
        { name: 'empty', value: '' },
      ],
      state: 's'.repeat(256),
    },
    { name: 'non-ASCII user', cookies: [{ name: 'x', value: 'y' }], user: 'Zoë Ødegård' },
  ];

  it.each(cases)('$name', ({ cookies, state, user }) => {
    const text = encodeCookieBundle({
      cookies,
      ...(state === undefined ? {} : { state }),
      ...(user === undefined ? {} : { user }),
    });
    expect(text.startsWith(BUNDLE_PREFIX)).toBe(true);
    expect(text).toMatch(/^cb1\.[A-Za-z0-9_-]+$/);
    const expected: CookieBundle = { format: 'cookie-bridge-v1', cookies };
    if (state !== undefined) expected.state = state;
    if (user !== undefined) expected.user = user;
    expect(decodeCookieBundle(text)).toEqual(expected);
  });
});

describe('decodeCookieBundle accepts', () => {
  const bundle = encodeCookieBundle({ cookies: [{ name: 'a', value: SECRET }], state: 'st4te', user: 'u@x' });
  const cases: Array<{ name: string; text: string; expected: CookieBundle }> = [
    {
      name: 'SkyPilot v1 (standard base64)',
      text: b64({ v: 1, user: 'ada@example.com', cookies: { _oauth2_proxy: SECRET, other: 'x' } }),
      expected: {
        format: 'skypilot-v1',
        user: 'ada@example.com',
        cookies: [
          { name: '_oauth2_proxy', value: SECRET },
          { name: 'other', value: 'x' },
        ],
      },
    },
    {
      name: 'SkyPilot v1 without user',
      text: b64({ v: 1, cookies: { a: 'b' } }),
      expected: { format: 'skypilot-v1', cookies: [{ name: 'a', value: 'b' }] },
    },
    {
      name: 'bare {name: value} object',
      text: b64({ session: SECRET }),
      expected: { format: 'skypilot-cookies', cookies: [{ name: 'session', value: SECRET }] },
    },
    {
      name: 'own bundle with newlines and spaces from a wrapped terminal paste',
      text: `  ${bundle.slice(0, 10)}\n${bundle.slice(10, 30)}\r\n  ${bundle.slice(30)}\n\n`,
      expected: {
        format: 'cookie-bridge-v1',
        state: 'st4te',
        user: 'u@x',
        cookies: [{ name: 'a', value: SECRET }],
      },
    },
    {
      name: 'SkyPilot bundle with a line break inside',
      text: (() => {
        const text = b64({ session: SECRET });
        return `${text.slice(0, 8)}\n${text.slice(8)}`;
      })(),
      expected: { format: 'skypilot-cookies', cookies: [{ name: 'session', value: SECRET }] },
    },
  ];

  it.each(cases)('$name', ({ text, expected }) => {
    expect(decodeCookieBundle(text)).toEqual(expected);
  });
});

describe('decodeCookieBundle rejects with InvalidBundleError only, never echoing cookie values', () => {
  const manyCookies = Object.fromEntries(
    Array.from({ length: MAX_BUNDLE_COOKIES + 1 }, (_, i) => [`c${i}`, SECRET]),
  );
  const cases: Array<{ name: string; text: unknown }> = [
    { name: 'empty text', text: '' },
    { name: 'only whitespace', text: ' \n\t ' },
    { name: 'not text', text: 42 },
    { name: 'not base64', text: `not base64 at all! ${SECRET}` },
    { name: 'own prefix, not base64url', text: `cb1.${SECRET}+/==` },
    { name: 'base64 of something that is not JSON', text: Buffer.from(`{${SECRET}`).toString('base64') },
    { name: 'own prefix, bad JSON', text: `cb1.${Buffer.from(`[${SECRET}`).toString('base64url')}` },
    { name: 'JSON that is not an object', text: b64([SECRET]) },
    { name: 'own format, wrong version', text: own({ v: 2, cookies: [{ name: 'a', value: SECRET }] }) },
    { name: 'own format, no version', text: own({ cookies: [{ name: 'a', value: SECRET }] }) },
    { name: 'own format, cookies not a list', text: own({ v: 1, cookies: { a: SECRET } }) },
    { name: 'own format, empty cookies', text: own({ v: 1, cookies: [] }) },
    { name: 'own format, cookie entry not an object', text: own({ v: 1, cookies: [SECRET] }) },
    { name: 'own format, non-string value', text: own({ v: 1, cookies: [{ name: 'a', value: 42 }] }) },
    { name: 'own format, bad cookie name', text: own({ v: 1, cookies: [{ name: 'a b', value: SECRET }] }) },
    {
      name: 'own format, bad cookie value (semicolon)',
      text: own({ v: 1, cookies: [{ name: 'a', value: `${SECRET};x` }] }),
    },
    {
      name: 'own format, bad cookie value (control character)',
      text: own({ v: 1, cookies: [{ name: 'a', value: `${SECRET}\n` }] }),
    },
    {
      name: 'own format, bad state',
      text: own({ v: 1, state: 'a b', cookies: [{ name: 'a', value: SECRET }] }),
    },
    {
      name: 'own format, bad user',
      text: own({ v: 1, user: 'a\nb', cookies: [{ name: 'a', value: SECRET }] }),
    },
    { name: 'SkyPilot v1, empty cookies', text: b64({ v: 1, cookies: {} }) },
    { name: 'bare object, empty', text: b64({}) },
    { name: 'SkyPilot v1, non-string value', text: b64({ v: 1, cookies: { a: 1 } }) },
    { name: 'bare object, non-string value', text: b64({ a: { nested: SECRET } }) },
    { name: 'bare object, bad cookie name', text: b64({ 'a;b': SECRET }) },
    { name: 'bare object, bad cookie value', text: b64({ a: `${SECRET} with spaces` }) },
    { name: 'too many cookies', text: b64(manyCookies) },
    {
      name: `larger than ${MAX_BUNDLE_BYTES} bytes`,
      text: own({ v: 1, cookies: [{ name: 'a', value: SECRET.repeat(4000) }] }),
    },
  ];

  it.each(cases)('$name', ({ text }) => {
    let caught: unknown;
    try {
      decodeCookieBundle(text as string);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidBundleError);
    const error = caught as InvalidBundleError;
    expect(error.code).toBe('E_INVALID_BUNDLE');
    expect(error.message).not.toContain(SECRET);
    expect(error.hint ?? '').not.toContain(SECRET);
    expect(JSON.stringify(error.toJSON())).not.toContain(SECRET);
  });
});

describe('encodeCookieBundle validates its input', () => {
  it.each([
    { name: 'no cookies', cookies: [] },
    { name: 'bad name', cookies: [{ name: 'a=b', value: SECRET }] },
    { name: 'bad value', cookies: [{ name: 'a', value: `${SECRET},` }] },
  ])('$name', ({ cookies }) => {
    expect(() => encodeCookieBundle({ cookies })).toThrow(InvalidBundleError);
    try {
      encodeCookieBundle({ cookies });
    } catch (error) {
      expect((error as Error).message).not.toContain(SECRET);
    }
  });
});

// Property-based tests of the codec (arbitrary input, round trips) live in test/security/fuzz-parsers.test.ts.
