/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never passed on by a proxy,
 * whichever way the message goes. The local forwarding proxy and `serve` (its /api/health answer) share
 * this set. Pure.
 */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The header names a Connection header lists (those are hop-by-hop too), lower-case. */
export function connectionListedHeaders(value: string | string[] | undefined): Set<string> {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== '' && token !== 'close' && token !== 'keep-alive'),
  );
}

/** Whether a header stops at this hop: a fixed hop-by-hop name, or one the Connection header lists. */
export function isHopByHop(name: string, listed: ReadonlySet<string>): boolean {
  return HOP_BY_HOP_HEADERS.has(name) || listed.has(name);
}
