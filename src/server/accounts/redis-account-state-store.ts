import { silentLogger, systemTimers, type Logger, type Timers } from '../../context';
import { openRedisConnection } from '../redis-connection';
import type {
  AccountDocumentCodec,
  AccountDocumentName,
  AccountStateStore,
  DocumentChange,
} from './account-state-store';
import { AccountStateError } from './account-types';

/**
 * The service accounts' state in Redis, for serve replicas that share a Redis relay store: each document is one
 * string key, `<prefix><name>` (default prefix `cookie-bridge:accounts:`), holding the document's JSON. An
 * update reads the key, applies the change and writes it back with a compare-and-set Lua script (the write
 * happens only if the key still holds what was read); on a conflict the change runs again, up to
 * MAX_CAS_ATTEMPTS times. The connection is the relay store's kind (redis-connection.ts: no offline queue, a
 * deadline per operation, reconnection forever, lost/back logged once); a Redis that does not answer in time, and a document that
 * cannot be read, are AccountStateError naming the key, never a silent new key.
 */

export interface RedisAccountStateStoreOptions {
  /** redis://[user@]host:port[/db] or rediss://…, as for the relay store. */
  url: string;
  /** The password (from a file or the environment, never argv); overrides one in the URL. */
  password?: string;
  /** Prefix of every key; default DEFAULT_ACCOUNT_STATE_PREFIX. */
  prefix?: string;
  /** Longest wait for one operation; default 2 s. */
  commandTimeoutMs?: number;
  /** PEM of extra CAs to trust for rediss://. */
  ca?: string;
  logger?: Logger;
  timers?: Timers;
}

export interface RedisAccountStateStore extends AccountStateStore {
  close(): Promise<void>;
  /** Resolves once the first connection attempt settled: true when connected, false when not (it keeps trying). */
  ready(): Promise<boolean>;
  readonly displayUrl: string;
}

export const DEFAULT_ACCOUNT_STATE_PREFIX = 'cookie-bridge:accounts:';
const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
/** How operators tell these connections apart from the relay store's in CLIENT LIST. */
export const ACCOUNTS_CONNECTION_NAME = 'cookie-bridge-accounts';
const MAX_CAS_ATTEMPTS = 20;

/** KEYS[1] the document; ARGV[1] '1' if it was read, '0' if absent; ARGV[2] what was read; ARGV[3] the new JSON. */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '0') or (current ~= false and ARGV[1] == '1' and current == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
return 0
`;

interface CasCommands {
  accountsCompareAndSet(key: string, present: string, expected: string, next: string): Promise<number>;
}

export function createRedisAccountStateStore(options: RedisAccountStateStoreOptions): RedisAccountStateStore {
  const logger = options.logger ?? silentLogger;
  const timers = options.timers ?? systemTimers;
  const prefix = options.prefix ?? DEFAULT_ACCOUNT_STATE_PREFIX;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const keyOf = (name: AccountDocumentName): string => `${prefix}${name}`;

  const connection = openRedisConnection({
    url: options.url,
    password: options.password,
    ca: options.ca,
    commandTimeoutMs,
    connectionName: ACCOUNTS_CONNECTION_NAME,
    label: 'service accounts store',
    meanwhile: 'service-account checks answer 503 meanwhile',
    logger,
    timers,
  });
  const { client, displayUrl } = connection;
  const locationOf = (name: AccountDocumentName): string => `${displayUrl} key ${keyOf(name)}`;
  client.defineCommand('accountsCompareAndSet', { numberOfKeys: 1, lua: COMPARE_AND_SET });
  const cas = client as unknown as CasCommands;

  /**
   * One operation within the deadline; a Redis that cannot answer is AccountStateError naming the key, and an
   * AccountStateError of the work itself (a corrupt document) passes unchanged.
   */
  async function run<T>(name: AccountDocumentName, work: () => Promise<T>): Promise<T> {
    const outcome = await connection
      .run(async (): Promise<{ value: T } | { failed: AccountStateError }> => {
        try {
          return { value: await work() };
        } catch (error) {
          if (error instanceof AccountStateError) return { failed: error };
          throw error;
        }
      })
      .catch((error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        throw new AccountStateError(`${locationOf(name)} is unavailable: ${reason}`, locationOf(name), {
          cause: new Error(reason),
        });
      });
    if ('failed' in outcome) throw outcome.failed;
    return outcome.value;
  }

  function parse<T>(codec: AccountDocumentCodec<T>, text: string | null): T {
    if (text === null) return codec.empty();
    try {
      return codec.parse(JSON.parse(text) as unknown);
    } catch (error) {
      // JSON.parse's message could quote the content (a private key): only the codec's own words pass.
      const what = error instanceof SyntaxError ? 'is not valid JSON' : (error as Error).message;
      throw new AccountStateError(
        `${locationOf(codec.name)} ${what}: fix or delete that key (for keys: every token is then invalid)`,
        locationOf(codec.name),
      );
    }
  }

  return {
    displayUrl,
    locationOf,
    read: (codec) => run(codec.name, async () => parse(codec, await client.get(keyOf(codec.name)))),
    update: <T, R>(codec: AccountDocumentCodec<T>, change: (current: T) => DocumentChange<T, R>) =>
      run(codec.name, async () => {
        const key = keyOf(codec.name);
        for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt += 1) {
          const text = await client.get(key);
          const outcome = change(parse(codec, text));
          if (outcome.next === undefined) return outcome.result;
          const next = JSON.stringify(codec.serialize(outcome.next));
          const written = await cas.accountsCompareAndSet(key, text === null ? '0' : '1', text ?? '', next);
          if (written === 1) return outcome.result;
        }
        throw new Error(`still changing under us after ${MAX_CAS_ATTEMPTS} attempts`);
      }),
    ready: () => connection.ready(),
    close: () => connection.close(),
  };
}
