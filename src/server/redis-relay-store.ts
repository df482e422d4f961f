import { randomBytes } from 'node:crypto';

import { silentLogger, systemClock, systemTimers, type Clock, type Logger, type Timers } from '../context';
import { MAX_BUNDLE_BYTES } from '../protocol/bundle-codec';
import { RELAY_MAX_WRONG_CODES } from '../protocol/relay-protocol';
import { openRedisConnection } from './redis-connection';
import { REDIS_CONNECTION_NAME } from './redis-connection-options';
import {
  CLAIM_SCRIPT,
  CONFIRM_SCRIPT,
  REGISTER_SCRIPT,
  relayCodeDigest,
  relayKeyNames,
} from './redis-relay-scripts';
import {
  DEFAULT_RELAY_MAX_CONFIRMED_PER_IDENTITY,
  DEFAULT_RELAY_MAX_ENTRIES,
  DEFAULT_RELAY_MAX_PENDING_PER_SOURCE,
  DEFAULT_RELAY_TTL_MS,
  RelayStoreUnavailableError,
  relaySourceKey,
  type RelayClaim,
  type RelayConfirmOutcome,
  type RelayRegisterOutcome,
  type RelayRequestInfo,
  type RelaySource,
  type RelayStore,
} from './relay-store';

/**
 * The RelayStore several serve replicas share: Redis (or anything speaking its protocol), with the memory
 * store's semantics made atomic across replicas by one Lua script per operation (redis-relay-scripts.ts).
 * The connection (ioredis loaded on first use, its state logged, deadlines, close) is redis-connection.ts's.
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
  /** Only for registeredAt (what /token shows); expiry runs on Redis's own clock. */
  now?: Clock;
  /** The backstop timer of each operation (ioredis's commandTimeout is the first line). */
  timers?: Timers;
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

const FORM_KEY_BYTES = 32;

interface RelayCommands {
  relayRegister(...args: string[]): Promise<string>;
  relayConfirm(...args: string[]): Promise<[string, number]>;
  relayClaim(...args: string[]): Promise<[string, string]>;
}

