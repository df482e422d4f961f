import { secretsEqual } from '../protocol/secret-compare';
import { isLoopbackHost, loopbackOrigins } from '../http/loopback-host';
import type { IncomingHttpHeaders } from 'node:http';
import { Refusal } from '../http/refusal';

/**
 * Who may use the local forwarding proxy. Pure: looks at the request headers only, so HTTP requests and
 * WebSocket upgrades get the same answer.
 *
 * - DNS rebinding: a web page on evil.example whose name now resolves to 127.0.0.1 still sends
 *   `Host: evil.example`; only `127.0.0.1:<port>`, `localhost:<port>` and `[::1]:<port>` are served (421).
 * - Cross-site requests from pages in the browser: an `Origin` other than the proxy's own, or
 *   `Sec-Fetch-Site: cross-site | same-site`, is refused (403) before anything is forwarded.
 * - Other local users and processes: with a secret, every request must carry it in
 *   `X-Cookie-Bridge-Secret` (401 when missing, 403 when wrong; compared in constant time).
 */

export const SECRET_HEADER = 'x-cookie-bridge-secret';

export interface LocalRequestPolicy {
  /** The port the proxy listens on. */
  port: number;
  /** When set, required in X-Cookie-Bridge-Secret. */
  secret?: string;
}

/** undefined when the request may be forwarded; otherwise what to answer. */
export function checkLocalRequest(
  headers: IncomingHttpHeaders,
  requestTarget: string | undefined,
  policy: LocalRequestPolicy,
): Refusal | undefined {
  if (!isLoopbackHost(headers.host, policy.port)) {
    return new Refusal(
      421,
      'misdirected_request',
      `this proxy only answers requests for 127.0.0.1:${policy.port} or localhost:${policy.port}`,
    );
  }
  // Origin-form only ("/path?query"): absolute-form would turn this into an open forward proxy.
  if (requestTarget === undefined || !requestTarget.startsWith('/')) {
    return new Refusal(400, 'bad_request', 'the request target must be a path');
  }
  const origin = headers.origin;
  if (origin !== undefined && !loopbackOrigins(policy.port).includes(origin.trim().toLowerCase())) {
    return new Refusal(403, 'cross_origin_refused', 'requests from other origins (web pages) are refused');
  }
  const fetchSite = headerText(headers['sec-fetch-site'])?.trim().toLowerCase();
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return new Refusal(403, 'cross_origin_refused', 'requests from other sites (web pages) are refused');
  }
  if (policy.secret !== undefined) {
    const given = headerText(headers[SECRET_HEADER]);
    if (given === undefined || given === '') {
      return new Refusal(
        401,
        'secret_required',
        'send the secret cookie-bridge proxy printed in the X-Cookie-Bridge-Secret header',
      );
    }
    if (!secretsEqual(given, policy.secret)) {
      return new Refusal(403, 'secret_invalid', 'the X-Cookie-Bridge-Secret header is wrong');
    }
  }
  return undefined;
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
