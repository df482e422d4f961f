import type { Command } from 'commander';
import { ROLES } from '../../protocol/admin-api';
import type { RunAction } from './run-action';
import { ADMIN_NOTE, ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own: scripts/build-cli.mjs).
const load = (): typeof import('../commands/service-account-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/service-account-command') as typeof import('../commands/service-account-command');

/** --expires: checked before any request (the command module, with its parser, loads only when it runs). */
function parseExpiresOption(value: string): number {
  return load().parseExpires(value);
}

/** Defines the `api service-account` group on `api`; its commands come from the functions below. */
export function defineServiceAccountGroup(api: Command): Command {
  return api
    .command('service-account')
    .description(
      'Create, list and revoke service accounts: tokens for robots (CI, schedulers, notebooks) that the\nauth proxy and serve accept as Authorization: Bearer; admins only (serve --service-accounts)',
    )
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api service-account create --name nightly-ci > ci-token      # the token, shown once
  cookie-bridge api service-account list
  cookie-bridge api service-account revoke nightly-ci
${ADMIN_NOTE}`,
    );
}

/** Defines `api service-account create`. */
export function defineServiceAccountCreate(serviceAccount: Command, run: RunAction): Command {
  return serviceAccount
    .command('create')
    .description(
      'Create a service account and print its token once on stdout (stderr says how to use it);\nthe server never shows it again',
    )
    .requiredOption('--name <name>', "its name: 1-63 lower-case letters, digits and '-' (e.g. nightly-ci)")
    .addOption(serviceAccount.createOption('--role <role>', 'its role (default: user)').choices(ROLES))
    .option(
      '--expires <duration>',
      "how long the token lives: 30d, 12h, 90m, 3600s (default: the server's, 30 days; at most its --sa-max-lifetime)",
      parseExpiresOption,
    )
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print the account and its token as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api service-account create --name nightly-ci > ci-token       # stdout: the token alone
  cookie-bridge api service-account create --name deployer --role admin --expires 90d
  cookie-bridge api service-account create --name etl --json | jq -r .token   # scripts
  gh secret set COOKIE_BRIDGE_TOKEN < ci-token && rm ci-token                 # then, in CI: npx cookie-bridge request …
The robot uses it as COOKIE_BRIDGE_TOKEN=… or with cookie-bridge api login -e <endpoint> --token-stdin.
${ADMIN_NOTE}`,
    )
    .action(run((ctx, ...args) => load().serviceAccountCreateCommand(ctx, ...(args as [never]))));
}

/** Defines `api service-account list`. */
export function defineServiceAccountList(serviceAccount: Command, run: RunAction): Command {
  return serviceAccount
    .command('list')
    .description('List the service accounts: NAME ROLE STATUS EXPIRES CREATED-BY (never a token)')
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print them as JSON on stdout (ISO 8601 times)')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api service-account list -e https://api.example.com
  cookie-bridge api service-account list --json | jq -r '.serviceAccounts[] | select(.status == "active") | .name'
${ADMIN_NOTE}`,
    )
    .action(run((ctx, ...args) => load().serviceAccountListCommand(ctx, ...(args as [never]))));
}

/** Defines `api service-account revoke`. */
export function defineServiceAccountRevoke(serviceAccount: Command, run: RunAction): Command {
  return serviceAccount
    .command('revoke')
    .description('Revoke a service account: serve refuses its token from now on, even before it expires')
    .argument('<name>', 'the service account')
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print the revoked account as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api service-account revoke nightly-ci
${ADMIN_NOTE}`,
    )
    .action(run((ctx, ...args) => load().serviceAccountRevokeCommand(ctx, ...(args as [never, never]))));
}

/** Defines `api service-account rotate-key`. */
export function defineServiceAccountRotateKey(serviceAccount: Command, run: RunAction): Command {
  return serviceAccount
    .command('rotate-key')
    .description(
      'Start a new signing key now; tokens signed with the old one stay valid until they expire\n(its public key stays published in the JWKS until then)',
    )
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print the new key id as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api service-account rotate-key -e https://api.example.com
${ADMIN_NOTE}`,
    )
    .action(run((ctx, ...args) => load().serviceAccountRotateKeyCommand(ctx, ...(args as [never]))));
}
