import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Logger } from '../../context';
import { Refusal, renderRefusalHtml } from '../../http/refusal';
import { ADMIN_PAGE_HEADERS, renderAdminPage } from './admin-page';
import { forbiddenBody, sendJson, sendRefusal, serviceAccountJson } from './account-answers';
import {
  AccountRequestError,
  AccountStateError,
  ROLES,
  type AccountService,
  type Role,
} from './account-types';
import { callerOf, roleUnavailable, type Caller } from './request-caller';

/**
 * The admin API and page under `/cookie-bridge/admin/` (issue 13), behind the auth proxy. The caller is the
 * one serve's caller check found (request-caller.ts): a person named by the trusted identity header or a
 * service account with a verified bearer token. Nobody → 401; not an admin → 403 naming who may (except
 * `GET me`, which anyone signed in may ask). State-changing calls (POST, PUT, DELETE) need
 * `Content-Type: application/json` (a cross-site form cannot send it without a preflight) and are refused
 * when the browser says they come from another site (`Sec-Fetch-Site` other than same-origin or none).
 */

export const ADMIN_PREFIX = '/cookie-bridge/admin';

const BODY_LIMIT = '16kb';
const SAME_SITE_VALUES = new Set(['same-origin', 'none']);

export interface AdminRoutesOptions {
  accounts: AccountService;
  /** serve's --admin list, named in the 403 answer ("ask an admin: …"). */
  admins: readonly string[];
  logger: Logger;
}

type SignedIn = Exclude<Caller, { kind: 'anonymous' }>;

