/**
 * cookieHeaderFromStoredJar (src/store/stored-cookie-header.ts) builds the Cookie header from the jar file's
 * entries without tough-cookie. Whenever it answers, the answer must be the header tough-cookie gives for the
 * same entries (readJar: Cookie.fromJSON into the jar, then cookieHeaderFromJar): by table, and by
 * generated jars and URLs. It may answer "undefined" (ask tough-cookie) only for parent-domain cookies, a
 * missing creation time and hosts tough-cookie refuses.
 */
import fc from 'fast-check';
import { Cookie } from 'tough-cookie';
import { applyToJar, cookieHeaderFromJar, serialiseLoginJar } from '../../src/store/jar-file';
import { cookieHeaderFromStoredJar } from '../../src/store/stored-cookie-header';
import { newJar } from '../../src/store/stored-cookie-jar';

type Entry = Record<string, unknown>;

const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const HOUR = 3_600_000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** What the store answered before: the entries loaded into tough-cookie's jar ('refused' when it throws). */
async function toughHeader(
  entries: readonly Entry[],
  url: URL,
  nowMs: number,
): Promise<string | undefined | 'refused'> {
  const jar = newJar();
  for (const entry of entries) {
    const cookie = Cookie.fromJSON(entry);
    if (cookie !== undefined) await jar.store.putCookie(cookie);
  }
  try {
    return await cookieHeaderFromJar(jar, url, nowMs);
  } catch {
    return 'refused';
  }
}

/** The entries a jar file holds after these Set-Cookie headers from `origin` (as the store writes them). */
async function jarEntries(origin: string, setCookies: string[], nowMs: number): Promise<Entry[]> {
  const jar = newJar();
  await applyToJar(jar, new URL(origin), setCookies, nowMs, undefined);
  return JSON.parse(JSON.stringify(await jar.serialize())).cookies as Entry[];
}

const entry = (fields: Entry): Entry => ({
  key: 's',
  value: 'v',
  domain: 'app.example.com',
  path: '/',
  hostOnly: true,
  creation: iso(NOW - HOUR),
  ...fields,
});

