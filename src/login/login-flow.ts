import type { BundleCookie } from '../protocol/bundle-codec';
import type { AuthProxyKind, EndpointProfile, StoredAuth } from '../store/credential-types';
import { detectAuthProxy, type DetectionResult } from './detect-auth-proxy';
import { parseEndpoint, type ParsedEndpoint } from '../protocol/endpoint';
import { formatCookieHeader } from '../protocol/cookie-header';
import type { OutgoingHeaders } from '../http/http-request';
import { basicHeader, bearer } from '../protocol/credential-headers';
import { LoginError, LoginNotVerifiedError } from '../errors';
import { hopOptions, type LoginDeps, type LoginOptions } from './login-options';
import { DEFAULT_LOGIN_TIMEOUT_SECONDS, receiveBundle } from './receive-bundle';
import { verifyCredential } from './verify-login';
import { oneLoginAtATime } from './login-lock';
import { resolveEndpointUrl } from '../protocol/endpoint';
import type { LoginLockRecord } from '../store/login-lock-file';
import { systemTimers } from '../context';

export type { LoginDeps, LoginOptions } from './login-options';

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
  /** True when another login of the endpoint was running: its saved session was verified and reused. */
  reused?: boolean;
}

export { DEFAULT_LOGIN_TIMEOUT_SECONDS } from './receive-bundle';

/** `cookie-bridge api login`: detect, sign in, verify, store. Nothing is stored unless verification passes. */
export async function login(options: LoginOptions, deps: LoginDeps): Promise<LoginResult> {
  const parsed = parseEndpoint(options.endpoint);
  if (options.token !== undefined) {
    return loginWithHeader(
      parsed,
      { type: 'token', token: options.token },
      bearer(options.token),
      deps,
      options.ca,
    );
  }
  if (parsed.basic !== undefined) {
    const { username, password } = parsed.basic;
    return loginWithHeader(
      parsed,
      { type: 'basic', username, password },
      basicHeader(username, password),
      deps,
      options.ca,
    );
  }

  // One browser login per endpoint at a time (login-lock.ts): a second one waits and reuses the first's.
  const lockFile = deps.store.loginLockFile?.(parsed.url);
  if (lockFile === undefined) return loginThroughProxy(parsed, options, deps);
  // What is stored now, to tell whether a login we wait for saved something new. A store that cannot be read
  // is no reason to stop here: this login's own save reports it.
  const before = await deps.store.getProfile(parsed.url).catch(() => undefined);
  return oneLoginAtATime(
    {
      file: lockFile,
      endpoint: parsed.url,
      waitMs: (options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS) * 1000,
      run: () => loginThroughProxy(parsed, options, deps),
      reuse: (holder) => reuseFinishedLogin(parsed.url, before, holder, deps),
    },
    { now: deps.now, timers: deps.timers ?? systemTimers, progress: deps.progress, logger: deps.logger },
  );
}

/** Detection, the browser (or paste, or relay) sign-in and its verification; stores nothing unverified. */
async function loginThroughProxy(
  parsed: ParsedEndpoint,
  options: LoginOptions,
  deps: LoginDeps,
): Promise<LoginResult> {
  let detection: DetectionResult | undefined;
  // --relay means the browser flow: a proxy that exempts /api/health must not turn it into "no login needed".
  if (!options.forceCookies && options.relay !== true) {
    deps.progress.start(`Checking ${parsed.url} for an auth proxy`);
    try {
      detection = await detectAuthProxy(parsed.url, withTimeout(hopOptions(deps), deps.requestTimeoutMs));
    } finally {
      deps.progress.stop();
    }
    if (detection.kind === 'no-proxy') {
      deps.logger.debug('detection: /api/health answered JSON without a login: no auth proxy');
      await saveProfile(deps, parsed.url, { type: 'none' }, detection.user, undefined, undefined, options.ca);
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
      withTimeout(hopOptions(deps), deps.requestTimeoutMs),
    );
  } finally {
    deps.progress.stop();
  }
  if (verification.rejectedBy !== undefined) {
    throw new LoginNotVerifiedError(parsed.url, verification.rejectedBy.detail);
  }
  // Who we are comes from the server, never from the bundle's own `user` (anyone can write that).
  const identity = verification.user;
  await saveProfile(deps, parsed.url, { type: 'cookies' }, identity, proxy, cookies, options.ca);
  if (verification.setCookies.length > 0) {
    await deps.store.applySetCookies(parsed.url, verification.healthUrl, verification.setCookies);
  }
  const reason = detection?.kind === 'auth-proxy' ? detection.signal.rule : 'forced';
  return withOptional({ endpoint: parsed.url, method: 'cookies' as const, via, reason }, identity, proxy);
}

