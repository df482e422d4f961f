/**
 * What `serve` answers when the upstream fails: a pure mapping from the socket error's errno code to a
 * gateway status and a short JSON body (no stack, no upstream address, nothing from the request).
 */

export type UpstreamErrorStatus = 502 | 504;

export interface UpstreamErrorBody {
  error: 'bad_gateway' | 'gateway_timeout';
  message: string;
}

/** Codes meaning "the upstream did not answer in time" (504); everything else is a 502. */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNABORTED', 'UND_ERR_HEADERS_TIMEOUT']);

const MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'the upstream refused the connection (is it running?)',
  ECONNRESET: 'the upstream closed the connection',
  EPIPE: 'the upstream closed the connection',
  ENOTFOUND: 'the upstream host name does not resolve',
  EAI_AGAIN: 'the upstream host name could not be resolved right now',
  EHOSTUNREACH: 'the upstream host is unreachable',
  ENETUNREACH: 'the upstream network is unreachable',
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
  const known = code === undefined ? undefined : MESSAGES[code];
  const message =
    known ??
    (code?.startsWith('HPE_') ? 'the upstream sent an invalid HTTP response' : 'the upstream request failed');
  return { status, body: { error: 'bad_gateway', message } };
}