export function createAdminRouter(options: AdminRoutesOptions): Router {
  const { accounts, admins, logger } = options;
  const router = express.Router({ caseSensitive: false });
  // A person whose role could not be read (the account state is unavailable): 503, never a 401 or 403 guess.
  router.use((req, _res, next) => next(roleUnavailable(req)));

  /** The signed-in admin, or undefined after answering 401/403. */
  const requireAdmin = (req: Request, res: Response, action: string, html = false): SignedIn | undefined => {
    const caller = callerOf(req);
    if (caller.kind === 'anonymous') {
      const refusal = new Refusal(
        401,
        'not_signed_in',
        'sign in through the auth proxy (or send a bearer token)',
      );
      if (html) sendPage(res, 401, renderRefusalHtml(refusal, ''));
      else sendRefusal(res, refusal);
      return undefined;
    }
    if (caller.role !== 'admin') {
      const body = forbiddenBody(action, caller.identity, admins);
      if (html)
        sendPage(
          res,
          403,
          renderRefusalHtml(new Refusal(403, 'forbidden', body.message ?? ''), body.admins ?? ''),
        );
      else sendJson(res, 403, body);
      return undefined;
    }
    return caller;
  };

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    const site = req.get('sec-fetch-site');
    if (site !== undefined && !SAME_SITE_VALUES.has(site.toLowerCase())) {
      sendRefusal(
        res,
        new Refusal(403, 'cross_origin_refused', 'the admin API takes no requests from other sites'),
      );
      return;
    }
    if (!isJsonContentType(req.get('content-type'))) {
      sendRefusal(res, new Refusal(415, 'unsupported_media_type', 'send Content-Type: application/json'));
      return;
    }
    next();
  });
  router.use(express.json({ limit: BODY_LIMIT, strict: true }));

  router.get('/', (req, res) => {
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      res.redirect(308, `${ADMIN_PREFIX}/`);
      return;
    }
    const caller = requireAdmin(req, res, 'open the admin page', true);
    if (caller === undefined) return;
    sendPage(res, 200, renderAdminPage({ identity: caller.identity, role: caller.role }));
  });

  router.get('/me', (req, res) => {
    const caller = callerOf(req);
    if (caller.kind === 'anonymous') {
      requireAdmin(req, res, 'ask');
      return;
    }
    sendJson(res, 200, { identity: caller.identity, role: caller.role, kind: caller.kind });
  });

  router.get('/service-accounts', async (req, res) => {
    if (requireAdmin(req, res, 'list service accounts') === undefined) return;
    const list = await accounts.list();
    sendJson(res, 200, {
      serviceAccounts: list.map((account) => serviceAccountJson(account, account.status)),
    });
  });

  router.post('/service-accounts', async (req, res) => {
    const caller = requireAdmin(req, res, 'create service accounts');
    if (caller === undefined) return;
    const body = objectBody(req);
    const { name, role, expiresIn } = body;
    if (typeof name !== 'string') throw new AccountRequestError(400, 'bad_request', 'name is required');
    const lifetimeMs = expiresInMs(expiresIn);
    const { account, token } = await accounts.create({
      name,
      role: roleField(role ?? 'user'),
      createdBy: caller.identity,
      ...(lifetimeMs === undefined ? {} : { lifetimeMs }),
    });
    logger.info(`serve: ${caller.identity} created service account ${account.name} (role ${account.role})`);
    sendJson(res, 201, { ...serviceAccountJson(account, 'active'), token });
  });

  router.delete('/service-accounts/:name', async (req, res) => {
    const caller = requireAdmin(req, res, 'revoke service accounts');
    if (caller === undefined) return;
    const account = await accounts.revoke(String(req.params.name), caller.identity);
    logger.info(`serve: ${caller.identity} revoked service account ${account.name}`);
    sendJson(res, 200, serviceAccountJson(account, 'revoked'));
  });

  router.get('/users', async (req, res) => {
    if (requireAdmin(req, res, 'list users') === undefined) return;
    const people = await accounts.listPeople();
    sendJson(res, 200, {
      users: people.map((person) => ({
        identity: person.identity,
        role: person.role,
        roleSource: person.roleSource,
        ...(person.lastSeenAt === undefined ? {} : { lastSeenAt: new Date(person.lastSeenAt).toISOString() }),
      })),
    });
  });

  router.put('/users/:identity/role', async (req, res) => {
    const caller = requireAdmin(req, res, "change people's roles");
    if (caller === undefined) return;
    const role = roleField(objectBody(req).role);
    const person = await accounts.setRole(String(req.params.identity), role, caller.identity);
    logger.info(`serve: ${caller.identity} set the role of ${person.identity} to ${person.role}`);
    sendJson(res, 200, { identity: person.identity, role: person.role, roleSource: person.roleSource });
  });

  router.post('/keys/rotate', async (req, res) => {
    const caller = requireAdmin(req, res, 'rotate the signing key');
    if (caller === undefined) return;
    const { kid } = await accounts.rotateKey();
    logger.info(`serve: ${caller.identity} rotated the signing key (new kid ${kid})`);
    sendJson(res, 200, { kid });
  });

  router.use((_req: Request, res: Response) => {
    sendRefusal(res, new Refusal(404, 'not_found', 'no such admin route'));
  });

  router.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (error instanceof AccountRequestError) {
      sendRefusal(res, new Refusal(error.status, error.code, error.message));
      return;
    }
    if (error instanceof AccountStateError) {
      logger.warn(`serve: service accounts: ${error.message}`);
      sendRefusal(res, new Refusal(503, 'internal_error', 'the service-account state is unavailable'));
      return;
    }
    next(error);
  });
  return router;
}

function sendPage(res: Response, status: number, html: string): void {
  res.status(status).set(ADMIN_PAGE_HEADERS).type('html').send(html);
}

/** `application/json` with any parameters (req.is answers null for a request without a body, e.g. DELETE). */
function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && value.split(';')[0]!.trim().toLowerCase() === 'application/json';
}

function objectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AccountRequestError(400, 'bad_request', 'send a JSON object');
  }
  return body as Record<string, unknown>;
}

function roleField(value: unknown): Role {
  if (typeof value === 'string' && (ROLES as readonly string[]).includes(value)) return value as Role;
  throw new AccountRequestError(400, 'bad_request', `role must be one of: ${ROLES.join(', ')}`);
}

/** `expiresIn` (seconds, a positive integer) in ms; undefined when absent. */
function expiresInMs(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new AccountRequestError(400, 'bad_request', 'expiresIn must be a positive whole number of seconds');
  }
  return value * 1000;
}