export function createRedisRelayStore(options: RedisRelayStoreOptions): RedisRelayStore {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? systemClock;
  const timers = options.timers ?? systemTimers;
  const prefix = options.prefix ?? DEFAULT_RELAY_STORE_PREFIX;
  const ttlMs = options.ttlMs ?? DEFAULT_RELAY_TTL_MS;
  const limits = {
    entries: options.maxEntries ?? DEFAULT_RELAY_MAX_ENTRIES,
    perSource: options.maxPendingPerSource ?? DEFAULT_RELAY_MAX_PENDING_PER_SOURCE,
    perIdentity: options.maxConfirmedPerIdentity ?? DEFAULT_RELAY_MAX_CONFIRMED_PER_IDENTITY,
    wrongCodes: options.maxWrongCodes ?? RELAY_MAX_WRONG_CODES,
    bundleBytes: options.maxBundleBytes ?? MAX_BUNDLE_BYTES,
  };
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_RELAY_STORE_COMMAND_TIMEOUT_MS;
  const keys = relayKeyNames(prefix);
  const connection = openRedisConnection({
    url: options.url,
    password: options.password,
    ca: options.ca,
    commandTimeoutMs,
    connectionName: REDIS_CONNECTION_NAME,
    label: 'relay store',
    meanwhile: 'relay logins answer 503 meanwhile',
    logger,
    timers,
  });
  const { client, displayUrl } = connection;
  client.defineCommand('relayRegister', { numberOfKeys: 3, lua: REGISTER_SCRIPT });
  client.defineCommand('relayConfirm', { numberOfKeys: 3, lua: CONFIRM_SCRIPT });
  client.defineCommand('relayClaim', { numberOfKeys: 2, lua: CLAIM_SCRIPT });
  const commands = client as unknown as RelayCommands;

  /** One store operation; a Redis that cannot answer in time is RelayStoreUnavailableError. */
  const run = <T>(operation: string, work: () => Promise<T>): Promise<T> =>
    connection.run(work).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RelayStoreUnavailableError(
        reason === 'closed'
          ? `relay store ${displayUrl}: closed`
          : `relay store ${displayUrl} unavailable (${operation}): ${reason}`,
        { cause: new Error(reason) },
      );
    });

  let formKey: Promise<Buffer> | undefined;
  const readFormKey = (): Promise<Buffer> =>
    run('formKey', async () => {
      await client.set(keys.formKey, randomBytes(FORM_KEY_BYTES).toString('base64'), 'NX');
      const stored = await client.get(keys.formKey);
      const key = stored === null ? undefined : Buffer.from(stored, 'base64');
      if (key?.length !== FORM_KEY_BYTES)
        throw new Error(`${keys.formKey} does not hold a ${FORM_KEY_BYTES}-byte key`);
      return key;
    });

  return {
    displayUrl,
    ttlMs,
    ready: () => connection.ready(),
    register: (challenge, request) =>
      run('register', async () => {
        const sourceKey = relaySourceKey(request.source);
        const source: RelaySource = { address: request.source.address };
        if (request.source.forwardedFor !== undefined) source.forwardedFor = request.source.forwardedFor;
        const outcome = await commands.relayRegister(
          keys.entry(challenge),
          keys.entries,
          keys.source(sourceKey),
          keys.member(challenge),
          relayCodeDigest(challenge, request.code, 'registered'),
          JSON.stringify(source),
          String(now()),
          String(ttlMs),
          String(limits.entries),
          String(limits.perSource),
          keys.hashOf('source', sourceKey),
        );
        return outcome as RelayRegisterOutcome;
      }),
    lookup: (challenge) =>
      run('lookup', async () => {
        const [at, source, status, reason] = await client.hmget(
          keys.entry(challenge),
          'at',
          'source',
          'state',
          'reason',
        );
        if (at == null || source == null || status == null) return undefined;
        const info: RelayRequestInfo = {
          registeredAt: Number(at),
          source: JSON.parse(source) as RelaySource,
          status: status as RelayRequestInfo['status'],
        };
        if (status === 'ended' && reason != null) info.endReason = reason as 'claimed' | 'wrong-codes';
        return info;
      }),
    confirm: (challenge, confirmation) =>
      run('confirm', async () => {
        const [status, triesLeft] = await commands.relayConfirm(
          keys.entry(challenge),
          keys.entries,
          keys.identity(confirmation.identity ?? ''),
          keys.member(challenge),
          relayCodeDigest(challenge, confirmation.code, 'typed'),
          confirmation.bundle,
          keys.hashOf('identity', confirmation.identity ?? ''),
          String(ttlMs),
          String(limits.wrongCodes),
          String(limits.bundleBytes),
          String(limits.perIdentity),
          prefix,
        );
        return confirmOutcome(status, Number(triesLeft));
      }),
    claim: (challenge) =>
      run('claim', async () => {
        const [status, value] = await commands.relayClaim(
          keys.entry(challenge),
          keys.entries,
          keys.member(challenge),
          String(ttlMs),
          prefix,
        );
        return claimOutcome(status, value);
      }),
    formKey: () => {
      formKey ??= readFormKey().catch((error: unknown) => {
        formKey = undefined; // try again on the next call
        throw error;
      });
      return formKey;
    },
    close: () => connection.close(),
  };
}

function confirmOutcome(status: string, triesLeft: number): RelayConfirmOutcome {
  switch (status) {
    case 'confirmed':
    case 'already-confirmed':
    case 'identity-full':
    case 'too-large':
    case 'unknown':
      return { status };
    case 'wrong-code':
      return { status, triesLeft };
    case 'ended':
      return { status, reason: 'wrong-codes' };
    default:
      throw new Error(`unexpected answer of the confirm script: ${status}`);
  }
}

function claimOutcome(status: string, value: string): RelayClaim {
  switch (status) {
    case 'ready':
      return { status, bundle: value };
    case 'pending':
    case 'unknown':
      return { status };
    case 'ended':
      return { status, reason: value === 'wrong-codes' ? 'wrong-codes' : 'claimed' };
    default:
      throw new Error(`unexpected answer of the claim script: ${status}`);
  }
}
