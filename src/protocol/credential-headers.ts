/** The Authorization headers of token and basic logins. Pure: login builds them to verify, store/resolve-credential to send. */

/** `Authorization: Bearer <token>` (a service-account token). */
export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** `Authorization: Basic <base64(user:password)>` (RFC 7617, UTF-8). */
export function basicHeader(username: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}` };
}
