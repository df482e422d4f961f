/**
 * The Cookie header a stored jar sends to a URL, computed from the jar file's entries (tough-cookie's toJSON
 * form) without loading tough-cookie (~20 ms of start-up for `api info`'s server check and other short
 * commands). It applies RFC 6265 §5.4 exactly as tough-cookie's `getCookies` does with the jar settings of
 * stored-cookie-jar.ts, after `readJar` has loaded the entries (test/unit/stored-cookie-header.test.ts
 * checks the two agree, by table and by generated jars):
 *
 * - an entry without a string `path` is not stored; of entries with the same domain, path and name the
 *   last one wins;
 * - domain: a host-only cookie only for its exact host; another for its domain and, by domain match,
 *   its subdomains;
 * - path: RFC 6265 §5.1.4 path match against the URL's decoded path;
 * - Secure: only to potentially trustworthy URLs (https, wss, loopback addresses, localhost);
 * - expired cookies (Max-Age from `creation`, else Expires, at `nowMs`) are left out;
 * - order: longer path first, then earlier creation, then earlier in the file.
 *
 * tough-cookie only looks for a parent-domain cookie under the domains between the host and its registrable
 * domain (the public suffix list). A non-host-only cookie for a parent domain of the host therefore cannot
 * be decided here: the answer is then `undefined` ("ask tough-cookie"), as it is for the few inputs whose
 * answer tough-cookie takes from the wall clock (an entry without a creation time) or refuses (a single-label
 * special-use host). Pure: no I/O, no clock.
 */

/** The header, or `undefined` for "cannot tell without tough-cookie". `header` is undefined when no cookie applies. */
export type StoredCookieHeader = { header: string | undefined } | undefined;

/** tough-cookie's sort key for a cookie without a creation Date. */
const MAX_CREATION_MS = 2147483647e3;
/** Single-label hosts tough-cookie refuses to look up (getPublicSuffix throws for them). */
const REFUSED_SINGLE_LABEL_HOSTS = new Set(['local', 'example', 'test']);

interface Candidate {
  key: string;
  value: string;
  path: string;
  creationMs: number;
  index: number;
}

export function cookieHeaderFromStoredJar(
  entries: ReadonlyArray<Readonly<Record<string, unknown>>>,
  url: URL,
  nowMs: number,
): StoredCookieHeader {
  const host = lookupHost(url.hostname);
  if (host === undefined) return undefined;
  const requestPath = decodedPath(url.pathname);
  const trustworthy = isPotentiallyTrustworthy(url);
  // The store keeps one cookie per domain, path and name: the last entry loaded.
  const stored = new Map<string, { entry: Record<string, unknown>; index: number }>();
  entries.forEach((entry, index) => {
    if (typeof entry.path !== 'string' || typeof entry.domain !== 'string') return;
    stored.set(JSON.stringify([entry.domain, entry.path, keyOf(entry)]), { entry, index });
  });
  const sent: Candidate[] = [];
  for (const { entry, index } of stored.values()) {
    const domain = entry.domain as string;
    const path = entry.path as string;
    if (domain !== host) {
      // A host-only cookie is for its host alone; another one whose domain matches is a parent-domain
      // cookie, which tough-cookie sends only when the domain is below the public suffix.
      if (entry.hostOnly === true || !domainMatches(host, domain)) continue;
      return undefined;
    }
    if (!pathMatches(requestPath, path)) continue;
    if (entry.secure === true && !trustworthy) continue;
    const creation = creationOf(entry.creation);
    if (creation === undefined) return undefined;
    const expiry = expiryOf(entry, creation);
    if (expiry !== undefined && expiry <= nowMs) continue;
    sent.push({
      key: keyOf(entry),
      value: typeof entry.value === 'string' ? entry.value : '',
      path,
      creationMs: creation === 'Infinity' ? MAX_CREATION_MS : creation,
      index,
    });
  }
  sent.sort((a, b) => b.path.length - a.path.length || a.creationMs - b.creationMs || a.index - b.index);
  return {
    header:
      sent.length === 0
        ? undefined
        : sent.map(({ key, value }) => (key === '' ? value : `${key}=${value}`)).join('; '),
  };
}

function keyOf(entry: Record<string, unknown>): string {
  return typeof entry.key === 'string' ? entry.key : '';
}

/** The host as tough-cookie looks it up, or undefined where its lookup differs from the plain host. */
function lookupHost(hostname: string): string | undefined {
  if (hostname.startsWith('[') && hostname.endsWith(']')) return hostname.slice(1, -1);
  if (hostname === '' || hostname.startsWith('.') || hostname.endsWith('.')) return undefined;
  if (REFUSED_SINGLE_LABEL_HOSTS.has(hostname)) return undefined;
  return hostname.toLowerCase();
}

function decodedPath(pathname: string): string {
  let path = pathname;
  try {
    path = decodeURI(pathname);
  } catch {
    // tough-cookie keeps the path as it is when it does not decode.
  }
  return path === '' ? '/' : path;
}

/** RFC 6265 §5.1.3, for a host that is already canonical; IP addresses match only themselves. */
function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  const at = host.lastIndexOf(domain);
  if (at <= 0 || host.length !== domain.length + at || host[at - 1] !== '.') return false;
  return !isIpAddress(host);
}

function isIpAddress(host: string): boolean {
  return host.includes(':') || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(host);
}

/** RFC 6265 §5.1.4. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (cookiePath === requestPath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** Where Secure cookies go with the jar's allowSecureOnLocal: https, wss and loopback hosts. */
function isPotentiallyTrustworthy(url: URL): boolean {
  const scheme = url.protocol.toLowerCase();
  if (scheme === 'https:' || scheme === 'wss:') return true;
  let host = url.hostname;
  if (host.startsWith('[') && host.endsWith(']')) return host.slice(1, -1) === '::1';
  host = host.replace(/\.+$/, '').toLowerCase();
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(host)) return host.split('.')[0] === '127';
  return host === 'localhost' || host.endsWith('.localhost');
}

/** The entry's creation in ms, 'Infinity', or undefined when tough-cookie would take it from the wall clock. */
function creationOf(value: unknown): number | 'Infinity' | undefined {
  if (value === 'Infinity') return 'Infinity';
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Expiry in ms (NaN never expires), undefined for a session cookie: Max-Age counted from creation
 * (stored-cookie-jar.ts expiryMs), else Expires.
 */
function expiryOf(entry: Record<string, unknown>, creation: number | 'Infinity'): number | undefined {
  const { maxAge, expires } = entry;
  if (maxAge === 'Infinity') return undefined;
  if (maxAge === '-Infinity') return -Infinity;
  if (typeof maxAge === 'number') {
    if (maxAge <= 0) return -Infinity;
    return (creation === 'Infinity' ? 0 : creation) + maxAge * 1000;
  }
  if (expires === null || expires === 'Infinity') return undefined;
  if (typeof expires !== 'string' && typeof expires !== 'number') return undefined;
  return new Date(expires).getTime();
}
