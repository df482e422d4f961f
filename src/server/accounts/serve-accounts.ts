import type * as http from 'node:http';
import type { Request, Response, Router } from 'express';
import type { Logger } from '../../context';
import { UsageError } from '../../errors';
import { RELAY_PREFIX } from '../../protocol/relay-protocol';
import { isUnderPrefix } from '../../protocol/request-path';
import { sendJson, tokenInvalidBody } from './account-answers';
import type { AccountService, TokenRefusalReason } from './account-types';
import { createAdminRouter, ADMIN_PREFIX } from './admin-routes';
import { AUTH_CHECK_PATH, createAuthCheck } from './auth-check-route';
import { createIssuerAnswer, issuerPathOf } from './issuer-routes';
import { createCallerCheck, type CallerOutcome } from './request-caller';

/**
 * Everything `serve --service-accounts` adds to createServeApp (issue 13), in one object the app wires:
 * the issuer's public routes, the nginx auth check, the caller check (bearer tokens, the role header) and the
 * admin router. createServeApp stays the one place that orders the routes.
 */

export interface ServeAccountsOptions {
  accounts: AccountService;
  identityHeader: string;
  roleHeader: string;
  admins: readonly string[];
  logger: Logger;
}

export interface ServeAccounts {
  /** The issuer's path (lower-case, no trailing slash), exempt from the proxy and answered here. */
  issuerPath: string;
  adminPrefix: string;
  adminRouter: Router;
  /**
   * Runs before the routes on every non-relay request: answers the issuer and auth-check paths, refuses a bad
   * bearer token of ours (401 JSON) and sets the identity and role headers. True: go on to the routes.
   */
  gate(req: Request, res: Response, canonicalPath: string): Promise<boolean>;
  /** The caller check alone (WebSocket upgrades). */
  identify(req: http.IncomingMessage): Promise<CallerOutcome>;
  /** Whether serve answers this canonical path itself (issuer, auth check, admin): never forwarded. */
  ownsPath(canonicalPath: string): boolean;
  refusedBody(reason: TokenRefusalReason): Record<string, string>;
}

export function createServeAccounts(options: ServeAccountsOptions): ServeAccounts {
  const { accounts, logger } = options;
  const issuerPath = checkIssuerPath(accounts.issuer);
  const answerIssuer = createIssuerAnswer({ accounts, issuerPath });
  const authCheck = createAuthCheck({ accounts, roleHeader: options.roleHeader });
  const identify = createCallerCheck(options);
  const isAuthCheck = (canonical: string): boolean => canonical.replace(/\/+$/, '') === AUTH_CHECK_PATH;

  return {
    issuerPath,
    adminPrefix: ADMIN_PREFIX,
    adminRouter: createAdminRouter({ accounts, admins: options.admins, logger }),
    identify,
    refusedBody: tokenInvalidBody,
    ownsPath: (canonical) =>
      isUnderPrefix(canonical, issuerPath) ||
      isAuthCheck(canonical) ||
      isUnderPrefix(canonical, ADMIN_PREFIX),
    async gate(req, res, canonical) {
      if (isUnderPrefix(canonical, issuerPath)) {
        await answerIssuer(req, res, canonical);
        return false;
      }
      if (isAuthCheck(canonical)) {
        await authCheck(req, res);
        return false;
      }
      const outcome = await identify(req);
      if (outcome.kind === 'refused') {
        logger.debug(`serve: refused a bearer token of ours (${outcome.reason}); nothing forwarded`);
        sendJson(res, 401, tokenInvalidBody(outcome.reason));
        return false;
      }
      return true;
    },
  };
}

/** The issuer's path, when serve can own it: not the root, plain characters, apart from serve's other routes (else UsageError). */
export function checkIssuerPath(issuer: string): string {
  let path: string;
  try {
    path = issuerPathOf(issuer);
  } catch {
    throw new UsageError(`the service-account issuer is not a URL: ${JSON.stringify(issuer)}`);
  }
  const hint = 'use a path of its own, e.g. https://api.example.com/cookie-bridge/sa';
  if (path === '' || !/^(\/[a-z0-9._~-]+)+$/.test(path) || /\/\.{1,2}(\/|$)/.test(path)) {
    throw new UsageError(
      `the service-account issuer needs a plain path of its own, not ${JSON.stringify(path || '/')}`,
      {
        hint,
      },
    );
  }
  for (const taken of [RELAY_PREFIX, ADMIN_PREFIX, AUTH_CHECK_PATH, '/token', '/api/health']) {
    if (isUnderPrefix(path, taken) || isUnderPrefix(taken, path)) {
      throw new UsageError(`the service-account issuer's path ${path} overlaps serve's ${taken}`, { hint });
    }
  }
  return path;
}
