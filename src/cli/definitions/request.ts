import type { Command } from 'commander';
import type { RunAction } from './run-action';
import { parsePositive, collect } from './option-parsers';
import { ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/request-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/request-command') as typeof import('../commands/request-command');

/** Defines `request` on `program`. */
export function defineRequest(program: Command, run: RunAction): Command {
  return program
    .command('request')
    .description(
      "Send one request through the endpoint's stored credential, curl-style. The body streams to stdout;\nstatus and errors go to stderr; HTTP >= 400 exits 22; an expired session exits 4.",
    )
    .argument('<path-or-url>', 'a path on the endpoint (/api/items) or a URL on the same origin')
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('-X, --request <method>', 'HTTP method (default GET, or POST with a body)')
    .addOption(
      program
        .createOption(
          '-H, --header <header>',
          "extra header 'Name: value' (repeatable; Accept is */* unless set)",
        )
        .argParser(collect)
        .default([]),
    )
    .option('-d, --data <data>', 'request body')
    .option('--data-file <file>', "request body from a file ('-' for stdin), streamed")
    .option('-i, --include', 'print the response status line and headers on stderr')
    .option('-s, --silent', 'print nothing on stderr but errors')
    .option('--timeout <seconds>', 'time allowed for the response headers', parsePositive, 30)
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge request /api/items
  cookie-bridge request -X POST -H 'Content-Type: application/json' -d '{"name":"x"}' /api/items
  cookie-bridge request --data-file big.bin -X PUT /api/upload > reply.json`,
    )
    .action(run((ctx, ...args) => load().requestCommand(ctx, ...(args as [never, never]))));
}
