import type { Dispatcher } from 'undici';
import type { HttpClient, OriginPool } from '../http/http-request';

/**
 * The proxy's upstream HTTP client: an undici Pool of keep-alive connections to the endpoint's origin (or,
 * when HTTPS_PROXY/http_proxy applies to it, ProxyAgents through the corporate proxy),
 * built by the one HTTP client (http/http-request.ts: HttpClient.originPool, the proxy's `http`), driven by
 * raw dispatch (about twice the requests/s of node:http's client + Agent for small answers). HTTP requests
 * and WebSocket upgrades (see forward-upgrade.ts) go through it.
 */

/** A Pool, or the forward proxy's agents when HTTPS_PROXY/http_proxy applies to the endpoint. */
export type UpstreamPool = OriginPool;

export function createUpstreamPool(endpoint: URL, http: Pick<HttpClient, 'originPool'>): UpstreamPool {
  return http.originPool(endpoint.origin);
}

export type DispatchHandler = Dispatcher.DispatchHandlers;
/** Any method token: undici sends what it is given. */
export type HttpMethod = Dispatcher.HttpMethod;
