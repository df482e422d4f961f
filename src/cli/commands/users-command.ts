import type { Role } from '../../protocol/admin-api';
import { UsageError } from '../../errors';
import type { CliContext } from '../cli-context';
import { formatTable, openAdminClient, serverTextCell, shortTime } from './open-admin-client';
import type { AdminListOptions } from './service-account-command';

type AdminCommandContext = Pick<CliContext, 'env' | 'store' | 'logger' | 'http' | 'stdout' | 'stderr'>;

const ROLE_SOURCES = { 'admin-flag': 'serve --admin', registry: 'set by an admin', default: 'default role' };

/** `api users list`: the people serve has seen, with their role and where it comes from. */
export async function usersListCommand(ctx: AdminCommandContext, options: AdminListOptions): Promise<number> {
  const admin = await openAdminClient(ctx, options.endpoint);
  const users = await admin.listUsers();
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify({ ok: true, endpoint: admin.endpoint, users }, null, 2)}\n`);
    return 0;
  }
  if (users.length === 0) {
    ctx.stderr.write(`No users seen by ${admin.endpoint} yet.\n`);
    return 0;
  }
  ctx.stdout.write(
    formatTable(
      ['IDENTITY', 'ROLE', 'SOURCE', 'LAST-SEEN'],
      users.map((u) => [
        serverTextCell(u.identity),
        u.role,
        ROLE_SOURCES[u.roleSource],
        shortTime(u.lastSeenAt),
      ]),
    ),
  );
  return 0;
}

/** `api users set-role IDENTITY ROLE`: says the role the server now gives (serve --admin wins over it). */
export async function usersSetRoleCommand(
  ctx: AdminCommandContext,
  identity: string,
  role: Role,
  options: AdminListOptions,
): Promise<number> {
  if (identity.trim() === '' || /[\x00-\x1f\x7f]/.test(identity)) {
    throw new UsageError(`${JSON.stringify(identity)} is not an identity`, {
      hint: 'name the person as the auth proxy does, e.g. alice@example.com (api users list shows them)',
    });
  }
  const admin = await openAdminClient(ctx, options.endpoint);
  const person = await admin.setRole(identity, role);
  if (options.json)
    ctx.stdout.write(`${JSON.stringify({ ok: true, endpoint: admin.endpoint, user: person }, null, 2)}\n`);
  const who = serverTextCell(person.identity);
  ctx.stderr.write(
    `${who} has role ${person.role} on ${admin.endpoint} (${ROLE_SOURCES[person.roleSource]}).\n`,
  );
  if (person.role !== role) {
    ctx.logger.warn(`${who} is still ${person.role}: serve's --admin list wins over a role set here`);
  }
  return 0;
}
