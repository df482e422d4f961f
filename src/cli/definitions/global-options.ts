import type { Command } from 'commander';

/**
 * The program's own options, accepted before or after any command (GlobalFlags, cli-context.ts): defined once,
 * for commander (run-cli.ts's createProgram) and for the parse without it (plain-command-line.ts).
 */
export function defineGlobalOptions(program: Command): Command {
  return program
    .option('--debug', 'show every step, with secrets redacted')
    .option(
      '--cacert <file>',
      "trust this CA certificate (PEM file) for the endpoint's HTTPS, beside the system's CAs; api login stores it with the endpoint, so later commands need no flag",
    );
}
