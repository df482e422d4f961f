/**
 * Pure rules that tell "a browser cookie auth proxy stopped this request" apart from "the app answered".
 * Used by detectAuthProxy at login and, per response, by the clients (`request`, the SDK, the local proxy)
 * to decide that a stored session has expired. No I/O; the caller passes the first ~4 KB of the body.
 *
 * A response is the proxy's only on evidence that the proxy answered (auth-proxy-marks.ts has the marks):
 * - a redirect toward the IdP (an authorization or SAML request), a login path, or a proxy product's own
 *   path, or one that sets the proxy's sign-in (state/CSRF) cookie;
 * - a 401/403 that is not the app's own: oauth2-proxy's bare `{}`, Apache's or nginx's own 401 page, a
 *   proxy product's page, header or sign-in cookie, a sign-in page. A JSON body, or an HTML page without
 *   such marks, is the app's own error and is passed on;
 * - a 2xx HTML page that is a sign-in page (a password field, a form posting to a login path, a known
 *   IdP or proxy sign-in template).
 * "HTML where JSON was asked" is evidence only where the caller says it takes nothing but JSON
 * (`expectJson`: login detection on /api/health, or the SDK's `expectJson: true`).
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
 * - cookie-bridge serve itself (service accounts, issue 13): a bearer token of its issuer that it no longer
 *   accepts (revoked, expired, unknown key…) gets 401 `{"error":"token_invalid","reason":…}`. That is
 *   cookie-bridge's own answer, not the app's, so it is evidence too: the stored token is gone (`tokenReason`).
 */
import { serverText } from './admin-api';
import {
  headerValue,
  isServerAuthRefusalPage,
  isSignInPage,
  productOfUrl,
  proxyDroppedSession,
  proxyHeaderKind,
  proxyTemplateKind,
  recogniseAuthProxyKind as recogniseKind,
  safeUrl,
  type AuthProxyKind,
  type ResponseHeaders,
} from './auth-proxy-marks';

export { AUTH_PROXY_KINDS, type AuthProxyKind, type ResponseHeaders } from './auth-proxy-marks';

/** Bytes of a suspicious response inspected (detection, verification, SDK, local proxy): one limit for all. */
export const INSPECTED_BODY_BYTES = 4096;

export interface AuthProxySignal {
  /** Stable id of the rule that fired, e.g. 'redirect-to-login-path'. */
  rule: AuthProxyRule;
  /** For people; never contains secrets (URLs are reduced to origin and path). */
  detail: string;
  proxy: AuthProxyKind;
  /** Rule 'token-refused': serve's `reason` ('revoked', 'expired', …) and `message` (cleaned) for the token. */
  tokenRefusal?: { reason: string; message: string };
}

export type AuthProxyRule =
  | 'redirect-off-host'
  | 'redirect-to-login-path'
  | 'unauthorized-not-json'
  | 'unauthorized-empty-json'
  | 'html-instead-of-json'
  | 'sign-in-page'
  | 'token-refused';

export interface AuthProxyResponseInput {
  /** The endpoint the credentials belong to. */
  endpoint: string;
  /** The URL this response answered. */
  requestUrl: string;
  status: number;
  headers: ResponseHeaders;
  /** The first ~4 KB of the body (may be cut mid-way). */
  bodySnippet: string;
  /**
   * The caller takes nothing but JSON here, so an HTML 2xx page is the proxy's too (login detection's
   * probe of /api/health; the SDK's `expectJson: true`). A request's Accept header alone does not say so.
   */
  expectJson: boolean;
  /**
   * Login detection or verification probing `<endpoint>/api/health` (following redirects itself): there an
   * API call redirected to another host, a page on a sign-in path at the end of the redirects, and any
   * non-JSON 401/403 without the app's own WWW-Authenticate also point at a proxy.
   */
  healthProbe?: boolean;
}

const LOGIN_SEGMENT =
  /^(?:\.auth|auth|oauth|oauth2|oauth2callback|sso|saml|saml2|cas|login|log-in|logon|signin|sign-in|sign_in|authorize|authorization|openid|openid-connect|oidc|adfs)$/i;
