import type { Clock, Logger } from '../context';
import type { RelayStore } from './relay-store';

/**
 * The RelayStore several serve replicas share: Redis (or anything speaking its protocol), with the memory
 * store's semantics made atomic across replicas. SKELETON: the interface is fixed here so the serve wiring and
 * the store can be built side by side; the implementation lands with issue 12's store part.
 */
export interface RedisRelayStoreOptions {
  /** redis://[user@]host:port[/db] or rediss://… (TLS). A password in the URL is accepted but see `password`. */
  url: string;
  /** The password (from a file or the environment, never argv); overrides one in the URL. */
  password?: string;
  /** Prefix of every key; default DEFAULT_RELAY_STORE_PREFIX. */
  prefix?: string;
  /** Same meaning and defaults as MemoryRelayStoreOptions. */
  ttlMs?: number;
  maxEntries?: number;
  maxPendingPerSource?: number;
  maxConfirmedPerIdentity?: number;
  maxWrongCodes?: number;
  maxBundleBytes?: number;
  /** Longest wait for one store operation before it rejects with RelayStoreUnavailableError; default 2 s. */
  commandTimeoutMs?: number;
  /** PEM of extra CAs to trust for rediss:// (default: Node's roots). */
  ca?: string;
  logger?: Logger;
  now?: Clock;
}

export interface RedisRelayStore extends RelayStore {
  formKey(): Promise<Buffer>;
  close(): Promise<void>;
  /** Resolves once the first connection attempt settled: true when connected, false when not (it keeps trying). */
  ready(): Promise<boolean>;
  /** The URL with any password removed, for messages. */
  readonly displayUrl: string;
}

export const DEFAULT_RELAY_STORE_PREFIX = 'cookie-bridge:relay:';
export const DEFAULT_RELAY_STORE_COMMAND_TIMEOUT_MS = 2_000;

export function createRedisRelayStore(options: RedisRelayStoreOptions): RedisRelayStore {
  void options;
  throw new Error('createRedisRelayStore: not built yet (issue 12, store part)');
}
