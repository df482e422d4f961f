import type { Command } from 'commander';
import type { RunAction } from './run-action';
import { parsePort, parsePositive } from './option-parsers';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/login-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/login-command') as typeof import('../commands/login-command');

/** Defines `api login` on `api`. */
export function defineApiLogin(api: Command, run: RunAction): Command {
  return api
    .command('login')
    .description(
      'Detect the auth proxy in front of <endpoint>, sign in with the browser and store the session.\nAlso: basic auth with -e https://user@host --password-stdin, service-account tokens with --token-stdin or --token-file.',
    )
    .requiredOption('-e, --endpoint <url>', 'the API endpoint, e.g. https://api.example.com')
    .option(
      '--cookies',
      'skip detection and use the browser cookie flow (when /api/health is exempt from the proxy)',
    )
    .option(
      '--port <n>',
      'port of the loopback listener that receives the login (default: a free one)',
      parsePort,
    )
    .option('--no-browser', 'do not open a browser; print the URL (for SSH sessions: paste the bundle back)')
    .addOption(
      api
        .createOption(
          '--relay',
          'receive the sign-in through the server instead of a loopback listener (browser on another machine); needs cookie-bridge serve.\nThe terminal shows a code: type it into the /token page (never a code someone sent you)',
        )
        .conflicts('port'),
    )
    .option(
      '--accept-stateless',
      "take a sign-in without state: the server's /token page is an older one that sends no state; any local process could forge such a bundle (without it one is refused, or asked about when stdin is a terminal)",
    )
    .option('--timeout <seconds>', 'how long to wait for the browser sign-in', parsePositive, 300)
    .addOption(
      api
        .createOption(
          '--token <token>',
          'store a service-account token, sent as Authorization: Bearer (visible to other users in ps: prefer --token-stdin or --token-file)',
        )
        .conflicts(['tokenStdin', 'tokenFile', 'passwordStdin']),
    )
    .addOption(
      api
        .createOption(
          '--token-stdin',
          'read the service-account token from stdin (one trailing newline is dropped)',
        )
        .conflicts(['tokenFile', 'passwordStdin']),
    )
    .addOption(
      api
        .createOption('--token-file <file>', 'read the service-account token from a file (keep it chmod 600)')
        .conflicts('passwordStdin'),
    )
    .option(
      '--password-stdin',
      'read the basic-auth password from stdin; name the user in the endpoint: -e https://user@host',
    )
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api login -e https://api.example.com
  cookie-bridge api login -e https://api.example.com --no-browser      # over SSH: paste the bundle
  printf %s "$PASSWORD" | cookie-bridge api login -e https://ci@api.example.com --password-stdin   # basic auth
  printf %s "$TOKEN" | cookie-bridge api login -e https://api.example.com --token-stdin   # service account
  cookie-bridge api login -e https://api.example.com --token-file ~/.config/api-token
  cookie-bridge api login -e https://api.internal.example --cacert corp-ca.pem   # private CA, stored
A password in -e (https://user:pass@host) or --token <token> also work, but other users of the machine
can read them in ps and the shell history keeps them: cookie-bridge warns.`,
    )
    .action(run((ctx, ...args) => load().loginCommand(ctx, ...(args as [never]))));
}
