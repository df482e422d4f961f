import { resolveConfigHome } from '../store/config-home';
import type { CredentialStore } from '../store/credential-types';
import { FileCredentialStore } from '../store/file-credential-store';
import { systemClock, systemTimers, type Context } from '../context';
import { createCliLogger } from './cli-logger';

/** Everything a command needs from the outside world, with the real defaults. Built once per run. */
export interface CliContext extends Context {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  store: CredentialStore;
  debug: boolean;
}

export interface GlobalFlags {
  debug?: boolean;
  json?: boolean;
}

export function createCliContext(flags: GlobalFlags): CliContext {
  const env = process.env;
  const debug = flags.debug === true || env.COOKIE_BRIDGE_DEBUG === '1';
  return {
    env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    logger: createCliLogger({ stderr: process.stderr, debug }),
    store: new FileCredentialStore({ home: resolveConfigHome(env) }),
    now: systemClock,
    timers: systemTimers,
    // node:crypto is loaded when a login needs it, not by every command at start-up.
    randomState: () => loadCrypto().randomBytes(32).toString('base64url'),
    debug,
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadCrypto = (): typeof import('node:crypto') => require('node:crypto') as typeof import('node:crypto');
