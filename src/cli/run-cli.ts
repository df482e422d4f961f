import { Argument, Command, CommanderError, Option } from 'commander';
import { EXIT_CODES, ExitCode, UsageError } from '../errors';
import { ROLES } from '../protocol/admin-api';
import type { CliContext, CliHost, GlobalFlags } from './cli-context';
import { reportError } from './report-error';

/* Command modules are required lazily, so `cookie-bridge api info` does not load express or the login code. */
/* eslint-disable @typescript-eslint/no-require-imports */
const commands = {
  login: () => require('./commands/login-command') as typeof import('./commands/login-command'),
  info: () => require('./commands/info-command') as typeof import('./commands/info-command'),
  logout: () => require('./commands/logout-command') as typeof import('./commands/logout-command'),
  request: () => require('./commands/request-command') as typeof import('./commands/request-command'),
  proxy: () => require('./commands/proxy-command') as typeof import('./commands/proxy-command'),
  header: () => require('./commands/header-command') as typeof import('./commands/header-command'),
  cookies: () => require('./commands/cookies-command') as typeof import('./commands/cookies-command'),
  serve: () => require('./commands/serve-command') as typeof import('./commands/serve-command'),
  exec: () => require('./commands/exec-command') as typeof import('./commands/exec-command'),
  completion: () =>
    require('./commands/completion-command') as typeof import('./commands/completion-command'),
  serviceAccount: () =>
    require('./commands/service-account-command') as typeof import('./commands/service-account-command'),
  users: () => require('./commands/users-command') as typeof import('./commands/users-command'),
};
const loadContext = (): typeof import('./cli-context') =>
  require('./cli-context') as typeof import('./cli-context');
/* eslint-enable @typescript-eslint/no-require-imports */

/** Width of the left column of the exit codes' help, the gap included. */
const EXIT_CODES_LEFT_WIDTH = 33;

/**
 * Two columns generated from EXIT_CODES (src/errors.ts), the one table of exit codes. The left column takes
 * half the rows, or more when a row that would have a neighbour on its right is too wide for the column.
 */
export function formatExitCodesHelp(): string {
  const rows = Object.entries(EXIT_CODES).map(([code, { help }]) => `${code.padEnd(2)} ${help}`);
  let half = Math.ceil(rows.length / 2);
  while (rows.slice(0, rows.length - half).some((row) => row.length > EXIT_CODES_LEFT_WIDTH - 2)) half++;
  const left = rows.slice(0, half);
  const right = rows.slice(half);
  return left
    .map((row, i) => `  ${right[i] === undefined ? row : `${row.padEnd(EXIT_CODES_LEFT_WIDTH)}${right[i]}`}`)
    .join('\n');
}

const EXIT_CODES_HELP = `
Exit codes:
${formatExitCodesHelp()}

Environment:
  COOKIE_BRIDGE_HOME      where credentials live (default: the platform config folder)
  COOKIE_BRIDGE_ENDPOINT  endpoint used when -e is not given
  COOKIE_BRIDGE_TOKEN     service-account token; overrides any stored credential
  COOKIE_BRIDGE_CA_BUNDLE CA certificates (PEM file) trusted for every endpoint, beside the system's
                          and NODE_EXTRA_CA_CERTS (HTTPS with a private CA; see also --cacert)
  BROWSER                 command that opens the sign-in URL (receives it as last argument)
  https_proxy, HTTPS_PROXY  forward proxy for https:// (http://[user:pass@]host:port), as curl reads them
  http_proxy, HTTP_PROXY  forward proxy for http:// (lower case wins; HTTP_PROXY ignored under CGI)
  all_proxy, ALL_PROXY    forward proxy when the scheme's own variable is not set
  no_proxy, NO_PROXY      hosts that go direct: a.com,.b.com,10.0.0.0/8,::1,host:port or *`;

/** What the error handler needs to know about the run: the global flags and the context, once parsed. */
interface CliRun {
  flags: GlobalFlags;
  context: CliContext | undefined;
}

/**
 * Runs one command line and resolves to its exit code; never rejects. Every error, from commander, a command
 * or the wiring, goes through the one top-level handler (reportError).
 */
