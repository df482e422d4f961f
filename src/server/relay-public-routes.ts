import { singleHeader } from '../http/single-header';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import {
  isValidRelayChallenge,
  isValidRelayVerifier,
  normalizeRelayCode,
  RELAY_CLAIM_PATH,
  RELAY_INFO,
  RELAY_INFO_PATH,
  RELAY_REGISTER_PATH,
  relayChallengeFor,
} from '../protocol/relay-protocol';
import { silentLogger, type Logger } from '../context';
import { relayTtlMs, type RelaySource, type RelayStore } from './relay-store';
import { checkRequestPath } from '../protocol/request-path';
import { ENDED_MESSAGES, relayFullMessage, relaySourceFullMessage } from './relay-messages';
import { clientErrorStatus } from '../http/client-error-status';
import { Refusal, refusalBody } from '../http/refusal';
import { answeredStoreUnavailable } from './relay-store-unavailable';

/**
 * The relay login's public routes (design in docs/serve.md). The auth proxy lets the prefix through WITHOUT a
 * login, so nothing here may trust the caller; the confirm route, which runs behind the proxy, is in
 * relay-confirm-route.ts.
 *   GET  /cookie-bridge/relay/info      {"relay":1}                                  (exempt at the proxy)
 *   POST /cookie-bridge/relay/register  {"challenge","code"} → 201 / 409 / 503 JSON     (exempt at the proxy)
 *   POST /cookie-bridge/relay/claim     {"verifier"} → 200 / 202 / 410 ended / 404  (exempt at the proxy)
 * Both answer 503 `relay_store_unavailable` (relay-store-unavailable.ts) while the store cannot answer.
 */

export interface RelayRouterOptions {
  store: RelayStore;
  logger?: Logger;
}

/** Claim bodies are tiny: a verifier of at most 128 characters. */
export const MAX_CLAIM_BODY = '1kb';

/**
 * Whether a request path is answered by the relay routes and never passed on: it lies under the relay prefix
 * in its raw or canonical form (src/protocol/request-path.ts), or it holds dot segments or double encoding
 * (which `serve` refuses with 400 before this router sees them). Such paths pass the auth proxy without a cookie.
 */
export function isRelayPath(rawPath: string): boolean {
  const verdict = checkRequestPath(rawPath);
  return verdict.kind === 'refused' || verdict.relay;
}

