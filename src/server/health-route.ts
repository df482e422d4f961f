import express from 'express';
import { DEFAULT_IDENTITY_HEADER, readIdentity } from './identity';

export interface HealthRouterOptions {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
}

/** The body of GET /api/health. */
export interface HealthResponse {
  status: 'ok';
  user: string | null;
}

/** Creates the router serving GET /api/health: `{"status":"ok","user":<identity or null>}`, never cached. */
export function createHealthRouter(options: HealthRouterOptions = {}): express.Router {
  const identityHeader = options.identityHeader ?? DEFAULT_IDENTITY_HEADER;
  const router = express.Router();
  router.get('/api/health', (req, res) => {
    const body: HealthResponse = { status: 'ok', user: readIdentity(req, identityHeader) ?? null };
    res.set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
