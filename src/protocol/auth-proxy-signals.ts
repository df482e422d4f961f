/**
 * Pure rules that tell "a browser cookie auth proxy stopped this request" apart from "the API answered".
 * Used by detectAuthProxy at login and, per response, by the clients to decide that a stored session
 * has expired. No I/O; the caller passes the first ~4 KB of the body.
 *
 * What the proxies do (checked against their sources):
 * - oauth2-proxy: a request whose Accept lists `application/json` gets 401 with `Content-Type:
 *   application/json` and the body `{}` (older versions: empty); a browser gets its sign-in page (403) or
 *   a 302 to `/oauth2/start?rd=…`/the IdP; stale session cookies (`_oauth2_proxy`, `_oauth2_proxy_0`, …)
 *   are cleared on the response; nginx auth_request set-ups answer 401 and redirect to `/oauth2/…`.
 * - mod_auth_openidc: a request that "can complete a login" (Accept has text/html, xhtml or star-slash-star,
 *   no `X-Requested-With: XMLHttpRequest`, Sec-Fetch-Mode navigate or absent) gets a 302 straight to the
 *   IdP's authorization endpoint (`response_type=code&client_id=…&redirect_uri=…`) and a
 *   `mod_auth_openidc_state_…` cookie; any other request gets a bare 401 with Apache's HTML error page
 *   and no WWW-Authenticate.
 */

/** The auth proxies cookie-bridge recognises (stored in an endpoint's profile). */
export type AuthProxyKind = 'oauth2-proxy' | 'mod_auth_openidc' | 'unknown';

/** Bytes of a suspicious response inspected (detection, verification, SDK, local proxy): one limit for all. */
export const INSPECTED_BODY_BYTES = 4096;

export interface AuthProxySignal {
  /** Stable id of the rule that fired, e.g. 'redirect-to-login-path'. */
  rule: AuthProxyRule;
  /** For people; never contains secrets (URLs are reduced to origin and path). */
  detail: string;
  proxy: AuthProxyKind;
}

export type AuthProxyRule =
  | 'redirect-off-host'
  | 'redirect-to-login-path'
  | 'unauthorized-not-json'
  | 'unauthorized-empty-json'
  | 'html-instead-of-json'
  | 'sign-in-page';

export type ResponseHeaders = Record<string, string | string[] | number | undefined>;

export interface AuthProxyResponseInput {
  /** The endpoint the credentials belong to. */
  endpoint: string;
  /** The URL this response answered. */
  requestUrl: string;
  status: number;
  headers: ResponseHeaders;
  /** The first ~4 KB of the body (may be cut mid-way). */
  bodySnippet: string;
  /** The request asked for JSON (Accept: application/json), as API calls do. */
  expectJson: boolean;
}

const LOGIN_SEGMENT =
  /^(?:\.auth|auth|oauth|oauth2|oauth2callback|sso|saml|saml2|cas|login|log-in|logon|signin|sign-in|sign_in|authorize|authorization|openid|openid-connect|oidc|adfs)$/i;
