import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, systemTimers, type Logger, type Timers } from '../context';
import { MAX_BUNDLE_BYTES, type CookieBundle } from '../protocol/bundle-codec';
import { LoginError, describeSystemError } from '../errors';
import { Refusal } from '../http/refusal';
import { HOST_V4, listenOnLoopback } from '../http/listen-on-loopback';
import type { StatelessArrival } from './stateless-bundle-gate';
import {
  CALLBACK_PATH,
  checkRequestHead,
  decodeCallbackBundle,
  describeRequest,
  isStatelessBundle,
  loginFinishedRefusal,
  pathOf,
  readCallbackFields,
  refusalCorsOrigin,
  sanitize,
  statelessRefusal,
  type BodyLimits,
  type RequestFacts,
} from './loopback-callback';
import { sendAccepted, sendInternalError, sendPreflightAnswer, sendRefusal } from './loopback-answers';
import { OneShotBundle } from './one-shot-bundle';

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
  /** Runs the body time-out; default the real setTimeout. */
  timers?: Timers | undefined;
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

/** Starts listening on 127.0.0.1 (and ::1 on the same port when the machine has it). */
export async function startLoopbackListener(options: LoopbackListenerOptions): Promise<LoopbackListener> {
  const endpointOrigin = new URL(options.endpointOrigin).origin;
  const expectedState = options.state;
  if (expectedState === '') throw new TypeError('startLoopbackListener: state must not be empty');
  const logger = options.logger ?? silentLogger;
  const limits: BodyLimits = {
    maxBodyBytes: options.maxBodyBytes ?? MAX_BUNDLE_BYTES,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    timers: options.timers ?? systemTimers,
  };
  const acceptStateless = options.acceptStateless === true;
  const outcome = new OneShotBundle();
  let port = 0;
  let servers: http.Server[] = [];

  const shutDown = (): void => stopServing(servers);

  /** Takes the bundle from one request and answers it, or throws a Refusal. */
  const accept = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    facts: RequestFacts,
  ): Promise<void> => {
    if (outcome.finished) throw loginFinishedRefusal();
    if (checkRequestHead(facts, { endpointOrigin, port }) === 'preflight') {
      sendPreflightAnswer(res, endpointOrigin, facts.asksPrivateNetwork);
      return;
    }
    const fields = await readCallbackFields(req, facts, limits);
    const decoded = decodeCallbackBundle(fields, facts, expectedState);
    if (!acceptStateless && isStatelessBundle(decoded, facts)) {
      // checkRequestHead let this POST through only with the endpoint's Origin.
      if (!outcome.finished) options.onStatelessBundle?.({ bundle: decoded, origin: endpointOrigin });
      throw statelessRefusal();
    }
    if (outcome.finished) throw loginFinishedRefusal();

    outcome.claim();
    logger.debug(
      `loopback: accepted a ${decoded.format} bundle with ${decoded.cookies.length} cookie(s): ` +
        decoded.cookies.map((cookie) => cookie.name).join(', '),
    );
    sendAccepted(res, facts.reply, endpointOrigin, () => {
      shutDown();
      outcome.deliver(decoded);
    });
  };

  /** Answers one request; a Refusal becomes its answer (with CORS for the endpoint's own fetches). */
  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const facts = describeRequest(req);
    try {
      await accept(req, res, facts);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      logger.debug(
        `loopback: refused ${sanitize(facts.method)} ${facts.path} (${error.status}): ${error.message}`,
      );
      sendRefusal(res, error, facts.reply, refusalCorsOrigin(facts, endpointOrigin));
    }
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    route(req, res).catch((error: unknown) => {
      logger.debug(
        `loopback: could not handle ${sanitize(req.method ?? '')} ${pathOf(req.url)}: ${describeSystemError(error)}`,
      );
      sendInternalError(res);
    });
  };

  ({ servers, port } = await listenOnLoopback(options.port ?? 0, handle, logger));
  const closed = whenAllClosed(servers);
  for (const server of servers) {
    server.on('error', (error) => logger.debug(`loopback: server error: ${describeSystemError(error)}`));
  }
  logger.debug(`loopback: listening on ${servers.map((server) => describeAddress(server)).join(' and ')}`);

  return {
    port,
    callbackUrl: `http://${HOST_V4}:${port}${CALLBACK_PATH}`,
    bundle: outcome.bundle,
    close: async () => {
      outcome.abandon(
        new LoginError('E_LISTENER_CLOSED', 'the login listener was closed before a bundle arrived'),
      );
      shutDown();
      await closed;
    },
  };
}

/** Stops accepting and drops every connection, idle or not. */
function stopServing(servers: http.Server[]): void {
  for (const server of servers) {
    if (server.listening) server.close();
    server.closeIdleConnections();
    server.closeAllConnections();
  }
}

function whenAllClosed(servers: http.Server[]): Promise<void> {
  return Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.once('close', () => resolve()))),
  ).then(() => undefined);
}

function describeAddress(server: http.Server): string {
  const address = server.address() as AddressInfo;
  return address.family === 'IPv6'
    ? `[${address.address}]:${address.port}`
    : `${address.address}:${address.port}`;
}
