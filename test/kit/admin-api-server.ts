/**
 * The test kit's stand-in for an endpoint with `cookie-bridge serve --service-accounts` behind an auth proxy,
 * for the CLI's admin commands while serve's real routes are built elsewhere. It keeps to the HTTP contract
 * of the admin API (docs: README "Service accounts for robots"; shapes in src/protocol/admin-api.ts), in two
 * layers as a deployment has them:
 * - the "auth proxy": a `_oauth2_proxy` session cookie (opaque, rotated on every request like a refreshing
 *   proxy: the old value stops working, so a client that does not save the new one is signed out) becomes the
 *   identity header; a missing or unknown session is oauth2-proxy's answer to a JSON client, 401 `{}`; a
 *   client-sent identity header is dropped;
 * - "serve": a bearer token it issued → the service account's identity and role, or 401
 *   `{"error":"token_invalid","reason"}`; the admin routes (admins only, else 403 with `admins`), the CSRF
 *   rules of state-changing calls, 400/404/409 as `{"error","message"}`.
 * Tokens are random strings held in memory (the CLI never looks inside one). `serviceAccounts: false` is serve
 * without --service-accounts: the admin paths reach the app, which has no such page (404 HTML).
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import {
  ADMIN_API_PREFIX,
  isRole,
  SERVICE_ACCOUNT_NAME,
  type Role,
  type ServiceAccountJson,
  type UserJson,
} from '../../src/protocol/admin-api';

const IDENTITY_HEADER = 'x-auth-request-email';
const SESSION_COOKIE = '_oauth2_proxy';
const DAY_MS = 86_400_000;
const EMAIL_DOMAIN = 'service-accounts.invalid';

export interface AdminApiServerOptions {
  /** serve --admin. */
  admins: string[];
  serviceAccounts?: boolean;
  /** The longest lifetime an admin may ask for (serve --sa-max-lifetime); default 365 days. */
  maxLifetimeMs?: number;
  now?: () => number;
}

interface KitAccount {
  name: string;
  role: Role;
  token: string;
  createdAt: number;
  expiresAt: number;
  createdBy: string;
  revokedAt?: number;
}

export interface AdminApiServer {
  url: string;
  /** A new signed-in session for `identity`: the cookie's value. */
  signIn(identity: string): string;
  /** Every session ends (the proxy's cookies expired). */
  endSessions(): void;
  /** Every request that reached the endpoint: method and path. */
  requests: Array<{ method: string; path: string }>;
  close(): Promise<void>;
}

interface Caller {
  identity: string;
  role: Role;
  kind: 'person' | 'service-account';
}