describe('cookieHeaderFromStoredJar: table', () => {
  const cases: Array<[string, Entry[], string, string | undefined]> = [
    ['host-only cookie to its host', [entry({})], 'https://app.example.com/x', 's=v'],
    ['host-only cookie not to a subdomain', [entry({})], 'https://sub.app.example.com/', undefined],
    ['host-only cookie not to another host', [entry({})], 'https://example.com/', undefined],
    ['domain cookie for the host itself', [entry({ hostOnly: false })], 'https://app.example.com/', 's=v'],
    ['path match at a slash', [entry({ path: '/api' })], 'https://app.example.com/api/health', 's=v'],
    ['path match exact', [entry({ path: '/api' })], 'https://app.example.com/api', 's=v'],
    ['no path match inside a segment', [entry({ path: '/api' })], 'https://app.example.com/apix', undefined],
    ['path with a trailing slash', [entry({ path: '/api/' })], 'https://app.example.com/api/x', 's=v'],
    ['path compared decoded', [entry({ path: '/a b' })], 'https://app.example.com/a%20b', 's=v'],
    ['Secure over https', [entry({ secure: true })], 'https://app.example.com/', 's=v'],
    ['Secure not over plain http', [entry({ secure: true })], 'http://app.example.com/', undefined],
    [
      'Secure over http to loopback',
      [entry({ secure: true, domain: '127.0.0.1' })],
      'http://127.0.0.1:8080/',
      's=v',
    ],
    [
      'Secure over http to localhost',
      [entry({ secure: true, domain: 'localhost' })],
      'http://localhost/',
      's=v',
    ],
    ['Secure over http to ::1', [entry({ secure: true, domain: '::1' })], 'http://[::1]:9/', 's=v'],
    ['expired by Expires', [entry({ expires: iso(NOW - 1) })], 'https://app.example.com/', undefined],
    ['expiring exactly now', [entry({ expires: iso(NOW) })], 'https://app.example.com/', undefined],
    ['not yet expired', [entry({ expires: iso(NOW + 1) })], 'https://app.example.com/', 's=v'],
    ['Max-Age from creation', [entry({ maxAge: 3601 })], 'https://app.example.com/', 's=v'],
    ['Max-Age ran out', [entry({ maxAge: 3600 })], 'https://app.example.com/', undefined],
    ['Max-Age 0', [entry({ maxAge: 0 })], 'https://app.example.com/', undefined],
    ['unparseable Expires never expires', [entry({ expires: 'soon' })], 'https://app.example.com/', 's=v'],
    ['no path: not stored', [entry({ path: undefined })], 'https://app.example.com/', undefined],
    ['empty name: value only', [entry({ key: '' })], 'https://app.example.com/', 'v'],
    [
      'longer path first, then earlier creation, then file order',
      [
        entry({ key: 'late', creation: iso(NOW - 10) }),
        entry({ key: 'b', creation: iso(NOW - 20) }),
        entry({ key: 'deep', path: '/api' }),
        entry({ key: 'a', creation: iso(NOW - 20) }),
      ],
      'https://app.example.com/api/x',
      'deep=v; b=v; a=v; late=v',
    ],
    [
      'same domain, path and name: the last entry wins, at its own place',
      [entry({ key: 'x', value: '1' }), entry({ key: 'y' }), entry({ key: 'x', value: '2' })],
      'https://app.example.com/',
      'y=v; x=2',
    ],
  ];
  it.each(cases)('%s', async (_name, entries, url, expected) => {
    const answer = cookieHeaderFromStoredJar(entries, new URL(url), NOW);
    expect(answer).toEqual({ header: expected });
    expect(await toughHeader(entries, new URL(url), NOW)).toBe(expected);
  });

  it.each([
    [
      'a parent-domain cookie (public suffix list needed)',
      [entry({ domain: 'example.com', hostOnly: false })],
      'https://app.example.com/',
    ],
    ['an entry without a creation time', [entry({ creation: undefined })], 'https://app.example.com/'],
    ['a single-label special-use host', [entry({ domain: 'test' })], 'http://test/'],
  ])('leaves %s to tough-cookie', (_name, entries, url) => {
    expect(cookieHeaderFromStoredJar(entries, new URL(url), NOW)).toBeUndefined();
  });

  it('agrees on jars the store wrote: a login, then Set-Cookie refreshes', async () => {
    const origin = 'https://app.example.com';
    const login = JSON.parse(
      await serialiseLoginJar(
        origin,
        [
          { name: '_oauth2_proxy_0', value: 'a' },
          { name: '_oauth2_proxy_1', value: 'b' },
        ],
        NOW - HOUR,
      ),
    ).cookies as Entry[];
    const refreshed = await jarEntries(
      origin,
      ['_oauth2_proxy_0=c; Path=/; Secure; HttpOnly', 'csrf=t; Path=/api; Max-Age=60', 'gone=1; Max-Age=0'],
      NOW - 30_000,
    );
    const entries = [...login, ...refreshed];
    for (const url of [`${origin}/`, `${origin}/api/health`, 'http://app.example.com/api/x']) {
      const answer = cookieHeaderFromStoredJar(entries, new URL(url), NOW);
      expect(answer).toBeDefined();
      expect(answer?.header).toBe(await toughHeader(entries, new URL(url), NOW));
    }
    expect(cookieHeaderFromStoredJar(entries, new URL(`${origin}/api/health`), NOW)?.header).toBe(
      'csrf=t; _oauth2_proxy_1=b; _oauth2_proxy_0=c',
    );
  });
});

