import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { networkErrorCode, toUnreachableError, upstreamErrorStatus } from '../server/upstream-errors';
import { SessionExpiredError } from '../errors';

/** The JSON answers the proxy gives itself (refusals, expired session, upstream failures). */
export interface ProxyAnswer {
  status: number;
  error: string;
  message: string;
}

export function sessionExpiredAnswer(endpoint: string): ProxyAnswer {
  return { status: 401, error: 'session_expired', message: new SessionExpiredError(endpoint, '').message };
}

/** An upstream connection failure as 502 Bad Gateway, or 504 Gateway Timeout for time-outs (one table with serve). */
export function upstreamFailureAnswer(upstream: URL, error: unknown): ProxyAnswer {
  const timeout = upstreamErrorStatus(networkErrorCode(error)) === 504;
  return {
    status: timeout ? 504 : 502,
    error: timeout ? 'gateway_timeout' : 'bad_gateway',
    message: toUnreachableError(upstream, error).message,
  };
}

function answerBody(answer: ProxyAnswer): string {
  return `${JSON.stringify({ error: answer.error, message: answer.message })}\n`;
}

export function sendAnswer(res: ServerResponse, answer: ProxyAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = answerBody(answer);
  res.writeHead(answer.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

/** The same answer written by hand on a socket whose upgrade request is refused. */
export function sendAnswerOnSocket(socket: Duplex, answer: ProxyAnswer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = answerBody(answer);
  socket.end(
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Cache-Control: no-store\r\n' +
      'Connection: close\r\n\r\n' +
      body,
  );
}
