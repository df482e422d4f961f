/**
 * Reading a request's `Authorization: Bearer` token without trusting it: the token itself, and the `iss` its
 * payload claims (serve verifies only tokens that claim its own issuer; others are the auth proxy's business).
 * Pure; the signature is checked elsewhere (AccountService.verifyBearer).
 */

/** The token of a single `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
export function bearerToken(authorization: string | readonly string[] | undefined): string | undefined {
  if (authorization === undefined || typeof authorization !== 'string') return undefined;
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  return match?.[1];
}

/** The `iss` a JWT-shaped token claims (payload read without verifying); undefined when it has none. */
export function unverifiedIssuer(token: string): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined || !/^[A-Za-z0-9_-]+$/.test(parts[1])) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const iss = (payload as Record<string, unknown>).iss;
  return typeof iss === 'string' ? iss : undefined;
}
