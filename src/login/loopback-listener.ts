import { secretsEqual } from '../protocol/secret-compare';
import { singleHeader } from '../http/single-header';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../context';
import { decodeCookieBundle, MAX_BUNDLE_BYTES, type CookieBundle } from '../protocol/bundle-codec';
import { InvalidBundleError, LoginError, describeSystemError } from '../errors';
import { Refusal, renderRefusalJson } from '../http/refusal';
import { renderRefusalPage, renderSignedInPage } from './loopback-pages';
import { HOST_V4, listenOnLoopback } from '../http/listen-on-loopback';
import { isLoopbackHost } from '../http/loopback-host';
import { parseJsonBody, readRequestBody } from './loopback-request';
import type { StatelessArrival } from './stateless-bundle-gate';

/**
 * The CLI's half of the browser hand-off: a tiny HTTP server on the loopback interface that waits for
 * the /token page (served behind the auth proxy) to post the cookie bundle of the login we started.
 *
 * It accepts, on `POST /callback`, a top-level form post (`bundle`, `state` fields) or a `fetch` with
 * JSON `{ "bundle", "state" }` (CORS and Private Network Access preflights are answered for the endpoint's
 * origin only); and SkyPilot's older protocol (a `no-cors` text/plain post of the bare bundle to `/`).
 * Every POST must carry an `Origin` equal to the endpoint's (browsers always send one on these requests).
 * A bundle without state (SkyPilot's formats) is taken only with `acceptStateless` (--accept-stateless):
 * any local process can forge one, `Origin` included. Otherwise it is refused and handed to
 * `onStatelessBundle` (which may ask the person). Anything refused leaves the wait going on.
 */

export interface LoopbackListenerOptions {
  /** The endpoint's origin (scheme://host[:port]); only its pages may hand over a bundle. */
  endpointOrigin: string;
  /** This login's random state; a bundle is taken only together with it. */
  state: string;
  /** 0 or undefined: a free port. */
  port?: number | undefined;
  logger?: Logger | undefined;
  /** Largest request body read; default 64 KiB. */
  maxBodyBytes?: number | undefined;
  /** Time allowed for a request body to arrive once its headers did; default 10 s. */
  bodyTimeoutMs?: number | undefined;
  /** Take a bundle without state (SkyPilot's older /token pages); refused by default, see above. */
  acceptStateless?: boolean | undefined;
  /** Sees each bundle without state that was refused (not called with `acceptStateless`). */
  onStatelessBundle?: ((arrival: StatelessArrival) => void) | undefined;
}

export interface LoopbackListener {
  port: number;
  /** http://127.0.0.1:<port>/callback */
  callbackUrl: string;
  /** The first valid bundle; rejects with E_LISTENER_CLOSED if close() comes first. */
  bundle: Promise<CookieBundle>;
  /** Stops listening and drops every connection; safe to call more than once. */
  close(): Promise<void>;
}

const DEFAULT_BODY_TIMEOUT_MS = 10_000;
const CALLBACK_PATH = '/callback';
const LEGACY_PATH = '/';

type ReplyKind = 'html' | 'json';

interface RequestFacts {
  method: string;
  path: string;
  origin: string | undefined;
  type: string;
  reply: ReplyKind;
}

