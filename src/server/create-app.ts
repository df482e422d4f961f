import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { silentLogger, type Context } from '../context';
import { Refusal, refusalBody, type RefusalCode } from '../http/refusal';
import { createHealthRouter } from './health-route';
import { createTokenRouter } from './token-route';
import type { ResolveIdentity } from './identity';
import { clientErrorStatus } from '../http/client-error-status';

export interface CreateAppDeps extends Partial<Pick<Context, 'logger'>> {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  /**
   * For an app that signs people in itself (express-openid-connect, passport): who is signed in, from the
   * app's own session, e.g. `req => req.oidc.user?.email`. When given, the identity header is not read.
   */
  resolveIdentity?: ResolveIdentity;
  /**
   * Cookie names (and their chunks) the /token bundle carries besides the known auth proxies' session
   * cookies, e.g. oauth2-proxy's --cookie-name. Other cookies stay in the browser (src/protocol/session-cookies.ts).
   */
  sessionCookies?: readonly string[];
  /** Mounts more routes after /token and /api/health, before the 404 and error handlers. */
  configure?: (app: express.Express) => void;
}

/**
 * The server half of cookie-bridge as an express app: GET /token, GET /api/health, whatever `configure`
 * adds, a JSON 404 and an error handler that never shows a stack trace. It never listens: the caller
 * mounts it or passes it to http.createServer.
 */
export function createApp(deps: CreateAppDeps = {}): express.Express {
  const logger = deps.logger ?? silentLogger;
  const routeOptions = {
    ...(deps.identityHeader === undefined ? {} : { identityHeader: deps.identityHeader }),
    ...(deps.resolveIdentity === undefined ? {} : { resolveIdentity: deps.resolveIdentity }),
  };
  const app = express();
  app.disable('x-powered-by');
  app.use(
    createTokenRouter({
      ...routeOptions,
      logger,
      ...(deps.sessionCookies === undefined ? {} : { sessionCookies: deps.sessionCookies }),
    }),
  );
  app.use(createHealthRouter(routeOptions));
  deps.configure?.(app);
  app.use((_req: Request, res: Response) => {
    res.status(404).json(refusalBody(new Refusal(404, 'not_found', 'no such route')));
  });
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const status = clientErrorStatus(error);
    if (status === undefined) {
      logger.warn(`internal error on ${req.method} ${req.path}: ${describeError(error)}`);
    } else {
      logger.debug(`client error ${status} on ${req.method} ${req.path}: ${describeError(error)}`);
    }
    if (res.headersSent) {
      // Too late for an error answer: let express close the connection.
      next(error);
      return;
    }
    const refusal =
      status === undefined
        ? new Refusal(500, 'internal_error', 'internal server error')
        : new Refusal(status, CLIENT_ERROR_CODES[status] ?? 'bad_request', exposedMessage(error, status));
    res.status(refusal.status).set('Cache-Control', 'no-store').json(refusalBody(refusal));
  });
  return app;
}

const CLIENT_ERROR_CODES: Partial<Record<number, RefusalCode>> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function exposedMessage(error: unknown, status: number): string {
  const { expose, message } = error as { expose?: unknown; message?: unknown };
  if (expose === true && typeof message === 'string' && message.length <= 200) return message;
  return status === 413 ? 'request body too large' : 'bad request';
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return typeof error;
}