const SIGN_IN_PAGE_SEGMENT = /^(?:login|log-in|logon|signin|sign-in|sign_in)$/i;
/** Products a WWW-Authenticate challenge may name (its realm). */
const CHALLENGE_PRODUCTS: ReadonlyArray<[RegExp, AuthProxyKind]> = [
  [/oauth2[-_ ]?proxy/i, 'oauth2-proxy'],
  [/mod_auth_openidc/i, 'mod_auth_openidc'],
  [/pomerium/i, 'pomerium'],
  [/cloudflare/i, 'cloudflare-access'],
  [/authentik/i, 'authentik'],
];

/**
 * Classifies one HTTP response. Returns the signal when an auth proxy (not the app) answered, or
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

/**
 * Names the proxy product from its own marks only (cookie names, headers, its paths in the redirect target
 * or the URL, its page templates); 'unknown' when none says. A plain redirect to an IdP names nobody.
 */
export function recogniseAuthProxyKind(input: {
  headers: ResponseHeaders;
  requestUrl?: URL;
  location?: URL;
  bodySnippet?: string;
}): AuthProxyKind {
  return recogniseKind({
    headers: input.headers,
    urls: [input.location, input.requestUrl],
    ...(input.bodySnippet === undefined ? {} : { bodySnippet: input.bodySnippet }),
  });
}

function classifyRedirect(input: AuthProxyResponseInput, requestUrl: URL): AuthProxySignal | undefined {
  const raw = headerValue(input.headers, 'location');
  if (raw === undefined || raw === '') return undefined;
  const location = safeUrl(raw, requestUrl);
  if (location === undefined) return undefined;
  const proxy = recogniseAuthProxyKind({ headers: input.headers, requestUrl, location, bodySnippet: '' });
  const target = describeUrl(location);
  const authLooking =
    isLoginPath(location.pathname) ||
    isAuthorizationRequest(location) ||
    productOfUrl(location) !== 'unknown' ||
    proxyDroppedSession(input.headers) !== undefined;
  if (location.host.toLowerCase() !== requestUrl.host.toLowerCase()) {
    // Downloads redirected to a CDN or object store are the app's; at /api/health an API call sent to
    // another host is a proxy too.
    if (!authLooking && !(input.healthProbe === true && input.expectJson)) return undefined;
    return {
      rule: 'redirect-off-host',
      detail: `${input.status} redirect to another host: ${target}`,
      proxy,
    };
  }
  if (!authLooking) return undefined;
  return {
    rule: 'redirect-to-login-path',
    detail: `${input.status} redirect to a login path: ${target}`,
    proxy,
  };
}

function classifyUnauthorized(input: AuthProxyResponseInput, requestUrl: URL): AuthProxySignal | undefined {
  const body = input.bodySnippet.trim();
  const json = isJsonContentType(input.headers);
  const challenge = proxyChallenge(input.headers);
  const recognised = recogniseAuthProxyKind({ headers: input.headers, requestUrl, bodySnippet: body });
  const proxy = recognised === 'unknown' ? (challenge ?? 'unknown') : recognised;
  const unauthorized = (what: string): AuthProxySignal => ({
    rule: 'unauthorized-not-json',
    detail: `${input.status} with ${what}`,
    proxy,
  });
  if (json && /^\{\s*\}$/.test(body)) {
    return {
      rule: 'unauthorized-empty-json',
      detail: `${input.status} with an empty JSON object, as oauth2-proxy answers API calls without a session`,
      proxy,
    };
  }
  const proxyMark = proxyDroppedSession(input.headers) ?? proxyHeaderKind(input.headers) ?? challenge;
  if (proxyMark !== undefined) return unauthorized(`the marks of ${proxyMark} (no session)`);
  if (json && body === '') return unauthorized('an empty JSON body, as older oauth2-proxy versions answer');
  const tokenRefusal = input.status === 401 && json ? serveTokenRefusal(body) : undefined;
  if (tokenRefusal !== undefined) {
    return {
      rule: 'token-refused',
      detail: `401 token_invalid (${tokenRefusal.reason}): cookie-bridge serve refused the bearer token`,
      proxy,
      tokenRefusal,
    };
  }
  if (json || looksLikeJson(body)) return undefined; // the app's own JSON error
  const html = looksLikeHtml(body, input.headers);
  if (isServerAuthRefusalPage(body)) return unauthorized("the web server's own refusal page, not the app's");
  if (proxyTemplateKind(body) !== undefined) return unauthorized("the auth proxy's page");
  if (html && isSignInPage(body, requestUrl, isLoginPath)) return unauthorized('a sign-in page');
  if (input.healthProbe !== true) return undefined; // the app's own page or text: its answer
  // At /api/health an API's own HTTP authentication (Basic, Bearer, …) is not a cookie proxy.
  if (headerValue(input.headers, 'www-authenticate') !== undefined) return undefined;
  const what = body === '' ? 'an empty body' : html ? 'an HTML page' : 'a non-JSON body';
  return unauthorized(`${what} instead of a JSON error`);
}

