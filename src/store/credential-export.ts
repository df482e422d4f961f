import { CookieBridgeError, SessionExpiredError } from '../errors';
import {
  formatCookiesJson,
  formatCredentialHeader,
  formatNetscapeCookies,
  type CookieExportFormat,
} from '../protocol/cookie-export';
import type { CredentialStore } from './credential-types';
import { resolveCredential, TOKEN_ENV_VAR, type CredentialSource } from './resolve-credential';

/** What `api cookies` (and `api header`) write: the text, how many cookies it holds, and a note for stderr. */
export interface CredentialExport {
  text: string;
  /** Cookies in the export (0 for a token or basic-auth header). */
  cookies: number;
  /** Said on stderr when the export is empty on purpose (an endpoint that needs no credential). */
  note?: string;
}

const NOT_COOKIES: Partial<Record<CredentialSource, string>> = {
  'environment-token': `$${TOKEN_ENV_VAR} is set, so a token is sent`,
  'stored-token': 'it is logged in with a service-account token',
  'basic-auth': 'it is logged in with basic auth',
};

/**
 * The credential of `endpoint` in `format` (protocol/cookie-export.ts). The cookie formats list the jar's
 * unexpired cookies; `header` is the one header a request carries (Cookie or Authorization). A login that
 * is not a cookie session has no cookies to export (E_NO_COOKIES, exit 2) but has a header; a cookie login
 * whose cookies all expired is SessionExpiredError; an endpoint that needs no credential gives an empty
 * export with a note.
 */
export async function exportCredential(
  endpoint: string,
  format: CookieExportFormat,
  store: CredentialStore,
  env: NodeJS.ProcessEnv,
): Promise<CredentialExport> {
  const credential = await resolveCredential(endpoint, store, env);
  if (credential.source === 'none') {
    const note = `${endpoint} needs no credential (no auth proxy was detected at login)`;
    if (format === 'header') return { text: '', cookies: 0, note };
    return { text: formatCookies(format, []), cookies: 0, note: `${note}: the export is empty` };
  }
  if (format === 'header') {
    const line = formatCredentialHeader(await credential.headersFor(new URL(endpoint)));
    if (line === undefined) throw new SessionExpiredError(endpoint, 'every stored cookie has expired');
    const cookies = credential.source === 'cookie-jar' ? (await store.listCookies(endpoint)).length : 0;
    return { text: line, cookies };
  }
  const why = NOT_COOKIES[credential.source];
  if (why !== undefined) {
    throw new CookieBridgeError(
      'E_NO_COOKIES',
      `${endpoint} has no cookies to export: ${why}, not browser session cookies`,
    );
  }
  const cookies = await store.listCookies(endpoint);
  if (cookies.length === 0) throw new SessionExpiredError(endpoint, 'every stored cookie has expired');
  return { text: formatCookies(format, cookies), cookies: cookies.length };
}

function formatCookies(
  format: 'netscape' | 'json',
  cookies: Parameters<typeof formatCookiesJson>[0],
): string {
  return format === 'json' ? formatCookiesJson(cookies) : formatNetscapeCookies(cookies);
}
