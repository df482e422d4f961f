import { decodeCookieBundle, type BundleCookie, type CookieBundle } from '../core/bundle-codec';
import type { AuthProxyKind, CredentialStore, EndpointProfile, StoredAuth } from '../core/credential-types';
import { detectAuthProxy, type DetectionResult } from '../core/detect-auth-proxy';
import { parseEndpoint, resolveEndpointUrl, type ParsedEndpoint } from '../core/endpoint';
import { formatCookieHeader } from '../core/cookie-header';
import type { OutgoingHeaders } from '../core/http-request';
import { redactUrl } from '../core/redact';
import { basicHeader, bearer } from '../client/resolve-credential';
import type { Clock, Logger } from '../context';
import { LoginError, LoginNotVerifiedError, LoginTimeoutError, isCookieBridgeError } from '../errors';
import { startLoopbackListener } from './loopback-listener';
import { checkRelaySupport, createRelayChallenge, pollRelay, type RelayChallenge } from './relay-client';
import { readPastedBundle, type PasteInput } from './paste-reader';
import type { Progress } from './progress';
import { verifyCredential } from './verify-login';

export interface LoginOptions {
  /** What the user passed to -e (may carry user:pass@). */
  endpoint: string;
  /** Skip detection and go straight to the browser flow. */
  forceCookies?: boolean;
  /** Loopback listener port; 0 or undefined picks a free one. */
  port?: number;
  /** false: only print the URL. */
  openBrowser?: boolean;
  timeoutSeconds?: number;
  /** Service-account token to store and send as Authorization: Bearer. */
  token?: string;
  /**
   * Relay only: no loopback listener; the page leaves the bundle on the server for this CLI to claim
   * (browsers that cannot reach this machine). Without it the relay is used alongside the loopback when the
   * server offers it.
   */
  relay?: boolean;
}

export interface LoginDeps {
  store: CredentialStore;
  logger: Logger;
  /** Opens a URL in the user's browser ($BROWSER honoured); never throws. */
  openBrowser(url: string): Promise<void>;
  /** Where a pasted bundle can arrive (the terminal). */
  stdin: PasteInput;
  progress: Progress;
  /** ≥128 bits of URL-safe randomness. */
  randomState(): string;
  now: Clock;
  requestTimeoutMs?: number;
}

export type LoginMethod = 'cookies' | 'token' | 'basic' | 'none';

export interface LoginResult {
  endpoint: string;
  method: LoginMethod;
  identity?: string;
  proxy?: AuthProxyKind;
  /** How the bundle arrived, for cookie logins. */
  via?: 'browser' | 'paste' | 'relay';
  /** Why a proxy was assumed: the detection rule, or 'forced' for --cookies. */
  reason?: string;
}

export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 300;

/** `cookie-bridge api login`: detect, sign in, verify, store. Nothing is stored unless verification passes. */
export async function login(options: LoginOptions, deps: LoginDeps): Promise<LoginResult> {
  const parsed = parseEndpoint(options.endpoint);
  if (options.token !== undefined) {
    return loginWithHeader(parsed, { type: 'token', token: options.token }, bearer(options.token), deps);
  }
  if (parsed.basic !== undefined) {
    const { username, password } = parsed.basic;
    return loginWithHeader(
      parsed,
      { type: 'basic', username, password },
      basicHeader(username, password),
      deps,
    );
  }

  let detection: DetectionResult | undefined;
  // --relay means the browser flow: a proxy that exempts /api/health must not turn it into "no login needed".
  if (!options.forceCookies && options.relay !== true) {
    deps.progress.start(`Checking ${parsed.url} for an auth proxy`);
    try {
      detection = await detectAuthProxy(
        parsed.url,
        withTimeout({ logger: deps.logger }, deps.requestTimeoutMs),
      );
    } finally {
      deps.progress.stop();
    }
    if (detection.kind === 'no-proxy') {
      deps.logger.debug('detection: /api/health answered JSON without a login: no auth proxy');
      await saveProfile(deps, parsed.url, { type: 'none' }, detection.user, undefined);
      return withOptional({ endpoint: parsed.url, method: 'none' as const }, detection.user, undefined);
    }
    if (detection.kind === 'api-error') throw apiErrorAtDetection(parsed.url, detection.status);
    deps.logger.debug(`detection: rule ${detection.signal.rule} fired: ${detection.signal.detail}`);
  } else {
    deps.logger.debug('detection skipped: --cookies');
  }

  const proxy = detection?.kind === 'auth-proxy' ? detection.signal.proxy : undefined;
  const { bundle, via } = await receiveBundle(parsed, options, deps);
  const cookies = bundle.cookies;
  deps.logger.debug(
    `bundle: format ${bundle.format}, ${cookies.length} cookie(s): ${cookies.map((c) => c.name).join(', ')}`,
  );

  deps.progress.start('Verifying the session');
  let verification;
  try {
    verification = await verifyCredential(
      parsed.url,
      { cookie: formatCookieHeader(cookies) },
      withTimeout({ logger: deps.logger }, deps.requestTimeoutMs),
    );
  } finally {
    deps.progress.stop();
  }
  if (verification.rejectedBy !== undefined) {
    throw new LoginNotVerifiedError(parsed.url, verification.rejectedBy.detail);
  }
  const identity = verification.user ?? bundle.user;
  await saveProfile(deps, parsed.url, { type: 'cookies' }, identity, proxy, cookies);
  if (verification.setCookies.length > 0) {
    await deps.store.applySetCookies(parsed.url, verification.healthUrl, verification.setCookies);
  }
  const reason = detection?.kind === 'auth-proxy' ? detection.signal.rule : 'forced';
  return withOptional({ endpoint: parsed.url, method: 'cookies' as const, via, reason }, identity, proxy);
}

