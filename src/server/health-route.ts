import express from 'express';
import { identityReader, type ResolveIdentity } from './identity';

export interface HealthRouterOptions {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  /**
   * For an app that signs people in itself: who is signed in, from the app's own session (see
   * ResolveIdentity). When given, the identity header is not read.
   */
  resolveIdentity?: ResolveIdentity;
}

/** The body of GET /api/health. */
export interface HealthResponse {
  status: 'ok';
  user: string | null;
}

/** Creates the router serving GET /api/health: `{"status":"ok","user":<identity or null>}`, never cached. */
export function createHealthRouter(options: HealthRouterOptions = {}): express.Router {
  const readUser = identityReader(options);
  const router = express.Router();
  router.get('/api/health', (req, res) => {
    const body: HealthResponse = { status: 'ok', user: readUser(req) ?? null };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
