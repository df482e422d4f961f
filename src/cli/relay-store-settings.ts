import { UsageError } from '../errors';
import { RELAY_MAX_TTL_SECONDS } from '../protocol/relay-protocol';
import { DEFAULT_RELAY_TTL_MS } from '../server/relay-store';
import { DEFAULT_RELAY_STORE_PREFIX } from '../server/redis-relay-store';

/**
 * Where `serve` keeps relay logins, from its flags and environment: `memory` (default: this process only) or a
 * Redis URL shared by every replica. The password never comes from argv (ps shows it): a file, its own
 * variable, or the URL in $COOKIE_BRIDGE_RELAY_STORE; it is kept apart from the URL, and no message here
 * ever holds it.
 */

export const RELAY_STORE_ENV = 'COOKIE_BRIDGE_RELAY_STORE';
export const RELAY_STORE_PASSWORD_ENV = 'COOKIE_BRIDGE_RELAY_STORE_PASSWORD';

/** serve's relay-store flags, as commander hands them over. */
export interface RelayStoreFlags {
  /** --relay-store memory | redis://… | rediss://… */
  relayStore?: string;
  relayStorePasswordFile?: string;
  relayStorePrefix?: string;
  relayStoreCacert?: string;
  /** --relay-ttl SECONDS (commander has parsed the number). */
  relayTtl?: number;
}

export type RelayStoreSettings =
  | { kind: 'memory'; ttlMs: number }
  | {
      kind: 'redis';
      /** The URL without any password (user name, host, port, db kept). */
      url: string;
      password?: string;
      prefix: string;
      /** PEM of --relay-store-cacert (rediss:// only). */
      ca?: string;
      ttlMs: number;
    };

/** How the settings read files: a password file's text, a CA file's PEM (readCaFile in the CLI). */
export interface RelayStoreReaders {
  readPasswordFile(file: string): Promise<string>;
  readCaFile(file: string, source: string): Promise<string>;
}

const URL_HINT = 'give memory, redis://[user@]host:port[/db] or rediss://[user@]host:port[/db]';
const PASSWORD_HINT = `put the password in a file for --relay-store-password-file, in $${RELAY_STORE_PASSWORD_ENV}, or in the URL in $${RELAY_STORE_ENV}`;

export async function resolveRelayStoreSettings(
  flags: RelayStoreFlags,
  env: NodeJS.ProcessEnv,
  readers: RelayStoreReaders,
): Promise<RelayStoreSettings> {
  const ttlMs = checkTtl(flags.relayTtl);
  const fromEnv = flags.relayStore === undefined;
  const source = fromEnv ? `$${RELAY_STORE_ENV}` : '--relay-store';
  const value = (fromEnv ? env[RELAY_STORE_ENV] : flags.relayStore)?.trim() || 'memory';
  if (value === 'memory') {
    const redisOnly = (
      [
        ['--relay-store-password-file', flags.relayStorePasswordFile],
        ['--relay-store-prefix', flags.relayStorePrefix],
        ['--relay-store-cacert', flags.relayStoreCacert],
      ] as const
    ).find(([, given]) => given !== undefined);
    if (redisOnly !== undefined) {
      throw new UsageError(`${redisOnly[0]} applies to a redis:// relay store, not to memory`, {
        hint: 'give the store with --relay-store redis://host:6379 (or $COOKIE_BRIDGE_RELAY_STORE)',
      });
    }
    return { kind: 'memory', ttlMs };
  }

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not echoed: it may hold a password.
    throw new UsageError(`${source} is neither memory nor a URL`, { hint: URL_HINT });
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`${source} must be memory or a redis:// or rediss:// URL, not ${url.protocol}`, {
      hint: URL_HINT,
    });
  }
  if (url.password !== '' && !fromEnv) {
    throw new UsageError('--relay-store must not carry a password (the command line shows in ps)', {
      hint: PASSWORD_HINT,
    });
  }
  if (url.hostname === '') throw new UsageError(`${source} names no host`, { hint: URL_HINT });
  if (!/^\/?(?:\d{1,5})?$/.test(url.pathname)) {
    throw new UsageError(`${source}: the path must be a database number (/0, /1…)`, { hint: URL_HINT });
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`${source} takes no query or fragment`, { hint: URL_HINT });
  }
  if (flags.relayStoreCacert !== undefined && url.protocol !== 'rediss:') {
    throw new UsageError('--relay-store-cacert applies to rediss:// (TLS) only', { hint: URL_HINT });
  }

  let password = url.password === '' ? undefined : decodePassword(url.password, source);
  url.password = '';
  if (flags.relayStorePasswordFile !== undefined) {
    password = await readPassword(flags.relayStorePasswordFile, readers);
  } else if ((env[RELAY_STORE_PASSWORD_ENV] ?? '') !== '') {
    password = env[RELAY_STORE_PASSWORD_ENV];
  }

  const prefix = flags.relayStorePrefix ?? DEFAULT_RELAY_STORE_PREFIX;
  if (!/^[\x21-\x7e]{1,100}$/.test(prefix)) {
    throw new UsageError('--relay-store-prefix must be 1 to 100 printable characters without spaces', {
      hint: `e.g. ${DEFAULT_RELAY_STORE_PREFIX} (replicas of one deployment share it; other deployments pick another)`,
    });
  }
  const ca =
    flags.relayStoreCacert === undefined
      ? undefined
      : await readers.readCaFile(flags.relayStoreCacert, '--relay-store-cacert');
  return {
    kind: 'redis',
    url: url.toString(),
    prefix,
    ttlMs,
    ...(password === undefined ? {} : { password }),
    ...(ca === undefined ? {} : { ca }),
  };
}

/**
 * The prefix of the service accounts' keys beside a relay store's prefix (serve --service-accounts with a Redis
 * relay store): a prefix that is `relay:` or ends in `:relay:` has that `relay:` replaced by `accounts:` (the default
 * `cookie-bridge:relay:` gives `cookie-bridge:accounts:`, `team-a:relay:` gives `team-a:accounts:`); any other
 * gets `accounts:` appended (`team-a:` gives `team-a:accounts:`).
 */
export function accountsPrefixFor(relayPrefix: string): string {
  return /(^|:)relay:$/.test(relayPrefix)
    ? `${relayPrefix.slice(0, -'relay:'.length)}accounts:`
    : `${relayPrefix}accounts:`;
}

function decodePassword(encoded: string, source: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new UsageError(`${source}: the password in the URL is not valid percent-encoding`, {
      hint: 'percent-encode @ : / % in it, or give it in $COOKIE_BRIDGE_RELAY_STORE_PASSWORD',
    });
  }
}

function checkTtl(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_RELAY_TTL_MS;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > RELAY_MAX_TTL_SECONDS) {
    throw new UsageError(`--relay-ttl must be a whole number of seconds from 1 to ${RELAY_MAX_TTL_SECONDS}`, {
      hint: `the default is ${DEFAULT_RELAY_TTL_MS / 1000} (a login's sign-in must finish within it)`,
    });
  }
  return seconds * 1000;
}

async function readPassword(file: string, readers: RelayStoreReaders): Promise<string> {
  let text: string;
  try {
    text = await readers.readPasswordFile(file);
  } catch {
    throw new UsageError(`--relay-store-password-file: cannot read ${file}`, {
      hint: 'give a readable file holding only the Redis password',
    });
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') {
    throw new UsageError(`--relay-store-password-file: ${file} is empty`, {
      hint: 'give a readable file holding only the Redis password',
    });
  }
  return password;
}
