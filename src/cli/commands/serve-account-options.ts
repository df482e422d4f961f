import { UsageError } from '../../errors';
import { DURATION_FORMAT, parseDurationMs } from '../../protocol/duration';
import { ROLES, type AccountServiceOptions, type Role } from '../../server/accounts/account-types';
import { checkIssuerPath } from '../../server/accounts/serve-accounts';
import { DEFAULT_ROLE_HEADER } from '../../server/identity';
import { resolveServeStateDir } from '../../store/config-home';

/**
 * serve's options for service accounts and roles (issue 13), checked in one place (no I/O): what
 * `serve --service-accounts --sa-issuer URL …` asks for, as AccountServiceOptions, the state dir and the role
 * header. Every mistake is a UsageError (exit 2) naming the option.
 */

export interface ServeAccountFlags {
  serviceAccounts?: boolean;
  saIssuer?: string;
  saAudience?: string;
  saMaxLifetime?: string;
  saKeyLifetime?: string;
  saEmailDomain?: string;
  /** --admin EMAIL… (each may also be a comma-separated list). */
  admin?: string[];
  defaultRole?: string;
  roleHeader?: string;
  stateDir?: string;
}

export interface ServeAccountSettings {
  /** undefined without --service-accounts. */
  accounts?: { service: AccountServiceOptions; stateDir: string };
  roleHeader: string;
}

const DAY_MS = 86_400_000;
const DEFAULT_TOKEN_LIFETIME_MS = 30 * DAY_MS;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** Headers the role must never overwrite: the request's own framing, credentials and serve's other headers. */
const RESERVED_HEADERS = new Set([
  'authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'upgrade',
  'x-forwarded-for',
]);
const EMAIL_DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Checks the flags; `identityHeader` is serve's (the role header must differ from it). */
export function parseServeAccountOptions(
  flags: ServeAccountFlags,
  env: NodeJS.ProcessEnv,
  identityHeader: string,
  platform: NodeJS.Platform = process.platform,
): ServeAccountSettings {
  const roleHeader = checkRoleHeader(flags.roleHeader ?? DEFAULT_ROLE_HEADER, identityHeader);
  if (flags.serviceAccounts !== true) {
    const stray = (
      [
        ['--sa-issuer', flags.saIssuer],
        ['--sa-audience', flags.saAudience],
        ['--sa-max-lifetime', flags.saMaxLifetime],
        ['--sa-key-lifetime', flags.saKeyLifetime],
        ['--sa-email-domain', flags.saEmailDomain],
        ['--admin', flags.admin],
        ['--default-role', flags.defaultRole],
        ['--state-dir', flags.stateDir],
      ] as const
    ).find(([, value]) => value !== undefined);
    if (stray !== undefined) {
      throw new UsageError(`${stray[0]} needs --service-accounts`, {
        hint: 'add --service-accounts --sa-issuer https://<your host>/cookie-bridge/sa',
      });
    }
    return { roleHeader };
  }
  const issuer = checkIssuer(flags.saIssuer);
  const maxLifetimeMs = checkDuration('--sa-max-lifetime', flags.saMaxLifetime);
  const keyLifetimeMs = checkDuration('--sa-key-lifetime', flags.saKeyLifetime);
  const admins = checkAdmins(flags.admin ?? []);
  const service: AccountServiceOptions = {
    issuer,
    audience: checkAudience(flags.saAudience ?? 'cookie-bridge'),
    admins,
    defaultRole: checkRole(flags.defaultRole ?? 'user'),
    ...(maxLifetimeMs === undefined
      ? {}
      : { maxLifetimeMs, defaultLifetimeMs: Math.min(DEFAULT_TOKEN_LIFETIME_MS, maxLifetimeMs) }),
    ...(keyLifetimeMs === undefined ? {} : { keyLifetimeMs }),
    ...(flags.saEmailDomain === undefined ? {} : { emailDomain: checkEmailDomain(flags.saEmailDomain) }),
  };
  if (flags.stateDir !== undefined && flags.stateDir.trim() === '') {
    throw new UsageError('--state-dir is empty', {
      hint: 'name a folder only serve can read (it is made 0700)',
    });
  }
  const stateDir = flags.stateDir ?? resolveServeStateDir(env, platform);
  return { accounts: { service, stateDir }, roleHeader };
}

function checkIssuer(value: string | undefined): string {
  const hint =
    'e.g. --sa-issuer https://api.example.com/cookie-bridge/sa (the URL clients and the proxy reach serve at)';
  if (value === undefined) throw new UsageError('--service-accounts needs --sa-issuer URL', { hint });
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--sa-issuer is not a URL: ${JSON.stringify(value.slice(0, 200))}`, { hint });
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageError(
      `--sa-issuer must be an https:// URL (http:// only on loopback), not ${url.protocol}`,
      {
        hint,
      },
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new UsageError('--sa-issuer must not carry user:password@, a query or a fragment', { hint });
  }
  const issuer = url.toString().replace(/\/+$/, '');
  checkIssuerPath(issuer);
  return issuer;
}

function checkDuration(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    throw new UsageError(`${option}: not a duration: ${JSON.stringify(value.slice(0, 40))}`, {
      hint: `give ${DURATION_FORMAT}`,
    });
  }
  return ms;
}

function checkAudience(value: string): string {
  if (value.length === 0 || value.length > 256 || /[\x00-\x20\x7f-\x9f]/.test(value)) {
    throw new UsageError(`--sa-audience: not an audience: ${JSON.stringify(value.slice(0, 64))}`, {
      hint: 'printable characters without spaces, e.g. cookie-bridge',
    });
  }
  return value;
}

function checkAdmins(values: readonly string[]): string[] {
  const list = values.flatMap((value) => value.split(',')).map((value) => value.trim());
  for (const identity of list) {
    if (identity === '' || identity.length > 512 || /[\x00-\x1f\x7f-\x9f]/.test(identity)) {
      throw new UsageError(`--admin: not an identity: ${JSON.stringify(identity.slice(0, 64))}`, {
        hint: 'give the identity the auth proxy names, e.g. --admin alice@example.com',
      });
    }
  }
  return [...new Set(list)];
}

function checkRole(value: string): Role {
  if ((ROLES as readonly string[]).includes(value)) return value as Role;
  throw new UsageError(
    `--default-role must be one of ${ROLES.join(', ')}, not ${JSON.stringify(value.slice(0, 40))}`,
  );
}

function checkEmailDomain(value: string): string {
  if (!EMAIL_DOMAIN.test(value)) {
    throw new UsageError(`--sa-email-domain: not a domain: ${JSON.stringify(value.slice(0, 64))}`, {
      hint: 'a lower-case domain, e.g. service-accounts.invalid or robots.example.com',
    });
  }
  return value;
}

function checkRoleHeader(value: string, identityHeader: string): string {
  if (!HEADER_NAME.test(value)) {
    throw new UsageError(`--role-header: not a header name: ${JSON.stringify(value.slice(0, 64))}`, {
      hint: `use letters, digits and -, e.g. ${DEFAULT_ROLE_HEADER}`,
    });
  }
  const lower = value.toLowerCase();
  if (lower === identityHeader.toLowerCase() || RESERVED_HEADERS.has(lower)) {
    throw new UsageError(`--role-header cannot be ${value}: serve uses that header for something else`, {
      hint: `keep the default, ${DEFAULT_ROLE_HEADER}`,
    });
  }
  return value;
}
