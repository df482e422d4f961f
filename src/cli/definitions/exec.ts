import { type Command } from 'commander';
import type { RunAction } from './run-action';
import { parsePort } from './option-parsers';
import { ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/exec-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/exec-command') as typeof import('../commands/exec-command');

/** Defines `exec` on `program`. */
export function defineExec(program: Command, run: RunAction): Command {
  return program
    .command('exec')
    .description(
      'Run a command with a local forwarding proxy (as `proxy`) started for its lifetime.\n' +
        "The command finds its URL in $COOKIE_BRIDGE_URL; its exit code is cookie-bridge's.",
    )
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--port <n>', 'port of the proxy on 127.0.0.1 (default: a free one)', parsePort)
    .option(
      '--secret',
      'require a per-run random secret in the X-Cookie-Bridge-Secret header; the command finds it in\n' +
        '$COOKIE_BRIDGE_SECRET (never on a command line)',
    )
    .addHelpText(
      'after',
      `
The command's environment: COOKIE_BRIDGE_URL (http://127.0.0.1:<port>, no trailing slash) and
COOKIE_BRIDGE_ENDPOINT (the endpoint). No shell: the words after -- are the command and its arguments;
use sh -c '…' for pipes and $VARIABLES. Exit code: the command's; 128+n when signal n ended it;
127 when it is not found, 126 when it cannot be run; cookie-bridge's own codes before it starts.

Examples:
  cookie-bridge exec -- sh -c 'curl -s "$COOKIE_BRIDGE_URL/api/items"'
  cookie-bridge exec -e https://api.example.com -- python3 report.py   # requests.get(os.environ["COOKIE_BRIDGE_URL"] + "/api/items")
  cookie-bridge exec -- npm test
The proxy stops when the command exits. SIGTERM and SIGHUP sent to cookie-bridge are passed on to the
command (SIGINT and SIGQUIT too when there is no terminal: a terminal's Ctrl-C reaches the command itself).
Session cookies the server refreshes are saved, as with \`proxy\`. With HTTPS_PROXY/http_proxy set,
127.0.0.1 is added to the command's NO_PROXY, so it reaches $COOKIE_BRIDGE_URL directly.`,
    )
    .action(run((ctx, ...args) => load().execCommand(ctx, ...(args as [never, never]))));
}