export async function runCli(argv: string[], version = '0.0.0', host: CliHost = {}): Promise<number> {
  const state: CliRun = { flags: {}, context: undefined };
  try {
    return await runProgram(argv, version, state, host);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Ok;
      if (error.code === 'commander.help') return ExitCode.Ok;
      return ExitCode.Usage;
    }
    return reportError(error, {
      stdout: process.stdout,
      stderr: process.stderr,
      json: state.flags.json === true,
      debug: state.context?.debug ?? state.flags.debug === true,
    });
  }
}

async function runProgram(argv: string[], version: string, state: CliRun, host: CliHost): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const getContext = (): CliContext => {
    if (state.context === undefined) {
      state.context = loadContext().createCliContext(state.flags, host);
      if (host.codeCache !== undefined) state.context.logger.debug(`start: code cache ${host.codeCache}`);
    }
    return state.context;
  };

  const run =
    (action: (ctx: CliContext, ...args: never[]) => Promise<number | void>) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      state.flags = command.optsWithGlobals() as GlobalFlags;
      exitCode = (await action(getContext(), ...(args.slice(0, -1) as never[]))) ?? ExitCode.Ok;
    };

  const program = new Command('cookie-bridge')
    .description(
      'Use HTTP APIs that sit behind a browser cookie auth proxy (oauth2-proxy, mod_auth_openidc, nginx auth_request)\nfrom the terminal, scripts and Node: sign in once with the browser, then replay the session.',
    )
    .version(version, '-V, --version')
    .option('--debug', 'show every step, with secrets redacted')
    .option(
      '--cacert <file>',
      "trust this CA certificate (PEM file) for the endpoint's HTTPS, beside the system's CAs; api login stores it with the endpoint, so later commands need no flag",
    )
    // Every command's --help lists --debug and --cacert too (defined once, here).
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const api = program.command('api').description('log in to an endpoint, inspect and forget credentials');

  api
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
      new Option(
        '--relay',
        'receive the sign-in through the server instead of a loopback listener (browser on another machine); needs cookie-bridge serve.\nThe terminal shows a code: type it into the /token page (never a code someone sent you)',
      ).conflicts('port'),
    )
    .option(
      '--accept-stateless',
      "take a sign-in without state: the server's /token page is an older one that sends no state; any local process could forge such a bundle (without it one is refused, or asked about when stdin is a terminal)",
    )
    .option('--timeout <seconds>', 'how long to wait for the browser sign-in', parsePositive, 300)
    .addOption(
      new Option(
        '--token <token>',
        'store a service-account token, sent as Authorization: Bearer (visible to other users in ps: prefer --token-stdin or --token-file)',
      ).conflicts(['tokenStdin', 'tokenFile', 'passwordStdin']),
    )
    .addOption(
      new Option(
        '--token-stdin',
        'read the service-account token from stdin (one trailing newline is dropped)',
      ).conflicts(['tokenFile', 'passwordStdin']),
    )
    .addOption(
      new Option(
        '--token-file <file>',
        'read the service-account token from a file (keep it chmod 600)',
      ).conflicts('passwordStdin'),
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
    .action(run((ctx, ...args) => commands.login().loginCommand(ctx, ...(args as [never]))));

  api
    .command('info')
    .description('Show which credential is used for an endpoint, who you are, and whether the server answers')
    .option('-e, --endpoint <url>', 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)')
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
    .action(run((ctx, ...args) => commands.info().infoCommand(ctx, ...(args as [never]))));

  api
    .command('logout')
    .description("Forget an endpoint's stored credentials (other endpoints are untouched)")
    .option('-e, --endpoint <url>', 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)')
    .option('--json', 'print the result as JSON on stdout')
    .action(run((ctx, ...args) => commands.logout().logoutCommand(ctx, ...(args as [never]))));

  api
    .command('header')
    .description(
      'Print the one HTTP header that carries the credential (Cookie: … or Authorization: …) on stdout,\nfor cookie-bridge api header | curl -H @- … (not curl -H "$(…)": that puts it on the command line,\nwhere other users can read it in ps); refuses to print to a terminal unless --force',
    )
    .option('-e, --endpoint <url>', 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)')
    .option('--force', 'print even when stdout is a terminal')
    .addHelpText(
      'after',
      `
Examples (curl 7.55+ reads -H @file; the credential stays off every command line):
  cookie-bridge api header | curl -H @- https://api.example.com/api/items
  curl -H @<(cookie-bridge api header) -d @body.json https://api.example.com/api/items   # bash, zsh`,
    )
    .action(run((ctx, ...args) => commands.header().headerCommand(ctx, ...(args as [never]))));

  api
    .command('cookies')
    .description(
      'Export the stored session cookies for the tools you already use: a Netscape cookies.txt (curl -b,\nwget --load-cookies, git -c http.cookieFile, yt-dlp --cookies), JSON (Playwright/Puppeteer cookie objects)\nor the Cookie header line. -o FILE is written mode 600; refuses to print to a terminal unless --force',
    )
    .option('-e, --endpoint <url>', 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)')
    .addOption(
      new Option('--format <format>', 'what to write')
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
    .action(run((ctx, ...args) => commands.cookies().cookiesCommand(ctx, ...(args as [never]))));

  const ENDPOINT_HELP = 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)';
  const ADMIN_NOTE = `
The calls go to the endpoint's /cookie-bridge/admin/ API (cookie-bridge serve --service-accounts) with the
stored sign-in ($COOKIE_BRIDGE_TOKEN first), as \`request\` sends it: admins only (serve --admin, or a role set
with api users set-role; an admin service account's token works too). A refusal names who you are and who may
(exit 10); an expired session exits 4 as for every command.`;

  const serviceAccount = api
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

  serviceAccount
    .command('create')
    .description(
      'Create a service account and print its token once on stdout (stderr says how to use it);\nthe server never shows it again',
    )
    .requiredOption('--name <name>', "its name: 1-63 lower-case letters, digits and '-' (e.g. nightly-ci)")
    .addOption(new Option('--role <role>', 'its role (default: user)').choices(ROLES))
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
    .action(
      run((ctx, ...args) => commands.serviceAccount().serviceAccountCreateCommand(ctx, ...(args as [never]))),
    );

  serviceAccount
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
    .action(
      run((ctx, ...args) => commands.serviceAccount().serviceAccountListCommand(ctx, ...(args as [never]))),
    );

  serviceAccount
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
    .action(
      run((ctx, ...args) =>
        commands.serviceAccount().serviceAccountRevokeCommand(ctx, ...(args as [never, never])),
      ),
    );

  serviceAccount
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
    .action(
      run((ctx, ...args) =>
        commands.serviceAccount().serviceAccountRotateKeyCommand(ctx, ...(args as [never])),
      ),
    );

  const users = api
    .command('users')
    .description(
      "List the people serve has seen and their roles, and change a person's role; admins only\n(serve --service-accounts)",
    )
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api users list
  cookie-bridge api users set-role bob@example.com admin
${ADMIN_NOTE}`,
    );

  users
    .command('list')
    .description('List the people serve has seen: IDENTITY ROLE SOURCE LAST-SEEN')
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print them as JSON on stdout (ISO 8601 times)')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api users list -e https://api.example.com
  cookie-bridge api users list --json | jq -r '.users[] | select(.role == "admin") | .identity'
${ADMIN_NOTE}`,
    )
    .action(run((ctx, ...args) => commands.users().usersListCommand(ctx, ...(args as [never]))));

  users
    .command('set-role')
    .description(
      "Give a person a role (admin or user), before or after serve first sees them; serve's --admin\nlist wins over it",
    )
    .argument('<identity>', 'the person, as the auth proxy names them (e.g. alice@example.com)')
    .addArgument(new Argument('<role>', 'admin or user').choices(ROLES))
    .option('-e, --endpoint <url>', ENDPOINT_HELP)
    .option('--json', 'print the result as JSON on stdout')
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge api users set-role bob@example.com admin
  cookie-bridge api users set-role carol@example.com user -e https://api.example.com
