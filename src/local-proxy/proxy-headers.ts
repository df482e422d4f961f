import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { connectionListedHeaders, isHopByHop } from '../http/hop-by-hop';
import { SECRET_HEADER } from './request-guard';

/**
 * Which headers cross the local forwarding proxy, in each direction. Pure.
 *
 * Upstream: the client's own Cookie / Authorization are dropped (the proxy owns the credential), as are
 * the secret header, hop-by-hop headers and Expect; Host becomes the endpoint's; an Origin or Referer
 * on the proxy's own origin is rewritten to the endpoint's (so CSRF checks upstream see their own site).
 * Downstream: Set-Cookie never reaches the local client (the jar takes it), hop-by-hop headers are
 * dropped, and a Location on the endpoint is rewritten onto the proxy.
 */

const DROPPED_REQUEST_HEADERS = new Set(['host', 'cookie', 'authorization', 'expect', SECRET_HEADER]);

export interface UpstreamHeaderContext {
  /** The endpoint, e.g. https://api.example.com/team (the base path is kept out of Origin/Referer). */
  endpoint: URL;
  /** The origins the local client may legitimately send (the proxy's own). */
  localOrigins: readonly string[];
  /** The credential headers for this request (cookie or authorization). */
  credential: Record<string, string>;
}

/**
 * The one copy of the request headers, ready for undici's dispatch (which frames the body itself: Transfer-
 * Encoding, hop-by-hop, is left out with the others).
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  context: UpstreamHeaderContext,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = listedIn(incoming.connection);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || isHopByHop(name, listed) || DROPPED_REQUEST_HEADERS.has(name)) continue;
    out[name] = value;
  }
  out.host = context.endpoint.host;
  const origin = typeof incoming.origin === 'string' ? incoming.origin : undefined;
  if (origin !== undefined && context.localOrigins.includes(origin.toLowerCase())) {
    out.origin = context.endpoint.origin;
  }
  const referer = typeof incoming.referer === 'string' ? incoming.referer : undefined;
  if (referer !== undefined) {
    const local = context.localOrigins.find((candidate) => referer.toLowerCase().startsWith(`${candidate}/`));
    if (local !== undefined) out.referer = `${context.endpoint.origin}${referer.slice(local.length)}`;
  }
  Object.assign(out, context.credential);
  return out;
}

export interface DownstreamHeaderContext {
  /** The upstream URL this response answers (relative Locations resolve against it). */
  requestUrl: URL;
  endpoint: URL;
  /** The proxy's origin as the client addressed it, e.g. http://127.0.0.1:8080 */
  localOrigin: string;
}

export function downstreamResponseHeaders(
  incoming: IncomingHttpHeaders,
  context: DownstreamHeaderContext,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = listedIn(incoming.connection);
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || name === 'set-cookie' || isHopByHop(name, listed)) continue;
    out[name] = value;
  }
  const location = incoming.location;
  if (typeof location === 'string') out.location = rewriteLocation(location, context);
  return out;
}

const NONE_LISTED: ReadonlySet<string> = new Set();

/** Most messages have no Connection header, or only keep-alive/close: no Set to build then. */
function listedIn(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined || connection === 'keep-alive' || connection === 'close') return NONE_LISTED;
  return connectionListedHeaders(connection);
}

/**
 * A redirect to the endpoint itself (absolute, or relative to the request) becomes the same path on the
 * proxy, so the client stays behind the proxy. Anything else (another host, a path outside the endpoint's
 * base path) is passed on unchanged: the client then goes there without the credential.
 */
export function rewriteLocation(location: string, context: DownstreamHeaderContext): string {
  let target: URL;
  try {
    target = new URL(location, context.requestUrl);
  } catch {
    return location;
  }
  if (target.origin !== context.endpoint.origin) return location;
  const basePath = context.endpoint.pathname.replace(/\/+$/, '');
  const path = `${target.pathname}${target.search}${target.hash}`;
  if (basePath === '') return `${context.localOrigin}${path}`;
  if (target.pathname === basePath || target.pathname.startsWith(`${basePath}/`)) {
    const rest = path.slice(basePath.length);
    return `${context.localOrigin}${rest.startsWith('/') ? rest : `/${rest}`}`;
  }
  return target.toString();
}
