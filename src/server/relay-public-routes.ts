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
import type { RelaySource, RelayStore } from './relay-store';
import { checkRequestPath } from '../protocol/request-path';
import { ENDED_MESSAGES } from './relay-messages';
import { clientErrorStatus } from '../http/client-error-status';

/**
 * The relay login's public routes (design in docs/serve.md). The auth proxy lets the prefix through WITHOUT a
 * login, so nothing here may trust the caller; the confirm route, which runs behind the proxy, is in
 * relay-confirm-route.ts.
 *   GET  /cookie-bridge/relay/info      {"relay":1}                                  (exempt at the proxy)
 *   POST /cookie-bridge/relay/register  {"challenge","code"} → 201 / 409 / 503 JSON     (exempt at the proxy)
 *   POST /cookie-bridge/relay/claim     {"verifier"} → 200 / 202 / 410 ended / 404  (exempt at the proxy)
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
        sendJson(res, 415, {
          error: 'unsupported_media_type',
          message: 'send {"challenge": "…", "code": "…"} as application/json',
        });
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
        sendJson(res, 400, {
          error: 'bad_request',
          message: 'challenge must be 43 base64url characters and code 8 Crockford base32 characters',
        });
        return;
      }
      const source = relayRequestSource(req);
      const outcome = await store.register(challenge, { code, source });
      if (outcome === 'registered') {
        logger.debug('relay: a sign-in request was registered');
        sendJson(res, 201, { status: 'registered' });
      } else if (outcome === 'exists') {
        sendJson(res, 409, { error: 'exists', message: 'this challenge is already registered' });
      } else {
        logger.warn(
          outcome === 'full'
            ? 'relay: the store is full; refused a registration'
            : 'relay: too many pending sign-ins from one address; refused a registration',
        );
        res.set('Retry-After', '60');
        sendJson(
          res,
          503,
          outcome === 'full'
            ? {
                error: 'relay_full',
                message: 'too many relay sign-ins are waiting on this server: try again in a few minutes',
              }
            : {
                error: 'relay_source_full',
                message:
                  'too many relay sign-ins are waiting from your address: finish or let them expire (5 minutes), then try again',
              },
        );
      }
    },
  );

  router.post(
    RELAY_CLAIM_PATH,
    express.json({ limit: MAX_CLAIM_BODY, type: 'application/json' }),
    async (req: Request, res: Response) => {
      if (!req.is('application/json')) {
        sendJson(res, 415, {
          error: 'unsupported_media_type',
          message: 'send {"verifier": "…"} as application/json',
        });
        return;
      }
      const verifier = (req.body as { verifier?: unknown } | undefined)?.verifier;
      if (typeof verifier !== 'string' || !isValidRelayVerifier(verifier)) {
        sendJson(res, 400, {
          error: 'bad_request',
          message: 'verifier must be 43 to 128 base64url characters',
        });
        return;
      }
      const claim = await store.claim(relayChallengeFor(verifier));
      if (claim.status === 'ready') {
        logger.debug('relay: a confirmed sign-in was claimed');
        sendJson(res, 200, { bundle: claim.bundle });
      } else if (claim.status === 'pending') {
        sendJson(res, 202, { status: 'pending' });
      } else if (claim.status === 'ended') {
        sendJson(res, 410, {
          error: 'relay_ended',
          reason: claim.reason,
          message: ENDED_MESSAGES[claim.reason],
        });
      } else {
        sendJson(res, 404, {
          error: 'not_found',
          message: 'no such sign-in (unknown, expired or already claimed)',
        });
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
    sendJson(
      res,
      known ? 405 : 404,
      known ? { error: 'method_not_allowed', message: 'method not allowed' } : NOT_FOUND,
    );
  });

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!isRelayPath(req.path) || res.headersSent) {
      next(error);
      return;
    }
    const status = clientErrorStatus(error);
    if (status === undefined) {
      logger.warn(`relay: internal error on ${req.method} ${req.path}`);
      sendJson(res, 500, { error: 'internal_error', message: 'internal server error' });
      return;
    }
    sendJson(
      res,
      status,
      status === 413
        ? { error: 'payload_too_large', message: 'request body too large' }
        : { error: 'bad_request', message: 'bad request' },
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

const NOT_FOUND = { error: 'not_found', message: 'no such route' };

function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).json(body);
}
