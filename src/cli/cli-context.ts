import { resolveConfigHome } from '../store/config-home';
import type { CredentialStore } from '../store/credential-types';
import { FileCredentialStore } from '../store/file-credential-store';
import { systemClock, systemTimers, type AppContext, type TextOutput } from '../context';
import type { HttpClient } from '../http/http-request';
import type { TlsTrust } from '../http/tls-options';
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
  stdout: TextOutput;
  stderr: TextOutput;
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
  /** The entry's stdout and stderr (terminal-output.ts: no stream objects until needed); else process's. */
  stdout?: TextOutput;
  stderr?: TextOutput;
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
  const stdout = host.stdout ?? process.stdout;
  const stderr = host.stderr ?? process.stderr;
  const logger = createCliLogger({ stderr, debug });
  const store = new FileCredentialStore({ home: resolveConfigHome(env) });
  // The TLS trust and the HTTP client are made on first use: `api info --offline`, `header` and `cookies`
  // never send a request, and loading the client (with node:stream) was a tenth of their start-up.
  let tls: TlsTrust | undefined;
  let http: HttpClient | undefined;
  const tlsTrust = (): TlsTrust =>
    (tls ??= loadTlsOptions().createTlsTrust({
      env,
      ...(flags.cacert === undefined ? {} : { cacertFile: flags.cacert }),
      storedCaFor: (origin) => storedCaForOrigin(store, origin),
      logger,
    }));
  return {
    env,
    // A getter: creating process.stdin costs ~3 ms of stream set-up that most commands never read.
    get stdin() {
      return process.stdin;
    },
    stdout,
    stderr,
    logger,
    store,
    // Every outbound hop of every command goes through this one client: a proxy or CA setting goes here.
    // It reads https_proxy/HTTPS_PROXY, http_proxy, all_proxy and no_proxy/NO_PROXY from env, like curl.
    get http() {
      return (http ??= loadHttpRequest().createHttpClient({ tls: tlsTrust(), env, logger }));
    },
    get tls() {
      return tlsTrust();
    },
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

const loadHttpRequest = (): typeof import('../http/http-request') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../http/http-request') as typeof import('../http/http-request');
const loadTlsOptions = (): typeof import('../http/tls-options') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../http/tls-options') as typeof import('../http/tls-options');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadCrypto = (): typeof import('node:crypto') => require('node:crypto') as typeof import('node:crypto');
const loadBrowserOpener = (): typeof import('../login/browser-opener') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../login/browser-opener') as typeof import('../login/browser-opener');
