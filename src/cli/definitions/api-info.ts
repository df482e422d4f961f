import { type Command } from 'commander';
import type { RunAction } from './run-action';
import { ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/info-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/info-command') as typeof import('../commands/info-command');

/** Defines `api info` on `api`. */
export function defineApiInfo(api: Command, run: RunAction): Command {
  return api
    .command('info')
    .description('Show which credential is used for an endpoint, who you are, and whether the server answers')
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--all', 'list every stored endpoint')
    .option('--offline', 'do not contact the server')
    .option('--json', 'print JSON on stdout (secrets are never included)')
    .option(
      '--check',
      'for scripts: exit 0 when the stored credential works now, 3 when not logged in, 4 when the session\nexpired (stored expiry, no network) or the auth proxy rejects it, 5 when the server cannot be reached;\nprints one line on stderr (--json: the result on stdout)',
    )
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api info -e https://api.example.com            # who, which credential, when the session expires
  cookie-bridge api info --check -e https://api.example.com || cookie-bridge api login -e https://api.example.com`,
    )
    .action(run((ctx, ...args) => load().infoCommand(ctx, ...(args as [never]))));
}
