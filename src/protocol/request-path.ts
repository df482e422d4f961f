import { RELAY_PREFIX } from './relay-protocol';

/**
 * serve's one view of a request path, so that it cannot be made to differ from the auth proxy's.
 *
 * Proxies decide on a normalised path (decoded, dot segments resolved, slashes merged) and may forward the raw
 * one; the app then resolves it its own way. `/graphql/..%2fcookie-bridge%2frelay%2f` is exempt at the proxy
 * (it normalises to the relay prefix) and lands in the app's /graphql. So serve:
 *   - refuses paths with dot segments in any spelling (`..`, `%2e%2e`, `.%2E`, `.`) and paths still
 *     percent-encoded after one decode (`%252e`): no app needs them, and they are how the views are made to differ;
 *   - answers itself, and never forwards, a path whose raw or canonical form lies under the relay prefix, or
 *     under the service-account issuer's path (issue 13: discovery and JWKS, exempt from the proxy like the relay).
 * Everything else is forwarded as it came (an id with `%2F` inside a segment included).
 */

export type RequestPathVerdict =
  /**
   * Forward or route as usual; `canonical` is the decoded, merged, lower-cased path. `relay` / `issuer`: the
   * path lies under the relay prefix / the issuer's path (raw or canonical): answered by serve, never forwarded.
   */
  | { kind: 'ok'; canonical: string; relay: boolean; issuer: boolean }
  /** Answer 400 before anything is forwarded. */
  | { kind: 'refused'; reason: 'dot_segment' | 'double_encoding' };

const ENCODED_OCTET = /%([0-9A-Fa-f]{2})/g;
const STILL_ENCODED = /%[0-9A-Fa-f]{2}/;

/** One percent-decode, octet by octet (as latin1: only ASCII matters for the comparisons here). */
export function decodePathOnce(rawPath: string): string {
  return rawPath.replace(ENCODED_OCTET, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * The canonical form: decoded once, `\` read as `/`, slashes merged, `.` and `..` resolved (never above the
 * root), lower-cased. Pure; used for the relay decision and by the tests.
 */
export function canonicalPath(rawPath: string): string {
  const segments = decodePathOnce(rawPath).replace(/\\/g, '/').split('/');
  const out: string[] = [];
  for (const segment of segments.slice(1)) {
    const name = dotSegmentName(segment);
    if (name === '.') continue;
    if (name === '..') {
      out.pop();
      continue;
    }
    if (segment !== '') out.push(segment);
  }
  // A trailing slash (or a trailing dot segment, which names a folder) stays: /a/b/ and /a/b are not the same.
  const last = segments[segments.length - 1] ?? '';
  const trailing = segments.length > 1 && (last === '' || dotSegmentName(last) !== undefined);
  const joined = `/${out.join('/')}${trailing && out.length > 0 ? '/' : ''}`;
  return joined.toLowerCase();
}

/** Whether a canonical (or raw, lower-cased) path is the relay prefix or lies under it. */
export function isUnderRelayPrefix(path: string): boolean {
  return isUnderPrefix(path, RELAY_PREFIX);
}

/**
 * Whether a path (any case) is `prefix` or lies under it; `prefix` is compared without its trailing slash and
 * case-insensitively, so `/a/b/` covers `/a/b`, `/A/b/c`, not `/a/bc`.
 */
export function isUnderPrefix(path: string, prefix: string): boolean {
  const lower = path.toLowerCase();
  const base = prefix.toLowerCase().replace(/\/+$/, '');
  return lower === base || lower.startsWith(`${base}/`);
}

export interface RequestPathOptions {
  /** The path of the service-account issuer (serve --sa-issuer), e.g. /cookie-bridge/sa. */
  issuerPath?: string;
}

/** The verdict on a request's path (the part of the request target before `?`). */
export function checkRequestPath(rawPath: string, options: RequestPathOptions = {}): RequestPathVerdict {
  const decoded = decodePathOnce(rawPath);
  if (STILL_ENCODED.test(decoded)) return { kind: 'refused', reason: 'double_encoding' };
  const segments = decoded.replace(/\\/g, '/').split('/');
  if (segments.some((segment) => dotSegmentName(segment) !== undefined)) {
    return { kind: 'refused', reason: 'dot_segment' };
  }
  const canonical = canonicalPath(rawPath);
  const { issuerPath } = options;
  const issuer =
    issuerPath !== undefined && (isUnderPrefix(rawPath, issuerPath) || isUnderPrefix(canonical, issuerPath));
  return {
    kind: 'ok',
    canonical,
    relay: isUnderRelayPrefix(rawPath) || isUnderRelayPrefix(canonical),
    issuer,
  };
}

/**
 * `.` or `..` when a decoded segment is a dot segment, also with a `;parameter` tail (Tomcat and Jetty read
 * `..;x` as `..`); undefined otherwise.
 */
function dotSegmentName(segment: string): '.' | '..' | undefined {
  const semicolon = segment.indexOf(';');
  const name = semicolon === -1 ? segment : segment.slice(0, semicolon);
  return name === '.' || name === '..' ? name : undefined;
}
