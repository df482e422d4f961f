import type { BundleCookie } from './bundle-codec';

/**
 * Which cookies a /token bundle carries. By default only the auth proxy's own session cookies: the
 * browser also sends other apps' parent-domain cookies and the IdP's cookies to this site, and those must
 * not travel to the terminal (or be readable from the page). When none is present, all cookies travel and
 * the page says so.
 */

/** Cookie names of the auth proxies we know, with their chunked forms. */
const KNOWN_SESSION_COOKIES: readonly RegExp[] = [
  // oauth2-proxy: _oauth2_proxy, split into _oauth2_proxy_0, _oauth2_proxy_1… when large.
  /^_oauth2_proxy(?:_\d+)?$/,
  // Apache mod_auth_openidc: mod_auth_openidc_session, chunked as _chunks (the count) and _0, _1…
  /^mod_auth_openidc_session(?:_chunks|_\d+)?$/,
  // Pomerium.
  /^_pomerium(?:_\d+)?$/,
  // Cloudflare Access.
  /^CF_Authorization$/,
  // Authentik's proxy outpost: authentik_proxy_<id>.
  /^authentik_proxy_[A-Za-z0-9]+$/,
  // Vouch Proxy: VouchCookie, chunked as VouchCookie_1of3…
  /^VouchCookie(?:_\d+of\d+)?$/,
];

/** Whether `name` is `base` or one of its chunks (base_0, base_chunks, base_1of2; express-openid-connect's base.0). */
function isNameOrChunk(name: string, base: string): boolean {
  if (name === base) return true;
  if (name.startsWith(`${base}.`)) return /^\d+$/.test(name.slice(base.length + 1));
  if (!name.startsWith(`${base}_`)) return false;
  return /^(?:\d+|chunks|\d+of\d+)$/.test(name.slice(base.length + 1));
}

/** Whether a cookie name belongs to a known auth proxy or to one of the operator's `sessionCookies`. */
export function isSessionCookieName(name: string, sessionCookies: readonly string[] = []): boolean {
  return (
    KNOWN_SESSION_COOKIES.some((pattern) => pattern.test(name)) ||
    sessionCookies.some((base) => isNameOrChunk(name, base))
  );
}

export interface SelectedCookies {
  cookies: BundleCookie[];
  /** True when no session cookie was found and every cookie was kept. */
  allCookies: boolean;
}

/** The session cookies among `cookies`, or all of them (allCookies) when there are none. */
export function selectSessionCookies(
  cookies: readonly BundleCookie[],
  sessionCookies: readonly string[] = [],
): SelectedCookies {
  const selected = cookies.filter((cookie) => isSessionCookieName(cookie.name, sessionCookies));
  return selected.length === 0
    ? { cookies: [...cookies], allCookies: true }
    : { cookies: selected, allCookies: false };
}