// Pools chosen to collide: hosts and domains that match, almost match and are public suffixes.
const HOSTS = [
  'app.example.com',
  'sub.app.example.com',
  'example.com',
  'localhost',
  'x.localhost',
  '127.0.0.1',
  '[::1]',
  'foo.github.io',
  'a.b.co.uk',
  'myhost',
  'test',
  'sub.test',
];
const DOMAINS = [
  'app.example.com',
  'sub.app.example.com',
  'example.com',
  'com',
  'localhost',
  'x.localhost',
  '127.0.0.1',
  '0.0.1',
  '::1',
  'github.io',
  'foo.github.io',
  'co.uk',
  'b.co.uk',
  'a.b.co.uk',
  'myhost',
  'test',
  'sub.test',
  '',
  'APP.example.com',
  '.example.com',
];
const COOKIE_PATHS = ['/', '/api', '/api/', '/api/health', '/apix', '', '/a b', '/a%20b', 'api'];
const URL_PATHS = ['/', '/api', '/api/', '/api/health', '/apix/y', '/a%20b', '/%E0%A4%A', '/API'];
const TIMES = [NOW - 2 * HOUR, NOW - HOUR, NOW - 1, NOW, NOW + 1, NOW + HOUR];

const optional = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const timeValue = fc.oneof(
  fc.constantFrom(...TIMES).map(iso),
  fc.constantFrom(...TIMES),
  fc.constantFrom('Infinity', 'garbage', null, true),
);

const entryArb = fc
  .record({
    key: fc.constantFrom('a', 'b', 'sid', ''),
    value: optional(fc.constantFrom('1', '2', 'x y', '')),
    domain: fc.constantFrom(...DOMAINS),
    path: optional(fc.constantFrom(...COOKIE_PATHS)),
    hostOnly: optional(fc.constantFrom<unknown>(true, false, null, 'yes')),
    secure: optional(fc.constantFrom<unknown>(true, false, 'true')),
    httpOnly: optional(fc.boolean()),
    creation: optional(timeValue),
    expires: optional(timeValue),
    maxAge: optional(fc.constantFrom<unknown>(3600, 1, 0, -1, 'Infinity', '-Infinity', '10', null)),
  })
  .map((fields) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Entry);

const urlArb = fc
  .record({
    scheme: fc.constantFrom('http', 'https', 'ws', 'wss'),
    host: fc.constantFrom(...HOSTS),
    path: fc.constantFrom(...URL_PATHS),
  })
  .map(({ scheme, host, path }) => new URL(`${scheme}://${host}${path}`));

describe('cookieHeaderFromStoredJar: generated jars agree with tough-cookie', () => {
  it('whenever it answers, the answer is tough-cookie’s header', async () => {
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(entryArb, { maxLength: 8 }),
        urlArb,
        fc.constantFrom(...TIMES),
        async (entries, url, now) => {
          const answer = cookieHeaderFromStoredJar(entries, url, now);
          if (answer === undefined) return;
          answered += 1;
          expect(answer.header).toBe(await toughHeader(entries, url, now));
        },
      ),
      { numRuns: 1500 },
    );
    // The comparison is not vacuous: most generated jars get an answer.
    expect(answered).toBeGreaterThan(500);
  });

  it('answers every jar of host-only or same-host cookies with creation times, as tough-cookie does', async () => {
    const sameHost = fc
      .tuple(urlArb, fc.array(entryArb, { maxLength: 8 }))
      .filter(([url]) => !['test'].includes(url.hostname))
      .map(([url, entries]) => {
        const host = url.hostname.replace(/^\[|\]$/g, '');
        return {
          url,
          entries: entries.map((e) =>
            e.domain === host || e.hostOnly === true
              ? { ...e, creation: iso(NOW - HOUR) }
              : { ...e, hostOnly: true, creation: iso(NOW - HOUR) },
          ),
        };
      });
    await fc.assert(
      fc.asyncProperty(sameHost, fc.constantFrom(...TIMES), async ({ url, entries }, now) => {
        const answer = cookieHeaderFromStoredJar(entries, url, now);
        expect(answer).toBeDefined();
        expect(answer?.header).toBe(await toughHeader(entries, url, now));
      }),
      { numRuns: 1000 },
    );
  });
});
