import { isValidCookieName, isValidCookieValue, type BundleCookie } from './bundle-codec';

/**
 * Reading and writing the `Cookie` request header (RFC 6265 §4.2): `name=value` pairs joined by `; `.
 */

/** Pairs beyond this many are ignored. */
export const MAX_COOKIE_HEADER_PAIRS = 200;
/** Only the first 64 KiB of a header are read; a pair cut by that limit is dropped. */
export const MAX_COOKIE_HEADER_LENGTH = 64 * 1024;

/**
 * Splits a browser's `Cookie` header into name/value pairs, in order, duplicates kept.
 * Tolerant and bounded: never throws; skips pairs without `=`, with an empty or non-token name or with a
 * value RFC 6265 does not allow (so every pair returned can go into a cookie bundle); reads at most
 * {@link MAX_COOKIE_HEADER_LENGTH} characters and returns at most {@link MAX_COOKIE_HEADER_PAIRS} pairs.
 */
export function parseCookieHeader(header: string | undefined): BundleCookie[] {
  if (typeof header !== 'string' || header === '') return [];
  let text = header;
  if (text.length > MAX_COOKIE_HEADER_LENGTH) {
    // Cut at the last separator inside the limit, so no pair is kept half.
    const cut = text.lastIndexOf(';', MAX_COOKIE_HEADER_LENGTH);
    text = cut === -1 ? '' : text.slice(0, cut);
  }
  const cookies: BundleCookie[] = [];
  for (const part of text.split(';')) {
    if (cookies.length >= MAX_COOKIE_HEADER_PAIRS) break;
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!isValidCookieName(name) || !isValidCookieValue(value)) continue;
    cookies.push({ name, value });
  }
  return cookies;
}

/** Joins cookies into a `Cookie` header value: `a=1; b=2` (empty string for none). */
export function formatCookieHeader(cookies: readonly BundleCookie[]): string {
  return cookies.map(({ name, value }) => `${name}=${value}`).join('; ');
}