/** Starts listening on 127.0.0.1 (and ::1 on the same port when the machine has it). */
export async function startLoopbackListener(options: LoopbackListenerOptions): Promise<LoopbackListener> {
  const endpointOrigin = new URL(options.endpointOrigin).origin;
  const expectedState = options.state;
  if (expectedState === '') throw new TypeError('startLoopbackListener: state must not be empty');
  const logger = options.logger ?? silentLogger;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BUNDLE_BYTES;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const acceptStateless = options.acceptStateless === true;

  let finished = false;
  let port = 0;
  let servers: http.Server[] = [];
  let resolveBundle: (bundle: CookieBundle) => void = () => undefined;
  let rejectBundle: (error: Error) => void = () => undefined;
  const bundle = new Promise<CookieBundle>((resolve, reject) => {
    resolveBundle = resolve;
    rejectBundle = reject;
  });
  // Callers that only race `bundle` against something else must not see an unhandled rejection.
  bundle.catch(() => undefined);

  const shutDown = (): void => {
    for (const server of servers) {
      if (server.listening) server.close();
      server.closeIdleConnections();
      server.closeAllConnections();
    }
  };

  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const method = req.method ?? '';
    const path = pathOf(req.url);
    const origin = singleHeader(req, 'origin');
    const type = mediaType(singleHeader(req, 'content-type'));
    const reply: ReplyKind = type === 'application/json' || type === 'text/plain' ? 'json' : 'html';
    try {
      await accept(req, res, { method, path, origin, type, reply });
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      logger.debug(`loopback: refused ${sanitize(method)} ${path} (${error.status}): ${error.message}`);
      const corsAllowed = origin === endpointOrigin || (origin === undefined && reply === 'json');
      sendRefusal(res, error, reply, corsAllowed ? endpointOrigin : undefined);
    }
  };

  /** Takes the bundle from one request, or throws a Refusal. */
  const accept = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    { method, path, origin, type, reply }: RequestFacts,
  ): Promise<void> => {
    if (finished) throw new Refusal(410, 'login_finished', 'this login has already finished.', true);
    if (!isLoopbackHost(singleHeader(req, 'host'), port)) {
      throw new Refusal(400, 'misdirected_request', 'the Host header does not name this loopback listener.');
    }
    if (origin !== undefined && origin !== endpointOrigin) {
      throw new Refusal(
        403,
        'cross_origin_refused',
        `requests from ${describeOrigin(origin)} are not accepted.`,
      );
    }
    const isLegacy = path === LEGACY_PATH;
    if (path !== CALLBACK_PATH && !isLegacy) throw new Refusal(404, 'not_found', 'there is nothing here.');
    if (method === 'OPTIONS') return answerPreflight(req, res, origin);
    if (method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new Refusal(405, 'method_not_allowed', `${sanitize(method)} is not accepted here.`);
    }
    // A browser always sends Origin on these posts; a request without one is not a browser's hand-off.
    if (origin !== endpointOrigin) {
      throw new Refusal(
        403,
        'cross_origin_refused',
        'a bundle is taken only from a page of the endpoint (the request has no Origin).',
      );
    }

    let bundleText: string | undefined;
    let state: string | undefined;
    if (isLegacy) {
      if (type !== 'text/plain')
        throw new Refusal(415, 'unsupported_media_type', 'expected a text/plain body.');
      bundleText = (await readRequestBody(req, maxBodyBytes, bodyTimeoutMs)).toString('utf8');
    } else if (type === 'application/x-www-form-urlencoded') {
      const fields = new URLSearchParams(
        (await readRequestBody(req, maxBodyBytes, bodyTimeoutMs)).toString('utf8'),
      );
      bundleText = fields.get('bundle') ?? undefined;
      state = fields.get('state') ?? undefined;
    } else if (reply === 'json') {
      ({ bundleText, state } = parseJsonBody(await readRequestBody(req, maxBodyBytes, bodyTimeoutMs)));
    } else {
      throw new Refusal(415, 'unsupported_media_type', 'expected a form post or a JSON body.');
    }

    if (!isLegacy && (state === undefined || !secretsEqual(state, expectedState))) {
      throw new Refusal(
        403,
        'state_mismatch',
        'the state does not belong to the login this terminal started.',
      );
    }
    if (bundleText === undefined || bundleText.trim() === '')
      throw new Refusal(400, 'bad_request', 'the request carries no bundle.');
    let decoded: CookieBundle;
    try {
      decoded = decodeCookieBundle(bundleText);
    } catch (error) {
      if (error instanceof InvalidBundleError) throw new Refusal(400, 'invalid_bundle', `${error.message}.`);
      throw error;
    }
    if (decoded.state !== undefined && !secretsEqual(decoded.state, expectedState)) {
      throw new Refusal(
        403,
        'state_mismatch',
        'the bundle belongs to another login (its state does not match).',
      );
    }
    if (isLegacy && decoded.state === undefined && !acceptStateless) {
      if (!finished) options.onStatelessBundle?.({ bundle: decoded, origin });
      throw new Refusal(
        403,
        'stateless_bundle',
        'a bundle without state is taken only with --accept-stateless or when confirmed in the terminal.',
      );
    }
    if (finished) throw new Refusal(410, 'login_finished', 'this login has already finished.', true);

    finished = true;
    logger.debug(
      `loopback: accepted a ${decoded.format} bundle with ${decoded.cookies.length} cookie(s): ` +
        decoded.cookies.map((cookie) => cookie.name).join(', '),
    );
    const done = (): void => {
      shutDown();
      resolveBundle(decoded);
    };
    if (reply === 'html') {
      const headers = { 'Content-Type': 'text/html; charset=utf-8', ...HTML_HEADERS, Connection: 'close' };
      send(res, 200, headers, renderSignedInPage(), done);
    } else {
      const headers = { ...jsonHeaders(endpointOrigin), Connection: 'close' };
      send(res, 200, headers, JSON.stringify({ ok: true }), done);
    }
  };

  const answerPreflight = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    origin: string | undefined,
  ): void => {
    if (origin !== endpointOrigin)
      throw new Refusal(403, 'cross_origin_refused', 'a preflight must come from the endpoint.');
    const headers: Record<string, string> = {
      'Access-Control-Allow-Origin': endpointOrigin,
      'Access-Control-Allow-Methods': 'POST',
      'Access-Control-Allow-Headers': 'Content-Type',
      'Access-Control-Max-Age': '60',
      Vary: 'Origin',
      'Cache-Control': 'no-store',
    };
    if (singleHeader(req, 'access-control-request-private-network')?.toLowerCase() === 'true') {
      headers['Access-Control-Allow-Private-Network'] = 'true';
    }
    send(res, 204, headers, '');
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    route(req, res).catch((error: unknown) => {
      logger.debug(
        `loopback: could not handle ${sanitize(req.method ?? '')} ${pathOf(req.url)}: ${describeSystemError(error)}`,
      );
      if (res.headersSent) res.destroy();
      else
        sendRefusal(
          res,
          new Refusal(500, 'internal_error', 'the request could not be handled.', true),
          'html',
          undefined,
        );
    });
  };

  ({ servers, port } = await listenOnLoopback(options.port ?? 0, handle, logger));
  const closed = Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.once('close', () => resolve()))),
  ).then(() => undefined);
  for (const server of servers) {
    server.on('error', (error) => logger.debug(`loopback: server error: ${describeSystemError(error)}`));
  }
  logger.debug(`loopback: listening on ${servers.map((server) => describeAddress(server)).join(' and ')}`);

  return {
    port,
    callbackUrl: `http://${HOST_V4}:${port}${CALLBACK_PATH}`,
    bundle,
    close: async () => {
      if (!finished) {
        finished = true;
        rejectBundle(
          new LoginError('E_LISTENER_CLOSED', 'the login listener was closed before a bundle arrived'),
        );
      }
      shutDown();
      await closed;
    },
  };
}

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

function sendRefusal(
  res: http.ServerResponse,
  refusal: Refusal,
  reply: ReplyKind,
  allowOrigin: string | undefined,
): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
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

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', `http://${HOST_V4}`).pathname;
  } catch {
    return '(unparsable)';
  }
}

function describeOrigin(origin: string): string {
  return origin === 'null' ? 'an opaque origin (null)' : JSON.stringify(sanitize(origin));
}

function sanitize(text: string): string {
  const short = text.length > 80 ? `${text.slice(0, 80)}…` : text;

  return short.replace(/[\x00-\x1f\x7f]/g, '?');
}

function describeAddress(server: http.Server): string {
  const address = server.address() as AddressInfo;
  return address.family === 'IPv6'
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}
