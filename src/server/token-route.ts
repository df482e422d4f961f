import { randomBytes } from 'node:crypto';
import express from 'express';
import type { Response } from 'express';
import { isValidState } from '../core/bundle-codec';
import { encodeRequestBundle } from './request-bundle';
import { silentLogger, type Logger } from '../context';
import { isValidRelayChallenge, relayCode } from '../core/relay-protocol';
import { DEFAULT_IDENTITY_HEADER } from './identity';
import { createRelayConfirmRouter } from './relay-routes';
import type { RelayStore } from './relay-store';
import { renderTokenErrorPage, renderTokenPage } from './token-page';

/**
 * GET /token: the page, served behind the auth proxy, that turns the cookies the browser carried into a
 * cookie bundle and hands it to the CLI (auto-submitted form to the loopback listener, or copy/paste).
 *
 * Query: `local_port` (1024–65535, needs `state`) and `state` (see isValidState); both optional.
 */

export interface TokenRouterOptions {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  logger?: Logger;
  /**
   * Enables relay login: `relay=<challenge>` registers the challenge here and the page shows the confirm
   * form, which POST /token/relay (also served by this router) answers. Without it `relay=` is a 400.
   */
  relayStore?: RelayStore;
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

type TokenQuery =
  | { ok: true; port?: number; state?: string; relay?: string }
  | { ok: false; message: string };

/** Creates the router serving GET /token. */
export function createTokenRouter(options: TokenRouterOptions = {}): express.Router {
  const logger = options.logger ?? silentLogger;
  const identityHeader = options.identityHeader ?? DEFAULT_IDENTITY_HEADER;
  const router = express.Router();
  const relayStore = options.relayStore;
  if (relayStore !== undefined) {
    router.use(createRelayConfirmRouter({ store: relayStore, identityHeader, logger }));
  }

  router.get('/token', async (req, res) => {
    const nonce = randomBytes(18).toString('base64');
    const queryStart = req.originalUrl.indexOf('?');
    const rawQuery = queryStart === -1 ? '' : req.originalUrl.slice(queryStart + 1);
    if (rawQuery.length > MAX_TOKEN_QUERY_LENGTH) {
      setTokenPageHeaders(res, nonce, undefined);
      res.status(414).send(renderTokenErrorPage('The address of this page is too long.', nonce));
      return;
    }
    const query = parseTokenQuery(rawQuery);
    if (!query.ok) {
      setTokenPageHeaders(res, nonce, undefined);
      res.status(400).send(renderTokenErrorPage(query.message, nonce));
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

    const made = encodeRequestBundle(req, identityHeader, query.state);
    if (!made.ok) {
      logger.debug(`/token: no bundle: ${made.message}`);
      res.status(400).send(renderTokenErrorPage(made.message, nonce));
      return;
    }
    const { bundle, cookieNames, user } = made;
    logger.debug(
      `/token: bundle of ${cookieNames.length} cookie(s) (${cookieNames.join(', ')})` +
        `${user === undefined ? ', no identity header' : ''}${query.port === undefined ? '' : `, hand-off to port ${query.port}`}`,
    );
    if (query.relay !== undefined && relayStore !== undefined) {
      if ((await relayStore.register(query.relay)) === 'full') {
        logger.warn('/token: the relay store is full; refused a relay login');
        res
          .status(503)
          .send(
            renderTokenErrorPage('Too many sign-ins are waiting here: try again in a few minutes.', nonce),
          );
        return;
      }
    }
    const page = renderTokenPage({
      bundle,
      nonce,
      ...(user === undefined ? {} : { user }),
      ...(query.port === undefined || query.state === undefined
        ? {}
        : { handoff: { port: query.port, state: query.state } }),
      ...(query.relay === undefined
        ? {}
        : {
            relay: {
              challenge: query.relay,
              code: relayCode(query.relay),
              ...(query.state === undefined ? {} : { state: query.state }),
            },
          }),
    });
    res.status(200).send(page);
  });

  return router;
}

/** Validates the /token query: local_port and state, each at most once. */
export function parseTokenQuery(rawQuery: string): TokenQuery {
  const params = new URLSearchParams(rawQuery);
  const ports = params.getAll('local_port');
  const states = params.getAll('state');
  const relays = params.getAll('relay');
  if (ports.length > 1 || states.length > 1 || relays.length > 1)
    return { ok: false, message: 'local_port, state and relay may be given once.' };
  const [relay] = relays;
  if (relay !== undefined && !isValidRelayChallenge(relay)) {
    return { ok: false, message: 'relay must be 43 letters, digits, "-" or "_".' };
  }
  const [portText] = ports;
  const [state] = states;
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^[1-9][0-9]{3,4}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1024 && port <= 65535)) {
      return { ok: false, message: 'local_port must be a whole number from 1024 to 65535.' };
    }
  }
  if (state !== undefined && !isValidState(state)) {
    return { ok: false, message: 'state must be 1 to 256 letters, digits, "-" or "_".' };
  }
  if (port !== undefined && state === undefined) {
    return {
      ok: false,
      message: 'local_port was given without state: start the login again from the terminal.',
    };
  }
  return {
    ok: true,
    ...(port === undefined ? {} : { port }),
    ...(state === undefined ? {} : { state }),
    ...(relay === undefined ? {} : { relay }),
  };
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
    'Referrer-Policy': TOKEN_REFERRER_POLICY,
    'X-Content-Type-Options': 'nosniff',
  });
}
