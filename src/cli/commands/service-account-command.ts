import { SERVICE_ACCOUNT_NAME, type Role } from '../../protocol/admin-api';
import { DURATION_FORMAT, parseDurationMs } from '../../protocol/duration';
import { formatDuration } from '../../protocol/session-expiry';
import { UsageError } from '../../errors';
import type { CliContext } from '../cli-context';
import { formatTable, openAdminClient, serverTextCell, shortTime } from './open-admin-client';

type AdminCommandContext = Pick<CliContext, 'env' | 'store' | 'logger' | 'http' | 'stdout' | 'stderr'>;

export interface ServiceAccountCreateOptions {
  endpoint?: string;
  name: string;
  role?: Role;
  /** Already checked by parseExpires: milliseconds. */
  expires?: number;
  json?: boolean;
}

export interface AdminListOptions {
  endpoint?: string;
  json?: boolean;
}

const DAY_MS = 86_400_000;

/** `--expires 30d|12h|90m|3600s` → ms; anything else is a usage error before any request. */
export function parseExpires(value: string): number {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    throw new UsageError(`--expires takes ${DURATION_FORMAT}, not ${JSON.stringify(value)}`);
  }
  return ms;
}

/** A service account name as the server accepts it; checked before any request. */
export function checkServiceAccountName(name: string): string {
  if (!SERVICE_ACCOUNT_NAME.test(name)) {
    throw new UsageError(`${JSON.stringify(name)} is not a service account name`, {
      hint: "use 1-63 lower-case letters, digits and '-', starting with a letter or digit (e.g. nightly-ci)",
    });
  }
  return name;
}

/**
 * `api service-account create`: the token alone on stdout (or the JSON with `token`), printed this once and
 * nowhere else (not in --debug: the response body is never logged); stderr says so, and how to use it.
 */
export async function serviceAccountCreateCommand(
  ctx: AdminCommandContext,
  options: ServiceAccountCreateOptions,
): Promise<number> {
  const name = checkServiceAccountName(options.name);
  const admin = await openAdminClient(ctx, options.endpoint);
  const created = await admin.createServiceAccount({
    name,
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(options.expires === undefined ? {} : { expiresIn: options.expires / 1000 }),
  });
  const { token, ...account } = created;
  if (options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ ok: true, endpoint: admin.endpoint, serviceAccount: account, token }, null, 2)}\n`,
    );
  } else {
    ctx.stdout.write(`${token}\n`);
  }
  const endpoint = admin.endpoint;
  ctx.stderr.write(
    `Created service account ${account.name} (role ${account.role}), expires ${account.expiresAt.slice(0, 10)} (${lifetime(account.createdAt, account.expiresAt)}). Save the token now: it will not be shown again.\n` +
      `Use it: COOKIE_BRIDGE_TOKEN=<token> cookie-bridge request -e ${endpoint} /api/…\n` +
      `   or: cookie-bridge api login -e ${endpoint} --token-stdin < token-file\n`,
  );
  return 0;
}

export async function serviceAccountListCommand(
  ctx: AdminCommandContext,
  options: AdminListOptions,
): Promise<number> {
  const admin = await openAdminClient(ctx, options.endpoint);
  const accounts = await admin.listServiceAccounts();
  if (options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ ok: true, endpoint: admin.endpoint, serviceAccounts: accounts }, null, 2)}\n`,
    );
    return 0;
  }
  if (accounts.length === 0) {
    ctx.stderr.write(`No service accounts on ${admin.endpoint}.\n`);
    return 0;
  }
  ctx.stdout.write(
    formatTable(
      ['NAME', 'ROLE', 'STATUS', 'EXPIRES', 'CREATED-BY'],
      accounts.map((a) => [
        serverTextCell(a.name),
        a.role,
        a.status,
        shortTime(a.expiresAt),
        serverTextCell(a.createdBy),
      ]),
    ),
  );
  return 0;
}

export async function serviceAccountRevokeCommand(
  ctx: AdminCommandContext,
  nameArgument: string,
  options: AdminListOptions,
): Promise<number> {
  const name = checkServiceAccountName(nameArgument);
  const admin = await openAdminClient(ctx, options.endpoint);
  const account = await admin.revokeServiceAccount(name);
  if (options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ ok: true, endpoint: admin.endpoint, serviceAccount: account }, null, 2)}\n`,
    );
  }
  ctx.stderr.write(
    `Revoked service account ${account.name} on ${admin.endpoint}: serve refuses its token from now on.\n`,
  );
  return 0;
}

export async function serviceAccountRotateKeyCommand(
  ctx: AdminCommandContext,
  options: AdminListOptions,
): Promise<number> {
  const admin = await openAdminClient(ctx, options.endpoint);
  const { kid } = await admin.rotateKey();
  if (options.json) ctx.stdout.write(`${JSON.stringify({ ok: true, endpoint: admin.endpoint, kid })}\n`);
  ctx.stderr.write(
    `New signing key ${serverTextCell(kid)} on ${admin.endpoint}: new tokens are signed with it; tokens signed before stay valid until they expire.\n`,
  );
  return 0;
}

/** "30 days", "1 day", or "12h" for less than a day. */
function lifetime(createdAt: string, expiresAt: string): string {
  // To the second: a token's exp is in whole seconds, its creation time in ms.
  const ms = Math.round((Date.parse(expiresAt) - Date.parse(createdAt)) / 1000) * 1000;
  if (!Number.isFinite(ms)) return 'lifetime unknown';
  const days = Math.round(ms / DAY_MS);
  if (ms < DAY_MS || Math.abs(ms - days * DAY_MS) >= 3_600_000) return formatDuration(ms);
  return `${days} day${days === 1 ? '' : 's'}`;
}