function apiErrorAtDetection(endpoint: string, status: number): LoginError {
  const needsCredentials = status === 401 || status === 403;
  return new LoginError(
    needsCredentials ? 'E_LOGIN_NEEDS_CREDENTIALS' : 'E_LOGIN_NO_HEALTH',
    `${endpoint}/api/health answered HTTP ${status} and no auth proxy was detected`,
    {
      hint: needsCredentials
        ? 'the API wants credentials of its own: log in with --token TOKEN or -e https://user:pass@host; if a cookie proxy sits in front, add --cookies'
        : 'if a cookie auth proxy sits in front, sign in through the browser anyway with --cookies; check the endpoint URL otherwise',
    },
  );
}

async function loginWithHeader(
  parsed: ParsedEndpoint,
  auth: StoredAuth,
  headers: OutgoingHeaders,
  deps: LoginDeps,
): Promise<LoginResult> {
  deps.progress.start(
    `Verifying the ${auth.type === 'token' ? 'token' : 'credentials'} against ${parsed.url}`,
  );
  let verification;
  try {
    verification = await verifyCredential(
      parsed.url,
      headers,
      withTimeout({ logger: deps.logger }, deps.requestTimeoutMs),
    );
  } finally {
    deps.progress.stop();
  }
  if (verification.rejectedBy !== undefined) {
    throw new LoginNotVerifiedError(parsed.url, verification.rejectedBy.detail);
  }
  if (verification.status === 401 || verification.status === 403) {
    throw new LoginError(
      'E_LOGIN_REJECTED',
      `${parsed.url} refused the ${auth.type} credentials (HTTP ${verification.status})`,
      {
        hint: 'check the credentials; nothing was saved',
      },
    );
  }
  await saveProfile(deps, parsed.url, auth, verification.user, undefined);
  return withOptional(
    { endpoint: parsed.url, method: auth.type as LoginMethod },
    verification.user,
    undefined,
  );
}

