import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher, Pool } from 'undici';

/**
 * The proxy's upstream HTTP client: an undici Pool of keep-alive connections to the endpoint's origin
 * (about twice the requests/s of node:http's client + Agent for small answers). Only HTTP requests go
 * through it; WebSocket upgrades use node:http (see forward-upgrade.ts).
 */

export type UpstreamPool = Pick<Pool, 'dispatch' | 'destroy' | 'close'>;

export function createUpstreamPool(endpoint: URL): UpstreamPool {
  // The public entry point, loaded only when a proxy starts (a long-lived process: its ~100 ms load is
  // paid once). Deep imports of undici's internals would be cheaper but break on any upgrade.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const PoolClass = (require('undici') as typeof import('undici')).Pool as typeof Pool;
  return new PoolClass(endpoint.origin, {
    pipelining: 1,
    // Like node:http's Agent before: no time limits of our own (long polls, slow downloads, big uploads).
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}

/**
 * Request headers in the form undici accepts: it frames the body itself, so Transfer-Encoding (which it
 * refuses) is left out; hop-by-hop headers and Expect are gone already (upstreamRequestHeaders).
 */
export function toDispatchHeaders(headers: OutgoingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name === 'transfer-encoding') continue;
    out[name] = typeof value === 'number' ? String(value) : value;
  }
  return out;
}

/**
 * undici's raw response headers as node:http presents them: lower-case names, values as latin1 strings
 * (so they are written back byte for byte), Set-Cookie as a list, other repeated headers joined by ', '.
 */
export function toIncomingHeaders(raw: Buffer[]): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1').toLowerCase();
    const value = (raw[i + 1] as Buffer).toString('latin1');
    if (name === 'set-cookie') {
      const list = headers['set-cookie'];
      if (list === undefined) headers['set-cookie'] = [value];
      else list.push(value);
      continue;
    }
    const existing = headers[name];
    headers[name] = existing === undefined ? value : `${String(existing)}, ${value}`;
  }
  return headers;
}

export type DispatchHandler = Dispatcher.DispatchHandlers;
/** Any method token: undici sends what it is given. */
export type HttpMethod = Dispatcher.HttpMethod;