export async function startAdminApiServer(options: AdminApiServerOptions): Promise<AdminApiServer> {
  const now = options.now ?? (() => Date.now());
  const maxLifetimeMs = options.maxLifetimeMs ?? 365 * DAY_MS;
  const sessions = new Map<string, string>();
  const accounts = new Map<string, KitAccount>();
  const people = new Map<string, { role?: Role; lastSeenAt?: number }>();
  const requests: AdminApiServer['requests'] = [];
  const newSession = (identity: string): string => {
    const id = randomBytes(18).toString('base64url');
    sessions.set(id, identity);
    return id;
  };

  const app = express();
  app.disable('x-powered-by');

  // The auth proxy: a bearer goes through untouched (serve checks it); else a session cookie or 401 `{}`.
  app.use((req, res, next) => {
    requests.push({ method: req.method, path: req.path });
    delete req.headers[IDENTITY_HEADER];
    if (/^Bearer /i.test(req.headers.authorization ?? '')) return next();
    const session = readCookie(req.headers.cookie, SESSION_COOKIE);
    const identity = session === undefined ? undefined : sessions.get(session);
    if (session === undefined || identity === undefined) {
      res.status(401).type('application/json').send('{}');
      return;
    }
    sessions.delete(session);
    res.append('set-cookie', `${SESSION_COOKIE}=${newSession(identity)}; Path=/; HttpOnly; Max-Age=3600`);
    req.headers[IDENTITY_HEADER] = identity;
    next();
  });

  if (options.serviceAccounts !== false) {
    const roleOf = (identity: string): Role =>
      options.admins.includes(identity) ? 'admin' : (people.get(identity)?.role ?? 'user');
    const personJson = (identity: string): UserJson => {
      const seen = people.get(identity);
      return {
        identity,
        role: roleOf(identity),
        roleSource: options.admins.includes(identity)
          ? 'admin-flag'
          : seen?.role !== undefined
            ? 'registry'
            : 'default',
        ...(seen?.lastSeenAt === undefined ? {} : { lastSeenAt: new Date(seen.lastSeenAt).toISOString() }),
      };
    };
    const accountJson = (a: KitAccount): ServiceAccountJson => ({
      name: a.name,
      role: a.role,
      createdAt: new Date(a.createdAt).toISOString(),
      expiresAt: new Date(a.expiresAt).toISOString(),
      createdBy: a.createdBy,
      status: a.revokedAt !== undefined ? 'revoked' : a.expiresAt <= now() ? 'expired' : 'active',
      ...(a.revokedAt === undefined ? {} : { revokedAt: new Date(a.revokedAt).toISOString() }),
    });
    const refuse = (res: Response, status: number, error: string, message: string, extra = {}): void => {
      res
        .status(status)
        .set('cache-control', 'no-store')
        .json({ error, message, ...extra });
    };

    // serve: the caller, from a verified bearer or the identity header the proxy set; undefined: answered 401.
    const callerOf = (req: Request, res: Response): Caller | undefined | 'nobody' => {
      const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (bearer !== undefined) {
        const account = [...accounts.values()].find((a) => a.token === bearer);
        const reason =
          account === undefined
            ? 'unknown-account'
            : account.revokedAt !== undefined
              ? 'revoked'
              : account.expiresAt <= now()
                ? 'expired'
                : undefined;
        if (account === undefined || reason !== undefined) {
          refuse(res, 401, 'token_invalid', `the token was refused: ${reason ?? 'unknown'}`, { reason });
          return undefined;
        }
        return { identity: `${account.name}@${EMAIL_DOMAIN}`, role: account.role, kind: 'service-account' };
      }
      const identity = req.headers[IDENTITY_HEADER];
      if (typeof identity !== 'string') return 'nobody';
      people.set(identity, { ...people.get(identity), lastSeenAt: now() });
      return { identity, role: roleOf(identity), kind: 'person' };
    };

    // serve answers /api/health itself (the app has none): api login verifies a token there.
    app.get('/api/health', (req, res) => {
      const caller = callerOf(req, res);
      if (caller === undefined) return;
      res.json({ status: 'ok', ...(caller === 'nobody' ? {} : { user: caller.identity }) });
    });

    app.use(ADMIN_API_PREFIX, (req, res, next) => {
      const found = callerOf(req, res);
      if (found === undefined) return;
      const caller = found === 'nobody' ? undefined : found;
      if (caller === undefined) {
        refuse(res, 401, 'unauthorized', 'no identity: the auth proxy named nobody');
        return;
      }
      res.locals.caller = caller;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const site = req.headers['sec-fetch-site'];
        if (site !== undefined && site !== 'same-origin' && site !== 'none') {
          refuse(res, 403, 'cross_origin_refused', 'cross-site request refused');
          return;
        }
        if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
          refuse(res, 415, 'unsupported_media_type', 'send Content-Type: application/json');
          return;
        }
      }
      next();
    });
    app.use(express.json({ limit: '16kb' }));
    const adminsOnly = (what: string) => (req: Request, res: Response, next: NextFunction) => {
      if ((res.locals.caller as Caller).role === 'admin') return next();
      refuse(res, 403, 'forbidden', `only admins may ${what}`, {
        admins: `ask an admin: ${options.admins.join(', ')}`,
      });
    };
    const router = express.Router();
    router.get('/me', (_req, res) => {
      res.set('cache-control', 'no-store').json(res.locals.caller as Caller);
    });
    router.get('/service-accounts', adminsOnly('list service accounts'), (_req, res) => {
      res.set('cache-control', 'no-store').json({ serviceAccounts: [...accounts.values()].map(accountJson) });
    });
    router.post('/service-accounts', adminsOnly('create service accounts'), (req, res) => {
      const body = (req.body ?? {}) as { name?: unknown; role?: unknown; expiresIn?: unknown };
      if (typeof body.name !== 'string' || !SERVICE_ACCOUNT_NAME.test(body.name)) {
        return refuse(res, 400, 'bad_request', 'name must be 1-63 of a-z, 0-9 and -');
      }
      if (body.role !== undefined && !isRole(body.role)) return refuse(res, 400, 'bad_request', 'bad role');
      const lifetimeMs = body.expiresIn === undefined ? 30 * DAY_MS : Number(body.expiresIn) * 1000;
      if (!Number.isInteger(lifetimeMs) || lifetimeMs <= 0 || lifetimeMs > maxLifetimeMs) {
        return refuse(res, 400, 'bad_request', `expiresIn must be 1 s to ${maxLifetimeMs / DAY_MS} days`);
      }
      if (accounts.has(body.name)) {
        return refuse(res, 409, 'exists', `a service account named ${body.name} exists`);
      }
      const account: KitAccount = {
        name: body.name,
        role: body.role ?? 'user',
        token: `kit.${randomBytes(24).toString('base64url')}`,
        createdAt: now(),
        expiresAt: now() + lifetimeMs,
        createdBy: (res.locals.caller as Caller).identity,
      };
      accounts.set(account.name, account);
      res
        .status(201)
        .set('cache-control', 'no-store')
        .json({ ...accountJson(account), token: account.token });
    });
    router.delete('/service-accounts/:name', adminsOnly('revoke service accounts'), (req, res) => {
      const account = accounts.get(String(req.params.name));
      if (account === undefined) {
        return refuse(res, 404, 'not_found', `no service account named ${String(req.params.name)}`);
      }
      account.revokedAt ??= now();
      res.set('cache-control', 'no-store').json(accountJson(account));
    });
    router.get('/users', adminsOnly('list users'), (_req, res) => {
      res.set('cache-control', 'no-store').json({ users: [...people.keys()].map(personJson) });
    });
    router.put('/users/:identity/role', adminsOnly('change roles'), (req, res) => {
      const role = (req.body as { role?: unknown } | undefined)?.role;
      if (!isRole(role)) return refuse(res, 400, 'bad_request', 'role must be admin or user');
      const identity = String(req.params.identity);
      people.set(identity, { ...people.get(identity), role });
      res.set('cache-control', 'no-store').json(personJson(identity));
    });
    router.post('/keys/rotate', adminsOnly('rotate the signing key'), (_req, res) => {
      res.set('cache-control', 'no-store').json({ kid: randomBytes(16).toString('base64url') });
    });
    app.use(ADMIN_API_PREFIX, router);
  }

  // The app behind serve: it has no admin pages.
  app.use((_req, res) => {
    res.status(404).type('text/html').send('<!doctype html><title>Not found</title><h1>Not found</h1>');
  });

  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    signIn: newSession,
    endSessions: () => sessions.clear(),
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
