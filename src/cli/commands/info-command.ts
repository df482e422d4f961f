import { resolveCredential, type CredentialSource } from '../../store/resolve-credential';
import { resolveEndpoint, type EndpointSource } from '../../sdk/resolve-endpoint';
import type { EndpointProfile } from '../../store/credential-types';
import {
  CredentialFileError,
  ERROR_CODES,
  EndpointUnreachableError,
  ExitCode,
  TlsError,
  isCookieBridgeError,
  UsageError,
  type ErrorCode,
} from '../../errors';
import { describeCaPem, type CaDescription } from '../../http/tls-options';
import { sessionExpiry } from '../../protocol/session-expiry';
import type { StoredSessionExpiry } from '../../store/stored-session-expiry';
import type { CliContext } from '../cli-context';
import { describeExpiry } from '../session-expiry-notice';

export interface InfoCommandOptions {
  endpoint?: string;
  all?: boolean;
  offline?: boolean;
  json?: boolean;
  /** Exit 0 when the stored credential works now, else a documented code; one line on stderr. */
  check?: boolean;
}

export type ServerState =
  | { state: 'ok'; status: number; user?: string }
  | { state: 'session-expired'; detail: string }
  | { state: 'http-error'; status: number }
  | { state: 'unreachable'; detail: string; code?: string; hint?: string }
  | { state: 'not-checked' };

/** What `api info` reports for one endpoint. Holds no secret: cookie names and expiry only. */
export interface EndpointInfo {
  endpoint: string;
  endpointSource: EndpointSource | 'stored';
  credential: CredentialSource | 'not-logged-in';
  identity?: string;
  proxy?: string;
  loggedInAt?: string;
  cookies?: { names: string[]; expires?: string; sessionOnly: boolean };
  /** The private CA stored at login (--cacert): public facts of each certificate, never the PEM. */
  ca?: CaDescription[];
  /** When the cookie session ends, where the jar tells (Expires/Max-Age, a JWT's exp); null: unknown. */
  expiresAt: string | null;
  /** The cookie `expiresAt` comes from, and whether from its expiry or its JWT `exp`. */
  expirySource: { cookie: string; from: 'cookie-expiry' | 'jwt-exp' } | null;
  server: ServerState;
}

const SOURCE_LABELS: Record<EndpointInfo['credential'], string> = {
  'environment-token': 'token from $COOKIE_BRIDGE_TOKEN (overrides what is stored)',
  'stored-token': 'stored service-account token',
  'basic-auth': 'stored basic auth',
  'cookie-jar': 'browser session cookies (cookie jar)',
  none: 'none needed (no auth proxy was detected)',
  'not-logged-in': 'none: not logged in',
};

export async function infoCommand(ctx: CliContext, options: InfoCommandOptions): Promise<number> {
  if (options.check) return checkCommand(ctx, options);
  if (options.all) {
    // One corrupt endpoint must neither hide the others nor be hidden itself: list what can be read,
    // name each broken file (with its hint) on stderr and in the JSON, and exit 7.
    const listed =
      ctx.store.listProfilesWithProblems !== undefined
        ? await ctx.store.listProfilesWithProblems()
        : { profiles: await ctx.store.listProfiles(), problems: [] };
    const problems: CredentialFileError[] = [...listed.problems];
    const described = await Promise.all(
      listed.profiles.map((profile) =>
        describeEndpoint(ctx, profile.endpoint, 'stored', options).catch((error: unknown) => {
          if (!(error instanceof CredentialFileError)) throw error;
          problems.push(error);
          return undefined;
        }),
      ),
    );
    const infos = described.filter((info): info is EndpointInfo => info !== undefined);
    for (const problem of problems) ctx.logger.warn(`${problem.message} (hint: ${problem.hint ?? ''})`);
    const problemsJson = problems.map((problem) => ({ file: problem.file, ...problem.toJSON() }));
    if (options.json)
      ctx.stdout.write(
        `${JSON.stringify({ home: ctx.store.home, endpoints: infos, ...(problems.length === 0 ? {} : { problems: problemsJson }) }, null, 2)}\n`,
      );
    else if (infos.length === 0 && problems.length === 0)
      ctx.stdout.write(`No stored logins (in ${ctx.store.home}).\n`);
    else ctx.stdout.write(infos.map((info) => formatInfo(info, ctx.now())).join('\n'));
    return problems.length === 0 ? 0 : ExitCode.CredentialFile;
  }
  const { endpoint, source } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const info = await describeEndpoint(ctx, endpoint, source, options);
  if (options.json) ctx.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  else ctx.stdout.write(formatInfo(info, ctx.now()));
  return 0;
}

