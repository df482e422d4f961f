import type * as http from 'node:http';
import { bearerToken, claimedIssuer } from '../../protocol/bearer-token';
import { readIdentity } from '../identity';
import { removeRequestHeader, replaceRequestHeader } from '../request-headers';
import {
  AccountStateError,
  type AccountService,
  type Role,
  type ServiceAccount,
  type TokenRefusalReason,
} from './account-types';

/**
 * serve's own check of who is calling (issue 13), run on every request and WebSocket upgrade that serve would
 * forward or answer behind the proxy, after the path and trust screen:
 *   - a bearer token claiming our issuer is verified completely (AccountService.verifyBearer, revocation
 *     included); refused → the caller answers 401 and nothing reaches the app; accepted → the identity header
 *     becomes the token's email and the role header the account's role, whatever the client sent;
 *   - otherwise (no bearer, or another issuer's: the auth proxy's business) a person named by the trusted
 *     identity header gets the role header from roleOf; nobody named → no role header. When the account
 *     state cannot be read (a shared Redis down, a corrupt file), the person's request goes on WITHOUT a role
 *     header (the app sees the least privilege, not a guess) and the admin API answers 503 (roleUnavailable);
 *     a bearer token is never let through unverified.
 * The client's own role header never survives.
 */

export type Caller =
  | { kind: 'service-account'; identity: string; role: Role; account: ServiceAccount }
  | { kind: 'person'; identity: string; role: Role }
  | { kind: 'anonymous' };

export type CallerOutcome = Caller | { kind: 'refused'; reason: TokenRefusalReason };

export interface CallerCheckOptions {
  accounts: AccountService;
  identityHeader: string;
  roleHeader: string;
}

const callers = new WeakMap<http.IncomingMessage, Caller>();
const roleErrors = new WeakMap<http.IncomingMessage, AccountStateError>();

/** Why the person named on this request has no role: the account state could not be read (see above). */
export function roleUnavailable(req: http.IncomingMessage): AccountStateError | undefined {
  return roleErrors.get(req);
}

/** The caller identifyCaller found for this request (anonymous when it did not run). */
export function callerOf(req: http.IncomingMessage): Caller {
  return callers.get(req) ?? { kind: 'anonymous' };
}

/** Whether a request carries a bearer token that claims `issuer` (serve must verify it, not the proxy). */
export function claimsIssuer(req: http.IncomingMessage, issuer: string): string | undefined {
  const token = bearerToken(req.headers.authorization);
  return token !== undefined && claimedIssuer(token) === issuer ? token : undefined;
}

/** Decides who calls and rewrites the identity and role headers accordingly (see the module comment). */
export function createCallerCheck(
  options: CallerCheckOptions,
): (req: http.IncomingMessage) => Promise<CallerOutcome> {
  const { accounts, identityHeader, roleHeader } = options;
  return async (req) => {
    removeRequestHeader(req, roleHeader);
    const token = claimsIssuer(req, accounts.issuer);
    if (token !== undefined) {
      // Never a mix: whatever identity the client sent goes, before and whatever the verdict.
      removeRequestHeader(req, identityHeader);
      const verdict = await accounts.verifyBearer(token);
      if (!verdict.ok) return { kind: 'refused', reason: verdict.reason };
      replaceRequestHeader(req, identityHeader, verdict.identity);
      replaceRequestHeader(req, roleHeader, verdict.role);
      const caller: Caller = {
        kind: 'service-account',
        identity: verdict.identity,
        role: verdict.role,
        account: verdict.account,
      };
      callers.set(req, caller);
      return caller;
    }
    const identity = readIdentity(req, identityHeader);
    if (identity === undefined) return { kind: 'anonymous' };
    let role: Role;
    try {
      role = await accounts.roleOf(identity);
    } catch (error) {
      if (!(error instanceof AccountStateError)) throw error;
      roleErrors.set(req, error);
      return { kind: 'anonymous' };
    }
    replaceRequestHeader(req, roleHeader, role);
    const caller: Caller = { kind: 'person', identity, role };
    callers.set(req, caller);
    return caller;
  };
}
