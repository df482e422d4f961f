import { promises as fsPromises, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TextOutput } from '../../context';
import { isValidCookieName } from '../../protocol/bundle-codec';
import { UsageError } from '../../errors';
import { closeGracefully, listenServer, type GracefulClose } from '../../http/server-lifecycle';
import { readCaFile } from '../../http/tls-options';
import {
  createRedisAccountStateStore,
  type RedisAccountStateStore,
  type RedisAccountStateStoreOptions,
} from '../../server/accounts/redis-account-state-store';
import { createServeApp, parseUpstreamUrl } from '../../server/create-serve-app';
import {
  createRedisRelayStore,
  type RedisRelayStore,
  type RedisRelayStoreOptions,
} from '../../server/redis-relay-store';
import { createMemoryRelayStore, type RelayStore } from '../../server/relay-store';
import {
  resolveRelayStoreSettings,
  type RelayStoreFlags,
  type RelayStoreSettings,
} from '../relay-store-settings';
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

export interface ServeCommandOptions extends RelayStoreFlags, ServeAccountFlags {
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

/** What serve needs of the CLI's context (tests hand in their own stderr). */
export type ServeContext = Pick<CliContext, 'env' | 'logger' | 'now' | 'timers'> & {
  stderr: TextOutput;
};

/** What serve starts with besides the context: the Redis stores' factories and the stop signals (tests swap them). */
export interface ServeDeps {
  createRedisRelayStore: (options: RedisRelayStoreOptions) => RedisRelayStore;
  /** The service accounts' store with a Redis relay store; default createRedisAccountStateStore. */
  createRedisAccountStateStore?: (options: RedisAccountStateStoreOptions) => RedisAccountStateStore;
  onStopSignals: (handler: (signal: NodeJS.Signals) => void) => () => void;
}

const systemServeDeps: ServeDeps = { createRedisRelayStore, createRedisAccountStateStore, onStopSignals };

/** `cookie-bridge serve`: listens until SIGINT or SIGTERM, then closes cleanly and exits 0. */
export function serveCommand(ctx: CliContext, options: ServeCommandOptions): Promise<number> {
  return runServe(ctx, options, systemServeDeps);
}

/**
 * serve with its dependencies given: checks every flag, opens the relay store (serve starts whether or not a
 * Redis store answers), the account service (in that Redis with a Redis relay store, else in the state dir),
 * listens, prints the listening, accounts and relay-store lines, and on a stop signal closes the server, then
 * the stores.
 */
export async function runServe(
  ctx: ServeContext,
  options: ServeCommandOptions,
  deps: ServeDeps,
): Promise<number> {
  const upstream = checkUpstream(options.upstream);
  const trustedProxies = checkTrustedProxies(options.trustedProxy);
  const proxySecret = readProxySecret(ctx.env, options);
  const sessionCookies = checkSessionCookies(options.sessionCookie ?? []);
  const accountSettings = parseServeAccountOptions(options, ctx.env, options.identityHeader);
  // Every flag is checked before a store opens a connection (a bad flag leaves nothing open).
  const storeSettings = await resolveRelayStoreSettings(options, ctx.env, {
    readPasswordFile: (file) => fsPromises.readFile(file, 'utf8'),
    readCaFile,
  });
  if (
    accountSettings.accounts !== undefined &&
    storeSettings.kind === 'redis' &&
    options.stateDir !== undefined
  ) {
    throw new UsageError(
      '--state-dir does not apply with a Redis relay store: service accounts live in Redis',
      {
        hint: 'drop --state-dir (every replica keeps its service accounts beside the relay store)',
      },
    );
  }
  const accounts =
    accountSettings.accounts === undefined
      ? undefined
      : openAccountService(
          ctx,
          accountSettings.accounts,
          storeSettings,
          deps.createRedisAccountStateStore ?? createRedisAccountStateStore,
        );
  const relayStore = openRelayStore(ctx, storeSettings, deps);
  /** The stores are closed after the server: no request in flight still needs them. */
  const closeStores = async (): Promise<void> => {
    await closeRelayStore(ctx, relayStore.store);
    await accounts?.close().catch((error: unknown) => {
      ctx.logger.warn(
        `service accounts store: closing failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  };
  const { app, upgrade } = createServeApp({
    upstream,
    identityHeader: options.identityHeader,
    sessionCookies,
    relayStore: relayStore.store,
    ...(trustedProxies === undefined ? {} : { trustedProxies }),
    ...(proxySecret === undefined ? {} : { proxySecret }),
    logger: ctx.logger,
    now: ctx.now,
    proxyTimeoutMs: options.upstreamTimeout * 1000,
    roleHeader: accountSettings.roleHeader,
    ...(accounts === undefined
      ? {}
      : { accounts: accounts.service, admins: accountSettings.accounts?.service.admins ?? [] }),
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

  let port: number;
  try {
    port = await listenServer(server, {
      port: options.port,
      host: options.host,
      portInUseHint: 'pick another one with --port N (--port 0 picks a free one)',
    });
  } catch (error) {
    await closeStores();
    throw error;
  }
  server.on('error', (error) => ctx.logger.warn(`server error: ${error.message}`));
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  ctx.stderr.write(`cookie-bridge serve: listening on http://${host}:${port} → upstream ${upstream}\n`);
  if (accounts !== undefined) {
    ctx.stderr.write(
      `cookie-bridge serve: service accounts on, issuer ${accounts.service.issuer} ` +
        `(public: ${accounts.service.issuer}/jwks), state in ${accounts.location}\n`,
    );
  }
  // One line saying which store answers relay logins; a Redis store's later changes are logged by the store.
  void relayStore.describe().then((line) => ctx.stderr.write(`cookie-bridge serve: relay store: ${line}\n`));

  await new Promise<void>((resolve) => {
    let stopping: GracefulClose | undefined;
    const off = deps.onStopSignals((signal) => {
      if (stopping !== undefined) {
        // A second signal: do not wait for anyone.
        stopping.now();
        return;
      }
      ctx.logger.info(`cookie-bridge serve: ${signal}: shutting down`);
      stopping = closeGracefully(server, { graceMs: SHUTDOWN_GRACE_MS, upgraded, timers: ctx.timers });
      // The stores are closed after the server: no request in flight still needs them.
      void stopping.closed.then(closeStores).then(() => {
        off();
        resolve();
      });
    });
  });
  return 0;
}

interface OpenedRelayStore {
  store: RelayStore;
  /** The start-up line's text, once a Redis store's first connection attempt settled. */
  describe(): Promise<string>;
}

/** The store the settings name: memory (this process), or Redis (shared; serve starts even when it is down). */
function openRelayStore(ctx: ServeContext, settings: RelayStoreSettings, deps: ServeDeps): OpenedRelayStore {
  if (settings.kind === 'memory') {
    return {
      store: createMemoryRelayStore({ now: ctx.now, ttlMs: settings.ttlMs }),
      describe: () =>
        Promise.resolve('memory (this process only; several replicas need --relay-store redis://…)'),
    };
  }
  const store = deps.createRedisRelayStore({
    url: settings.url,
    prefix: settings.prefix,
    ttlMs: settings.ttlMs,
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.ca === undefined ? {} : { ca: settings.ca }),
    logger: ctx.logger,
    now: ctx.now,
  });
  const name = `${store.displayUrl} (prefix ${settings.prefix})`;
  ctx.logger.debug(`relay store: connecting to ${name}, entries kept ${settings.ttlMs / 1000} s`);
  return {
    store,
    describe: () =>
      store.ready().then(
        (connected) =>
          connected
            ? `${name}: connected`
            : `${name}: unreachable: relay sign-ins answer 503 until it is back; proxying and /token work`,
        () => `${name}: unreachable: relay sign-ins answer 503 until it is back; proxying and /token work`,
      ),
  };
}

async function closeRelayStore(ctx: ServeContext, store: RelayStore): Promise<void> {
  try {
    await store.close?.();
  } catch (error) {
    ctx.logger.warn(`relay store: closing failed: ${error instanceof Error ? error.message : String(error)}`);
  }
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
