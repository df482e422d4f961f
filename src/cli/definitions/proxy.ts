import { type Command } from 'commander';
import type { RunAction } from './run-action';
import { parsePort, parseWorkers } from './option-parsers';
import { ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/proxy-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/proxy-command') as typeof import('../commands/proxy-command');

/** Defines `proxy` on `program`. */
export function defineProxy(program: Command, run: RunAction): Command {
  return program
    .command('proxy')
    .description(
      'Serve the endpoint on 127.0.0.1 with its stored credential, for tools that cannot carry cookies.\nPrints the URL on stdout (and, with --secret, the header to send); stops on Ctrl-C.',
    )
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', parsePort)
    .option('--secret', 'require a per-run random secret in the X-Cookie-Bridge-Secret header')
    .option(
      '--workers <n>',
      'processes serving the port (node:cluster; default 1): more requests/s on several cores',
      parseWorkers,
    )
    .action(run((ctx, ...args) => load().proxyCommand(ctx, ...(args as [never]))));
}
