import type { Request, Response } from 'express';
import { bearerToken } from '../../protocol/bearer-token';
import { Refusal } from '../../http/refusal';
import { DEFAULT_IDENTITY_HEADER } from '../identity';
import { sendJson, sendRefusal, tokenInvalidBody } from './account-answers';
import type { AccountService } from './account-types';

/**
 * `GET /cookie-bridge/auth/check` for nginx's `auth_request` (issue 13): nginx sends the client's
 * Authorization header in an internal subrequest; 200 with `X-Auth-Request-Email` and the role header when
 * the bearer token verifies completely (any issuer's claim is checked, revocation included), 401 JSON
 * otherwise. Never forwarded to the app.
 */

export const AUTH_CHECK_PATH = '/cookie-bridge/auth/check';

export interface AuthCheckOptions {
  accounts: AccountService;
  roleHeader: string;
}

export function createAuthCheck(options: AuthCheckOptions): (req: Request, res: Response) => Promise<void> {
  const { accounts, roleHeader } = options;
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      sendRefusal(res, new Refusal(405, 'method_not_allowed', 'the auth check answers GET'));
      return;
    }
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) {
      sendRefusal(res, new Refusal(401, 'not_signed_in', 'no Authorization: Bearer token'));
      return;
    }
    const verdict = await accounts.verifyBearer(token);
    if (!verdict.ok) {
      sendJson(res, 401, tokenInvalidBody(verdict.reason));
      return;
    }
    res.set(DEFAULT_IDENTITY_HEADER, verdict.identity).set(roleHeader, verdict.role);
    sendJson(res, 200, { identity: verdict.identity, role: verdict.role });
  };
}