${ADMIN_NOTE}`,
    )
    .action(
      run((ctx, ...args) => commands.users().usersSetRoleCommand(ctx, ...(args as [never, never, never]))),
    );

  program
    .command('request')
    .description(
      "Send one request through the endpoint's stored credential, curl-style. The body streams to stdout;\nstatus and errors go to stderr; HTTP >= 400 exits 22; an expired session exits 4.",
    )
    .argument('<path-or-url>', 'a path on the endpoint (/api/items) or a URL on the same origin')
    .option('-e, --endpoint <url>', 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)')
    .option('-X, --request <method>', 'HTTP method (default GET, or POST with a body)')
    .addOption(
      new Option('-H, --header <header>', "extra header 'Name: value' (repeatable; Accept is */* unless set)")
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
    .action(run((ctx, ...args) => commands.request().requestCommand(ctx, ...(args as [never, never]))));

  program
    .command('proxy')
    .description(
      'Serve the endpoint on 127.0.0.1 with its stored credential, for tools that cannot carry cookies.\nPrints the URL on stdout (and, with --secret, the header to send); stops on Ctrl-C.',
    )
    .option('-e, --endpoint <url>', 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)')
    .option('--port <n>', 'port on 127.0.0.1 (default: a free one)', parsePort)
    .option('--secret', 'require a per-run random secret in the X-Cookie-Bridge-Secret header')
    .option(
      '--workers <n>',
      'processes serving the port (node:cluster; default 1): more requests/s on several cores',
      parseWorkers,
    )
    .action(run((ctx, ...args) => commands.proxy().proxyCommand(ctx, ...(args as [never]))));

  program
    .command('serve')
    .description(
      'Run the server half in front of an app that knows nothing of cookie-bridge: behind the auth proxy,\nserve /token and relay login, and forward everything else (WebSockets too) to --upstream.',
    )
    .requiredOption('--upstream <url>', 'the app to forward to, e.g. http://127.0.0.1:3000')
    .option('--port <n>', 'port to listen on (0: a free one, printed)', parseListenPort, 8080)
    .option(
      '--host <host>',
      'address to listen on; 0.0.0.0 only on purpose (e.g. in a container)',
      '127.0.0.1',
    )
    .option(
      '--identity-header <name>',
      'header the auth proxy sets to the signed-in user (e.g. OIDC_CLAIM_email)',
      'X-Auth-Request-Email',
    )
    .option(
      '--upstream-timeout <seconds>',
      'time allowed for the upstream to start answering (then 504)',
      parsePositive,
      60,
    )
    .option(
      '--trusted-proxy <cidr...>',
      'addresses whose identity header is believed (default: loopback; none: only the secret header)',
    )
    .option(
      '--proxy-secret-file <file>',
      'file with the secret the proxy adds in --proxy-secret-header; requests carrying it are believed ' +
        'from any address (default: $COOKIE_BRIDGE_PROXY_SECRET; never on the command line)',
    )
    .option(
      '--proxy-secret-header <name>',
      'header carrying the proxy secret (default: X-Cookie-Bridge-Proxy-Secret)',
    )
    .option(
      '--session-cookie <name...>',
      "the auth proxy's session cookie, if it is not a known one (e.g. oauth2-proxy --cookie-name):\n" +
        '/token hands over only session cookies (with their _0, _1… chunks), other cookies stay in the browser',
    )
    .option(
      '--relay-store <store>',
      'where relay logins wait: memory (this process; default) or redis://[user@]host:port[/db],\n' +
        'rediss://… (TLS), one store shared by every replica (default: $COOKIE_BRIDGE_RELAY_STORE)',
    )
    .option(
      '--relay-store-password-file <file>',
      'file with the Redis password (default: $COOKIE_BRIDGE_RELAY_STORE_PASSWORD, or the URL in\n' +
        '$COOKIE_BRIDGE_RELAY_STORE; never on the command line)',
    )
    .option('--relay-store-prefix <prefix>', 'prefix of the Redis keys (default: cookie-bridge:relay:)')
    .option(
      '--relay-store-cacert <file>',
      'CA certificate (PEM) a rediss:// store is trusted with, beside the system roots',
    )
    .option(
      '--relay-ttl <seconds>',
      'how long a relay sign-in waits for its confirm, and a confirmed one for its claim (default: 300)',
      parsePositive,
    )
    .option(
      '--service-accounts',
      'issue service-account tokens (JWTs signed by serve) and give people roles; needs --sa-issuer',
    )
    .option(
      '--sa-issuer <url>',
      "the tokens' issuer: the https URL of a path serve answers, e.g. https://api.example.com/cookie-bridge/sa\n" +
        '(its /.well-known/openid-configuration and /jwks are public: the proxy must let them through)',
    )
    .option('--sa-audience <aud>', "the tokens' aud (default: cookie-bridge)")
    .option('--sa-max-lifetime <duration>', 'the longest lifetime an admin may give a token (default: 365d)')
    .option(
      '--sa-key-lifetime <duration>',
      'how long a signing key signs before a new one takes over (default: 90d)',
    )
    .option(
      '--sa-email-domain <domain>',
      "the domain of a token's email claim (default: service-accounts.invalid)",
    )
    .option('--admin <email...>', 'people who are admins whatever the registry says')
    .option('--default-role <role>', 'the role of everyone else: user or admin (default: user)')
    .option(
      '--role-header <name>',
      "header serve passes the caller's role in; a client's own is removed (default: X-Cookie-Bridge-Role)",
    )
    .option(
      '--state-dir <dir>',
      'where the signing keys and the registry live, 0700 (default: $COOKIE_BRIDGE_STATE_DIR, else the data folder); ' +
        'with a redis:// relay store they live in that Redis and --state-dir is refused',
    )
    .addHelpText(
      'after',
      `