async function receiveBundle(
  parsed: ParsedEndpoint,
  options: LoginOptions,
  deps: LoginDeps,
): Promise<{ bundle: CookieBundle; via: 'browser' | 'paste' | 'relay' }> {
  const state = deps.randomState();
  const relay = await prepareRelay(parsed, options, deps);
  const listener =
    options.relay === true
      ? undefined
      : await startLoopbackListener({
          endpointOrigin: parsed.origin,
          state,
          ...(options.port === undefined ? {} : { port: options.port }),
          logger: deps.logger,
          acceptStatelessLegacy: true,
        });
  const tokenUrl = resolveEndpointUrl(parsed.url, '/token');
  if (listener !== undefined) {
    tokenUrl.searchParams.set('local_port', String(listener.port));
    tokenUrl.searchParams.set('state', state);
  }
  if (relay !== undefined) tokenUrl.searchParams.set('relay', relay.challenge);
  const url = tokenUrl.toString();
  deps.logger.info(`Sign in with your browser at:\n\n  ${url}\n`);
  if (relay !== undefined) {
    deps.logger.info(
      `Confirmation code: ${relay.code}\n(if the page asks you to confirm, check it shows this code)\n`,
    );
  }
  deps.logger.debug(
    `${listener === undefined ? 'no loopback listener (--relay)' : `loopback listener: ${listener.callbackUrl}`}` +
      `${relay === undefined ? '' : '; relay offered'}; opening ${redactUrl(url)}`,
  );
  if (options.openBrowser !== false) await deps.openBrowser(url);

  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS;
  const pasteAbort = new AbortController();
  const relayAbort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  deps.progress.start(
    relay === undefined
      ? 'Waiting for the browser sign-in (or paste the bundle from the page and press Enter)'
      : `Waiting for the browser sign-in (code ${relay.code}; or paste the bundle from the page and press Enter)`,
  );
  try {
    type Arrival = { bundle: CookieBundle; via: 'browser' | 'paste' | 'relay' };
    const arrivals: Promise<Arrival>[] = [];
    if (listener !== undefined) {
      arrivals.push(listener.bundle.then((bundle) => ({ bundle, via: 'browser' as const })));
    }
    arrivals.push(
      waitForPastedBundle(deps, pasteAbort.signal).then((bundle) =>
        bundle === undefined ? never<Arrival>() : { bundle, via: 'paste' as const },
      ),
    );
    if (relay !== undefined) {
      arrivals.push(
        pollRelay(parsed.url, relay.verifier, {
          signal: relayAbort.signal,
          logger: deps.logger,
          ...(deps.requestTimeoutMs === undefined ? {} : { timeoutMs: deps.requestTimeoutMs }),
        }).then(
          (bundle) => {
            if (bundle.state !== undefined && bundle.state !== state) {
              throw new LoginError('E_RELAY_STATE_MISMATCH', 'the relayed sign-in belongs to another login', {
                hint: 'run the login again; nothing was saved',
              });
            }
            return { bundle, via: 'relay' as const };
          },
          (error: unknown) => {
            // Alongside the loopback a broken relay is not fatal: the listener or a paste may still deliver.
            if (options.relay === true || relayAbort.signal.aborted) throw error;
            deps.logger.warn(
              `the relay stopped working (${error instanceof Error ? error.message : String(error)})`,
            );
            return never<Arrival>();
          },
        ),
      );
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new LoginTimeoutError(timeoutSeconds)), timeoutSeconds * 1000);
    });
    return await Promise.race([...arrivals, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    pasteAbort.abort();
    relayAbort.abort();
    deps.progress.stop();
    await listener?.close();
  }
}

/** The relay secrets when the relay is to be used: forced by --relay (then required), else when offered. */
async function prepareRelay(
  parsed: ParsedEndpoint,
  options: LoginOptions,
  deps: LoginDeps,
): Promise<RelayChallenge | undefined> {
  const offered = await checkRelaySupport(parsed.url, { logger: deps.logger });
  if (!offered) {
    if (options.relay === true) {
      throw new LoginError('E_RELAY_UNAVAILABLE', `${parsed.url} does not offer relay login`, {
        hint:
          'run cookie-bridge serve in front of the app and let /cookie-bridge/relay/ pass the auth proxy ' +
          '(docs/serve.md), or log in without --relay (--no-browser and paste the bundle)',
      });
    }
    return undefined;
  }
  return createRelayChallenge(deps.randomState);
}

/** Reads pasted lines until one decodes; a bad paste is reported and the wait goes on. */
async function waitForPastedBundle(deps: LoginDeps, signal: AbortSignal): Promise<CookieBundle | undefined> {
  for (;;) {
    const text = await readPastedBundle({
      input: deps.stdin,
      signal,
      onProgress: (bytes) => deps.progress.update(`Reading pasted bundle (${bytes} bytes)`),
    });
    if (text === undefined || signal.aborted) return undefined;
    try {
      return decodeCookieBundle(text);
    } catch (error) {
      if (!isCookieBridgeError(error)) throw error;
      deps.logger.warn(
        `${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}; paste it again`,
      );
    }
  }
}

async function saveProfile(
  deps: LoginDeps,
  endpoint: string,
  auth: StoredAuth,
  identity: string | undefined,
  proxy: AuthProxyKind | undefined,
  cookies?: BundleCookie[],
): Promise<void> {
  const profile: EndpointProfile = { endpoint, auth, loggedInAt: new Date(deps.now()).toISOString() };
  if (identity !== undefined) profile.identity = identity;
  if (proxy !== undefined) profile.proxy = proxy;
  await deps.store.saveLogin(profile, cookies);
  await deps.store.setLastEndpoint(endpoint);
}

function withOptional(
  result: LoginResult,
  identity: string | undefined,
  proxy: AuthProxyKind | undefined,
): LoginResult {
  const out: LoginResult = { ...result };
  if (identity !== undefined) out.identity = identity;
  if (proxy !== undefined) out.proxy = proxy;
  return out;
}

function withTimeout<T extends object>(
  options: T,
  timeoutMs: number | undefined,
): T & { timeoutMs?: number } {
  return timeoutMs === undefined ? options : { ...options, timeoutMs };
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
