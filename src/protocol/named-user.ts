/**
 * Who a server says is signed in, from the `user` of its /api/health JSON (or an identity header), with
 * every way of naming nobody taken as nobody: JSON null, an empty or blank string, and the literal
 * `(null)`, which Apache's mod_headers writes for an unset variable (`RequestHeader set X-Auth-Request-Email
 * "%{OIDC_CLAIM_email}e"` on a route the proxy exempts).
 */

/** What Apache's mod_headers puts in a header whose `%{VAR}e` is unset. */
export const APACHE_UNSET_VARIABLE = '(null)';

/** True when `value` names nobody (see above). */
export function namesNobody(value: string): boolean {
  const trimmed = value.trim();
  return trimmed === '' || trimmed === APACHE_UNSET_VARIABLE;
}

/** The user `value` names, or undefined when it is not a string or names nobody. */
export function namedUser(value: unknown): string | undefined {
  return typeof value === 'string' && !namesNobody(value) ? value : undefined;
}
