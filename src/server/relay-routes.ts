import { randomBytes } from 'node:crypto';
import { singleHeader } from '../core/single-header';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { isValidState } from '../core/bundle-codec';
import {
  isValidRelayChallenge,
  isValidRelayVerifier,
  RELAY_CLAIM_PATH,
  RELAY_CONFIRM_PATH,
  RELAY_INFO,
  RELAY_INFO_PATH,
  relayChallengeFor,
  relayCode,
} from '../core/relay-protocol';
import { silentLogger, type Logger } from '../context';
import { DEFAULT_IDENTITY_HEADER } from './identity';
import type { RelayStore } from './relay-store';
import { encodeRequestBundle } from './request-bundle';
import { checkRequestPath } from './request-path';
import { renderRelayConfirmedPage, renderTokenErrorPage } from './token-page';

/**
 * The relay login's routes (design in docs/serve.md):
 *   GET  /cookie-bridge/relay/info   {"relay":1}                      (no cookie needed: exempt at the proxy)
 *   POST /cookie-bridge/relay/claim  {"verifier"} → 202 / 200 / 404  (no cookie needed: exempt at the proxy)
 *   POST /token/relay                the confirm form of the /token page (behind the proxy, same origin only)
 */

export interface RelayRouterOptions {
  store: RelayStore;
  logger?: Logger;
}

export interface RelayConfirmRouterOptions extends RelayRouterOptions {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
}

/** Claim bodies are tiny: a verifier of at most 128 characters. */
export const MAX_CLAIM_BODY = '1kb';
const MAX_CONFIRM_BODY = '4kb';

/**
 * Whether a request path is answered by the relay routes and never passed on: it lies under the relay prefix
 * in its raw or canonical form (src/server/request-path.ts), or it holds dot segments or double encoding
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
    const known = req.path === RELAY_INFO_PATH || req.path === RELAY_CLAIM_PATH;
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

/** POST /token/relay: stores the bundle of the browser's cookies under the challenge of a registered relay login. */
export function createRelayConfirmRouter(options: RelayConfirmRouterOptions): express.Router {
  const { store } = options;
  const logger = options.logger ?? silentLogger;
  const identityHeader = options.identityHeader ?? DEFAULT_IDENTITY_HEADER;
  const router = express.Router();

  router.post(
    RELAY_CONFIRM_PATH,
    (req: Request, res: Response, next: NextFunction) => {
      // Refuse cross-site posts before reading anything: a foreign page must not confirm with our cookies.
      const nonce = pageNonce(res);
      if (!isSameOriginRequest(req)) {
        logger.debug('/token/relay: refused a post that is not same-origin');
        res
          .status(403)
          .send(
            renderTokenErrorPage(
              'This confirmation did not come from the sign-in page of this site, so it was refused.',
              nonce,
            ),
          );
        return;
      }
      next();
    },
    express.urlencoded({ extended: false, limit: MAX_CONFIRM_BODY, parameterLimit: 10 }),
    async (req: Request, res: Response) => {
      const nonce = pageNonce(res);
      const fields = (req.body ?? {}) as Record<string, unknown>;
      const challenge = fields.challenge;
      const state = fields.state;
      if (
        typeof challenge !== 'string' ||
        !isValidRelayChallenge(challenge) ||
        (state !== undefined && (typeof state !== 'string' || !isValidState(state)))
      ) {
        res.status(400).send(renderTokenErrorPage('This confirmation is malformed.', nonce));
        return;
      }
      const made = encodeRequestBundle(req, identityHeader, state);
      if (!made.ok) {
        logger.debug('/token/relay: no bundle could be made from the request');
        res.status(400).send(renderTokenErrorPage(made.message, nonce));
        return;
      }
      const outcome = await store.confirm(challenge, made.bundle);
      const code = relayCode(challenge);
      if (outcome === 'confirmed') {
        logger.debug(
          `/token/relay: confirmed ${code} with ${made.cookieNames.length} cookie(s) (${made.cookieNames.join(', ')})`,
        );
        res.status(200).send(
          renderRelayConfirmedPage({
            code,
            nonce,
            ...(made.user === undefined ? {} : { user: made.user }),
          }),
        );
        return;
      }
      const [status, message] =
        outcome === 'already-confirmed'
          ? [409, 'This sign-in was already confirmed: return to your terminal.']
          : outcome === 'too-large'
            ? [413, 'Your browser sent more cookies than this server can relay.']
            : [
                404,
                'This sign-in request is unknown or has expired: start the login again from the terminal.',
              ];
      res.status(status).send(renderTokenErrorPage(message, nonce));
    },
  );

  return router;
}

/**
 * A form post from a page of this very origin. Sec-Fetch-Site (set by the browser, right even behind proxies
 * that rewrite Host) decides when present; otherwise Origin must name the host the request was sent to.
 */
export function isSameOriginRequest(req: Request): boolean {
  const site = singleHeader(req, 'sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = singleHeader(req, 'origin');
  if (origin === undefined || origin === 'null') return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  const forwarded = singleHeader(req, 'x-forwarded-host')?.split(',')[0]?.trim();
  const host = (forwarded || singleHeader(req, 'host'))?.toLowerCase();
  return host !== undefined && originHost === host;
}

const NOT_FOUND = { error: 'not_found', message: 'no such route' };

function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }).json(body);
}

/** Sets the headers of an HTML answer of the confirm route and returns its CSP nonce. */
function pageNonce(res: Response): string {
  const existing = res.locals.cookieBridgeNonce as string | undefined;
  if (existing !== undefined) return existing;
  const nonce = randomBytes(18).toString('base64');
  res.locals.cookieBridgeNonce = nonce;
  res.set({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
    'Referrer-Policy': 'origin',
    'X-Content-Type-Options': 'nosniff',
  });
  return nonce;
}

function clientErrorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status } = error as { status?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}
