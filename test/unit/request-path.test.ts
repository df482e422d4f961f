/**
 * serve's one view of a request path (src/protocol/request-path.ts), table-driven over the spellings of issue 8
 * item 1 (test/kit/path-confusion-cases.ts), plus properties: nothing whose canonical form (or a proxy's or an
 * app's normalised form) lies under the relay prefix is ever forwarded.
 */
import fc from 'fast-check';
import { RELAY_PREFIX } from '../../src/protocol/relay-protocol';
import { isRelayPath } from '../../src/server/relay-public-routes';
import {
  canonicalPath,
  checkRequestPath,
  decodePathOnce,
  isUnderPrefix,
  isUnderRelayPrefix,
} from '../../src/protocol/request-path';
import { PATH_CONFUSION_ATTACKS, PLAIN_PATHS, RELAY_SPELLINGS } from '../kit/path-confusion-cases';

const pathOf = (target: string): string => target.split('?')[0] ?? target;

/** Forwarded by serve: neither refused nor answered by the relay routes (isRelayPath is serve's router rule). */
const forwarded = (path: string): boolean => {
  const verdict = checkRequestPath(path);
  const byVerdict = verdict.kind === 'ok' && !verdict.relay;
  expect(!isRelayPath(path)).toBe(byVerdict);
  return byVerdict && !isRelayPath(path);
};

describe('checkRequestPath', () => {
  it.each(PATH_CONFUSION_ATTACKS.map((c) => [c.name, c.path]))(
    'refuses the attack spelling "%s" (%s)',
    (_name, target) => {
      expect(checkRequestPath(pathOf(target)).kind).toBe('refused');
      expect(isRelayPath(pathOf(target))).toBe(true);
    },
  );

  it.each(RELAY_SPELLINGS.map((c) => [c.name, c.path]))(
    'answers the relay spelling "%s" (%s) itself',
    (_name, target) => {
      expect(checkRequestPath(pathOf(target))).toMatchObject({ kind: 'ok', relay: true });
    },
  );

  it.each(PLAIN_PATHS.map((c) => [c.name, c.path]))('forwards the plain path "%s" (%s)', (_name, target) => {
    expect(checkRequestPath(pathOf(target))).toMatchObject({ kind: 'ok', relay: false });
    expect(isRelayPath(pathOf(target))).toBe(false);
  });

  it.each([
    ['/a/%2e/b', 'dot_segment'],
    ['/a/%2E%2e', 'dot_segment'],
    ['/a/.', 'dot_segment'],
    ['/..', 'dot_segment'],
    ['/a\\..\\b', 'dot_segment'],
    ['/a/%5C..%5Cb', 'dot_segment'],
    ['/a/..;jsessionid=x/b', 'dot_segment'],
    ['/a/%252e%252e/b', 'double_encoding'],
    ['/a/%25%32%65', 'double_encoding'],
    ['/api/100%2541', 'double_encoding'],
  ])('refuses %s as %s', (path, reason) => {
    expect(checkRequestPath(path)).toEqual({ kind: 'refused', reason });
  });

  it('keeps a lone or malformed percent sign (no second decode can make it a dot)', () => {
    expect(checkRequestPath('/files/100%25')).toMatchObject({ kind: 'ok', relay: false });
    expect(checkRequestPath('/files/%zz')).toMatchObject({ kind: 'ok', relay: false });
  });
});

describe('canonicalPath', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['//a///b', '/a/b'],
    ['/A/%42', '/a/b'],
    ['/a\\b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/graphql/..%2fcookie-bridge%2frelay%2f', '/cookie-bridge/relay/'],
    ['/api/v4/projects/group%2Fproject', '/api/v4/projects/group/project'],
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalPath(raw)).toBe(canonical);
  });

  it('decodes exactly once', () => {
    expect(decodePathOnce('/%252e')).toBe('/%2e');
  });
});

/** The WHATWG URL parser's path (resolves `.`, `..`, `%2e`; reads `\\` as `/`), as an app using `new URL` sees it. */
function appUrlPath(path: string): string {
  return new URL(`http://app.invalid${path}`).pathname.toLowerCase();
}

/** What nginx, Apache or an app framework may make of a path: decode (0-2 times), resolve, merge, any case. */
function otherViews(path: string): string[] {
  const views = new Set<string>();
  let decoded = path;
  for (let round = 0; round < 3; round += 1) {
    views.add(canonicalPath(decoded));
    views.add(appUrlPath(decoded));
    decoded = decodePathOnce(decoded);
  }
  return [...views];
}

