/**
 * Property-based fuzzing (fast-check, thousands of generated inputs per property) of the three parsers
 * that read attacker-controllable text: the bundle decoder (what a page or a paste hands the CLI), the
 * Cookie header parser (what a browser sends /token) and the auth-proxy detection rules (what any server
 * answers). Each must only ever return a valid result or throw its typed error: never crash, never hang
 * (bounded by jest's timeout: no timed assertions), never let an invalid cookie or a URL query through.
 */
import fc from 'fast-check';
import {
  decodeCookieBundle,
  encodeCookieBundle,
  isValidCookieName,
  isValidCookieValue,
  isValidState,
  MAX_BUNDLE_COOKIES,
  type CookieBundle,
} from '../../src/protocol/bundle-codec';
import {
  AUTH_PROXY_KINDS,
  classifyAuthProxyResponse,
  type AuthProxyRule,
  type AuthProxyResponseInput,
} from '../../src/protocol/auth-proxy-signals';
import {
  formatCookieHeader,
  MAX_COOKIE_HEADER_PAIRS,
  parseCookieHeader,
} from '../../src/protocol/cookie-header';
import { InvalidBundleError } from '../../src/errors';

const RUNS = 3000;
const anyText = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({
    unit: fc.constantFrom('=', ';', ' ', '"', ',', '\\', '\t', '\r', '\n', '\0', 'a', '%', '<'),
    maxLength: 200,
  }),
);
const cookieName = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,40}$/);
const cookieValue = fc.stringMatching(/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{0,80}$/);

/** Decodes, and turns "returned a bundle" / "threw InvalidBundleError" into a value; anything else fails. */
function decodeOrTypedError(text: string): CookieBundle | 'invalid' {
  try {
    return decodeCookieBundle(text);
  } catch (error) {
    if (error instanceof InvalidBundleError) return 'invalid';
    throw error;
  }
}

function expectValidBundle(result: CookieBundle | 'invalid'): void {
  if (result === 'invalid') return;
  expect(result.cookies.length).toBeGreaterThan(0);
  expect(result.cookies.length).toBeLessThanOrEqual(MAX_BUNDLE_COOKIES);
  for (const { name, value } of result.cookies) {
    expect(isValidCookieName(name)).toBe(true);
    expect(isValidCookieValue(value)).toBe(true);
  }
  if (result.state !== undefined) expect(isValidState(result.state)).toBe(true);
  if (result.user !== undefined) expect(result.user).not.toMatch(/[\x00-\x1f\x7f]/);
}

describe('decodeCookieBundle: a valid bundle or InvalidBundleError, nothing else', () => {
  // Guards decodeCookieBundle's validation: every cookie, state and user it returns is well-formed.
  it('arbitrary text', () => {
    fc.assert(
      fc.property(anyText, (text) => expectValidBundle(decodeOrTypedError(text))),
      { numRuns: RUNS },
    );
  });

  it('cb1. + base64url of arbitrary JSON, and of bundle-shaped JSON with hostile fields', () => {
    const hostileEntry = fc.oneof(
      fc.record({ name: anyText, value: anyText }),
      fc.record({ name: cookieName, value: cookieValue }),
      fc.jsonValue(),
    );
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          v: fc.oneof(fc.constant(1), fc.jsonValue()),
          state: fc.oneof(fc.string({ maxLength: 300 }), fc.jsonValue()),
          user: fc.oneof(anyText, fc.jsonValue()),
          cookies: fc.oneof(fc.array(hostileEntry, { maxLength: 8 }), fc.jsonValue()),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(payload, (value) => {
        const json = JSON.stringify(value) ?? 'undefined';
        expectValidBundle(decodeOrTypedError(`cb1.${Buffer.from(json).toString('base64url')}`));
        expectValidBundle(decodeOrTypedError(Buffer.from(json).toString('base64')));
      }),
      { numRuns: RUNS },
    );
  });

  it('round-trips every valid bundle', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: cookieName, value: cookieValue }), { minLength: 1, maxLength: 20 }),
        fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), { nil: undefined }),
        (cookies, state) => {
          const decoded = decodeCookieBundle(
            encodeCookieBundle({ cookies, ...(state === undefined ? {} : { state }) }),
          );
          expect(decoded.cookies).toEqual(cookies);
          expect(decoded.state).toBe(state);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('oversized and deeply nested inputs are refused, not parsed for ever', () => {
    const deep = `cb1.${Buffer.from('['.repeat(60_000)).toString('base64url')}`;
    expect(decodeOrTypedError(deep)).toBe('invalid');
    expect(decodeOrTypedError('a'.repeat(10 * 1024 * 1024))).toBe('invalid');
    expect(decodeOrTypedError(' \n\t'.repeat(30_000))).toBe('invalid');
    const many = encodeCookieBundle({ cookies: [{ name: 'a', value: 'b' }] }).replace(/^cb1\./, '');
    expect(decodeOrTypedError(`cb1.${many}${'A'.repeat(70_000)}`)).toBe('invalid');
  });
});

