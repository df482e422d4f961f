import type { Cookie, CookieJar } from 'tough-cookie';

/** The largest time a JS Date can hold. */
const MAX_DATE_MS = 8.64e15;

/** tough-cookie (and tldts under it) is loaded only when a jar is read or written, not at start-up. */
export const toughCookie = (): typeof import('tough-cookie') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('tough-cookie') as typeof import('tough-cookie');

/**
 * Jar settings. Special-use names (localhost) and IP hosts are allowed, so http://127.0.0.1:<port> and
 * http://localhost:<port> endpoints work; cookie prefixes are not policed (the jar holds one endpoint's
 * cookies, as the browser sent them); Secure cookies are only accepted from https or loopback origins.
 */
export function newJar(): CookieJar {
  return new (toughCookie().CookieJar)(undefined, {
    rejectPublicSuffixes: true,
    looseMode: false,
    allowSpecialUseDomain: true,
    prefixSecurity: 'unsafe-disabled',
    allowSecureOnLocal: true,
    enforceSecureOriginOnStorage: true,
  });
}

/** Turns a relative Max-Age into an absolute expiry, so expiry does not drift with lastAccessed. */
export function pinMaxAge(cookie: Cookie, nowMs: number): void {
  const maxAge = cookie.maxAge;
  if (maxAge === null) return;
  if (maxAge === 'Infinity') cookie.expires = 'Infinity';
  else if (maxAge === '-Infinity' || maxAge <= 0) cookie.expires = new Date(0);
  else {
    const at = nowMs + maxAge * 1000;
    cookie.expires = at < MAX_DATE_MS ? new Date(at) : 'Infinity';
  }
  cookie.maxAge = null;
}

/** Expiry in ms since the epoch; undefined for a session cookie. */
export function expiryMs(cookie: Cookie): number | undefined {
  if (cookie.maxAge !== null) {
    if (cookie.maxAge === 'Infinity') return undefined;
    if (cookie.maxAge === '-Infinity' || cookie.maxAge <= 0) return -Infinity;
    const base = cookie.creation instanceof Date ? cookie.creation.getTime() : 0;
    return base + cookie.maxAge * 1000;
  }
  return cookie.expires instanceof Date ? cookie.expires.getTime() : undefined;
}

export function isExpired(cookie: Cookie, nowMs: number): boolean {
  const expiry = expiryMs(cookie);
  return expiry !== undefined && expiry <= nowMs;
}

/** What makes two jars equal for storage purposes (access times left out). */
export async function fingerprint(jar: CookieJar): Promise<string> {
  const cookies = await jar.store.getAllCookies();
  return JSON.stringify(
    cookies.map((c) => [
      c.key,
      c.value,
      c.domain,
      c.path,
      expiryMs(c) ?? null,
      c.secure,
      c.httpOnly,
      c.hostOnly,
      c.sameSite ?? null,
      c.extensions,
    ]),
  );
}

/**
 * expiryMs for a serialised jar entry (tough-cookie's toJSON form: `expires` an ISO date or "Infinity",
 * `maxAge` seconds from `creation`), so the jar can be listed without loading tough-cookie.
 */
export function storedExpiryMs(entry: Record<string, unknown>): number | undefined {
  const { maxAge, expires, creation } = entry;
  if (maxAge === 'Infinity') return undefined;
  if (maxAge === '-Infinity' || (typeof maxAge === 'number' && maxAge <= 0)) return -Infinity;
  if (typeof maxAge === 'number') {
    const base = typeof creation === 'string' ? Date.parse(creation) : NaN;
    return (Number.isNaN(base) ? 0 : base) + maxAge * 1000;
  }
  if (typeof expires !== 'string' || expires === 'Infinity') return undefined;
  const at = Date.parse(expires);
  return Number.isNaN(at) ? undefined : at;
}

/** Whether a serialised jar entry has the shape of a cookie (a corrupt jar is refused, never half-read). */
export function isStoredCookie(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.key === 'string' &&
    typeof entry.domain === 'string' &&
    (entry.value === undefined || typeof entry.value === 'string') &&
    (entry.path === undefined || typeof entry.path === 'string')
  );
}
