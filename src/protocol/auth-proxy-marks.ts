/**
 * The marks that only an auth proxy product (or an identity provider's sign-in page) leaves on a response:
 * its cookie names, its paths, its headers and its page templates. Pure; used by auth-proxy-signals.ts to
 * decide whether the proxy (not the app) answered and which product it is. A product is named only on its
 * own marks: a plain redirect to an IdP names nobody ('unknown').
 *
 * Sources: oauth2-proxy (cookie `_oauth2_proxy…`, `/oauth2/{start,sign_in,callback,auth}`, sign_in.html
 * "Secured with OAuth2 Proxy"), mod_auth_openidc 2.4 (cookies `mod_auth_openidc_session` /
 * `mod_auth_openidc_state_…`, its HTML 4.01 template with `<p>Error: <pre>…`), Pomerium (`_pomerium`,
 * `/.pomerium/`, `X-Pomerium-Intercepted-Response`), Cloudflare Access (`CF_Authorization`, `CF_AppSession`,
 * `/cdn-cgi/access/`, `*.cloudflareaccess.com`), Authentik's proxy outpost (`authentik_proxy_…`,
 * `/outpost.goauthentik.io/`).
 */

/** The auth proxies cookie-bridge can name (stored in an endpoint's profile). */
export type AuthProxyKind =
  | 'oauth2-proxy'
  | 'mod_auth_openidc'
  | 'pomerium'
  | 'cloudflare-access'
  | 'authentik'
  | 'unknown';

/** Every kind, for validating stored profiles (older profiles hold a subset: still valid). */
export const AUTH_PROXY_KINDS: readonly AuthProxyKind[] = [
  'oauth2-proxy',
  'mod_auth_openidc',
  'pomerium',
  'cloudflare-access',
  'authentik',
  'unknown',
];

export type ResponseHeaders = Record<string, string | string[] | number | undefined>;

interface ProductMarks {
  kind: Exclude<AuthProxyKind, 'unknown'>;
  /** Any cookie the product sets. */
  cookie: RegExp;
  /** Cookies set only while signing in (state, CSRF): their presence alone says "the proxy answered". */
  signInCookie: RegExp;
  /** The product's own URL paths (its sign-in, callback, assets). */
  path: RegExp | undefined;
  host: RegExp | undefined;
  /** A response header only the product adds. */
  header: string | undefined;
  /** Its page templates. */
  body: RegExp | undefined;
}

let products: readonly ProductMarks[] | undefined;

/**
 * Each product's marks, made on first use: only a response that may be the proxy's (a redirect, 401/403, an
 * HTML page) is compared with them, so a short command whose check gets its JSON does not build them (~5 KB
 * of regular expressions and objects in the young generation at every start, bench/README.md section 3).
 */
