import type * as http from 'node:http';
import { Refusal, renderRefusalJson } from '../http/refusal';
import { renderRefusalPage, renderSignedInPage } from './loopback-pages';
import { ALLOWED_METHODS, type ReplyKind } from './loopback-callback';

/**
 * The loopback listener's answers, each written whole and ended: the preflight, the "signed in" page or
 * `{"ok":true}`, and a Refusal as a page or JSON. Pages carry a strict CSP; JSON carries CORS for the
 * endpoint's origin only when the caller says so.
 */

const HTML_HEADERS: Record<string, string> = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};

function jsonHeaders(allowOrigin: string | undefined): Record<string, string> {
  return {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    Vary: 'Origin',
    ...(allowOrigin === undefined ? {} : { 'Access-Control-Allow-Origin': allowOrigin }),
  };
}

/** 204 to a CORS preflight from the endpoint (and Private Network Access when asked). */
export function sendPreflightAnswer(
  res: http.ServerResponse,
  endpointOrigin: string,
  asksPrivateNetwork: boolean,
): void {
  const headers: Record<string, string> = {
    'Access-Control-Allow-Origin': endpointOrigin,
    'Access-Control-Allow-Methods': 'POST',
    'Access-Control-Allow-Headers': 'Content-Type',
    'Access-Control-Max-Age': '60',
    Vary: 'Origin',
    'Cache-Control': 'no-store',
  };
  if (asksPrivateNetwork) headers['Access-Control-Allow-Private-Network'] = 'true';
  send(res, 204, headers, '');
}

/** 200 once the bundle is taken, closing the connection; `afterEnd` runs once the answer is out. */
export function sendAccepted(
  res: http.ServerResponse,
  reply: ReplyKind,
  endpointOrigin: string,
  afterEnd: () => void,
): void {
  if (reply === 'html') {
    const headers = { 'Content-Type': 'text/html; charset=utf-8', ...HTML_HEADERS, Connection: 'close' };
    send(res, 200, headers, renderSignedInPage(), afterEnd);
  } else {
    const headers = { ...jsonHeaders(endpointOrigin), Connection: 'close' };
    send(res, 200, headers, JSON.stringify({ ok: true }), afterEnd);
  }
}

/** The refusal as a page or JSON (a 405 with its Allow header); drops the connection when it says so. */
export function sendRefusal(
  res: http.ServerResponse,
  refusal: Refusal,
  reply: ReplyKind,
  allowOrigin: string | undefined,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  if (refusal.code === 'method_not_allowed') res.setHeader('Allow', ALLOWED_METHODS);
  const after = refusal.dropConnection ? () => res.socket?.destroy() : undefined;
  const headers = refusal.dropConnection ? { Connection: 'close' } : {};
  if (reply === 'json') {
    send(res, refusal.status, { ...jsonHeaders(allowOrigin), ...headers }, renderRefusalJson(refusal), after);
  } else {
    const page = renderRefusalPage(refusal);
    send(
      res,
      refusal.status,
      { 'Content-Type': 'text/html; charset=utf-8', ...HTML_HEADERS, ...headers },
      page,
      after,
    );
  }
}

/** 500 as a page when a request failed unexpectedly (or a dropped connection once an answer began). */
export function sendInternalError(res: http.ServerResponse): void {
  sendRefusal(
    res,
    new Refusal(500, 'internal_error', 'the request could not be handled.', true),
    'html',
    undefined,
  );
}

/** Writes a whole response and ENDS it; `afterEnd` runs once it is handed to the OS (or the socket went away). */
function send(
  res: http.ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string,
  afterEnd?: () => void,
): void {
  if (afterEnd !== undefined) {
    let called = false;
    const once = (): void => {
      if (called) return;
      called = true;
      afterEnd();
    };
    res.once('finish', once);
    res.once('close', once);
  }
  res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}
