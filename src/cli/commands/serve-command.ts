import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isValidCookieName } from '../../protocol/bundle-codec';
import { UsageError } from '../../errors';
import { closeGracefully, listenServer, type GracefulClose } from '../../http/server-lifecycle';
import { createServeApp, parseUpstreamUrl } from '../../server/create-serve-app';
import {
  DEFAULT_PROXY_SECRET_HEADER,
  MIN_PROXY_SECRET_LENGTH,
  parseCidr,
  type ProxySecret,
} from '../../server/trusted-proxy';
import type { CliContext } from '../cli-context';
import { openAccountService } from './open-account-service';
import { parseServeAccountOptions, type ServeAccountFlags } from './serve-account-options';
import { onStopSignals } from '../stop-signals';

export interface ServeCommandOptions extends ServeAccountFlags {
  upstream: string;
  port: number;
  host: string;
  identityHeader: string;
  upstreamTimeout: number;
  /** CIDRs whose identity header is believed; ['none'] trusts no address. Default: loopback. */
  trustedProxy?: string[];
  /** File holding the secret the proxy sends in --proxy-secret-header (else $COOKIE_BRIDGE_PROXY_SECRET). */
  proxySecretFile?: string;
  proxySecretHeader?: string;
  /** --session-cookie NAME…: more cookie names the /token bundle carries. */
  sessionCookie?: string[];
}

/** Environment variable holding the proxy secret when --proxy-secret-file is not given. */
export const PROXY_SECRET_ENV = 'COOKIE_BRIDGE_PROXY_SECRET';

/** Time in-flight requests get to finish after SIGINT/SIGTERM before their connections are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

/** `cookie-bridge serve`: listens until SIGINT or SIGTERM, then closes cleanly and exits 0. */
export async function serveCommand(ctx: CliContext, options: ServeCommandOptions): Promise<number> {
  const upstream = checkUpstream(options.upstream);
  const trustedProxies = checkTrustedProxies(options.trustedProxy);
  const proxySecret = readProxySecret(ctx.env, options);
  const sessionCookies = checkSessionCookies(options.sessionCookie ?? []);
  const accountSettings = parseServeAccountOptions(options, ctx.env, options.identityHeader);
  const accounts =
    accountSettings.accounts === undefined ? undefined : openAccountService(ctx, accountSettings.accounts);
  const { app, upgrade } = createServeApp({
    upstream,
    identityHeader: options.identityHeader,
    sessionCookies,
    ...(trustedProxies === undefined ? {} : { trustedProxies }),
    ...(proxySecret === undefined ? {} : { proxySecret }),
    logger: ctx.logger,
    now: ctx.now,
    proxyTimeoutMs: options.upstreamTimeout * 1000,
    roleHeader: accountSettings.roleHeader,
    ...(accounts === undefined ? {} : { accounts, admins: accountSettings.accounts?.service.admins ?? [] }),
  });
  const server = http.createServer(app);
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    upgrade(req, socket, head);
  });
  server.on('clientError', (_error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  const port = await listenServer(server, {
    port: options.port,
    host: options.host,
    portInUseHint: 'pick another one with --port N (--port 0 picks a free one)',
  });
  server.on('error', (error) => ctx.logger.warn(`server error: ${error.message}`));
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  ctx.stderr.write(`cookie-bridge serve: listening on http://${host}:${port} → upstream ${upstream}\n`);
  if (accounts !== undefined) {
    ctx.stderr.write(
      `cookie-bridge serve: service accounts on, issuer ${accounts.issuer} (public: ${accounts.issuer}/jwks), ` +
        `state in ${accountSettings.accounts?.stateDir ?? '?'}\n`,
    );
  }

  await new Promise<void>((resolve) => {
    let stopping: GracefulClose | undefined;
    const off = onStopSignals((signal) => {
      if (stopping !== undefined) {
        // A second signal: do not wait for anyone.
        stopping.now();
        return;
      }
      ctx.logger.info(`cookie-bridge serve: ${signal}: shutting down`);
      stopping = closeGracefully(server, { graceMs: SHUTDOWN_GRACE_MS, upgraded, timers: ctx.timers });
      void stopping.closed.then(() => {
        off();
        resolve();
      });
    });
  });
  return 0;
}

/** parseUpstreamUrl, plus: no user:password@ (argv shows in ps). */
function checkUpstream(upstream: string): string {
  const parsed = parseUpstreamUrl(upstream);
  if ('problem' in parsed) {
    throw new UsageError(`--upstream ${parsed.problem}`, {
      hint: 'pass the app as --upstream http://127.0.0.1:3000',
    });
  }
  if (parsed.url.username !== '' || parsed.url.password !== '') {
    throw new UsageError('--upstream must not carry user:password@');
  }
  return parsed.text;
}

function checkTrustedProxies(values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const list = values.flatMap((value) => value.split(',')).map((value) => value.trim());
  if (list.length === 1 && list[0] === 'none') return [];
  for (const cidr of list) {
    try {
      parseCidr(cidr);
    } catch {
      throw new UsageError(`--trusted-proxy: not an address or CIDR: ${JSON.stringify(cidr)}`, {
        hint: 'give CIDRs such as 10.0.0.0/8 or ::1/128, or none to trust only --proxy-secret-file',
      });
    }
  }
  return list;
}

/** The proxy secret from --proxy-secret-file, else the environment; never from argv (it would show in ps). */
function readProxySecret(
  env: NodeJS.ProcessEnv,
  options: Pick<ServeCommandOptions, 'proxySecretFile' | 'proxySecretHeader'>,
): ProxySecret | undefined {
  let value: string | undefined;
  let source: string;
  if (options.proxySecretFile !== undefined) {
    source = '--proxy-secret-file';
    try {
      value = readFileSync(options.proxySecretFile, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new UsageError(`--proxy-secret-file: cannot read ${options.proxySecretFile}`, {
        hint: 'give a readable file holding only the secret the proxy sends',
      });
    }
  } else {
    source = `$${PROXY_SECRET_ENV}`;
    value = env[PROXY_SECRET_ENV];
    if (value === undefined || value === '') {
      if (options.proxySecretHeader !== undefined) {
        throw new UsageError('--proxy-secret-header needs a secret', {
          hint: `put the secret in a file for --proxy-secret-file, or in $${PROXY_SECRET_ENV}`,
        });
      }
      return undefined;
    }
  }
  if (value.length < MIN_PROXY_SECRET_LENGTH || /[\x00-\x20\x7f]/.test(value)) {
    throw new UsageError(
      `${source}: the proxy secret must be at least ${MIN_PROXY_SECRET_LENGTH} printable characters without spaces`,
      { hint: 'make one with: openssl rand -hex 32' },
    );
  }
  const header = options.proxySecretHeader ?? DEFAULT_PROXY_SECRET_HEADER;
  if (!/^[A-Za-z0-9-]+$/.test(header)) {
    throw new UsageError(`--proxy-secret-header: not a header name: ${JSON.stringify(header)}`, {
      hint: `use letters, digits and -, e.g. ${DEFAULT_PROXY_SECRET_HEADER}`,
    });
  }
  return { header, value };
}

function checkSessionCookies(names: string[]): string[] {
  for (const name of names) {
    if (!isValidCookieName(name)) {
      throw new UsageError(`--session-cookie is not a cookie name: ${JSON.stringify(name.slice(0, 64))}`, {
        hint: "pass the auth proxy's cookie name, e.g. --session-cookie _my_proxy (its _0, _1… chunks go too)",
      });
    }
  }
  return names;
}