async function describeEndpoint(
  ctx: CliContext,
  endpoint: string,
  endpointSource: EndpointInfo['endpointSource'],
  options: InfoCommandOptions,
): Promise<EndpointInfo> {
  let credential;
  try {
    credential = await resolveCredential(endpoint, ctx.store, ctx.env);
  } catch (error) {
    if (isCookieBridgeError(error) && error.code === 'E_NOT_LOGGED_IN') {
      return {
        endpoint,
        endpointSource,
        credential: 'not-logged-in',
        expiresAt: null,
        expirySource: null,
        server: { state: 'not-checked' },
      };
    }
    throw error;
  }
  const info: EndpointInfo = {
    endpoint,
    endpointSource,
    credential: credential.source,
    expiresAt: null,
    expirySource: null,
    server: { state: 'not-checked' },
  };
  addProfile(info, credential.profile);
  if (credential.source === 'cookie-jar') {
    const cookies = await ctx.store.listCookies(endpoint);
    const expiries = cookies.flatMap((cookie) =>
      cookie.expires === undefined ? [] : [cookie.expires.getTime()],
    );
    info.cookies = {
      names: cookies.map((cookie) => cookie.name),
      sessionOnly: expiries.length === 0,
      ...(expiries.length === 0 ? {} : { expires: new Date(Math.min(...expiries)).toISOString() }),
    };
    const session = sessionExpiry(cookies);
    if (session.expiresAtMs !== undefined) info.expiresAt = new Date(session.expiresAtMs).toISOString();
    if (session.source !== undefined) info.expirySource = session.source;
  }
  if (!options.offline)
    info.server = await checkServer(ctx, endpoint, await credential.headersFor(new URL(endpoint)));
  return info;
}

function addProfile(info: EndpointInfo, profile: EndpointProfile | undefined): void {
  if (profile === undefined) return;
  if (profile.identity !== undefined) info.identity = profile.identity;
  if (profile.proxy !== undefined) info.proxy = profile.proxy;
  info.loggedInAt = profile.loggedInAt;
  if (profile.ca !== undefined) info.ca = describeCaPem(profile.ca);
}

async function checkServer(
  ctx: CliContext,
  endpoint: string,
  headers: Record<string, string>,
): Promise<ServerState> {
  try {
    // Loaded here, not at start-up: `api info --offline` never talks to the server.
    const { verifyCredential } = loadVerifyLogin();
    const result = await verifyCredential(endpoint, headers, {
      logger: ctx.logger,
      timeoutMs: 10_000,
      request: ctx.http.request,
    });
    if (result.rejectedBy !== undefined)
      return { state: 'session-expired', detail: result.rejectedBy.detail };
    if (result.status >= 400) return { state: 'http-error', status: result.status };
    if (result.setCookies.length > 0) {
      const profile = await ctx.store.getProfile(endpoint);
      if (profile?.auth.type === 'cookies')
        await ctx.store.applySetCookies(endpoint, result.healthUrl, result.setCookies);
    }
    return result.user === undefined
      ? { state: 'ok', status: result.status }
      : { state: 'ok', status: result.status, user: result.user };
  } catch (error) {
    if (error instanceof EndpointUnreachableError) return { state: 'unreachable', detail: error.message };
    // A refused certificate keeps its code and fix, so --json readers can tell it apart.
    if (error instanceof TlsError)
      return { state: 'unreachable', detail: error.message, code: error.code, hint: error.hint ?? '' };
    throw error;
  }
}

export function formatInfo(info: EndpointInfo, nowMs: number): string {
  const rows: Array<[string, string]> = [
    [
      'endpoint',
      `${info.endpoint}${info.endpointSource === 'argument' || info.endpointSource === 'stored' ? '' : ` (from ${info.endpointSource === 'environment' ? '$COOKIE_BRIDGE_ENDPOINT' : 'the last login'})`}`,
    ],
    ['credential', SOURCE_LABELS[info.credential]],
  ];
  if (info.identity !== undefined) rows.push(['identity', info.identity]);
  if (info.proxy !== undefined) rows.push(['auth proxy', info.proxy]);
  if (info.loggedInAt !== undefined) rows.push(['logged in', info.loggedInAt]);
  for (const ca of info.ca ?? []) rows.push(['trusted CA', `${ca.subject} (SHA-256 ${ca.fingerprint256})`]);
  if (info.cookies !== undefined) {
    rows.push(['cookies', `${info.cookies.names.length} (${info.cookies.names.join(', ')})`]);
    rows.push(['session', describeExpiry(expiryOf(info), nowMs)]);
  }
  rows.push(['server', describeServer(info.server, info.endpoint)]);
  const width = Math.max(...rows.map(([key]) => key.length));
  return `${rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n')}\n`;
}

function describeServer(server: ServerState, endpoint: string): string {
  switch (server.state) {
    case 'ok':
      return `answers (HTTP ${server.status})${server.user === undefined ? '' : `, as ${server.user}`}`;
    case 'session-expired':
      return `session expired: run cookie-bridge api login -e ${endpoint}`;
    case 'http-error':
      return `answers HTTP ${server.status} on /api/health`;
    case 'unreachable':
      return server.hint === undefined ? server.detail : `${server.detail}; ${server.hint}`;
    case 'not-checked':
      return 'not checked';
  }
}

