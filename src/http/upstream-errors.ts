import { CookieBridgeError, EndpointUnreachableError, TlsError } from '../errors';

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

/** What a TLS refusal means, and which fix its hint names. */
type TlsFix = 'ca' | 'name' | 'expired' | 'not-tls';

interface ErrorTables {
  /** Codes meaning "the upstream did not answer in time" (504); everything else is a 502. */
  timeoutCodes: ReadonlySet<string>;
  /** What `serve` tells its client, in the upstream's terms (nothing from the request, no address). */
  upstreamMessages: Readonly<Record<string, string>>;
  /** What the CLI, the SDK and the local proxy say after "cannot reach <origin>: ". */
  descriptions: Readonly<Record<string, string>>;
  /** Node's codes for a refused server certificate (the local proxy answers them 502, like serve). */
  tlsProblems: Readonly<Record<string, { detail: string; fix: TlsFix }>>;
}

let errorTables: ErrorTables | undefined;

/**
 * The tables, built on first use: only a failure reads them, and a short command that succeeds (the
 * `api info` check) would build them at every start (~5 KB of the young generation, bench/README.md
 * section 3).
 */
const tables = (): ErrorTables =>
  (errorTables ??= {
    timeoutCodes: new Set([
      'ETIMEDOUT',
      'ESOCKETTIMEDOUT',
      'ECONNABORTED',
      'UND_ERR_HEADERS_TIMEOUT',
      'UND_ERR_CONNECT_TIMEOUT',
    ]),
    upstreamMessages: {
      ECONNREFUSED: 'the upstream refused the connection (is it running?)',
      ECONNRESET: 'the upstream closed the connection',
      EPIPE: 'the upstream closed the connection',
      ENOTFOUND: 'the upstream host name does not resolve',
      EAI_AGAIN: 'the upstream host name could not be resolved right now',
      EHOSTUNREACH: 'the upstream host is unreachable',
      ENETUNREACH: 'the upstream network is unreachable',
    },
    descriptions: {
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
      EPROTO: 'TLS/protocol error',
      ABORT_ERR: 'aborted',
      UND_ERR_ABORTED: 'aborted',
    },
    tlsProblems: {
      UNABLE_TO_VERIFY_LEAF_SIGNATURE: {
        detail: "TLS: the server's certificate is signed by a CA this machine does not trust",
        fix: 'ca',
      },
      UNABLE_TO_GET_ISSUER_CERT_LOCALLY: {
        detail: "TLS: the server's certificate is signed by a CA this machine does not trust",
        fix: 'ca',
      },
      UNABLE_TO_GET_ISSUER_CERT: {
        detail: "TLS: the issuer of the server's certificate is not trusted",
        fix: 'ca',
      },
      SELF_SIGNED_CERT_IN_CHAIN: {
        detail: "TLS: the server's certificate chain ends in a CA this machine does not trust (self-signed)",
        fix: 'ca',
      },
      DEPTH_ZERO_SELF_SIGNED_CERT: { detail: "TLS: the server's certificate is self-signed", fix: 'ca' },
      CERT_UNTRUSTED: { detail: "TLS: the server's certificate is not trusted", fix: 'ca' },
      CERT_SIGNATURE_FAILURE: { detail: "TLS: the server's certificate has a bad signature", fix: 'ca' },
      ERR_TLS_CERT_ALTNAME_INVALID: {
        detail: "TLS: the server's certificate is for another host name",
        fix: 'name',
      },
      CERT_HAS_EXPIRED: { detail: "TLS: the server's certificate has expired", fix: 'expired' },
      CERT_NOT_YET_VALID: { detail: "TLS: the server's certificate is not valid yet", fix: 'expired' },
      ERR_SSL_WRONG_VERSION_NUMBER: {
        detail: 'TLS: the server does not speak TLS on this port',
        fix: 'not-tls',
      },
    },
  });

/** The hint of a TLS refusal: what to do about this kind of failure. */
function tlsHint(fix: TlsFix, url: URL, error: unknown): string {
  switch (fix) {
    case 'ca':
      return 'if the server uses a private CA, pass its certificate with --cacert FILE (stored for the endpoint at login) or set COOKIE_BRIDGE_CA_BUNDLE=FILE';
    case 'name': {
      // Node's reason names the certificate's names, e.g. "Host: a. is not in the cert's altnames: DNS:b".
      const names = (error as { cert?: { subjectaltname?: unknown } } | null)?.cert?.subjectaltname;
      const listed = typeof names === 'string' && names !== '' ? ` (it names ${names})` : '';
      return `use the host name the certificate was issued for${listed}, or have the server's certificate reissued for ${url.hostname}`;
    }
    case 'expired':
      return "the server's certificate must be renewed (or this machine's clock is wrong): --cacert cannot fix this";
    case 'not-tls':
      return 'check the endpoint URL: use http:// if the server does not offer HTTPS on this port';
  }
}

/** Whether a network error code is a refused server certificate (TlsError, exit 9). */
export function isTlsErrorCode(code: string | undefined): boolean {
  return code !== undefined && Object.hasOwn(tables().tlsProblems, code);
}

/** 504 for timeouts, 502 for every other upstream failure (refused, reset, DNS, bad HTTP). */
export function upstreamErrorStatus(code: string | undefined): UpstreamErrorStatus {
  return code !== undefined && tables().timeoutCodes.has(code) ? 504 : 502;
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
  const known =
    code === undefined
      ? undefined
      : (tables().upstreamMessages[code] ??
        (isTlsErrorCode(code) ? "the upstream's TLS certificate was refused" : undefined));
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
 * Maps a socket/TLS/undici error to a readable EndpointUnreachableError naming the endpoint's origin (a TlsError
 * for a refused certificate). Our own errors (a bad --cacert file met when connecting) pass unchanged.
 */
export function toUnreachableError(url: URL, error: unknown, timeoutMs?: number): CookieBridgeError {
  if (error instanceof CookieBridgeError) return error;
  const code = networkErrorCode(error);
  const tls = code === undefined ? undefined : tables().tlsProblems[code];
  if (code !== undefined && tls !== undefined) {
    return new TlsError(url.origin, tls.detail, code, { hint: tlsHint(tls.fix, url, error), cause: error });
  }
  let detail = code === undefined ? undefined : tables().descriptions[code];
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
