import type { Request, Response } from 'express';
import { Refusal } from '../../http/refusal';
import { sendRefusal } from './account-answers';
import type { AccountService } from './account-types';

/**
 * The issuer's public, read-only routes (issue 13): `<P>/.well-known/openid-configuration` and `<P>/jwks`,
 * where P is the path of --sa-issuer, and `<P>/.well-known/jwks.json`, the same keys where oauth2-proxy looks
 * when it cannot read the discovery document at start-up (its --extra-jwt-issuers fallback). The auth proxy exempts P (no sign-in) and fetches them to verify tokens
 * itself (mod_auth_openidc OIDCOAuthVerifyJwksUri, oauth2-proxy --extra-jwt-issuers). serve answers everything
 * under P here, never forwards it (the screen in create-serve-app.ts decides on the canonical path, so the
 * encoded and other-case spellings land here too) and has already removed the identity header.
 */

/** JWKS may be cached a little: a rotated key is published long before it signs (retired keys stay). */
const JWKS_CACHE_CONTROL = 'public, max-age=300';

export interface IssuerRoutesOptions {
  accounts: AccountService;
  /** The lower-case path of the issuer, without a trailing slash (e.g. /cookie-bridge/sa). */
  issuerPath: string;
}

/** The path of an issuer URL as serve routes it: lower-case, no trailing slash ('' for the root). */
export function issuerPathOf(issuer: string): string {
  return new URL(issuer).pathname.replace(/\/+$/, '').toLowerCase();
}

/** The discovery document (the fields go-oidc and mod_auth_openidc read; no authorization endpoint). */
export function discoveryDocument(issuer: string): Record<string, unknown> {
  return {
    issuer,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    claims_supported: ['iss', 'aud', 'sub', 'email', 'role', 'jti', 'iat', 'exp'],
  };
}

/** Answers a request whose canonical path lies under the issuer's path. */
export function createIssuerAnswer(
  options: IssuerRoutesOptions,
): (req: Request, res: Response, canonicalPath: string) => Promise<void> {
  const { accounts, issuerPath } = options;
  const discovery = `${issuerPath}/.well-known/openid-configuration`;
  const jwks = `${issuerPath}/jwks`;
  const jwksJson = `${issuerPath}/.well-known/jwks.json`;
  return async (req, res, canonicalPath) => {
    const path = canonicalPath.replace(/\/+$/, '');
    if (path !== discovery && path !== jwks && path !== jwksJson) {
      sendRefusal(res, new Refusal(404, 'not_found', 'no such issuer route'));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD');
      sendRefusal(res, new Refusal(405, 'method_not_allowed', 'the issuer routes are read-only'));
      return;
    }
    if (path === discovery) {
      res.status(200).set('Cache-Control', JWKS_CACHE_CONTROL).json(discoveryDocument(accounts.issuer));
      return;
    }
    res
      .status(200)
      .set('Cache-Control', JWKS_CACHE_CONTROL)
      .json(await accounts.publicJwks());
  };
}
