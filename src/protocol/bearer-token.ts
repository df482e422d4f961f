/**
 * Reading a request's `Authorization: Bearer` token without trusting it: the token, and the issuer it claims
 * (serve verifies only tokens that claim its own issuer; others are the auth proxy's business). Pure; the
 * signature is checked elsewhere (AccountService.verifyBearer).
 */

/** The token of a single `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
export function bearerToken(authorization: string | readonly string[] | undefined): string | undefined {
  if (authorization === undefined || typeof authorization !== 'string') return undefined;
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return match?.[1];
}

/**
 * The `iss` the payload part of a JWT-shaped token claims, read leniently: three dot-separated parts whose
 * middle one decodes to a JSON object, whatever the others hold (empty, `alg: none`, not base64url, over 8 KiB).
 * It only decides who must judge the token: serve refuses a malformed token that claims its issuer (401)
 * instead of passing it on as another issuer's. jwt.ts's unverifiedIssuer is the strict read for well-formed
 * tokens.
 */
export function claimedIssuer(token: string): string | undefined {
  const parts = token.split('.');
  const payload = parts[1];
  if (parts.length !== 3 || payload === undefined || !/^[A-Za-z0-9_-]+={0,2}$/.test(payload))
    return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
  const iss = (claims as Record<string, unknown>).iss;
  return typeof iss === 'string' ? iss : undefined;
}
