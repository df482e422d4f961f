import type { Command } from 'commander';
import { ROLES } from '../../protocol/admin-api';
import type { RunAction } from './run-action';
import { ADMIN_NOTE, ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own: scripts/build-cli.mjs).
const load = (): typeof import('../commands/users-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/users-command') as typeof import('../commands/users-command');

/** Defines the `api users` group on `api`; its commands come from the functions below. */
export function defineUsersGroup(api: Command): Command {
  return api
    .command('users')
    .description(
      "List the people serve has seen and their roles, and change a person's role; admins only\n(serve --service-accounts)",
    )
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api users list
  cookie-bridge api users set-role bob@example.com admin
${ADMIN_NOTE}`,
    );
}

/** Defines `api users list`. */
export function defineUsersList(users: Command, run: RunAction): Command {
  return users
    .command('list')
    .description('List the people serve has seen: IDENTITY ROLE SOURCE LAST-SEEN')
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print them as JSON on stdout (ISO 8601 times)')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api users list -e https://api.example.com
  cookie-bridge api users list --json | jq -r '.users[] | select(.role == "admin") | .identity'
${ADMIN_NOTE}`,
    )
    .action(run((ctx, ...args) => load().usersListCommand(ctx, ...(args as [never]))));
}

/** Defines `api users set-role`. */
export function defineUsersSetRole(users: Command, run: RunAction): Command {
  return users
    .command('set-role')
    .description(
      "Give a person a role (admin or user), before or after serve first sees them; serve's --admin\nlist wins over it",
    )
    .argument('<identity>', 'the person, as the auth proxy names them (e.g. alice@example.com)')
    .addArgument(users.createArgument('<role>', 'admin or user').choices(ROLES))
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api users set-role bob@example.com admin
  cookie-bridge api users set-role carol@example.com user -e https://api.example.com
${ADMIN_NOTE}`,
    )
    .action(run((ctx, ...args) => load().usersSetRoleCommand(ctx, ...(args as [never, never, never]))));
}