describe('properties', () => {
  const segment = fc.constantFrom(
    'cookie-bridge',
    'Cookie-Bridge',
    'relay',
    'RELAY',
    'graphql',
    'info',
    '..',
    '.',
    '%2e',
    '%2E%2e',
    '.%2e',
    '%252e%252e',
    '..;x',
    '',
    'a.b',
    'v1.2',
    '%2f',
    '%2F',
    '%5c',
    '\\',
    '%252f',
    'x%20y',
    '%63ookie-bridge',
  );
  const path = fc.array(segment, { maxLength: 8 }).map((parts) => `/${parts.join('/')}`);
  const withPrefix = fc
    .tuple(path, path)
    .map(([before, after]) => `${before}${RELAY_PREFIX.slice(0, -1)}${after}`.replace(/^\/\//, '/'));

  it('never forwards a path whose canonical form lies under the relay prefix', () => {
    fc.assert(
      fc.property(fc.oneof(path, withPrefix), (p) => {
        if (isUnderRelayPrefix(canonicalPath(p))) expect(forwarded(p)).toBe(false);
      }),
      { numRuns: 3000 },
    );
  });

  it('never forwards a path that any other normalisation (proxy or app) puts under the relay prefix', () => {
    fc.assert(
      fc.property(fc.oneof(path, withPrefix), (p) => {
        if (forwarded(p)) {
          for (const view of otherViews(p)) expect(isUnderRelayPrefix(view)).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('forwards only paths whose views all agree on having no dot segments', () => {
    fc.assert(
      fc.property(fc.oneof(path, withPrefix), (p) => {
        if (!forwarded(p)) return;
        const decoded = decodePathOnce(p).replace(/\\/g, '/');
        expect(decoded.split('/').some((s) => s === '.' || s === '..')).toBe(false);
        // The app's URL parser resolves nothing away: no segment disappears.
        expect(appUrlPath(p).split('/').length).toBe(p.replace(/\\/g, '/').split('/').length);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the service-account issuer path (issue 13)', () => {
  const issuerPath = '/cookie-bridge/sa';

  it.each([
    '/cookie-bridge/sa/jwks',
    '/cookie-bridge/sa/.well-known/openid-configuration',
    '/cookie-bridge/sa',
    '/Cookie-Bridge/SA/jwks',
    '/cookie-bridge%2Fsa%2Fjwks',
    '/%63ookie-bridge/sa/jwks',
    '//cookie-bridge//sa//jwks',
    '/cookie-bridge\\sa\\jwks',
  ])('answers %s itself', (path) => {
    expect(checkRequestPath(path, { issuerPath })).toMatchObject({ kind: 'ok', issuer: true, relay: false });
  });

  it.each(['/cookie-bridge/sat', '/cookie-bridge/s', '/graphql', '/cookie-bridge/relay/info', '/sa/jwks'])(
    'does not take %s for the issuer',
    (path) => {
      expect(checkRequestPath(path, { issuerPath })).toMatchObject({ kind: 'ok', issuer: false });
    },
  );

  it.each([
    '/cookie-bridge/sa/../../graphql',
    '/graphql/..%2fcookie-bridge%2fsa%2fjwks',
    '/cookie-bridge/sa/%252e%252e',
  ])('refuses %s before deciding (dot segments, double encoding)', (path) => {
    expect(checkRequestPath(path, { issuerPath }).kind).toBe('refused');
  });

  it('without an issuer path nothing is the issuer', () => {
    expect(checkRequestPath('/cookie-bridge/sa/jwks')).toMatchObject({ kind: 'ok', issuer: false });
  });

  it('never forwards a path any view puts under the issuer', () => {
    const segment = fc.constantFrom(
      'cookie-bridge',
      'COOKIE-BRIDGE',
      'sa',
      'SA',
      'jwks',
      '..',
      '%2e',
      '%2f',
      '%252e',
      '',
      'x',
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (parts) => {
        const p = `/${parts.join('/')}`;
        const verdict = checkRequestPath(p, { issuerPath });
        if (verdict.kind === 'ok' && !verdict.issuer) {
          for (const view of otherViews(p)) expect(isUnderPrefix(view, issuerPath)).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('isUnderPrefix', () => {
  it.each([
    ['/a/b', '/a/b', true],
    ['/a/b/', '/a/b', true],
    ['/A/B/c', '/a/b/', true],
    ['/a/bc', '/a/b', false],
    ['/a', '/a/b', false],
  ])('%s under %s: %s', (path, prefix, expected) => {
    expect(isUnderPrefix(path, prefix)).toBe(expected);
  });
});
