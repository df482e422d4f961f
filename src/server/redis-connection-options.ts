import { isIP } from 'node:net';

import type { RedisOptions } from 'ioredis';

/** The name of the store's connections (CLIENT LIST). */
export const REDIS_CONNECTION_NAME = 'cookie-bridge-relay';
/** The longest wait between two reconnection attempts. */
export const REDIS_MAX_BACKOFF_MS = 2_000;
const FIRST_BACKOFF_MS = 50;

export interface RedisConnectionInput {
  url: string;
  password?: string | undefined;
  ca?: string | undefined;
  commandTimeoutMs: number;
}

/**
 * ioredis options from the store's URL and options: redis://[user[:password]@]host[:port][/db] or rediss://
 * (TLS, `ca` trusted beside Node's roots), the `password` option over one in the URL. Fail fast while down
 * (no offline queue, no retry of a sent command), reconnect forever with a capped exponential backoff.
 */
export function redisConnectionOptions(input: RedisConnectionInput): RedisOptions {
  const url = parseRedisUrl(input.url);
  const tls = url.protocol === 'rediss:';
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db))
    throw new Error(`the Redis URL's database must be a number, got "${db}"`);
  const urlPassword = url.password === '' ? undefined : decodeURIComponent(url.password);
  const password = input.password ?? urlPassword;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: url.port === '' ? 6379 : Number(url.port),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(password === undefined ? {} : { password }),
    ...(db === '' ? {} : { db: Number(db) }),
    ...(tls
      ? {
          tls: {
            // SNI takes host names only; an IP address is still checked against the certificate.
            ...(isIP(host) === 0 ? { servername: host } : {}),
            ...(input.ca === undefined ? {} : { ca: input.ca }),
          },
        }
      : {}),
    // How operators tell these connections apart in CLIENT LIST.
    connectionName: REDIS_CONNECTION_NAME,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: input.commandTimeoutMs,
    connectTimeout: input.commandTimeoutMs,
    autoResubscribe: false,
    // close() ends the socket itself (QUIT, else at once): no timer may outlive it.
    disconnectTimeout: 0,
    retryStrategy: (attempt: number) =>
      Math.min(FIRST_BACKOFF_MS * 2 ** Math.min(attempt - 1, 16), REDIS_MAX_BACKOFF_MS),
    // One connection's failure is reported by the store, not by ioredis on the console.
    showFriendlyErrorStack: false,
  };
}

/** The URL without its password (a user name stays: it is not secret and helps), for logs and errors. */
export function redisDisplayUrl(rawUrl: string): string {
  let url: URL;
  try {
    url = parseRedisUrl(rawUrl);
  } catch {
    return 'redis://<unparsable URL>';
  }
  const user = url.username === '' ? '' : `${url.username}@`;
  return `${url.protocol}//${user}${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

function parseRedisUrl(rawUrl: string): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    // Never echo the text: it may hold a password.
    throw new Error('the Redis URL cannot be parsed (expected redis://host:port or rediss://host:port)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new Error(`the Redis URL must start with redis:// or rediss://, not ${url.protocol}//`);
  if (url.hostname === '') throw new Error('the Redis URL has no host');
  return url;
}
