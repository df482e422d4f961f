import { randomBytes } from 'node:crypto';
import express from 'express';
import type { Response } from 'express';
import { isValidState } from '../protocol/bundle-codec';
import { relayFormToken, scriptedFetchReason } from './navigation-guard';
import { encodeRequestBundle } from './request-bundle';
import { silentLogger, systemClock, type Clock, type Logger } from '../context';
import { Refusal } from '../http/refusal';
import { isValidRelayChallenge } from '../protocol/relay-protocol';
import { identityReader, type ResolveIdentity } from './identity';
import { createRelayConfirmRouter } from './relay-confirm-route';
import { ENDED_MESSAGES, unknownRelayMessage } from './relay-messages';
import { relayTtlMs, type RelayRequestInfo, type RelayStore } from './relay-store';
import { relayFormKeySource } from './relay-form-key';
import { answeredStoreUnavailable } from './relay-store-unavailable';
import { renderRelayAlreadyConfirmedPage, renderTokenErrorPage, renderTokenPage } from './token-page';

/**
 * GET /token: the page, served behind the auth proxy, that turns the cookies the browser carried into a
 * cookie bundle and hands it to the CLI (auto-submitted form to the loopback listener, or copy/paste).
 *
 * Query: `local_port` (1024–65535, needs `state`) and `state` (see isValidState); both optional.
 * `relay` (needs `state`): a challenge the CLI registered (POST /cookie-bridge/relay/register).
 *
 * Only top-level navigations get the page: a request whose fetch metadata say a script or a frame is
 * loading it (Sec-Fetch-Mode other than navigate, Sec-Fetch-Dest other than document) is refused, and the
 * answer is isolated (Cross-Origin-Opener-Policy and -Resource-Policy same-origin), so a script of the app
 * behind the same proxy cannot read the bundle. Sec-Fetch-Site is not checked: after the sign-in redirect
 * through an IdP on another site, a legitimate navigation arrives as cross-site.
 */

export interface TokenRouterOptions {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  /**
   * For an app that signs people in itself (express-openid-connect, passport): who is signed in, from the
   * app's own session, e.g. `req => req.oidc.user?.email`. When given, the identity header is not read.
   */
  resolveIdentity?: ResolveIdentity;
  logger?: Logger;
  /**
   * Enables relay login: for `relay=<challenge>` of a challenge the CLI registered, the page shows when and
   * from where it was requested and the confirm form, which POST /token/relay (also served by this router)
   * answers. Without it `relay=` is a 400.
   */
  relayStore?: RelayStore;
  /**
   * Cookie names (and their chunks) the bundle carries besides the known auth proxies' session cookies
   * (see session-cookies.ts), e.g. oauth2-proxy's --cookie-name.
   */
  sessionCookies?: readonly string[];
  /** For the relay page's "requested N min ago". */
  now?: Clock;
  /**
   * Key of the relay confirm form's token (see navigation-guard.ts) when the store has no formKey() (a store
   * that has one wins: relay-form-key.ts); default random per router. Replicas that share a RelayStore and
   * serve one login's /token and /token/relay on different replicas share it.
   */
  relayFormKey?: Buffer;
}

/** Longer query strings are answered with 414. */
export const MAX_TOKEN_QUERY_LENGTH = 2048;

/**
 * `origin`, not `strict-origin`: for a POST, Fetch sends `Origin: null` when the policy is no-referrer,
 * same-origin (cross-origin target) or a strict-* one on an https → http downgrade, which is exactly the
 * hand-off from an https server to http://127.0.0.1. `origin` always sends the real origin, and as a
 * Referer only the origin (never the query with the state).
 */
export const TOKEN_REFERRER_POLICY = 'origin';

interface TokenQuery {
  port?: number;
  state?: string;
  relay?: string;
}