/** The unauthenticated routes: /cookie-bridge/relay/info and /claim; anything else under the prefix is a 404. */
export function createRelayRouter(options: RelayRouterOptions): express.Router {
  const { store } = options;
  const logger = options.logger ?? silentLogger;
  const router = express.Router({ caseSensitive: true, strict: true });

  router.get(RELAY_INFO_PATH, (_req, res) => {
    sendJson(res, 200, RELAY_INFO);
  });

  router.post(
    RELAY_REGISTER_PATH,
    express.json({ limit: MAX_CLAIM_BODY, type: 'application/json' }),
    async (req: Request, res: Response) => {
      if (!req.is('application/json')) {
        sendRefusal(
          res,
          new Refusal(
            415,
            'unsupported_media_type',
            'send {"challenge": "…", "code": "…"} as application/json',
          ),
        );
        return;
      }
      const body = (req.body ?? {}) as { challenge?: unknown; code?: unknown };
      const { challenge, code } = body;
      if (
        typeof challenge !== 'string' ||
        !isValidRelayChallenge(challenge) ||
        typeof code !== 'string' ||
        normalizeRelayCode(code) === undefined
      ) {
        sendRefusal(
          res,
          new Refusal(
            400,
            'bad_request',
            'challenge must be 43 base64url characters and code 8 Crockford base32 characters',
          ),
        );
        return;
      }
      const source = relayRequestSource(req);
      const outcome = await store.register(challenge, { code, source });
      if (outcome === 'registered') {
        logger.debug('relay: a sign-in request was registered');
        sendJson(res, 201, { status: 'registered' });
      } else if (outcome === 'exists') {
        sendRefusal(res, new Refusal(409, 'exists', 'this challenge is already registered'));
      } else {
        logger.warn(
          outcome === 'full'
            ? 'relay: the store is full; refused a registration'
            : 'relay: too many pending sign-ins from one address; refused a registration',
        );
        res.set('Retry-After', '60');
        // `ttl_seconds` beside the refusal: the CLI's relay client says how long to wait (src/login/relay-client.ts).
        const ttlMs = relayTtlMs(store);
        sendRefusal(
          res,
          outcome === 'full'
            ? new Refusal(503, 'relay_full', relayFullMessage(ttlMs))
            : new Refusal(503, 'relay_source_full', relaySourceFullMessage(ttlMs)),
          { ttl_seconds: Math.ceil(ttlMs / 1000) },
        );
      }
    },
  );

  router.post(
    RELAY_CLAIM_PATH,
    express.json({ limit: MAX_CLAIM_BODY, type: 'application/json' }),
    async (req: Request, res: Response) => {
      if (!req.is('application/json')) {
        sendRefusal(
          res,
          new Refusal(415, 'unsupported_media_type', 'send {"verifier": "…"} as application/json'),
        );
        return;
      }
      const verifier = (req.body as { verifier?: unknown } | undefined)?.verifier;
      if (typeof verifier !== 'string' || !isValidRelayVerifier(verifier)) {
        sendRefusal(res, new Refusal(400, 'bad_request', 'verifier must be 43 to 128 base64url characters'));
        return;
      }
      const claim = await store.claim(relayChallengeFor(verifier));
      if (claim.status === 'ready') {
        logger.debug('relay: a confirmed sign-in was claimed');
        sendJson(res, 200, { bundle: claim.bundle });
      } else if (claim.status === 'pending') {
        sendJson(res, 202, { status: 'pending' });
      } else if (claim.status === 'ended') {
        // `reason` beside the refusal: the CLI's relay client reads it to say why (src/login/relay-client.ts).
        sendRefusal(res, new Refusal(410, 'relay_ended', ENDED_MESSAGES[claim.reason]), {
          reason: claim.reason,
        });
      } else {
        sendRefusal(
          res,
          new Refusal(404, 'not_found', 'no such sign-in (unknown, expired or already claimed)'),
        );
      }
    },
  );

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!isRelayPath(req.path)) {
      next();
      return;
    }
    const known =
      req.path === RELAY_INFO_PATH || req.path === RELAY_CLAIM_PATH || req.path === RELAY_REGISTER_PATH;
    if (known) res.set('Allow', req.path === RELAY_INFO_PATH ? 'GET, HEAD' : 'POST');
    sendRefusal(
      res,
      known
        ? new Refusal(405, 'method_not_allowed', 'method not allowed')
        : new Refusal(404, 'not_found', 'no such route'),
    );
  });

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!isRelayPath(req.path) || res.headersSent) {
      next(error);
      return;
    }
    // The store is down or slow (its own bounded wait ran out): 503 with Retry-After; the CLI keeps waiting.
    if (answeredStoreUnavailable(error, req, res, logger, 'json')) return;
    const status = clientErrorStatus(error);
    if (status === undefined) {
      logger.warn(`relay: internal error on ${req.method} ${req.path}`);
      sendRefusal(res, new Refusal(500, 'internal_error', 'internal server error'));
      return;
    }
    sendRefusal(
      res,
      status === 413
        ? new Refusal(413, 'payload_too_large', 'request body too large')
        : new Refusal(status, 'bad_request', 'bad request'),
    );
  });

  return router;
}

/**
 * Where a relay request came from: the connection's address, and the client address the proxy in front
 * reported: the LAST X-Forwarded-For hop, the one that proxy appended itself (nginx
 * $proxy_add_x_forwarded_for, Apache mod_proxy and oauth2-proxy append; earlier hops are whatever the client
 * sent, so they are not used). Behind several proxies it is the address of the one before the nearest.
 */
export function relayRequestSource(req: Request): RelaySource {
  const address = req.socket.remoteAddress ?? 'unknown';
  const hop = singleHeader(req, 'x-forwarded-for')?.split(',').pop()?.trim();
  return hop !== undefined && /^[0-9A-Fa-f.:[\]]{2,64}$/.test(hop)
    ? { address, forwardedFor: hop }
    : { address };
}

function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).json(body);
}

/** A refusal as every listener of ours answers it (refusalBody: {"error","message"}), plus `extra` fields. */
function sendRefusal(
  res: Response,
  refusal: Refusal,
  extra: Readonly<Record<string, string | number>> = {},
): void {
  sendJson(res, refusal.status, { ...refusalBody(refusal), ...extra });
}
