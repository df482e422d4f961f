import type * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { createProxyMiddleware, proxyEventsPlugin, type Options, type Plugin } from 'http-proxy-middleware';
import { silentLogger, type Context, type Logger } from '../context';
import { Refusal, refusalBody } from '../http/refusal';
import { createHealthRouter } from './health-route';
import { DEFAULT_IDENTITY_HEADER, DEFAULT_ROLE_HEADER } from './identity';
import { createRelayRouter } from './relay-public-routes';
import {
  canonicalPath,
  checkRequestPath,
  isUnderPrefix,
  type RequestPathVerdict,
} from '../protocol/request-path';
import { createMemoryRelayStore, type RelayStore } from './relay-store';
import { createTokenRouter } from './token-route';
import { UsageError, errnoCode } from '../errors';
import { HOP_BY_HOP_HEADERS } from '../http/hop-by-hop';
import { upstreamErrorResponse } from '../http/upstream-errors';
import { createTrustedProxyCheck, type ProxySecret } from './trusted-proxy';
import { clientErrorStatus } from '../http/client-error-status';
import { removeRequestHeader } from './request-headers';
import { AccountStateError, type AccountService } from './accounts/account-types';
import { createServeAccounts, type ServeAccounts } from './accounts/serve-accounts';

/**
 * `cookie-bridge serve` as an app: runs behind the auth proxy and in front of any HTTP app, so the app needs
 * no change for `api login`. It serves GET /token, the relay routes (POST /token/relay and
 * /cookie-bridge/relay/*) and forwards everything else to the upstream (http-proxy-middleware): bodies
 * streamed both ways, method, headers and query unchanged (the identity header included), X-Forwarded-*
 * added, WebSocket upgrades through `upgrade`. Upstream failures become 502/504 with a short JSON body.
 *
 * /api/health goes to the upstream first; when the upstream answers 404 (it has none), serve answers
 * `{"status":"ok","user":…}` itself. Checked on every request (no probe cached at start), so an upstream
 * that gains or loses the route later is seen at once.
 *
 * Before anything else (docs/security-model.md): a path with dot segments or double encoding is refused with
 * 400, a path under the relay prefix (raw or canonical: src/protocol/request-path.ts) is answered here and never
 * forwarded, and the identity header is removed unless the request came through the proxy (trustedProxies /
 * proxySecret) or when it is a relay path. The proxy-secret header itself never reaches the app.
 *
 * The role header (X-Cookie-Bridge-Role) a client sends never reaches the app. With `accounts` (issue 13,
 * serve --service-accounts: src/server/accounts/serve-accounts.ts) serve also answers the issuer's public
 * routes (answered like the relay prefix: never forwarded, identity removed), the nginx auth check and the
 * admin API and page, verifies bearer tokens of its own issuer (refused → 401 JSON, nothing forwarded) and
 * sets the identity and role headers of every request and WebSocket upgrade it forwards.
 */

export interface ServeAppOptions extends Partial<Pick<Context, 'logger' | 'now'>> {
  /** Base URL of the app, e.g. http://127.0.0.1:3000 (a path prefix is kept: /x → <upstream path>/x). */
  upstream: string;
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  /** Session cookie names the /token bundle carries besides the known ones (serve --session-cookie). */
  sessionCookies?: readonly string[];
  /** Where relay logins wait; default an in-memory store (one process: see docs/serve.md). */
  relayStore?: RelayStore;
  /** Key of the relay confirm form's token; default random per process (replicas sharing a store share it). */
  relayFormKey?: Buffer;
  /** Time allowed until the upstream's response headers arrive; default 60 s. Then 504. */
  proxyTimeoutMs?: number;
  /** Addresses (CIDRs) whose identity header is believed; default loopback. `[]`: none (only proxySecret). */
  trustedProxies?: readonly string[];
  /** A header the proxy adds with a shared secret: requests carrying it are believed from any address. */
  proxySecret?: ProxySecret;
  /** Service accounts and roles (serve --service-accounts): createAccountService's, or any AccountService. */
  accounts?: AccountService;
  /** The header the caller's role goes to the app in (default X-Cookie-Bridge-Role); a client's is removed. */
  roleHeader?: string;
  /** The admins serve was started with (--admin), named in the admin API's 403 answers. */
  admins?: readonly string[];
}