/** Creates the router serving GET /token. */
export function createTokenRouter(options: TokenRouterOptions = {}): express.Router {
  const logger = options.logger ?? silentLogger;
  const readUser = identityReader(options);
  const router = express.Router();
  const now = options.now ?? systemClock;
  const sessionCookies = options.sessionCookies ?? [];
  const relayStore = options.relayStore;
  const formKey = relayFormKeySource(relayStore, options.relayFormKey);
  if (relayStore !== undefined) {
    router.use(
      createRelayConfirmRouter({
        store: relayStore,
        ...identityOptions(options),
        logger,
        sessionCookies,
        formKey,
      }),
    );
  }

  router.get('/token', async (req, res) => {
    const nonce = randomBytes(18).toString('base64');
    const refused = scriptedFetchReason(req);
    if (refused !== undefined) {
      logger.debug(`/token: refused a ${refused}: only a top-level navigation gets the page`);
      res
        .status(403)
        .set({
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-store',
          'Cross-Origin-Opener-Policy': 'same-origin',
          'Cross-Origin-Resource-Policy': 'same-origin',
          'X-Content-Type-Options': 'nosniff',
        })
        .send('/token only answers a page opened in the browser (a top-level navigation).\n');
      return;
    }
    const queryStart = req.originalUrl.indexOf('?');
    const rawQuery = queryStart === -1 ? '' : req.originalUrl.slice(queryStart + 1);
    if (rawQuery.length > MAX_TOKEN_QUERY_LENGTH) {
      setTokenPageHeaders(res, nonce, undefined);
      res.status(414).send(renderTokenErrorPage('The address of this page is too long.', nonce));
      return;
    }
    const query = parseTokenQuery(rawQuery);
    if (query instanceof Refusal) {
      setTokenPageHeaders(res, nonce, undefined);
      res.status(query.status).send(renderTokenErrorPage(query.message, nonce));
      return;
    }
    setTokenPageHeaders(res, nonce, query.port, query.relay !== undefined);
    if (query.relay !== undefined && relayStore === undefined) {
      res
        .status(400)
        .send(
          renderTokenErrorPage(
            'This server has no relay: start the login again without --relay, or paste the bundle.',
            nonce,
          ),
        );
      return;
    }

    const made = encodeRequestBundle(req, readUser(req), query.state, sessionCookies);
    if (made instanceof Refusal) {
      logger.debug(`/token: no bundle: ${made.message}`);
      res.status(made.status).send(renderTokenErrorPage(made.message, nonce));
      return;
    }
    const { bundle, cookieNames, user, allCookies } = made;
    logger.debug(
      `/token: bundle of ${cookieNames.length} cookie(s) (${cookieNames.join(', ')})` +
        `${allCookies ? ', no known session cookie: all cookies' : ''}` +
        `${user === undefined ? ', no identity header' : ''}${query.port === undefined ? '' : `, hand-off to port ${query.port}`}`,
    );
    let requested: RelayRequestInfo | undefined;
    let key: Buffer | undefined;
    if (query.relay !== undefined && relayStore !== undefined) {
      try {
        requested = await relayStore.lookup(query.relay);
        // Asked before the page is made: a form whose token could not be made (or checked later) is never shown.
        if (requested?.status === 'pending') key = await formKey();
      } catch (error) {
        if (answeredStoreUnavailable(error, req, res, logger, (text) => renderTokenErrorPage(text, nonce))) {
          return;
        }
        throw error;
      }
    }
    if (query.relay !== undefined && requested?.status !== 'pending') {
      // Only challenges the CLI registered get a confirm form; a confirmed one gets the warning.
      logger.debug(`/token: relay challenge ${requested === undefined ? 'unknown' : requested.status}`);
      if (requested?.status === 'confirmed' || requested?.endReason === 'claimed') {
        res.status(409).send(renderRelayAlreadyConfirmedPage(nonce));
      } else if (requested?.status === 'ended') {
        res.status(410).send(renderTokenErrorPage(ENDED_MESSAGES['wrong-codes'], nonce));
      } else {
        res.status(404).send(renderTokenErrorPage(unknownRelayMessage(relayTtlMs(relayStore)), nonce));
      }
      return;
    }
    const page = renderTokenPage({
      bundle,
      nonce,
      ...(allCookies ? { allCookies } : {}),
      ...(user === undefined ? {} : { user }),
      ...(query.port === undefined || query.state === undefined
        ? {}
        : { handoff: { port: query.port, state: query.state } }),
      ...(query.relay === undefined || requested === undefined || key === undefined
        ? {}
        : {
            relay: {
              challenge: query.relay,
              formToken: relayFormToken(key, query.relay, made.cookies, user),
              registeredAt: requested.registeredAt,
              ttlMs: relayTtlMs(relayStore),
              now: now(),
              source: requested.source,
              ...(query.state === undefined ? {} : { state: query.state }),
            },
          }),
    });
    res.status(200).send(page);
  });

  return router;
}

