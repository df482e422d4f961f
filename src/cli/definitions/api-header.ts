import { type Command } from 'commander';
import type { RunAction } from './run-action';
import { ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/header-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/header-command') as typeof import('../commands/header-command');

/** Defines `api header` on `api`. */
export function defineApiHeader(api: Command, run: RunAction): Command {
  return api
    .command('header')
    .description(
      'Print the one HTTP header that carries the credential (Cookie: … or Authorization: …) on stdout,\nfor cookie-bridge api header | curl -H @- … (not curl -H "$(…)": that puts it on the command line,\nwhere other users can read it in ps); refuses to print to a terminal unless --force',
    )
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--force', 'print even when stdout is a terminal')
    .addHelpText(
      'after',
      `
Examples (curl 7.55+ reads -H @file; the credential stays off every command line):
  cookie-bridge api header | curl -H @- https://api.example.com/api/items
  curl -H @<(cookie-bridge api header) -d @body.json https://api.example.com/api/items   # bash, zsh`,
    )
    .action(run((ctx, ...args) => load().headerCommand(ctx, ...(args as [never]))));
}