export interface ServeApp {
  app: express.Express;
  /** Wire as `server.on('upgrade', upgrade)`: proxies WebSocket upgrades to the upstream. */
  upgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  relayStore: RelayStore;
}

export const DEFAULT_PROXY_TIMEOUT_MS = 60_000;

/** The 400 answer to a path with dot segments or double encoding (the spellings that make views differ). */
const REFUSED_PATH_BODY = refusalBody(
  new Refusal(
    400,
    'bad_request',
    'the path holds dot segments (.., %2e%2e) or double encoding (%25xx); send it resolved',
  ),
);

const NOT_FOUND_BODY = refusalBody(new Refusal(404, 'not_found', 'no such route'));
const UNAVAILABLE_BODY = refusalBody(
  new Refusal(503, 'internal_error', 'the service-account state is unavailable'),
);

/** A whole HTTP/1.1 answer with a JSON body, for a socket that never became a WebSocket. */
function socketJsonAnswer(statusLine: string, body: unknown): string {
  const text = JSON.stringify(body);
  return (
    `HTTP/1.1 ${statusLine}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`
  );
}

/** Builds the sidecar app. It never listens: see src/cli/commands/serve-command.ts. */
export function createServeApp(options: ServeAppOptions): ServeApp {
  const target = parseUpstream(options.upstream);
  const logger = options.logger ?? silentLogger;
  const identityHeader = options.identityHeader ?? DEFAULT_IDENTITY_HEADER;
  const relayStore =
    options.relayStore ?? createMemoryRelayStore(options.now === undefined ? {} : { now: options.now });
  const timeoutMs = options.proxyTimeoutMs ?? DEFAULT_PROXY_TIMEOUT_MS;
  const roleHeader = options.roleHeader ?? DEFAULT_ROLE_HEADER;
  const accounts: ServeAccounts | undefined =
    options.accounts === undefined
      ? undefined
      : createServeAccounts({
          accounts: options.accounts,
          identityHeader,
          roleHeader,
          admins: options.admins ?? [],
          logger,
        });
  const pathOptions = accounts === undefined ? {} : { issuerPath: accounts.issuerPath };
  const trust = createTrustedProxyCheck({
    ...(options.trustedProxies === undefined ? {} : { trustedProxies: options.trustedProxies }),
    ...(options.proxySecret === undefined ? {} : { proxySecret: options.proxySecret }),
  });

  /**
   * Decides on the path and cleans the headers of every request (HTTP and WebSocket) before any route or the
   * proxy sees it. Returns the verdict; on 'refused' the caller answers 400 and forwards nothing.
   */
  const screen = (req: http.IncomingMessage): RequestPathVerdict => {
    const verdict = checkRequestPath(pathOnly(req.url), pathOptions);
    const trusted = trust.isTrusted(req.socket.remoteAddress, req.headers);
    if (trust.secretHeader !== undefined) removeRequestHeader(req, trust.secretHeader);
    removeRequestHeader(req, roleHeader);
    if (!trusted || verdict.kind === 'refused' || verdict.relay || verdict.issuer) {
      removeRequestHeader(req, identityHeader);
    }
    // Only a trusted proxy's X-Forwarded-For says where a request came from (relay sources, the app's logs).
    if (!trusted) removeRequestHeader(req, 'x-forwarded-for');
    if (verdict.kind === 'refused') {
      logger.debug(`serve: refused a path with ${verdict.reason.replace('_', ' ')} (never forwarded)`);
    } else if (!trusted) {
      logger.debug('serve: request not from a trusted proxy: identity header removed');
    }
    return verdict;
  };

  const onError = (error: Error, req: http.IncomingMessage, res: http.ServerResponse | Duplex): void => {
    const code = errnoCode(error);
    logger.debug(
      `serve: upstream error on ${req.method ?? '?'} ${pathOnly(req.url)}: ${code ?? error.message}`,
    );
    if (!isServerResponse(res)) {
      res.destroy();
      return;
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, body } = upstreamErrorResponse(code);
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-store',
    });
    res.end(text);
  };

  /** A timeout until the response headers arrive (streams may then idle as long as they like). */
  const onProxyReq = (proxyReq: http.ClientRequest): void => {
    proxyReq.setTimeout(timeoutMs, () => {
      proxyReq.destroy(
        Object.assign(new Error('the upstream did not answer in time'), { code: 'ETIMEDOUT' }),
      );
    });
    proxyReq.once('response', () => proxyReq.setTimeout(0));
  };

  const baseOptions: Options = {
    target,
    xfwd: true,
    ws: false,
    // Our own error answer and socket-error guards instead of the defaults (which log URLs with their query).
    ejectPlugins: true,
    // proxyEventsPlugin is what wires `on.*` handlers: ejecting the defaults drops it, so add it back.
    plugins: [proxyEventsPlugin, guardSockets(logger)],
  };
  const proxy = createProxyMiddleware({ ...baseOptions, on: { error: onError, proxyReq: onProxyReq } });

  const healthFallback = createHealthRouter({ identityHeader });
  const healthProxy = createProxyMiddleware({
    ...baseOptions,
    selfHandleResponse: true,
    on: {
      error: onError,
      proxyReq: onProxyReq,
      proxyRes: (proxyRes, req, res) => {
        if (proxyRes.statusCode === 404) {
          proxyRes.resume();
          logger.debug('serve: the upstream has no /api/health: answering it here');
          healthFallback(req as Request, res as Response, () =>
            onError(new Error('no health route'), req, res),
          );
          return;
        }
        res.statusCode = proxyRes.statusCode ?? 502;
        if (proxyRes.statusMessage !== undefined) res.statusMessage = proxyRes.statusMessage;
        for (const [name, value] of Object.entries(proxyRes.headers)) {
          if (value !== undefined && !HOP_BY_HOP_HEADERS.has(name)) res.setHeader(name, value);
        }
        pipeline(proxyRes, res, () => undefined);
      },
    },
  });

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    const verdict = screen(req);
    if (verdict.kind === 'refused') {
      res.status(400).set('Cache-Control', 'no-store').json(REFUSED_PATH_BODY);
      return;
    }
    // Service accounts: the issuer's and the auth check's own answers, then who calls (a refused token ends here).
    if (accounts === undefined || verdict.relay || (await accounts.gate(req, res, verdict.canonical))) next();
  });
  app.use(
    createTokenRouter({
      identityHeader,
      logger,
      relayStore,
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.sessionCookies === undefined ? {} : { sessionCookies: options.sessionCookies }),
      ...(options.relayFormKey === undefined ? {} : { relayFormKey: options.relayFormKey }),
    }),
  );
  app.use(createRelayRouter({ store: relayStore, logger }));
  if (accounts !== undefined) {
    app.use(accounts.adminPrefix, accounts.adminRouter);
    // Other spellings of the admin paths (%61dmin, admin%2Fusers): never the app's.
    app.use((req: Request, res: Response, next: NextFunction) => {
      if (!isUnderPrefix(canonicalPath(pathOnly(req.originalUrl)), accounts.adminPrefix)) {
        next();
        return;
      }
      res.status(404).set('Cache-Control', 'no-store').json(NOT_FOUND_BODY);
    });
  }
  app.get('/api/health', healthProxy);
  app.use(proxy);
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = clientErrorStatus(error);
    if (error instanceof AccountStateError) logger.warn(`serve: service accounts: ${error.message}`);
    else if (status === undefined) logger.warn(`serve: internal error on ${req.method} ${req.path}`);
    if (res.headersSent) {
      next(error);
      return;
    }
    const refusal =
      error instanceof AccountStateError
        ? new Refusal(503, 'internal_error', 'the service-account state is unavailable')
        : status === undefined
          ? new Refusal(500, 'internal_error', 'internal server error')
          : new Refusal(status, status === 413 ? 'payload_too_large' : 'bad_request', 'bad request');
    res.status(refusal.status).set('Cache-Control', 'no-store').json(refusalBody(refusal));
  });

  const upgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const verdict = screen(req);
    if (verdict.kind === 'refused') {
      socket.end(socketJsonAnswer('400 Bad Request', REFUSED_PATH_BODY));
      return;
    }
    if (verdict.relay || (accounts !== undefined && accounts.ownsPath(verdict.canonical))) {
      // The relay prefix and the issuer pass the auth proxy without a cookie: they must never reach the
      // upstream; serve's own service-account routes take no WebSocket either.
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.on('error', (error) =>
      logger.debug(`serve: WebSocket client socket error: ${errnoCode(error) ?? 'error'}`),
    );
    if (accounts === undefined) {
      proxy.upgrade(req, socket as never, head);
      return;
    }
    accounts.identify(req).then(
      (outcome) => {
        if (socket.destroyed) return;
        if (outcome.kind === 'refused') {
          logger.debug(`serve: WebSocket upgrade with a refused bearer token (${outcome.reason})`);
          socket.end(socketJsonAnswer('401 Unauthorized', accounts.refusedBody(outcome.reason)));
          return;
        }
        proxy.upgrade(req, socket as never, head);
      },
      (error: unknown) => {
        logger.warn(`serve: service accounts: ${error instanceof Error ? error.message : 'error'}`);
        socket.end(socketJsonAnswer('503 Service Unavailable', UNAVAILABLE_BODY));
      },
    );
  };

  return { app, upgrade, relayStore };
}

