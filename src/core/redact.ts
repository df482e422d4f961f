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

const SECRET_HEADERS: Record<string, (value: string) => string> = {
  cookie: redactCookieHeader,
  'set-cookie': redactSetCookie,
  authorization: redactAuthorization,
  'proxy-authorization': redactAuthorization,
  'x-cookie-bridge-secret': () => REDACTED,
};

export function redactHeaderValue(name: string, value: string): string {
  const redact = SECRET_HEADERS[name.toLowerCase()];
  return redact === undefined ? value : redact(value);
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

/** Drops userinfo and masks query values that look like secrets. */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url.toString());
  } catch {
    return String(url).replace(/\/\/[^/@]*@/, '//<credentials>@');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = parsed.username === '' ? '' : parsed.username;
    parsed.password = parsed.password === '' ? '' : 'redacted';
  }
  for (const key of [...parsed.searchParams.keys()]) {
    if (/token|secret|password|code|verifier|bundle|session/i.test(key))
      parsed.searchParams.set(key, 'redacted');
  }
  return parsed.toString();
}
