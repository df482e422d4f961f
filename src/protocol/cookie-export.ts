/**
 * The stored cookies in the formats other tools read (`cookie-bridge api cookies`): a Netscape cookies.txt
 * (curl -b, wget --load-cookies, git -c http.cookieFile, yt-dlp --cookies), a JSON array (the cookie shape of
 * Playwright's addCookies and Puppeteer's setCookie), or the one credential header line (`api header`). Pure.
 */
import { CookieBridgeError, UsageError } from '../errors';

export const COOKIE_EXPORT_FORMATS = ['netscape', 'json', 'header'] as const;
export type CookieExportFormat = (typeof COOKIE_EXPORT_FORMATS)[number];

/** One stored cookie as the store lists it (store/credential-types.ts StoredCookieInfo has this shape). */
export interface ExportableCookie {
  name: string;
  value: string;
  /** Without a leading dot. */
  domain: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  /** true: sent to `domain` only; false: to its subdomains too. Unknown (undefined) counts as false, as in tough-cookie. */
  hostOnly?: boolean;
  /** As tough-cookie stores it: strict, lax, none (undefined when the cookie did not say). */
  sameSite?: string;
  /** undefined for a session cookie. */
  expires?: Date;
}

/** The first line of every Netscape cookie file; curl, wget and yt-dlp look for it. */
export const NETSCAPE_HEADER = '# Netscape HTTP Cookie File';

/** `--format`'s value, or UsageError naming the formats. */
export function parseCookieExportFormat(value: string): CookieExportFormat {
  const format = COOKIE_EXPORT_FORMATS.find((known) => known === value.toLowerCase());
  if (format === undefined) {
    throw new UsageError(
      `unknown --format ${JSON.stringify(value)}: use ${COOKIE_EXPORT_FORMATS.join(', ')}`,
    );
  }
  return format;
}

/**
 * A Netscape cookies.txt: the header line, then one line per cookie with seven tab-separated fields
 * (domain, include-subdomains TRUE/FALSE, path, secure TRUE/FALSE, expiry in epoch seconds or 0 for a session
 * cookie, name, value). A domain cookie is written `.example.com TRUE`, a host-only one `example.com FALSE`;
 * an IP host is always exact (curl and git match IP hosts exactly, and no cookie applies to "subdomains" of
 * an address). HttpOnly cookies are NOT written with curl's `#HttpOnly_` prefix: wget (1.21) and Python's
 * MozillaCookieJar read such a line as a comment and drop the cookie, while every reader takes the plain
 * line; HttpOnly only matters to a browser's scripts, never to these tools (test/e2e/cookie-export-tools.test.ts).
 */
export function formatNetscapeCookies(cookies: readonly ExportableCookie[]): string {
  const lines = cookies.map((cookie) => {
    const fields = [cookie.name, cookie.value, cookie.domain, cookie.path];
    // A name starting with # would read as a comment line.
    if (fields.some((field) => /[\t\r\n]/.test(field)) || cookie.name.startsWith('#')) {
      throw new CookieBridgeError(
        'E_INTERNAL',
        `cookie ${cookie.name.replace(/[\t\r\n]/g, ' ')} cannot be written to a cookies.txt (a tab or line break in it, or a name starting with #)`,
        { hint: 'use --format json for this jar' },
      );
    }
    const subdomains = cookie.hostOnly !== true && !isIpAddress(cookie.domain);
    const domain = `${subdomains ? '.' : ''}${cookie.domain}`;
    return [
      domain,
      subdomains ? 'TRUE' : 'FALSE',
      cookie.path,
      cookie.secure ? 'TRUE' : 'FALSE',
      String(expirySeconds(cookie) ?? 0),
      cookie.name,
      cookie.value,
    ].join('\t');
  });
  return [
    NETSCAPE_HEADER,
    '# Written by cookie-bridge api cookies: it holds your session, keep it private (mode 600).',
    '',
    ...lines,
    '',
  ].join('\n');
}

/** The JSON cookie shape of Playwright's addCookies and Puppeteer's setCookie. */
export interface ExportedJsonCookie {
  name: string;
  value: string;
  /** `.example.com` for a domain cookie, `example.com` (or an IP) for a host-only one. */
  domain: string;
  path: string;
  /** Epoch seconds; -1 for a session cookie. */
  expires: number;
  httpOnly: boolean;
  secure: boolean;
  /** Lax when the cookie did not say, as browsers treat it. */
  sameSite: 'Strict' | 'Lax' | 'None';
}

const SAME_SITE: Record<string, ExportedJsonCookie['sameSite']> = {
  strict: 'Strict',
  lax: 'Lax',
  none: 'None',
};

/** A JSON array of the cookies (one object each, ExportedJsonCookie), pretty-printed, ending in a newline. */
export function formatCookiesJson(cookies: readonly ExportableCookie[]): string {
  const out: ExportedJsonCookie[] = cookies.map((cookie) => ({
    name: cookie.name,
    value: cookie.value,
    domain: `${cookie.hostOnly !== true && !isIpAddress(cookie.domain) ? '.' : ''}${cookie.domain}`,
    path: cookie.path,
    expires: expirySeconds(cookie) ?? -1,
    httpOnly: cookie.httpOnly,
    secure: cookie.secure,
    sameSite: SAME_SITE[cookie.sameSite?.toLowerCase() ?? ''] ?? 'Lax',
  }));
  return `${JSON.stringify(out, null, 2)}\n`;
}

const HEADER_NAMES: Record<string, string> = { cookie: 'Cookie', authorization: 'Authorization' };

/** `Cookie: …` or `Authorization: …`: the one header line of a credential's headers (undefined when it has none). */
export function formatCredentialHeader(headers: Record<string, string>): string | undefined {
  const first = Object.entries(headers)[0];
  if (first === undefined) return undefined;
  const [name, value] = first;
  return `${HEADER_NAMES[name] ?? name}: ${value}\n`;
}

/**
 * Whether `text` (the start of a file) is something `api cookies` writes, so `-o FILE` may replace it
 * without --force: a Netscape cookie file, a JSON array, or a credential header line.
 */
export function looksLikeCookieExport(text: string): boolean {
  return (
    text.length === 0 ||
    text.startsWith(NETSCAPE_HEADER) ||
    text.startsWith('# HTTP Cookie File') ||
    /^\[\s*(\{|\])/.test(text) ||
    /^(Cookie|Authorization): /.test(text)
  );
}

function expirySeconds(cookie: ExportableCookie): number | undefined {
  if (cookie.expires === undefined) return undefined;
  const ms = cookie.expires.getTime();
  return Number.isFinite(ms) ? Math.max(1, Math.floor(ms / 1000)) : undefined;
}

/** A dotted IPv4 address or an IPv6 one (the jar stores them bare, without brackets). */
function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