/** Validates the /token query: local_port and state, each at most once; a 400 Refusal otherwise. */
export function parseTokenQuery(rawQuery: string): TokenQuery | Refusal {
  const params = new URLSearchParams(rawQuery);
  const ports = params.getAll('local_port');
  const states = params.getAll('state');
  const relays = params.getAll('relay');
  if (ports.length > 1 || states.length > 1 || relays.length > 1)
    return badQuery('local_port, state and relay may be given once.');
  const [relay] = relays;
  if (relay !== undefined && !isValidRelayChallenge(relay)) {
    return badQuery('relay must be 43 letters, digits, "-" or "_".');
  }
  const [portText] = ports;
  const [state] = states;
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^[1-9][0-9]{3,4}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1024 && port <= 65535)) {
      return badQuery('local_port must be a whole number from 1024 to 65535.');
    }
  }
  if (state !== undefined && !isValidState(state)) {
    return badQuery('state must be 1 to 256 letters, digits, "-" or "_".');
  }
  if ((port !== undefined || relay !== undefined) && state === undefined) {
    return badQuery(
      `${port === undefined ? 'relay' : 'local_port'} was given without state: start the login again from the terminal.`,
    );
  }
  return {
    ...(port === undefined ? {} : { port }),
    ...(state === undefined ? {} : { state }),
    ...(relay === undefined ? {} : { relay }),
  };
}

/** The identity options of `options` that are set (exactOptionalPropertyTypes: no `undefined` values). */
function identityOptions(
  options: TokenRouterOptions,
): Pick<TokenRouterOptions, 'identityHeader' | 'resolveIdentity'> {
  return {
    ...(options.identityHeader === undefined ? {} : { identityHeader: options.identityHeader }),
    ...(options.resolveIdentity === undefined ? {} : { resolveIdentity: options.resolveIdentity }),
  };
}

function badQuery(message: string): Refusal {
  return new Refusal(400, 'bad_request', message);
}

/**
 * The Content-Security-Policy of a /token answer: nothing but nonce'd inline code, posts only to the CLI
 * (and, for relay logins, to this origin's /token/relay; with a port too, the page fetches the loopback).
 */
export function tokenPageCsp(nonce: string, port: number | undefined, relay = false): string {
  const targets = [
    ...(port === undefined ? [] : [`http://127.0.0.1:${port}`, `http://localhost:${port}`]),
    ...(relay ? ["'self'"] : []),
  ];
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    ...(relay && port !== undefined ? [`connect-src http://127.0.0.1:${port}`] : []),
    `form-action ${targets.length === 0 ? "'none'" : targets.join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function setTokenPageHeaders(res: Response, nonce: string, port: number | undefined, relay = false): void {
  res.set({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': tokenPageCsp(nonce, port, relay),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Referrer-Policy': TOKEN_REFERRER_POLICY,
    'X-Content-Type-Options': 'nosniff',
  });
}
