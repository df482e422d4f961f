import type { OutgoingHttpHeaders } from 'node:http';
import type { Dispatcher, Pool } from 'undici';
import { createOriginPool } from '../http/http-request';

/**
 * The proxy's upstream HTTP client: an undici Pool of keep-alive connections to the endpoint's origin,
 * built by the one HTTP client module (core/http-request.ts: createOriginPool), driven by raw dispatch
 * (about twice the requests/s of node:http's client + Agent for small answers). Only HTTP requests go
 * through it; WebSocket upgrades use node:http (see forward-upgrade.ts).
 */

export type UpstreamPool = Pick<Pool, 'dispatch' | 'destroy' | 'close'>;

export function createUpstreamPool(endpoint: URL): UpstreamPool {
  return createOriginPool(endpoint.origin);
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

export type DispatchHandler = Dispatcher.DispatchHandlers;
/** Any method token: undici sends what it is given. */
export type HttpMethod = Dispatcher.HttpMethod;
