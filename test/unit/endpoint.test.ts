import fc from 'fast-check';
import { hasUrlScheme, parseEndpoint, resolveEndpointUrl } from '../../src/protocol/endpoint';
import { UsageError } from '../../src/errors';

describe('parseEndpoint', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com', 'https://api.example.com'],
    ['https://api.example.com/', 'https://api.example.com', 'https://api.example.com'],
    ['https://API.example.com:443/prefix/', 'https://api.example.com/prefix', 'https://api.example.com'],
    ['http://127.0.0.1:8080/x?y=1#z', 'http://127.0.0.1:8080/x', 'http://127.0.0.1:8080'],
    ['api.example.com:8443', 'https://api.example.com:8443', 'https://api.example.com:8443'],
    ['  http://[::1]:3000  ', 'http://[::1]:3000', 'http://[::1]:3000'],
  ])('%s → %s', (input, url, origin) => {
    const parsed = parseEndpoint(input);
    expect(parsed.url).toBe(url);
    expect(parsed.origin).toBe(origin);
    expect(parsed.basic).toBeUndefined();
  });

  it('gives what clearing the userinfo, query and fragment through URL would (the form endpoints are stored under)', () => {
    // The reference: the WHATWG URL's own origin and path after its setters cleared the rest.
    const reference = (input: string): { url: string; origin: string } => {
      const url = new URL(input);
      url.username = '';
      url.password = '';
      url.search = '';
      url.hash = '';
      return { url: `${url.origin}${url.pathname.replace(/\/+$/, '')}`, origin: url.origin };
    };
    const host = fc.oneof(
      fc.domain(),
      fc.ipV4(),
      fc.ipV6().map((address) => `[${address}]`),
      fc.constantFrom('localhost', 'API.Example.COM', 'bücher.example', 'xn--bcher-kva.example'),
    );
    const port = fc.option(fc.oneof(fc.constantFrom(80, 443, 8080), fc.integer({ min: 1, max: 65535 })), {
      nil: undefined,
    });
    const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{0,8}$/);
    const input = fc
      .record({
        scheme: fc.constantFrom('http', 'https', 'HTTP', 'HttpS'),
        userinfo: fc.option(fc.stringMatching(/^[a-z0-9%]{1,6}(:[a-z0-9%]{0,6})?$/), { nil: undefined }),
        host,
        port,
        path: fc.array(segment, { maxLength: 4 }),
        trailing: fc.constantFrom('', '/', '//'),
        query: fc.option(fc.stringMatching(/^[a-z0-9=&]{0,8}$/), { nil: undefined }),
        fragment: fc.option(fc.stringMatching(/^[a-z0-9]{0,6}$/), { nil: undefined }),
      })
      .map(
        (p) =>
          `${p.scheme}://${p.userinfo === undefined ? '' : `${p.userinfo}@`}${p.host}` +
          `${p.port === undefined ? '' : `:${p.port}`}${p.path.map((s) => `/${s}`).join('')}${p.trailing}` +
          `${p.query === undefined ? '' : `?${p.query}`}${p.fragment === undefined ? '' : `#${p.fragment}`}`,
      );
    fc.assert(
      fc.property(input, (text) => {
        let expected: { url: string; origin: string };
        try {
          expected = reference(text);
        } catch {
          expect(() => parseEndpoint(text)).toThrow(UsageError);
          return;
        }
        const { username, password } = new URL(text);
        let decodable = true;
        try {
          decodeURIComponent(username);
          decodeURIComponent(password);
        } catch {
          decodable = false;
        }
        if (!decodable) {
          expect(() => parseEndpoint(text)).toThrow(UsageError);
          return;
        }
        const parsed = parseEndpoint(text);
        expect({ url: parsed.url, origin: parsed.origin }).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('takes basic credentials out of the URL and decodes them', () => {
    const parsed = parseEndpoint('https://ci%40corp:p%3Ass@api.example.com/base');
    expect(parsed.url).toBe('https://api.example.com/base');
    expect(parsed.basic).toEqual({ username: 'ci@corp', password: 'p:ss' });
  });

  it('refuses credentials that are not valid percent-encoding with a UsageError that does not quote them', () => {
    expect(() => parseEndpoint('https://ci%:s3cret%zz@api.example.com')).toThrow(UsageError);
    try {
      parseEndpoint('https://ci%:s3cret%zz@api.example.com');
    } catch (error) {
      expect((error as UsageError).message).toContain('https://<credentials>@api.example.com');
      expect((error as UsageError).message).not.toContain('s3cret');
      expect((error as UsageError).hint).toContain('%25');
    }
  });

  it.each(['', '   ', 'ftp://host', 'http://', 'https://exa mple.com'])(
    'refuses %j with a UsageError',
    (input) => {
      expect(() => parseEndpoint(input)).toThrow(UsageError);
    },
  );

  it('never echoes the password of an invalid URL', () => {
    try {
      parseEndpoint('http://user:hunter2secret@exa mple.com');
      throw new Error('expected a UsageError');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).not.toContain('hunter2secret');
    }
  });
});

describe('resolveEndpointUrl', () => {
  it.each([
    ['https://api.example.com', '/api/items', 'https://api.example.com/api/items'],
    ['https://api.example.com', 'api/items?x=1', 'https://api.example.com/api/items?x=1'],
    ['https://api.example.com/base', '/api/items', 'https://api.example.com/base/api/items'],
    ['https://api.example.com', 'https://api.example.com/z', 'https://api.example.com/z'],
  ])('%s + %s', (endpoint, pathOrUrl, expected) => {
    expect(resolveEndpointUrl(endpoint, pathOrUrl).toString()).toBe(expected);
  });

  it('refuses a URL on another origin, so credentials never leave the endpoint', () => {
    expect(() => resolveEndpointUrl('https://api.example.com', 'https://evil.example.net/x')).toThrow(
      UsageError,
    );
    expect(() => resolveEndpointUrl('https://api.example.com', 'http://api.example.com/x')).toThrow(
      UsageError,
    );
  });
});

describe('hasUrlScheme', () => {
  it('answers as the case-insensitive pattern it replaced, for any text (non-ASCII letters included)', () => {
    const reference = (text: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
    // Scheme-like prefixes built from the characters that matter, plus letters whose case maps to ASCII
    // (long s, Kelvin sign, dotless i) and arbitrary text after them.
    const schemeChar = fc.constantFrom(...'aZz09+.-:/\u017f\u212a\u0131\u0130_ \u00e9'.split(''));
    const text = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc
        .tuple(fc.array(schemeChar, { maxLength: 12 }), fc.string())
        .map(([head, tail]) => head.join('') + tail),
    );
    fc.assert(
      fc.property(text, (candidate) => hasUrlScheme(candidate) === reference(candidate)),
      { numRuns: 5000 },
    );
    expect(
      ['HTTPS://x', 'git+ssh://x', 'a://', '\u017f://x', '\u212a://x', '1a://x', 'http:/x'].map(hasUrlScheme),
    ).toEqual([true, true, true, false, false, false, false]);
  });
});
