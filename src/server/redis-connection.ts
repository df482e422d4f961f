import type { Redis, RedisOptions } from 'ioredis';

import { silentLogger, systemTimers, type Logger, type Timers } from '../context';
import { redisConnectionOptions, redisDisplayUrl } from './redis-connection-options';

/**
 * One Redis connection as the Redis stores use it (the relay store, the service accounts' state): ioredis loaded
 * on first use, the connection's state logged once per change, the first attempt awaited by the first
 * operations, every operation within a deadline, passwords scrubbed out of every message, a close that never
 * throws. A store wraps `run`'s plain Error (its message is safe to show) in its own typed error.
 */
export interface RedisConnectionOptions {
  /** redis://[user@]host:port[/db] or rediss://… (TLS). */
  url: string;
  /** The password (from a file or the environment, never argv); overrides one in the URL. */
  password?: string | undefined;
  /** PEM of extra CAs to trust for rediss://. */
  ca?: string | undefined;
  /** Longest wait for one operation, and ioredis's command and connect timeouts. */
  commandTimeoutMs: number;
  /** How operators tell this connection apart in CLIENT LIST. */
  connectionName: string;
  /** What the log lines call it, e.g. "relay store". */
  label: string;
  /** What fails while it is down, for the warning: e.g. "relay logins answer 503 meanwhile". */
  meanwhile: string;
  logger?: Logger;
  /** The backstop timer of each operation (ioredis's commandTimeout is the first line) and of close(). */
  timers?: Timers;
  /** Builds the client (a unit test hands in a fake); default: ioredis's Redis, loaded on first use. */
  createClient?: (options: RedisOptions) => Redis;
}

export interface RedisConnection {
  client: Redis;
  /** The URL without its password, for messages. */
  readonly displayUrl: string;
  /** Resolves once the first connection attempt settled: true when connected, false when not (it keeps trying). */
  ready(): Promise<boolean>;
  /**
   * Runs one operation: rejects with a plain Error (message without any password) when Redis cannot answer in
   * time. A call made during the first connection attempt waits for it (within the same deadline); afterwards
   * a call while disconnected rejects at once (no offline queue).
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Quits within the command timeout, then drops the socket; never throws. */
  close(): Promise<void>;
}

export type RedisConnectionState = 'starting' | 'up' | 'down' | 'closed';

// ioredis is loaded by the first connection opened: only serve with a Redis URL pays for it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadIoredis = (): typeof import('ioredis') => require('ioredis') as typeof import('ioredis');

const createIoredisClient = (options: RedisOptions): Redis => new (loadIoredis().Redis)(options);

export function openRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const logger = options.logger ?? silentLogger;
  const timers = options.timers ?? systemTimers;
  const { commandTimeoutMs, label } = options;
  const displayUrl = redisDisplayUrl(options.url);
  const secrets = [options.password, passwordInUrl(options.url)].filter(
    (secret): secret is string => secret !== undefined && secret !== '',
  );
  /** A message with every password it might hold masked (ioredis's own messages hold none; belt and braces). */
  const scrub = (message: string): string =>
    secrets.reduce((text, secret) => text.split(secret).join('<redacted>'), message);
  const describe = (error: unknown): string => scrub(error instanceof Error ? error.message : String(error));

  const client = (options.createClient ?? createIoredisClient)({
    ...redisConnectionOptions({
      url: options.url,
      password: options.password,
      ca: options.ca,
      commandTimeoutMs,
    }),
    connectionName: options.connectionName,
  });

  // Connection state, logged once per change.
  let state: RedisConnectionState = 'starting';
  /** The last connection error (for messages); reset when connected. */
  let lastProblem = 'connection closed';
  let settleReady: (connected: boolean) => void = () => undefined;
  const firstAttempt = new Promise<boolean>((resolve) => (settleReady = resolve));
  const wentDown = (problem: string): void => {
    lastProblem = problem;
    if (state === 'closed' || state === 'down') return;
    const was = state;
    state = 'down';
    settleReady(false);
    logger.warn(
      was === 'up'
        ? `${label} ${displayUrl}: connection lost (${problem}); reconnecting, ${options.meanwhile}`
        : `${label} ${displayUrl}: cannot connect (${problem}); retrying, ${options.meanwhile}`,
    );
  };
  client.on('ready', () => {
    if (state === 'closed') return;
    const was = state;
    state = 'up';
    lastProblem = 'connection closed';
    settleReady(true);
    if (was === 'down') logger.info(`${label} ${displayUrl}: connected again`);
    else logger.debug(`${label} ${displayUrl}: connected`);
  });
  client.on('error', (error: unknown) => wentDown(describe(error)));
  client.on('close', () => wentDown(lastProblem));

  const run = async <T>(work: () => Promise<T>): Promise<T> => {
    if (state === 'closed') throw new Error('closed');
    let handle: unknown;
    let expired = false;
    const deadline = new Promise<never>((_, reject) => {
      handle = timers.setTimeout(() => {
        expired = true;
        reject(new Error(`no answer within ${commandTimeoutMs} ms`));
      }, commandTimeoutMs);
    });
    try {
      return await Promise.race([
        (async () => {
          if (state === 'starting') await firstAttempt;
          if (state !== 'up') throw new Error('not connected');
          return work();
        })(),
        deadline,
      ]);
    } catch (error) {
      const reason = state === 'up' ? describe(error) : `${describe(error)} (${lastProblem})`;
      if ((expired || isCommandTimeout(error)) && state === 'up' && client.status === 'ready') {
        // The command may still wait in Redis (a paused or stalled server runs it later: a relay claim would then
        // hand its bundle to nobody, the caller having been told 503). Closing the connection makes Redis drop
        // what it has not started; ioredis reconnects at once, and calls are refused until it is back.
        lastProblem = `no answer within ${commandTimeoutMs} ms`;
        client.disconnect(true);
      }
      // A fresh Error: ioredis's own errors may carry the command's arguments (AUTH's password).
      throw new Error(reason);
    } finally {
      timers.clearTimeout(handle);
    }
  };

  return {
    client,
    displayUrl,
    ready: () => firstAttempt,
    run,
    close: async () => {
      if (state === 'closed') return;
      state = 'closed';
      settleReady(false);
      try {
        if (client.status === 'ready') {
          let handle: unknown;
          await Promise.race([
            client.quit(),
            new Promise(
              (resolve) => (handle = timers.setTimeout(() => resolve(undefined), commandTimeoutMs)),
            ),
          ]).finally(() => timers.clearTimeout(handle));
        }
      } catch {
        // Quitting a connection that is going away anyway: nothing to report.
      }
      // After a QUIT the connection is over; otherwise stop reconnecting and drop the socket.
      if (client.status !== 'end') client.disconnect(false);
    },
  };
}

function passwordInUrl(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/** ioredis's own commandTimeout rejection. */
function isCommandTimeout(error: unknown): boolean {
  return error instanceof Error && /command timed out/i.test(error.message);
}
