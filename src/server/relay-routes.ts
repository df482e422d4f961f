import { randomBytes } from 'node:crypto';
import { singleHeader } from '../core/single-header';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { isValidState } from '../core/bundle-codec';
import {
  isValidRelayChallenge,
  isValidRelayVerifier,
  normalizeRelayCode,
  RELAY_CLAIM_PATH,
  RELAY_CONFIRM_PATH,
  RELAY_INFO,
  RELAY_INFO_PATH,
  RELAY_REGISTER_PATH,
  relayChallengeFor,
} from '../core/relay-protocol';
import { silentLogger, type Logger } from '../context';
import { DEFAULT_IDENTITY_HEADER } from './identity';
import type { RelayEndReason, RelaySource, RelayStore } from './relay-store';
import { secretsEqual } from '../core/secret-compare';
import { relayFormToken, scriptedFetchReason } from './navigation-guard';
import { encodeRequestBundle } from './request-bundle';
import { checkRequestPath } from './request-path';
import {
  renderRelayAlreadyConfirmedPage,
  renderRelayConfirmedPage,
  renderTokenErrorPage,
} from './token-page';
import { clientErrorStatus } from '../http/client-error-status';

/**
 * The relay login's routes (design in docs/serve.md):
 *   GET  /cookie-bridge/relay/info      {"relay":1}                                  (exempt at the proxy)
 *   POST /cookie-bridge/relay/register  {"challenge","code"} → 201 / 409 / 503 JSON     (exempt at the proxy)
 *   POST /cookie-bridge/relay/claim     {"verifier"} → 200 / 202 / 410 ended / 404  (exempt at the proxy)
 *   POST /token/relay                   the confirm form of the /token page: challenge, typed code, state
 *                                       (behind the proxy, same origin only)
 */

export interface RelayRouterOptions {
  store: RelayStore;
  logger?: Logger;
}

export interface RelayConfirmRouterOptions extends RelayRouterOptions {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  /** More session cookie names for the bundle (see session-cookies.ts). */
  sessionCookies?: readonly string[];
  /** Key of the confirm form's token; the /token page that shows the form must use the same. */
  formKey: Buffer;
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

/** POST /token/relay: stores the bundle of the browser's cookies under the challenge of a registered relay login. */
export function createRelayConfirmRouter(options: RelayConfirmRouterOptions): express.Router {
  const { store } = options;
  const logger = options.logger ?? silentLogger;
  const identityHeader = options.identityHeader ?? DEFAULT_IDENTITY_HEADER;
  const router = express.Router();

  router.post(
    RELAY_CONFIRM_PATH,
    (req: Request, res: Response, next: NextFunction) => {
      // Refuse cross-site posts before reading anything: a foreign page must not confirm with our cookies;
      // nor may a script of this site (fetch, a frame): only the page's own form submission.
      const nonce = pageNonce(res);
      const scripted = scriptedFetchReason(req);
      if (!isSameOriginRequest(req) || scripted !== undefined) {
        logger.debug(`/token/relay: refused a ${scripted ?? 'post that is not same-origin'}`);
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
      const { challenge, state, code } = fields;
      const formToken = fields.form_token;
      if (
        typeof challenge !== 'string' ||
        !isValidRelayChallenge(challenge) ||
        typeof formToken !== 'string' ||
        typeof code !== 'string' ||
        typeof state !== 'string' ||
        !isValidState(state)
      ) {
        res.status(400).send(renderTokenErrorPage('This confirmation is malformed.', nonce));
        return;
      }
      const made = encodeRequestBundle(req, identityHeader, state, options.sessionCookies);
      if (!made.ok) {
        logger.debug('/token/relay: no bundle could be made from the request');
        res.status(400).send(renderTokenErrorPage(made.message, nonce));
        return;
      }
      if (!secretsEqual(formToken, relayFormToken(options.formKey, challenge, made.cookies, made.user))) {
        // Not the form of the /token page this browser was shown (a script of the site, or someone else's page).
        logger.warn('/token/relay: refused a confirm whose form token does not match');
        res
          .status(403)
          .send(
            renderTokenErrorPage(
              'This confirmation did not come from the sign-in page you opened, so it was refused: open the link from your terminal again.',
              nonce,
            ),
          );
        return;
      }
      const outcome = await store.confirm(challenge, {
        code,
        bundle: made.bundle,
        ...(made.user === undefined ? {} : { identity: made.user }),
      });
      switch (outcome.status) {
        case 'confirmed':
          logger.debug(
            `/token/relay: confirmed with ${made.cookieNames.length} cookie(s) (${made.cookieNames.join(', ')})`,
          );
          res
            .status(200)
            .send(
              renderRelayConfirmedPage({ nonce, ...(made.user === undefined ? {} : { user: made.user }) }),
            );
          return;
        case 'already-confirmed':
          logger.warn('/token/relay: a sign-in request was confirmed a second time');
          res.status(409).send(renderRelayAlreadyConfirmedPage(nonce));
          return;
        case 'wrong-code':
          logger.debug('/token/relay: a wrong code was typed');
          res
            .status(403)
            .send(
              renderTokenErrorPage(
                outcome.triesLeft > 0
                  ? `That is not the code your terminal shows. Go back and type it again (${outcome.triesLeft} ${outcome.triesLeft === 1 ? 'try' : 'tries'} left).`
                  : 'That is not the code your terminal shows.',
                nonce,
              ),
            );
          return;
        case 'ended':
          res.status(410).send(renderTokenErrorPage(ENDED_MESSAGES[outcome.reason], nonce));
          return;
        case 'identity-full':
          res
            .status(429)
            .send(
              renderTokenErrorPage(
                'You have too many confirmed sign-ins that no terminal has picked up yet: wait a few minutes, then start the login again.',
                nonce,
              ),
            );
          return;
        case 'too-large':
          res
            .status(413)
            .send(renderTokenErrorPage('Your browser sent more cookies than this server can relay.', nonce));
          return;
        default:
          res.status(404).send(renderTokenErrorPage(UNKNOWN_MESSAGE, nonce));
      }
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

export const UNKNOWN_MESSAGE =
  'This sign-in request is unknown or has expired: start the login again from the terminal.';

export const ENDED_MESSAGES: Record<RelayEndReason, string> = {
  'wrong-codes':
    'Too many wrong codes were typed, so this sign-in request was cancelled: start the login again from the terminal.',
  claimed: 'This sign-in was already picked up by the terminal that requested it.',
};

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
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': 'origin',
    'X-Content-Type-Options': 'nosniff',
  });
  return nonce;
}
