import { EndpointUnreachableError, ProxyError } from '../errors';

/**
 * The one errno table of every outbound hop: what a socket, TLS or undici error code means in words (for
 * EndpointUnreachableError and the local proxy's answers), and which gateway status a proxy answers for it
 * (504 for time-outs, 502 for the rest). `serve` (http-proxy-middleware) and the local forwarding proxy
 * (undici) both map through it, so a headers time-out is a 504 in both. Pure.
 */

export type UpstreamErrorStatus = 502 | 504;

export interface UpstreamErrorBody {
  error: 'bad_gateway' | 'gateway_timeout';
  message: string;
}

/** Codes meaning "the upstream did not answer in time" (504); everything else is a 502. */
const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNABORTED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** What `serve` tells its client, in the upstream's terms (nothing from the request, no address). */
const UPSTREAM_MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'the upstream refused the connection (is it running?)',
  ECONNRESET: 'the upstream closed the connection',
  EPIPE: 'the upstream closed the connection',
  ENOTFOUND: 'the upstream host name does not resolve',
  EAI_AGAIN: 'the upstream host name could not be resolved right now',
  EHOSTUNREACH: 'the upstream host is unreachable',
  ENETUNREACH: 'the upstream network is unreachable',
};

/** What the CLI, the SDK and the local proxy say after "cannot reach <origin>: ". */
const DESCRIPTIONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running?)',
  ECONNRESET: 'the connection was reset',
  UND_ERR_SOCKET: 'the connection was closed',
  ENOTFOUND: 'the host name does not resolve (DNS)',
  EAI_AGAIN: 'the host name could not be resolved right now (DNS)',
  ETIMEDOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out while connecting',
  UND_ERR_BODY_TIMEOUT: 'timed out while reading the answer',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'the connection closed while sending',
  CERT_HAS_EXPIRED: 'TLS error: the server certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS error: the server certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS error: a self-signed certificate is in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS error: the certificate chain cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS error: the certificate does not match the host name',
  EPROTO: 'TLS/protocol error',
  ABORT_ERR: 'aborted',
  UND_ERR_ABORTED: 'aborted',
};

/** 504 for timeouts, 502 for every other upstream failure (refused, reset, DNS, bad HTTP). */
export function upstreamErrorStatus(code: string | undefined): UpstreamErrorStatus {
  return code !== undefined && TIMEOUT_CODES.has(code) ? 504 : 502;
}

/** The status and JSON body `serve` answers for an upstream error code. */
export function upstreamErrorResponse(code: string | undefined): {
  status: UpstreamErrorStatus;
  body: UpstreamErrorBody;
} {
  const status = upstreamErrorStatus(code);
  if (status === 504) {
    return { status, body: { error: 'gateway_timeout', message: 'the upstream did not answer in time' } };
  }
  const known = code === undefined ? undefined : UPSTREAM_MESSAGES[code];
  const message =
    known ??
    (code?.startsWith('HPE_') ? 'the upstream sent an invalid HTTP response' : 'the upstream request failed');
  return { status, body: { error: 'bad_gateway', message } };
}

/**
 * The error's code for the table: a string `code` (Node and undici errors), or ABORT_ERR for an abort
 * (an AbortSignal's reason is a DOMException whose `code` is a number).
 */
export function networkErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return (error as { name?: unknown } | null)?.name === 'AbortError' ? 'ABORT_ERR' : undefined;
}

/**
 * Maps a socket/TLS/undici error to a readable EndpointUnreachableError naming the endpoint's origin; a
 * ProxyError (the forward proxy is down or refused, src/http/proxy-settings.ts) passes through.
 */
export function toUnreachableError(
  url: URL,
  error: unknown,
  timeoutMs?: number,
): EndpointUnreachableError | ProxyError {
  if (error instanceof EndpointUnreachableError || error instanceof ProxyError) return error;
  const code = networkErrorCode(error);
  let detail = code === undefined ? undefined : DESCRIPTIONS[code];
  // The caller's own limit (until the response head) is the one to name; a connect time-out is the dispatcher's.
  if (
    (code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') &&
    timeoutMs !== undefined &&
    timeoutMs > 0
  )
    detail = `no answer within ${Math.round(timeoutMs / 1000)} s`;
  if (detail === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    detail = code === undefined ? message : `${message} (${code})`;
  }
  return new EndpointUnreachableError(url.origin, detail, { cause: error });
}