const SIGN_IN_PAGE_SEGMENT = /^(?:login|log-in|logon|signin|sign-in|sign_in)$/i;
const OAUTH2_PROXY_COOKIE = /^_oauth2_proxy(?:_csrf|_\d+)?$/;
const MOD_AUTH_OPENIDC_COOKIE = /^mod_auth_openidc_/;
const OAUTH2_PROXY_BODY = /oauth2[-_ ]proxy|\/oauth2\/(?:start|sign_in|callback)/i;
const MOD_AUTH_OPENIDC_BODY = /mod_auth_openidc/i;
const PASSWORD_OR_LOGIN_FORM =
  /<form\b[^>]*>[\s\S]*?(?:type\s*=\s*["']?password|name\s*=\s*["']?(?:username|email|login)\b)/i;

/**
 * Classifies one HTTP response. Returns the signal when an auth proxy (not the API) answered, or
 * undefined when nothing points at a proxy (a redirect that no rule matches is for the caller to follow).
 */
export function classifyAuthProxyResponse(input: AuthProxyResponseInput): AuthProxySignal | undefined {
  const requestUrl = safeUrl(input.requestUrl) ?? safeUrl(input.endpoint);
  if (requestUrl === undefined) return undefined;
  const { status } = input;
  if (status >= 300 && status < 400) return classifyRedirect(input, requestUrl);
  if (status === 401 || status === 403) return classifyUnauthorized(input, requestUrl);
  if (status >= 200 && status < 300) return classifySuccess(input, requestUrl);
  return undefined;
}

/** Names the proxy from cookies, the redirect target, the URL and the body; 'unknown' when none says. */
export function recogniseAuthProxyKind(input: {
  headers: ResponseHeaders;
  requestUrl?: URL;
  location?: URL;
  bodySnippet?: string;
}): AuthProxyKind {
  const cookieNames = setCookieNames(input.headers);
  if (cookieNames.some((name) => OAUTH2_PROXY_COOKIE.test(name))) return 'oauth2-proxy';
  if (cookieNames.some((name) => MOD_AUTH_OPENIDC_COOKIE.test(name))) return 'mod_auth_openidc';
  for (const url of [input.location, input.requestUrl]) {
    if (url === undefined) continue;
    if (/^\/(?:.*\/)?oauth2\/(?:start|sign_in|callback|auth)\b/.test(url.pathname)) return 'oauth2-proxy';
    const redirectUri = safeUrl(url.searchParams.get('redirect_uri') ?? '');
    if (redirectUri !== undefined && /\/oauth2\/callback$/.test(redirectUri.pathname)) return 'oauth2-proxy';
  }
  const body = input.bodySnippet ?? '';
  if (OAUTH2_PROXY_BODY.test(body)) return 'oauth2-proxy';
  if (MOD_AUTH_OPENIDC_BODY.test(body)) return 'mod_auth_openidc';
  return 'unknown';
}

function classifyRedirect(input: AuthProxyResponseInput, requestUrl: URL): AuthProxySignal | undefined {
  const raw = headerValue(input.headers, 'location');
  if (raw === undefined || raw === '') return undefined;
  const location = safeUrl(raw, requestUrl);
  if (location === undefined) return undefined;
  const proxy = recogniseAuthProxyKind({ headers: input.headers, requestUrl, location, bodySnippet: '' });
  const target = describeUrl(location);
  const authLooking = isLoginPath(location.pathname) || isAuthorizationRequest(location);
  if (location.host.toLowerCase() !== requestUrl.host.toLowerCase()) {
    // An API answering an API call with a redirect to another host is a proxy; for other requests
    // (downloads redirected to a CDN, say) only a redirect to something that looks like a login counts.
    if (!input.expectJson && !authLooking && proxy === 'unknown') return undefined;
    return {
      rule: 'redirect-off-host',
      detail: `${input.status} redirect to another host: ${target}`,
      proxy,
    };
  }
  if (authLooking || proxy !== 'unknown') {
    return {
      rule: 'redirect-to-login-path',
      detail: `${input.status} redirect to a login path: ${target}`,
      proxy,
    };
  }
  return undefined;
}

function classifyUnauthorized(input: AuthProxyResponseInput, requestUrl: URL): AuthProxySignal | undefined {
  const body = input.bodySnippet.trim();
  const json = isJsonContentType(input.headers);
  const proxy = recogniseAuthProxyKind({ headers: input.headers, requestUrl, bodySnippet: body });
  if (json && /^\{\s*\}$/.test(body)) {
    return {
      rule: 'unauthorized-empty-json',
      detail: `${input.status} with an empty JSON object, as oauth2-proxy answers API calls without a session`,
      proxy,
    };
  }
  if (json && body !== '') return undefined; // the API's own JSON error
  if (!json && looksLikeJson(body)) return undefined; // JSON with a sloppy content type: still the API
  // An API's own HTTP authentication (Basic, Bearer, …) is not a cookie proxy, unless a proxy marker says so.
  if (headerValue(input.headers, 'www-authenticate') !== undefined && proxy === 'unknown') return undefined;
  const what =
    body === '' ? 'an empty body' : looksLikeHtml(body, input.headers) ? 'an HTML page' : 'a non-JSON body';
  return {
    rule: 'unauthorized-not-json',
    detail: `${input.status} with ${what} instead of a JSON error`,
    proxy,
  };
}

function classifySuccess(input: AuthProxyResponseInput, requestUrl: URL): AuthProxySignal | undefined {
  const body = input.bodySnippet;
  if (!looksLikeHtml(body, input.headers)) return undefined;
  const proxy = recogniseAuthProxyKind({ headers: input.headers, requestUrl, bodySnippet: body });
  const onSignInPath = requestUrl.pathname.split('/').some((segment) => SIGN_IN_PAGE_SEGMENT.test(segment));
  const loginForm =
    (proxy !== 'unknown' || isLoginPath(requestUrl.pathname)) && PASSWORD_OR_LOGIN_FORM.test(body);
  if (onSignInPath || loginForm) {
    return { rule: 'sign-in-page', detail: `ended on a sign-in page: ${describeUrl(requestUrl)}`, proxy };
  }
  if (input.expectJson) {
    return {
      rule: 'html-instead-of-json',
      detail: `${input.status} HTML page where JSON was expected`,
      proxy,
    };
  }
  return undefined;
}

/**
 * Whether a response may be the auth proxy's rather than the API's, so that its first bytes are worth
 * reading for classifyAuthProxyResponse: redirects, 401/403, and HTML where JSON was asked for. Every
 * other response is streamed on without being looked at.
 */
export function isWorthInspecting(status: number, headers: ResponseHeaders, expectJson: boolean): boolean {
  if (status >= 300 && status < 400) return true;
  if (status === 401 || status === 403) return true;
  return expectJson && /html/i.test(headerValue(headers, 'content-type') ?? '');
}

/** True when any path segment is a login word (login, oauth2, sso, auth, signin, openid, authorize, …). */
export function isLoginPath(pathname: string): boolean {
  return pathname.split('/').some((segment) => LOGIN_SEGMENT.test(segment));
}

/** An OAuth 2 / OpenID Connect authorization request (what mod_auth_openidc redirects browsers to). */
function isAuthorizationRequest(url: URL): boolean {
  const params = url.searchParams;
  return (
    params.get('response_type') === 'code' ||
    (params.has('client_id') && params.has('redirect_uri')) ||
    params.has('SAMLRequest')
  );
}

function isJsonContentType(headers: ResponseHeaders): boolean {
  const type = (headerValue(headers, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]*\+json$/.test(type);
}

function looksLikeJson(body: string): boolean {
  if (!/^[[{]/.test(body)) return false;
  try {
    JSON.parse(body);
    return true;
  } catch {
    return /^\{\s*"/.test(body); // cut at 4 KB
  }
}

function looksLikeHtml(body: string, headers: ResponseHeaders): boolean {
  const type = (headerValue(headers, 'content-type') ?? '').toLowerCase();
  if (type.startsWith('text/html') || type.startsWith('application/xhtml')) return true;
  if (type !== '' && !type.startsWith('text/plain')) return false;
  return /^\s*(?:<!doctype html|<html\b|<head\b|<body\b|<!--)/i.test(body);
}

function setCookieNames(headers: ResponseHeaders): string[] {
  const raw = headerRaw(headers, 'set-cookie');
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return lines
    .map((line) => line.slice(0, Math.max(0, line.indexOf('='))).trim())
    .filter((name) => name !== '');
}

function headerRaw(headers: ResponseHeaders, name: string): string | string[] | number | undefined {
  if (headers[name] !== undefined) return headers[name];
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const raw = headerRaw(headers, name);
  if (raw === undefined) return undefined;
  return Array.isArray(raw) ? raw[0] : String(raw);
}

function safeUrl(text: string, base?: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

/** origin + path only: queries carry OAuth state, codes and the like. */
function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
