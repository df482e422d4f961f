import { randomBytes } from 'node:crypto';
import { singleHeader } from '../http/single-header';
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { isValidState } from '../protocol/bundle-codec';
import { isValidRelayChallenge, RELAY_CONFIRM_PATH } from '../protocol/relay-protocol';
import { silentLogger, type Logger } from '../context';
import { identityReader, type ResolveIdentity } from './identity';
import { relayTtlMs, type RelayStore } from './relay-store';
import type { RelayFormKey } from './relay-form-key';
import { answeredStoreUnavailable } from './relay-store-unavailable';
import { secretsEqual } from '../protocol/secret-compare';
import { relayFormToken, scriptedFetchReason } from './navigation-guard';
import { Refusal } from '../http/refusal';
import { encodeRequestBundle } from './request-bundle';
import { ENDED_MESSAGES, identityFullMessage, unknownRelayMessage } from './relay-messages';
import {
  renderRelayAlreadyConfirmedPage,
  renderRelayConfirmedPage,
  renderTokenErrorPage,
} from './token-page';

/**
 * The relay login's authenticated route (design in docs/serve.md):
 *   POST /token/relay                   the confirm form of the /token page: challenge, typed code, state
 *                                       (behind the proxy, same origin only)
 * The public routes the auth proxy lets through without a login are in relay-public-routes.ts.
 */

export interface RelayConfirmRouterOptions {
  store: RelayStore;
  logger?: Logger;
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  /** The app's own session instead of the header (see ResolveIdentity). */
  resolveIdentity?: ResolveIdentity;
  /** More session cookie names for the bundle (see session-cookies.ts). */
  sessionCookies?: readonly string[];
  /** Key of the confirm form's token; the /token page that shows the form must use the same (relay-form-key.ts). */
  formKey: RelayFormKey;
}

const MAX_CONFIRM_BODY = '4kb';

/** POST /token/relay: stores the bundle of the browser's cookies under the challenge of a registered relay login. */
export function createRelayConfirmRouter(options: RelayConfirmRouterOptions): express.Router {
  const { store } = options;
  const logger = options.logger ?? silentLogger;
  const readUser = identityReader(options);
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
      const made = encodeRequestBundle(req, readUser(req), state, options.sessionCookies);
      if (made instanceof Refusal) {
        logger.debug('/token/relay: no bundle could be made from the request');
        res.status(made.status).send(renderTokenErrorPage(made.message, nonce));
        return;
      }
      const key = await options.formKey();
      if (!secretsEqual(formToken, relayFormToken(key, challenge, made.cookies, made.user))) {
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
          res.status(429).send(renderTokenErrorPage(identityFullMessage(relayTtlMs(store)), nonce));
          return;
        case 'too-large':
          res
            .status(413)
            .send(renderTokenErrorPage('Your browser sent more cookies than this server can relay.', nonce));
          return;
        default:
          res.status(404).send(renderTokenErrorPage(unknownRelayMessage(relayTtlMs(store)), nonce));
      }
    },
  );

  // The store (or its shared form key) cannot answer: a 503 page saying to retry; the typed code was not used.
  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const page = (text: string): string => renderTokenErrorPage(text, pageNonce(res));
    if (req.path === RELAY_CONFIRM_PATH && answeredStoreUnavailable(error, req, res, logger, page)) return;
    next(error);
  });

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