/**
 * After another login of the endpoint ended: what it saved, verified now as a login verifies (never trusted
 * blindly), or undefined when it saved nothing new or its session does not work (then this login signs in).
 */
async function reuseFinishedLogin(
  endpoint: string,
  before: EndpointProfile | undefined,
  holder: LoginLockRecord | undefined,
  deps: LoginDeps,
): Promise<LoginResult | undefined> {
  const profile = await deps.store.getProfile(endpoint).catch(() => undefined);
  if (profile === undefined || profile.loggedInAt === before?.loggedInAt) return undefined;
  const { type } = profile.auth;
  if (type !== 'cookies' && type !== 'none') return undefined;
  const healthUrl = resolveEndpointUrl(endpoint, '/api/health');
  const cookie = type === 'cookies' ? await deps.store.getCookieHeader(endpoint, healthUrl) : undefined;
  if (type === 'cookies' && cookie === undefined) return undefined;
  deps.progress.start(
    `Verifying the session saved by the other login${holder === undefined ? '' : ` (pid ${holder.pid})`}`,
  );
  let verification;
  try {
    verification = await verifyCredential(
      endpoint,
      cookie === undefined ? {} : { cookie },
      withTimeout(hopOptions(deps), deps.requestTimeoutMs),
    );
  } finally {
    deps.progress.stop();
  }
  if (verification.rejectedBy !== undefined || verification.status === 401 || verification.status === 403) {
    deps.logger.info('the session the other login saved does not get through');
    return undefined;
  }
  if (type === 'cookies' && verification.setCookies.length > 0) {
    await deps.store.applySetCookies(endpoint, verification.healthUrl, verification.setCookies);
  }
  return withOptional(
    { endpoint, method: type, reused: true },
    verification.user ?? profile.identity,
    profile.proxy,
  );
}

function apiErrorAtDetection(endpoint: string, status: number): LoginError {
  const needsCredentials = status === 401 || status === 403;
  return new LoginError(
    needsCredentials ? 'E_LOGIN_NEEDS_CREDENTIALS' : 'E_LOGIN_NO_HEALTH',
    `${endpoint}/api/health answered HTTP ${status} and no auth proxy was detected`,
    {
      hint: needsCredentials
        ? 'the API wants credentials of its own: log in with --token-stdin (or --token-file F), or -e https://user@host --password-stdin; if a cookie proxy sits in front, add --cookies'
        : 'if a cookie auth proxy sits in front, sign in through the browser anyway with --cookies; check the endpoint URL otherwise',
    },
  );
}

async function loginWithHeader(
  parsed: ParsedEndpoint,
  auth: StoredAuth,
  headers: OutgoingHeaders,
  deps: LoginDeps,
  ca: string | undefined,
): Promise<LoginResult> {
  deps.progress.start(
    `Verifying the ${auth.type === 'token' ? 'token' : 'credentials'} against ${parsed.url}`,
  );
  let verification;
  try {
    verification = await verifyCredential(
      parsed.url,
      headers,
      withTimeout(hopOptions(deps), deps.requestTimeoutMs),
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
  await saveProfile(deps, parsed.url, auth, verification.user, undefined, undefined, ca);
  return withOptional(
    { endpoint: parsed.url, method: auth.type as LoginMethod },
    verification.user,
    undefined,
  );
}

async function saveProfile(
  deps: LoginDeps,
  endpoint: string,
  auth: StoredAuth,
  identity: string | undefined,
  proxy: AuthProxyKind | undefined,
  cookies?: BundleCookie[],
  ca?: string,
): Promise<void> {
  const profile: EndpointProfile = { endpoint, auth, loggedInAt: new Date(deps.now()).toISOString() };
  if (identity !== undefined) profile.identity = identity;
  if (proxy !== undefined) profile.proxy = proxy;
  // A login without --cacert keeps the CA an earlier one stored (a corrupt old profile is being replaced).
  const keptCa = ca ?? (await deps.store.getProfile(endpoint).catch(() => undefined))?.ca;
  if (keptCa !== undefined) profile.ca = keptCa;
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
