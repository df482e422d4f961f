import { type Command } from 'commander';
import type { RunAction } from './run-action';
import { ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/logout-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/logout-command') as typeof import('../commands/logout-command');

/** Defines `api logout` on `api`. */
export function defineApiLogout(api: Command, run: RunAction): Command {
  return api
    .command('logout')
    .description("Forget an endpoint's stored credentials (other endpoints are untouched)")
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print the result as JSON on stdout')
    .action(run((ctx, ...args) => load().logoutCommand(ctx, ...(args as [never]))));
}
