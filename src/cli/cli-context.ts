import { resolveConfigHome } from '../store/config-home';
import type { CredentialStore } from '../store/credential-types';
import { FileCredentialStore } from '../store/file-credential-store';
import { systemClock, systemTimers, type AppContext } from '../context';
import { createHttpClient, type HttpClient } from '../http/http-request';
import { createTlsTrust, type TlsTrust } from '../http/tls-options';
import { storedCaForOrigin } from '../store/stored-ca';
import type { OpenFunction } from '../login/browser-opener';
import { createCliLogger } from './cli-logger';
import { createV8FlagSetter, type SetV8Flags } from './v8-flags';

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
  /** Changes V8's flags (v8-flags.ts): the only way a command may. */
  setV8Flags: SetV8Flags;
}

/** What the entry (main.ts) gives the CLI about the process it started. All optional: tests pass none. */
export interface CliHost {
  /**
   * Loads the `open` package (ES modules only). The entry's own import(): the core bundle may be compiled
   * with a code cache (code-cache.ts), and code compiled that way cannot use import() on Node 20.
   */
  openPackage?: () => Promise<OpenFunction>;
  /** Runs before the first change of V8's flags: the entry writes its pending code cache then. */
  beforeV8FlagsChange?: () => void;
  /** What happened to the code cache at start (for --debug). */
  codeCache?: string;
}

export interface GlobalFlags {
  debug?: boolean;
  json?: boolean;
  /** --cacert FILE: a private CA for the endpoint (a login stores it). */
  cacert?: string;
}

export function createCliContext(flags: GlobalFlags, host: CliHost = {}): CliContext {
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
    openBrowser: (url) =>
      loadBrowserOpener().openBrowser(url, { env, logger, openPackage: host.openPackage }),
    now: systemClock,
    timers: systemTimers,
    // node:crypto is loaded when a login needs it, not by every command at start-up.
    randomState: () => loadCrypto().randomBytes(32).toString('base64url'),
    debug,
    setV8Flags: createV8FlagSetter(host.beforeV8FlagsChange),
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadCrypto = (): typeof import('node:crypto') => require('node:crypto') as typeof import('node:crypto');
const loadBrowserOpener = (): typeof import('../login/browser-opener') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../login/browser-opener') as typeof import('../login/browser-opener');
