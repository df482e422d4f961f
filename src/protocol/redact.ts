/**
 * Secrets (cookie values, passwords, tokens) never reach logs, errors or --debug output as they are.
 * These helpers produce the redacted forms that may.
 */

const REDACTED = '<redacted>';

/** "a=1; b=2" → "a=<redacted>; b=<redacted>" (names stay: they help debugging and are not secret). */
export function redactCookieHeader(value: string): string {
  return value
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq === -1 ? REDACTED : `${part.slice(0, eq)}=${REDACTED}`;
    })
    .join('; ');
}

/** "_oauth2_proxy=abc; Path=/; HttpOnly" → "_oauth2_proxy=<redacted>; Path=/; HttpOnly" */
export function redactSetCookie(value: string): string {
  const semi = value.indexOf(';');
  const pair = semi === -1 ? value : value.slice(0, semi);
  const rest = semi === -1 ? '' : value.slice(semi);
  const eq = pair.indexOf('=');
  return `${eq === -1 ? REDACTED : `${pair.slice(0, eq).trim()}=${REDACTED}`}${rest}`;
}

/** "Bearer abc" → "Bearer <redacted>" */
export function redactAuthorization(value: string): string {
  const space = value.indexOf(' ');
  return space === -1 ? REDACTED : `${value.slice(0, space)} ${REDACTED}`;
}

/** Headers whose value keeps a readable prefix (the cookie names, the auth scheme). */
const SECRET_HEADERS: Record<string, (value: string) => string> = {
  cookie: redactCookieHeader,
  'set-cookie': redactSetCookie,
  authorization: redactAuthorization,
  'proxy-authorization': redactAuthorization,
};

/**
 * Any other header whose name suggests a secret is redacted whole: X-Api-Key, Private-Token,
 * X-Auth-Request-Access-Token, X-Amz-Security-Token, X-Hub-Signature, X-Session-Id, X-Cookie-Bridge-Secret…
 * including ones the user adds with -H. Over-redacting a harmless header costs little; the reverse leaks.
 */
const SECRET_HEADER_NAME = /token|key|secret|signature|session|passw|credential/i;

/** Query (and fragment) parameters whose value is masked: tokens, keys, signatures, OAuth code/state/verifier. */
const SECRET_PARAM_NAME =
  /token|key|secret|signature|session|passw|pwd|credential|auth|code|state|verifier|bundle|(^|[^a-z])sig([^a-z]|$)/i;

/** True when a header of this name may carry a secret, so --debug output masks its value. */
export function isSecretHeaderName(name: string): boolean {
  return SECRET_HEADERS[name.toLowerCase()] !== undefined || SECRET_HEADER_NAME.test(name);
}

/** True when a URL query parameter of this name may carry a secret, so redactUrl masks its value. */
export function isSecretParamName(name: string): boolean {
  return SECRET_PARAM_NAME.test(name);
}

export function redactHeaderValue(name: string, value: string): string {
  const redact = SECRET_HEADERS[name.toLowerCase()];
  if (redact !== undefined) return redact(value);
  return SECRET_HEADER_NAME.test(name) ? REDACTED : value;
}

/** Formats headers for --debug output with every secret redacted. */
export function describeHeaders(headers: Record<string, string | string[] | number | undefined>): string {
  const lines: string[] = [];
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined) continue;
    const values = Array.isArray(raw) ? raw : [String(raw)];
    for (const value of values) lines.push(`${name}: ${redactHeaderValue(name, value)}`);
  }
  return lines.join('\n');
}

/**
 * Masks the password of userinfo and the values of query and fragment parameters that look like secrets
 * (see isSecretParamName). An unparsable URL loses its userinfo and everything from `?` or `#` on.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return String(url)
      .replace(/\/\/[^/@]*@/, '//<credentials>@')
      .replace(/[?#].*$/s, '?<redacted>');
  }
  if (parsed.password !== '') parsed.password = 'redacted';
  if ([...parsed.searchParams.keys()].some(isSecretParamName)) {
    parsed.search = redactParams(parsed.searchParams).toString();
  }
  // OAuth implicit flows put access_token and state in the fragment.
  const fragment = new URLSearchParams(parsed.hash.slice(1));
  if ([...fragment.keys()].some(isSecretParamName)) parsed.hash = redactParams(fragment).toString();
  return parsed.toString();
}

function redactParams(params: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const [name, value] of params) out.append(name, isSecretParamName(name) ? 'redacted' : value);
  return out;
}
