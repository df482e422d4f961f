import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { networkErrorCode, toUnreachableError, upstreamErrorStatus } from '../http/upstream-errors';
import { SessionExpiredError, TlsError } from '../errors';
import { Refusal, renderRefusalJson } from '../http/refusal';

/** The JSON answers the proxy gives itself (refusals, expired session, upstream failures) are Refusals. */
export function sessionExpiredAnswer(endpoint: string): Refusal {
  return new Refusal(401, 'session_expired', new SessionExpiredError(endpoint, '').message);
}

/** An upstream connection failure as 502 Bad Gateway, or 504 Gateway Timeout for time-outs (one table with serve). */
export function upstreamFailureAnswer(upstream: URL, error: unknown): Refusal {
  const timeout = upstreamErrorStatus(networkErrorCode(error)) === 504;
  const failure = toUnreachableError(upstream, error);
  // A refused certificate says what to do about it (--cacert, the right host name), as the CLI does.
  const message =
    failure instanceof TlsError ? `${failure.message} (${failure.hint ?? ''})` : failure.message;
  return new Refusal(timeout ? 504 : 502, timeout ? 'gateway_timeout' : 'bad_gateway', message);
}

export function sendAnswer(res: ServerResponse, answer: Refusal): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = renderRefusalJson(answer);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** The same answer written by hand on a socket whose upgrade request is refused. */
export function sendAnswerOnSocket(socket: Duplex, answer: Refusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = renderRefusalJson(answer);
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}