const productMarks = (): readonly ProductMarks[] =>
  (products ??= [
    {
      kind: 'oauth2-proxy',
      cookie: /^_oauth2_proxy/,
      signInCookie: /^_oauth2_proxy.*csrf/,
      path: /(?:^|\/)oauth2\/(?:start|sign_in|sign_out|callback|auth)(?:$|[/?])/,
      host: undefined,
      header: undefined,
      body: /Secured with (?:<a[^>]*>)?OAuth2 Proxy\b|\baction\s*=\s*["']?[^"'\s>]*\/oauth2\/(?:start|sign_in)\b/i,
    },
    {
      kind: 'mod_auth_openidc',
      cookie: /^mod_auth_openidc_/,
      signInCookie: /^mod_auth_openidc_state_/,
      path: undefined,
      host: undefined,
      header: undefined,
      body: /<p>Error: <pre>|Submitting Authentication Request\.\.\.|\bmod_auth_openidc\b/,
    },
    {
      kind: 'pomerium',
      cookie: /^_pomerium/,
      signInCookie: /^_pomerium_csrf/,
      path: /(?:^|\/)\.pomerium\//,
      host: undefined,
      header: 'x-pomerium-intercepted-response',
      body: /["'(]\/\.pomerium\//,
    },
    {
      kind: 'cloudflare-access',
      cookie: /^CF_(?:Authorization|AppSession|Session)$/,
      signInCookie: /^CF_AppSession$/,
      path: /(?:^|\/)cdn-cgi\/access\//,
      host: /(?:^|\.)cloudflareaccess\.com$/i,
      header: undefined,
      body: /\/cdn-cgi\/access\/|\.cloudflareaccess\.com\b/,
    },
    {
      kind: 'authentik',
      cookie: /^authentik_proxy_/,
      signInCookie: /^authentik_proxy_.*_state$/,
      path: /(?:^|\/)outpost\.goauthentik\.io\//,
      host: undefined,
      header: undefined,
      body: /\/outpost\.goauthentik\.io\/|<ak-flow-executor\b/,
    },
  ]);

/** What a response carries, for naming the product. */
export interface ResponseMarks {
  headers: ResponseHeaders;
  /** The URL that was asked for, and for a redirect its target. */
  urls?: Array<URL | undefined>;
  bodySnippet?: string;
}

/** The product whose own marks the response carries (cookies, then headers, URLs, body); else 'unknown'. */
export function recogniseAuthProxyKind(input: ResponseMarks): AuthProxyKind {
  const cookies = setCookies(input.headers);
  for (const product of productMarks()) {
    if (cookies.some((cookie) => product.cookie.test(cookie.name))) return product.kind;
  }
  const byHeader = proxyHeaderKind(input.headers);
  if (byHeader !== undefined) return byHeader;
  for (const url of input.urls ?? []) {
    if (url === undefined) continue;
    const kind = productOfUrl(url);
    if (kind !== 'unknown') return kind;
  }
  return proxyTemplateKind(input.bodySnippet ?? '') ?? 'unknown';
}

/** A product named by a URL: its paths, its hosts, or an authorization request back to its callback. */
export function productOfUrl(url: URL): AuthProxyKind {
  for (const product of productMarks()) {
    if (product.path?.test(url.pathname) === true) return product.kind;
    if (product.host?.test(url.hostname) === true) return product.kind;
  }
  // oauth2-proxy sends the browser to the IdP with redirect_uri=<its /oauth2/callback>.
  const redirectUri = safeUrl(url.searchParams.get('redirect_uri') ?? '');
  if (redirectUri !== undefined && /\/oauth2\/callback$/.test(redirectUri.pathname)) return 'oauth2-proxy';
  return 'unknown';
}

/**
 * Set-Cookie marks that only the proxy produces when it has no session for the request: a product's
 * sign-in cookie (state, CSRF), or one of its cookies being cleared. A product's session cookie set with a
 * value is a refresh on an ordinary answer, not a mark.
 */
export function proxyDroppedSession(headers: ResponseHeaders): AuthProxyKind | undefined {
  for (const cookie of setCookies(headers)) {
    for (const product of productMarks()) {
      if (!product.cookie.test(cookie.name)) continue;
      if (product.signInCookie.test(cookie.name) || cookie.cleared) return product.kind;
    }
  }
  return undefined;
}

/** A response header only a proxy product adds (e.g. Pomerium's X-Pomerium-Intercepted-Response). */
export function proxyHeaderKind(headers: ResponseHeaders): AuthProxyKind | undefined {
  for (const product of productMarks()) {
    if (product.header !== undefined && headerValue(headers, product.header) !== undefined)
      return product.kind;
  }
  return undefined;
}

/** A page template of a proxy product (its sign-in or error page). */
export function proxyTemplateKind(body: string): AuthProxyKind | undefined {
  if (body === '') return undefined;
  for (const product of productMarks()) if (product.body?.test(body) === true) return product.kind;
  return undefined;
}

/** The refusal pages a web server in front of the app writes itself when its auth module says no. */
const SERVER_REFUSAL_PAGES: readonly RegExp[] = [
  // Apache's own 401 page: mod_auth_openidc's answer to requests that cannot complete a login (JSON, XHR).
  /This server could not verify that you\s+are authorized to access the document\s+requested\./,
  // nginx's own 401 page: auth_request refused and no error_page sends the browser to sign in.
  /<title>401 Authorization Required<\/title>[\s\S]*<center>nginx/,
];

/** Apache's or nginx's own 401 page (not passed through from the app: both relay an app's body as is). */
export function isServerAuthRefusalPage(body: string): boolean {
  return SERVER_REFUSAL_PAGES.some((page) => page.test(body));
}

/** A sign-out form on an app's page (`/oauth2/sign_out`, `/auth/logout`) is no sign-in page. */
const SIGN_OUT_PATH =
  /(?:^|\/)(?:logout|log-out|log_out|signout|sign-out|sign_out|logoff|end_session|end-session)(?:$|[/.])/i;
const PASSWORD_FIELD = /<input\b[^>]*?\btype\s*=\s*["']?password\b/i;
const FORM_ACTION = /<form\b[^>]*?\baction\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;
/**
 * Sign-in pages that draw their form with script (no password field in the HTML), and the proxy pages that
 * stand in for the app when the proxy has no session for the request.
 */
let idpSignInTemplates: readonly RegExp[] | undefined;
const signInTemplates = (): readonly RegExp[] =>
  (idpSignInTemplates ??= [
    /\bid\s*=\s*["']?kc-form-login\b|\bkc-login\b/, // Keycloak
    /\bid\s*=\s*["']?okta-sign-in\b|\bnew OktaSignIn\(/, // Okta
    /login\.microsoftonline\.com[\s\S]*\$Config\s*=|\$Config\s*=[\s\S]*"urlPost"/, // Azure AD / Entra ID
    /<ak-flow-executor\b/, // Authentik
    /\bdex-container\b|\/dex\/auth\//, // dex
    /\/cdn-cgi\/access\/(?:login|authorized)/, // Cloudflare Access
    /Secured with (?:<a[^>]*>)?OAuth2 Proxy\b/, // oauth2-proxy sign_in and error pages
    /Submitting Authentication Request\.\.\./, // mod_auth_openidc (OIDCAuthRequestMethod POST)
    /<p>Error: <pre>[\s\S]*?<\/pre><\/p><p>Description: <pre>/, // mod_auth_openidc's error page (sent as 200)
  ]);

/**
 * Whether an HTML page is a sign-in page: a password field, a form posting to a login path (the IdP's,
 * `/oauth2/…`, a product's path), or a known IdP/proxy sign-in template. `isLoginPath` is the caller's
 * test of a path (auth-proxy-signals.ts), passed in to keep one list of login words.
 */
export function isSignInPage(
  body: string,
  pageUrl: URL,
  isLoginPath: (pathname: string) => boolean,
): boolean {
  if (PASSWORD_FIELD.test(body)) return true;
  if (signInTemplates().some((template) => template.test(body))) return true;
  for (const match of body.matchAll(FORM_ACTION)) {
    const action = safeUrl(decodeEntities(match[1] ?? match[2] ?? match[3] ?? ''), pageUrl);
    if (action === undefined || SIGN_OUT_PATH.test(action.pathname)) continue;
    if (isLoginPath(action.pathname) || productOfUrl(action) !== 'unknown') return true;
  }
  return false;
}

interface SetCookie {
  name: string;
  /** Empty value, Max-Age ≤ 0 or an Expires in 1970: the server removes the cookie. */
  cleared: boolean;
}

function setCookies(headers: ResponseHeaders): SetCookie[] {
  const raw = headerRaw(headers, 'set-cookie');
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  const cookies: SetCookie[] = [];
  for (const line of lines) {
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    const name = line.slice(0, equals).trim();
    const semicolon = line.indexOf(';');
    const value = line.slice(equals + 1, semicolon === -1 ? undefined : semicolon).trim();
    const attributes = semicolon === -1 ? '' : line.slice(semicolon);
    const cleared =
      value === '' || /;\s*max-age\s*=\s*(?:0|-\d+)\b/i.test(attributes) || /\b1970\b/.test(attributes);
    if (name !== '') cookies.push({ name, cleared });
  }
  return cookies;
}

export function headerRaw(headers: ResponseHeaders, name: string): string | string[] | number | undefined {
  if (headers[name] !== undefined) return headers[name];
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const raw = headerRaw(headers, name);
  if (raw === undefined) return undefined;
  return Array.isArray(raw) ? raw[0] : String(raw);
}

export function safeUrl(text: string, base?: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&#x2f;|&#47;/gi, '/');
}
