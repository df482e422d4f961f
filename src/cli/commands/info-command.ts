import { resolveCredential, type CredentialSource } from '../../store/resolve-credential';
import { resolveEndpoint, type EndpointSource } from '../../sdk/resolve-endpoint';
import type { EndpointProfile } from '../../store/credential-types';
import {
  CredentialFileError,
  EndpointUnreachableError,
  ExitCode,
  TlsError,
  isCookieBridgeError,
} from '../../errors';
import { describeCaPem, type CaDescription } from '../../http/tls-options';
import type { CliContext } from '../cli-context';

export interface InfoCommandOptions {
  endpoint?: string;
  all?: boolean;
  offline?: boolean;
  json?: boolean;
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
    else ctx.stdout.write(infos.map(formatInfo).join('\n'));
    return problems.length === 0 ? 0 : ExitCode.CredentialFile;
  }
  const { endpoint, source } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const info = await describeEndpoint(ctx, endpoint, source, options);
  if (options.json) ctx.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  else ctx.stdout.write(formatInfo(info));
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
      return { endpoint, endpointSource, credential: 'not-logged-in', server: { state: 'not-checked' } };
    }
    throw error;
  }
  const info: EndpointInfo = {
    endpoint,
    endpointSource,
    credential: credential.source,
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

export function formatInfo(info: EndpointInfo): string {
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
    const expiry = info.cookies.sessionOnly
      ? 'expiry unknown (session cookies)'
      : `first expires ${info.cookies.expires ?? ''}`;
    rows.push(['cookies', `${info.cookies.names.length} (${info.cookies.names.join(', ')}), ${expiry}`]);
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

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadVerifyLogin = (): typeof import('../../login/verify-login') => require('../../login/verify-login');
