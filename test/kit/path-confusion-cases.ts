/**
 * The spellings of issue 8 item 1, shared by the unit tests of serve's path rules (src/protocol/request-path.ts),
 * the check of the oauth2-proxy regex and the real-proxy suite (test/security/path-confusion.test.ts).
 *
 * `attacks`: paths a proxy may let through as relay-exempt while the app reads them as one of its own routes
 * (raw and encoded dot segments before and after the prefix, doubled slashes, backslashes, other case, double
 * encoding). None may reach the app. `plain`: ordinary paths that must still be forwarded unchanged.
 */

export interface PathCase {
  name: string;
  /** The request target's path, sent on the wire exactly as written. */
  path: string;
}

/** The app route the attacks aim at (an app mounted at /graphql, as in the review's proof). */
export const TARGET_ROUTE = '/graphql';

export const PATH_CONFUSION_ATTACKS: readonly PathCase[] = [
  { name: 'the review: encoded slashes after a raw ..', path: '/graphql/..%2fcookie-bridge%2frelay%2f' },
  { name: 'raw dot segments before the prefix', path: '/graphql/../cookie-bridge/relay/' },
  { name: 'encoded dot segments before the prefix', path: '/graphql/%2e%2e/cookie-bridge/relay/info' },
  { name: 'half-encoded .%2E before the prefix', path: '/graphql/.%2E/cookie-bridge/relay/info' },
  { name: 'half-encoded %2E. before the prefix', path: '/graphql/%2E./cookie-bridge/relay/claim' },
  { name: 'all encoded, upper case', path: '/graphql%2F%2E%2E%2Fcookie-bridge%2Frelay%2Finfo' },
  { name: 'raw dot segments after the prefix', path: '/cookie-bridge/relay/../../graphql' },
  { name: 'encoded dot segments after the prefix', path: '/cookie-bridge/relay/%2e%2e/%2e%2e/graphql' },
  { name: 'encoded slashes after the prefix', path: '/cookie-bridge/relay/..%2f..%2fgraphql' },
  { name: 'single dot then dot-dot after the prefix', path: '/cookie-bridge/relay/./../../graphql' },
  { name: 'after a real relay route', path: '/cookie-bridge/relay/info/..%2F..%2F..%2Fgraphql' },
  { name: 'doubled slashes', path: '//cookie-bridge//relay//..//..//graphql' },
  { name: 'doubled slashes before the prefix', path: '/graphql//..//cookie-bridge//relay//info' },
  { name: 'backslashes after the prefix', path: '/cookie-bridge/relay/..\\..\\graphql' },
  { name: 'encoded backslashes before the prefix', path: '/graphql%5c..%5ccookie-bridge/relay/info' },
  { name: 'other case with dot segments', path: '/COOKIE-BRIDGE/Relay/../../graphql' },
  { name: 'double encoding after the prefix', path: '/cookie-bridge/relay/%252e%252e/%252e%252e/graphql' },
  { name: 'double encoding before the prefix', path: '/graphql/%252e%252e%252fcookie-bridge%252frelay%252f' },
  { name: 'encoded prefix slashes and dots', path: '/cookie-bridge%2frelay%2f..%2f..%2fgraphql' },
  { name: 'dot-dot with a ;parameter', path: '/graphql/..;/cookie-bridge/relay/info' },
  { name: 'dot segments with a query', path: '/cookie-bridge/relay/../../graphql?query=%7Bme%7D' },
];

/** Relay paths in other spellings without dot segments: serve answers them itself, never the app. */
export const RELAY_SPELLINGS: readonly PathCase[] = [
  { name: 'the relay info route', path: '/cookie-bridge/relay/info' },
  { name: 'other case', path: '/Cookie-Bridge/RELAY/info' },
  { name: 'encoded slashes', path: '/cookie-bridge%2Frelay%2Finfo' },
  { name: 'doubled slashes', path: '//cookie-bridge//relay/info' },
  { name: 'encoded letters', path: '/%63ookie-bridge/relay/claim' },
];

export const PLAIN_PATHS: readonly PathCase[] = [
  { name: 'the target route', path: '/graphql' },
  { name: 'a query', path: '/graphql?query=%7Bme%7D&x=a/../b' },
  { name: 'an id with %2F inside a segment', path: '/api/v4/projects/group%2Fproject' },
  { name: 'encoded characters that are not dots', path: '/files/a%20b/%C3%A9t%C3%A9.txt' },
  { name: 'dots inside a name', path: '/files/v1.2.3/..hidden/archive..tar' },
];
