import type { Response } from 'express';
import { Refusal, refusalBody } from '../../http/refusal';
import type { ServiceAccountJson } from '../../protocol/admin-api';
import type { ServiceAccount, ServiceAccountStatus, TokenRefusalReason } from './account-types';

/**
 * The JSON answers of serve's service-account routes (issue 13), in the shapes of src/http/refusal.ts plus
 * their extra fields, and the JSON form of an account (ISO 8601 times; never the jti or a token). The shapes
 * are the admin API's contract, src/protocol/admin-api.ts, which the SDK's admin client reads.
 */

const REASON_MESSAGES: Record<TokenRefusalReason, string> = {
  malformed: 'the bearer token is not a well-formed JWT',
  'unsupported-algorithm': 'the bearer token is not signed with ES256',
  'unknown-key': 'the bearer token was signed with a key this server does not publish',
  'bad-signature': "the bearer token's signature does not verify",
  'wrong-issuer': 'the bearer token was issued by another issuer',
  'wrong-audience': 'the bearer token is meant for another audience',
  expired: 'the bearer token has expired',
  'not-yet-valid': 'the bearer token is not valid yet',
  revoked: 'the service account of this bearer token was revoked',
  'unknown-account': 'the bearer token names no service account of this server',
};

/** 401 `{"error":"token_invalid","reason",…,"message"}` for a refused bearer token. */
export function tokenInvalidBody(reason: TokenRefusalReason): Record<string, string> {
  return { ...refusalBody(new Refusal(401, 'token_invalid', REASON_MESSAGES[reason])), reason };
}

/** 403 `{"error":"forbidden","message":"only admins may …","admins":"ask an admin: …"}`. */
export function forbiddenBody(
  action: string,
  identity: string,
  admins: readonly string[],
): Record<string, string> {
  const message = `${identity} is not an admin: only admins may ${action}`;
  const who =
    admins.length === 0
      ? 'ask an admin (serve names them with --admin EMAIL)'
      : `ask an admin: ${admins.join(', ')}`;
  return { ...refusalBody(new Refusal(403, 'forbidden', message)), admins: who };
}

/** Sends a JSON answer that no cache keeps. */
export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).set('Cache-Control', 'no-store').json(body);
}

/** Sends a refusal as JSON (`{"error","message"}`), no-store. */
export function sendRefusal(res: Response, refusal: Refusal): void {
  sendJson(res, refusal.status, refusalBody(refusal));
}

/** An account as the admin API shows it. */
export function serviceAccountJson(
  account: ServiceAccount,
  status: ServiceAccountStatus,
): ServiceAccountJson {
  return {
    name: account.name,
    role: account.role,
    createdAt: new Date(account.createdAt).toISOString(),
    expiresAt: new Date(account.expiresAt).toISOString(),
    createdBy: account.createdBy,
    status,
    ...(account.revokedAt === undefined ? {} : { revokedAt: new Date(account.revokedAt).toISOString() }),
  };
}
