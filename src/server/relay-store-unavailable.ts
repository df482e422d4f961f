import type { Request, Response } from 'express';
import type { Logger } from '../context';
import { Refusal, refusalBody } from '../http/refusal';
import { isRelayStoreUnavailable } from './relay-store';

/**
 * The one answer of every relay route while the relay store cannot answer (RelayStoreUnavailableError from
 * any store method, formKey included): 503 with Retry-After. Scripts (the CLI's register and claim) get JSON
 * `{"error":"relay_store_unavailable","message":"relay store unavailable: …"}`; a browser (the /token page
 * in relay mode, the confirm post) gets an HTML page saying the same and to retry, never a confirm form the
 * server could not check. The store's own message (host names, the cause) goes to --debug only: the public
 * relay routes pass the auth proxy without a login.
 */

/** Seconds the answer asks clients to wait (Retry-After); the CLI keeps polling at its own pace meanwhile. */
export const RELAY_STORE_RETRY_AFTER_SECONDS = 5;

export const RELAY_STORE_UNAVAILABLE_REFUSAL = new Refusal(
  503,
  'relay_store_unavailable',
  'relay store unavailable: this server cannot keep relay sign-ins right now; try again in a few seconds',
);

/** What a browser page says (the /token page, the confirm post). */
export const RELAY_STORE_UNAVAILABLE_PAGE_MESSAGE =
  'This server cannot take relay sign-ins right now (its relay store is unavailable). ' +
  'Your terminal keeps waiting: reload this page in a few seconds and try again.';

/** Sets the 503's status and Retry-After, and logs the store's reason at debug; returns whether it was one. */
export function answeredStoreUnavailable(
  error: unknown,
  req: Request,
  res: Response,
  logger: Logger,
  render: 'json' | ((message: string) => string),
): boolean {
  if (!isRelayStoreUnavailable(error) || res.headersSent) return false;
  logger.debug(`relay: ${req.method} ${req.path}: ${error.message}`);
  res.status(503).set({
    'Retry-After': String(RELAY_STORE_RETRY_AFTER_SECONDS),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  if (render === 'json' || req.accepts(['html', 'json']) === 'json') {
    // The page routes set an HTML Content-Type before they know the answer: res.json keeps a set one.
    res.type('application/json').json(refusalBody(RELAY_STORE_UNAVAILABLE_REFUSAL));
  } else {
    res.send(render(RELAY_STORE_UNAVAILABLE_PAGE_MESSAGE));
  }
  return true;
}