describe('parseCookieHeader: never throws, returns only valid, bounded pairs', () => {
  // Guards the /token page: only RFC 6265 pairs go into a bundle, at most MAX_COOKIE_HEADER_PAIRS.
  it('arbitrary headers', () => {
    const header = fc.oneof(
      anyText,
      fc
        .tuple(
          fc.array(fc.tuple(fc.oneof(cookieName, anyText), fc.oneof(cookieValue, anyText)), {
            maxLength: 30,
          }),
          fc.constantFrom(';', '; ', ';;', ' ;'),
        )
        .map(([pairs, separator]) => pairs.map(([n, v]) => `${n}=${v}`).join(separator)),
    );
    fc.assert(
      fc.property(header, (text) => {
        const pairs = parseCookieHeader(text);
        expect(pairs.length).toBeLessThanOrEqual(MAX_COOKIE_HEADER_PAIRS);
        for (const { name, value } of pairs) {
          expect(isValidCookieName(name)).toBe(true);
          expect(isValidCookieValue(value)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('valid pairs survive format → parse unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: cookieName, value: cookieValue }), { maxLength: 50 }),
        (cookies) => {
          expect(parseCookieHeader(formatCookieHeader(cookies))).toEqual(cookies);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('huge headers are cut, not parsed whole', () => {
    const huge = Array.from({ length: 20_000 }, (_, i) => `c${i}=v${i}`).join('; ');
    expect(parseCookieHeader(huge)).toHaveLength(MAX_COOKIE_HEADER_PAIRS);
    expect(parseCookieHeader('='.repeat(5_000_000))).toEqual([]);
    expect(parseCookieHeader(`a=${'b'.repeat(5_000_000)}`)).toEqual([]);
    expect(parseCookieHeader(undefined)).toEqual([]);
  });
});

describe('classifyAuthProxyResponse: undefined or a well-formed signal, never a crash or a leaked query', () => {
  const RULES: AuthProxyRule[] = [
    'redirect-off-host',
    'redirect-to-login-path',
    'unauthorized-not-json',
    'unauthorized-empty-json',
    'html-instead-of-json',
    'sign-in-page',
  ];
  const SECRET = 'code=SECRET-oauth-code-77';
  const url = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.constantFrom('http://127.0.0.1:8080', 'https://api.example.com/base', '/oauth2/start', '//evil/login'),
    anyText,
  );
  const location = fc.oneof(
    url.map((u) => `${u}${u.includes('?') ? '&' : '?'}${SECRET}`),
    fc.constantFrom(
      `/oauth2/start?rd=%2F&${SECRET}`,
      `https://idp.example/authorize?response_type=code&${SECRET}`,
    ),
    anyText,
  );
  const headerValue = fc.oneof(
    anyText,
    fc.array(anyText, { maxLength: 4 }),
    fc.integer(),
    fc.constant(undefined),
  );
  const headers = fc.record(
    {
      location,
      'content-type': fc.oneof(
        fc.constantFrom(
          'application/json',
          'text/html; charset=utf-8',
          'text/plain',
          'application/problem+json',
          '',
        ),
        anyText,
      ),
      'set-cookie': fc.oneof(
        fc.array(fc.oneof(fc.constantFrom('_oauth2_proxy=x', 'mod_auth_openidc_state_1=y'), anyText), {
          maxLength: 4,
        }),
        anyText,
      ),
      'www-authenticate': anyText,
      Location: headerValue,
      'CONTENT-TYPE': headerValue,
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    anyText,
    fc.constantFrom(
      '{}',
      '{"error":"x"}',
      '<html><form><input type=password></form>',
      '<!doctype html>oauth2-proxy',
    ),
    fc.string({ unit: fc.constantFrom('<form', '>', 'name=email', '<html', ' ', '{', '"'), maxLength: 2000 }),
  );
  const input: fc.Arbitrary<AuthProxyResponseInput> = fc.record({
    endpoint: url,
    requestUrl: url,
    status: fc.oneof(
      fc.integer({ min: 100, max: 599 }),
      fc.constantFrom(200, 301, 302, 303, 307, 401, 403),
      fc.integer(),
    ),
    headers: headers as fc.Arbitrary<AuthProxyResponseInput['headers']>,
    bodySnippet: body,
    expectJson: fc.boolean(),
    healthProbe: fc.boolean(),
  });

  // Guards the rules' robustness (any server can answer anything) and describeUrl (no query in details).
  it('arbitrary responses', () => {
    fc.assert(
      fc.property(input, (response) => {
        const signal = classifyAuthProxyResponse(response);
        if (signal === undefined) return;
        expect(RULES).toContain(signal.rule);
        expect([...AUTH_PROXY_KINDS]).toContain(signal.proxy);
        expect(typeof signal.detail).toBe('string');
        expect(signal.detail).not.toContain('SECRET-oauth-code');
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('adversarial 4 KiB bodies (regex backtracking bait) finish', () => {
    const baits = [
      '<form'.repeat(820),
      `<form ${'a'.repeat(4090)}`,
      `<form>${' '.repeat(4090)}`,
      `<html>${'<form>name='.repeat(400)}`,
      `{ "${'\\"'.repeat(2000)}`,
      '['.repeat(4096),
    ];
    for (const bodySnippet of baits) {
      for (const status of [200, 302, 401]) {
        const signal = classifyAuthProxyResponse({
          endpoint: 'http://127.0.0.1:1/login',
          requestUrl: 'http://127.0.0.1:1/login/sign_in',
          status,
          headers: { 'content-type': 'text/html', location: '/x', 'set-cookie': ['_oauth2_proxy=1'] },
          bodySnippet,
          expectJson: true,
        });
        expect(signal === undefined || RULES.includes(signal.rule)).toBe(true);
      }
    }
  });
});