Examples:
  cookie-bridge serve --upstream http://127.0.0.1:3000 --port 4181
  cookie-bridge serve --upstream http://127.0.0.1:3000 --session-cookie _myteam_auth
  cookie-bridge serve --upstream http://app:3000 --host 0.0.0.0 --identity-header OIDC_CLAIM_email \\
    --trusted-proxy none --proxy-secret-file /run/secrets/proxy-secret
  COOKIE_BRIDGE_RELAY_STORE=redis://redis:6379/0 cookie-bridge serve --upstream http://app:3000 \\
    --host 0.0.0.0 --relay-store-password-file /run/secrets/redis-password     # several replicas
  cookie-bridge serve --upstream http://127.0.0.1:3000 --service-accounts \\
    --sa-issuer https://api.example.com/cookie-bridge/sa --admin alice@example.com
The auth proxy must let /cookie-bridge/relay/ (and, with --service-accounts, the issuer's path) through
without a cookie (see docs/serve.md). Durations: 30d, 12h, 90m, 3600s.
The identity header is removed unless the request comes from --trusted-proxy or carries the proxy secret;
paths with dot segments (.., %2e%2e) or double encoding get 400 and are never forwarded.`,
    )
    .action(run((ctx, ...args) => commands.serve().serveCommand(ctx, ...(args as [never]))));

  program
    .command('exec')
    .description(
      'Run a command with a local forwarding proxy (as `proxy`) started for its lifetime.\n' +
        "The command finds its URL in $COOKIE_BRIDGE_URL; its exit code is cookie-bridge's.",
    )
    .argument('<command...>', 'the command and its arguments, after --')
    .option('-e, --endpoint <url>', 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)')
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
    .action(run((ctx, ...args) => commands.exec().execCommand(ctx, ...(args as [never, never]))));

  program
    .command('completion')
    .description(
      'Print the completion script for bash, zsh or fish: commands, options, and stored endpoints after -e',
    )
    .addArgument(new Argument('[shell]', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addOption(
      new Option('--endpoints', 'list the stored endpoints, one a line (for the scripts)').hideHelp(),
    )
    .addHelpText(
      'after',
      `
Install:
  bash   echo 'source <(cookie-bridge completion bash)' >> ~/.bashrc
  zsh    echo 'source <(cookie-bridge completion zsh)' >> ~/.zshrc      # after compinit
  fish   cookie-bridge completion fish > ~/.config/fish/completions/cookie-bridge.fish`,
    )
    .action(
      run((ctx, ...args) =>
        commands.completion().completionCommand(ctx, program, ...(args as [never, never])),
      ),
    );

  await program.parseAsync(argv);
  return exitCode;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be a whole number from 1 to 65535, not ${JSON.stringify(value)}`);
  }
  return port;
}

function parseWorkers(value: string): number {
  const workers = Number(value);
  if (!/^[0-9]+$/.test(value) || workers < 1 || workers > 64) {
    throw new UsageError(`--workers must be a whole number from 1 to 64, not ${JSON.stringify(value)}`);
  }
  return workers;
}

function parseListenPort(value: string): number {
  const port = Number(value);
  if (!/^[0-9]+$/.test(value) || port > 65535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, not ${JSON.stringify(value)}`);
  }
  return port;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`expected a positive number of seconds, not ${JSON.stringify(value)}`);
  return n;
}

/** --expires: checked before any request (the command module, with its parser, loads only when it runs). */
function parseExpiresOption(value: string): number {
  return commands.serviceAccount().parseExpires(value);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