/** The StoredSessionExpiry an EndpointInfo was made from. */
function expiryOf(info: EndpointInfo): StoredSessionExpiry {
  const expiry: StoredSessionExpiry = {
    liveCookies: info.cookies?.names.length ?? 0,
    expiresAtMs: info.expiresAt === null ? undefined : Date.parse(info.expiresAt),
  };
  if (info.expirySource !== null) expiry.source = info.expirySource;
  return expiry;
}

/** What `api info --check` found, and the exit code it means. */
export interface CheckResult {
  endpoint: string;
  ok: boolean;
  state: 'ok' | 'not-logged-in' | 'expired' | 'rejected' | 'unreachable';
  /** The error code the state means (ERROR_CODES, src/errors.ts); absent when ok. */
  code?: ErrorCode;
  exitCode: number;
  identity?: string;
  expiresAt: string | null;
  expirySource: EndpointInfo['expirySource'];
  /** One line for people (stderr). */
  message: string;
}

/**
 * `api info --check`: exit 0 when the stored credential works now (the live check login verification uses,
 * verify-login.ts); 3 not logged in; 4 expired (by the stored expiry, no network) or rejected by the auth
 * proxy; 5 the server cannot be reached or fails. Quiet: one line on stderr, or JSON on stdout with --json.
 */
async function checkCommand(ctx: CliContext, options: InfoCommandOptions): Promise<number> {
  if (options.all) throw new UsageError('--check checks one endpoint: leave out --all');
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const result = await checkEndpoint(ctx, endpoint, options.offline === true);
  if (options.json) {
    const { message: _message, ...json } = result;
    ctx.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }
  ctx.stderr.write(`${result.message}\n`);
  return result.exitCode;
}

async function checkEndpoint(ctx: CliContext, endpoint: string, offline: boolean): Promise<CheckResult> {
  const relogin = `run cookie-bridge api login -e ${endpoint}`;
  const info = await describeEndpoint(ctx, endpoint, 'argument', { offline: true });
  const base = { endpoint, expiresAt: info.expiresAt, expirySource: info.expirySource };
  const failed = (state: CheckResult['state'], code: ErrorCode, message: string): CheckResult => ({
    ...base,
    ok: false,
    state,
    code,
    exitCode: ERROR_CODES[code].exitCode,
    message,
  });
  if (info.credential === 'not-logged-in')
    return failed('not-logged-in', 'E_NOT_LOGGED_IN', `not logged in to ${endpoint}: ${relogin}`);
  if (info.cookies !== undefined) {
    const expiry = expiryOf(info);
    if (expiry.liveCookies === 0 || (expiry.expiresAtMs !== undefined && expiry.expiresAtMs <= ctx.now()))
      return failed(
        'expired',
        'E_SESSION_EXPIRED',
        `session for ${endpoint} ${describeExpiry(expiry, ctx.now())}: ${relogin}`,
      );
  }
  const expiryNote = info.cookies === undefined ? '' : `; ${describeExpiry(expiryOf(info), ctx.now())}`;
  if (offline) {
    return {
      ...base,
      ok: true,
      state: 'ok',
      exitCode: ExitCode.Ok,
      message: `session for ${endpoint} not known to be expired (not checked with the server: --offline)${expiryNote}`,
    };
  }
  const credential = await resolveCredential(endpoint, ctx.store, ctx.env);
  const server = await checkServer(ctx, endpoint, await credential.headersFor(new URL(endpoint)));
  switch (server.state) {
    case 'session-expired':
      return failed(
        'rejected',
        'E_SESSION_EXPIRED',
        `session for ${endpoint} was rejected by the auth proxy (${server.detail}): ${relogin}`,
      );
    case 'unreachable':
      // A refused certificate keeps its own code and exit code (E_TLS) and says how to fix it.
      return server.code === 'E_TLS'
        ? failed('unreachable', 'E_TLS', `${server.detail}: ${server.hint ?? ''}`)
        : failed('unreachable', 'E_ENDPOINT_UNREACHABLE', server.detail);
    case 'http-error':
      if (server.status === 401 || server.status === 403)
        return failed(
          'rejected',
          'E_SESSION_EXPIRED',
          `${endpoint} refused the stored credential (HTTP ${server.status} on /api/health): ${relogin}`,
        );
      if (server.status >= 500)
        return failed(
          'unreachable',
          'E_ENDPOINT_UNREACHABLE',
          `${endpoint} answered HTTP ${server.status} on /api/health: cannot tell whether the session works`,
        );
      break;
    case 'ok':
    case 'not-checked':
      break;
  }
  const user = server.state === 'ok' ? (server.user ?? info.identity) : info.identity;
  return {
    ...base,
    ok: true,
    state: 'ok',
    exitCode: ExitCode.Ok,
    ...(user === undefined ? {} : { identity: user }),
    message: `session for ${endpoint} works${user === undefined ? '' : ` (as ${user})`}${expiryNote}`,
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadVerifyLogin = (): typeof import('../../login/verify-login') => require('../../login/verify-login');