function classifySuccess(input: AuthProxyResponseInput, requestUrl: URL): AuthProxySignal | undefined {
  const body = input.bodySnippet;
  if (!looksLikeHtml(body, input.headers)) return undefined;
  const proxy = recogniseAuthProxyKind({ headers: input.headers, requestUrl, bodySnippet: body });
  // Only a probe that followed redirects can have "ended" on a sign-in path; a client asked for this URL.
  const onSignInPath =
    input.healthProbe === true &&
    requestUrl.pathname.split('/').some((segment) => SIGN_IN_PAGE_SEGMENT.test(segment));
  if (onSignInPath || isSignInPage(body, requestUrl, isLoginPath)) {
    return { rule: 'sign-in-page', detail: `a sign-in page: ${describeUrl(requestUrl)}`, proxy };
  }
  if (input.expectJson) {
    return {
      rule: 'html-instead-of-json',
      detail: `${input.status} HTML page where only JSON was expected`,
      proxy,
    };
  }
  return undefined;
}

/**
 * Whether a response may be the auth proxy's rather than the app's, so that its first bytes are worth
 * reading for classifyAuthProxyResponse: redirects, 401/403, and HTML pages (which may be sign-in pages).
 * Every other response is streamed on without being looked at.
 */
export function isWorthInspecting(status: number, headers: ResponseHeaders): boolean {
  if (status >= 300 && status < 400) return true;
  if (status === 401 || status === 403) return true;
  return status >= 200 && status < 300 && /html/i.test(headerValue(headers, 'content-type') ?? '');
}

/** True when any path segment is a login word (login, oauth2, sso, auth, signin, openid, authorize, …). */
export function isLoginPath(pathname: string): boolean {
  return pathname.split('/').some((segment) => LOGIN_SEGMENT.test(segment));
}

/** An OAuth 2 / OpenID Connect authorization request or a SAML request: a redirect toward an IdP. */
function isAuthorizationRequest(url: URL): boolean {
  const params = url.searchParams;
  return (
    params.get('response_type') === 'code' ||
    (params.has('client_id') && params.has('redirect_uri')) ||
    params.has('SAMLRequest')
  );
}

/** A WWW-Authenticate challenge naming a proxy product (an app's own Basic/Bearer challenge names none). */
function proxyChallenge(headers: ResponseHeaders): AuthProxyKind | undefined {
  const challenge = headerValue(headers, 'www-authenticate');
  if (challenge === undefined) return undefined;
  return CHALLENGE_PRODUCTS.find(([pattern]) => pattern.test(challenge))?.[1];
}

/**
 * The `reason` and `message` of serve's 401 `{"error":"token_invalid","reason":…,"message":…}` (src/server/accounts/
 * account-answers.ts), or undefined for any other body. A reason that is not a plain word is not echoed.
 */
function serveTokenRefusal(body: string): { reason: string; message: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { error, reason, message } = parsed as Record<string, unknown>;
  if (error !== 'token_invalid' || typeof message !== 'string') return undefined;
  return {
    reason: typeof reason === 'string' && /^[a-z][a-z-]{0,39}$/.test(reason) ? reason : 'unknown reason',
    message: serverText(message),
  };
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

/** origin + path only: queries carry OAuth state, codes and the like. */
function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
