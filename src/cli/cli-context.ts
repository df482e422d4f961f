import { resolveConfigHome } from '../store/config-home';
import type { CredentialStore } from '../store/credential-types';
import { FileCredentialStore } from '../store/file-credential-store';
import { systemClock, systemTimers, type AppContext } from '../context';
import { createHttpClient, type HttpClient } from '../http/http-request';
import { createTlsTrust, type TlsTrust } from '../http/tls-options';
import { storedCaForOrigin } from '../store/stored-ca';
import { createCliLogger } from './cli-logger';

/**
 * The one dependency object (AppContext, src/context.ts) with the real defaults, and the terminal's streams.
 * Built once per run; every command hands the parts it needs to the library (LoginDeps, ForwardingClientDeps,
 * LocalForwardingProxyOptions, ServeAppOptions).
 */
export interface CliContext extends AppContext<CredentialStore, HttpClient> {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  debug: boolean;
  /** The CAs `http` trusts beyond Node's: --cacert, $COOKIE_BRIDGE_CA_BUNDLE, the endpoint's stored one. */
  tls: TlsTrust;
}

export interface GlobalFlags {
  debug?: boolean;
  json?: boolean;
  /** --cacert FILE: a private CA for the endpoint (a login stores it). */
  cacert?: string;
}

export function createCliContext(flags: GlobalFlags): CliContext {
  const env = process.env;
  const debug = flags.debug === true || env.COOKIE_BRIDGE_DEBUG === '1';
  const logger = createCliLogger({ stderr: process.stderr, debug });
  const store = new FileCredentialStore({ home: resolveConfigHome(env) });
  const tls = createTlsTrust({
    env,
    ...(flags.cacert === undefined ? {} : { cacertFile: flags.cacert }),
    storedCaFor: (origin) => storedCaForOrigin(store, origin),
    logger,
  });
  return {
    env,
    // A getter: creating process.stdin costs ~3 ms of stream set-up that most commands never read.
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    logger,
    store,
    // Every outbound hop of every command goes through this one client: a proxy or CA setting goes here.
    // It reads https_proxy/HTTPS_PROXY, http_proxy, all_proxy and no_proxy/NO_PROXY from env, like curl.
    http: createHttpClient({ tls, env, logger }),
    tls,
    // The opener (and node:child_process) loads when a login opens the browser, not at start-up.
    openBrowser: (url) => loadBrowserOpener().openBrowser(url, { env, logger }),
    now: systemClock,
    timers: systemTimers,
    // node:crypto is loaded when a login needs it, not by every command at start-up.
    randomState: () => loadCrypto().randomBytes(32).toString('base64url'),
    debug,
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadCrypto = (): typeof import('node:crypto') => require('node:crypto') as typeof import('node:crypto');
const loadBrowserOpener = (): typeof import('../login/browser-opener') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../login/browser-opener') as typeof import('../login/browser-opener');
