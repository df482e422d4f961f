import type { Command } from 'commander';
import type { RunAction } from './run-action';
import { ENDPOINT_HELP } from './shared-help';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/cookies-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/cookies-command') as typeof import('../commands/cookies-command');

/** Defines `api cookies` on `api`. */
export function defineApiCookies(api: Command, run: RunAction): Command {
  return api
    .command('cookies')
    .description(
      'Export the stored session cookies for the tools you already use: a Netscape cookies.txt (curl -b,\nwget --load-cookies, git -c http.cookieFile, yt-dlp --cookies), JSON (Playwright/Puppeteer cookie objects)\nor the Cookie header line. -o FILE is written mode 600; refuses to print to a terminal unless --force',
    )
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .addOption(
      api
        .createOption('--format <format>', 'what to write')
        .choices(['netscape', 'json', 'header'])
        .default('netscape'),
    )
    .option(
      '-o, --output <file>',
      'write to FILE (mode 600, replaced atomically; a symbolic link is refused) instead of stdout',
    )
    .option(
      '--force',
      'print even when stdout is a terminal; replace an -o FILE that is not an earlier export',
    )
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api cookies -o cookies.txt && curl -b cookies.txt https://api.example.com/api/items
  wget --load-cookies cookies.txt https://api.example.com/reports/latest.pdf
  git -c http.cookieFile=cookies.txt clone https://git.example.com/git/team.git
  cookie-bridge api cookies --format json -o cookies.json     # Playwright: context.addCookies(…)
The file holds your session: keep it private, and export again after cookie-bridge api login.
Service-account tokens and basic auth have no cookies: --format header prints their Authorization header.`,
    )
    .action(run((ctx, ...args) => load().cookiesCommand(ctx, ...(args as [never]))));
}
