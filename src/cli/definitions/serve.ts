import { type Command } from 'commander';
import type { RunAction } from './run-action';
import { parsePositive, parseListenPort } from './option-parsers';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/serve-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/serve-command') as typeof import('../commands/serve-command');

/** Defines `serve` on `program`. */
export function defineServe(program: Command, run: RunAction): Command {
  return program
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
    .action(run((ctx, ...args) => load().serveCommand(ctx, ...(args as [never]))));
}