/**
 * http-proxy leaves socket errors unhandled (a crash) and keeps reading an upstream response after the
 * client went away: the fixes http-proxy-middleware's default debug plugin applies, with our logger.
 */
function guardSockets(logger: Logger): Plugin {
  return (proxyServer) => {
    const ignore = (where: string) => (error: Error) =>
      logger.debug(`serve: ${where} socket error: ${errnoCode(error) ?? 'error'}`);
    proxyServer.on('proxyReq', (_proxyReq, _req, res) => res.on('error', ignore('client')));
    proxyServer.on('proxyRes', (proxyRes, _req, res) => {
      res.on('close', () => {
        if (!res.writableEnded) proxyRes.destroy();
      });
    });
    proxyServer.on('proxyReqWs', (_proxyReq, _req, socket) => socket.on('error', ignore('WebSocket client')));
    proxyServer.on('open', (proxySocket) => proxySocket.on('error', ignore('WebSocket upstream')));
    proxyServer.on('econnreset', ignore('upstream'));
  };
}

/**
 * The one check of the upstream's URL (createServeApp and serve's --upstream): an http(s) URL, normalised
 * without query, fragment or trailing slash; or what is wrong with it.
 */
export function parseUpstreamUrl(upstream: string): { url: URL; text: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    return { problem: `is not a URL: ${JSON.stringify(upstream)}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: `must be an http:// or https:// URL, not ${url.protocol}` };
  }
  url.search = '';
  url.hash = '';
  return { url, text: url.toString().replace(/\/+$/, '') };
}

function parseUpstream(upstream: string): string {
  const parsed = parseUpstreamUrl(upstream);
  if ('problem' in parsed) {
    throw new UsageError(`createServeApp: upstream ${parsed.problem}`, {
      hint: 'pass the app as upstream: http://127.0.0.1:3000',
    });
  }
  return parsed.text;
}

function isServerResponse(value: http.ServerResponse | Duplex): value is http.ServerResponse {
  return typeof (value as http.ServerResponse).writeHead === 'function';
}

function pathOnly(url: string | undefined): string {
  const raw = url ?? '/';
  const query = raw.indexOf('?');
  return query === -1 ? raw : raw.slice(0, query);
}
