import { systemClock, type Clock } from '../context';
import { MAX_BUNDLE_BYTES } from '../protocol/bundle-codec';
import { RELAY_MAX_WRONG_CODES, relayCodesMatch } from '../protocol/relay-protocol';

/**
 * Where relay logins wait between the CLI's registration (challenge, code, time and source address), the
 * confirm post of the /token page (which checks the typed code and stores the bundle) and the CLI's claim
 * (which takes it once). Asynchronous, so a deployment with several replicas can plug in a shared
 * implementation (see docs/serve.md).
 */
export interface RelayStore {
  /**
   * How long an entry is kept: a registered challenge waiting for its confirm, and again a confirmed or ended
   * one (`serve --relay-ttl`). The relay's pages and refusals state it (relayTtlMs). Absent: DEFAULT_RELAY_TTL_MS.
   */
  readonly ttlMs?: number;
  /**
   * Registers a challenge with its code (pending). 'exists' when it is already known (its expiry is not
   * extended); 'source-full' when this source has too many pending registrations; 'full' when there is no
   * room for another entry at all.
   */
  register(challenge: string, request: RelayRegistration): Promise<RelayRegisterOutcome>;
  /** What the /token page shows about a registered challenge; undefined when unknown or expired. */
  lookup(challenge: string): Promise<RelayRequestInfo | undefined>;
  /**
   * Checks the typed code and stores the bundle of a pending challenge. A wrong code counts a try; the last
   * allowed wrong try ends the challenge ('ended'). 'already-confirmed' when it was confirmed before (also
   * after the claim; never overwritten), 'identity-full' when this identity has too many unclaimed bundles.
   */
  confirm(challenge: string, confirmation: RelayConfirmation): Promise<RelayConfirmOutcome>;
  /** Takes the bundle of a confirmed challenge (one-shot: the challenge is then 'ended', reason 'claimed'). */
  claim(challenge: string): Promise<RelayClaim>;
  /**
   * The key of the confirm form's token, the same for every replica that shares this store (the /token page
   * may be served by one replica and the confirm post by another). Absent: a random key per process.
   * Rejects with RelayStoreUnavailableError like the other methods.
   */
  formKey?(): Promise<Buffer>;
  /** Releases the store's connections (serve's shutdown). Absent: nothing to release. */
  close?(): Promise<void>;
}

/**
 * What every RelayStore method rejects with when its backend cannot answer now (down, unreachable, slower
 * than the store's command timeout). The relay routes answer it with 503 JSON `relay_store_unavailable`;
 * nothing else in serve depends on the store, so proxying and /token keep working. The message never holds a
 * password.
 */
export class RelayStoreUnavailableError extends Error {
  readonly code = 'E_RELAY_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RelayStoreUnavailableError';
  }
}

export function isRelayStoreUnavailable(error: unknown): error is RelayStoreUnavailableError {
  return error instanceof RelayStoreUnavailableError;
}

/** Where a registration came from: the connection's address, and the client address a proxy reported. */
export interface RelaySource {
  address: string;
  /** The last X-Forwarded-For hop: the client address the proxy in front of the server saw. */
  forwardedFor?: string;
}

export interface RelayRegistration {
  /** The code the terminal shows (any spelling normalizeRelayCode accepts). */
  code: string;
  source: RelaySource;
}

export interface RelayConfirmation {
  /** What the person typed. */
  code: string;
  bundle: string;
  /** Who the auth proxy says confirmed (bounds unclaimed bundles per identity). */
  identity?: string;
}

export type RelayRegisterOutcome = 'registered' | 'exists' | 'source-full' | 'full';
export type RelayEndReason = 'wrong-codes' | 'claimed';
export type RelayConfirmOutcome =
  | { status: 'confirmed' }
  | { status: 'wrong-code'; triesLeft: number }
  | { status: 'ended'; reason: RelayEndReason }
  | { status: 'already-confirmed' }
  | { status: 'identity-full' }
  | { status: 'too-large' }
  | { status: 'unknown' };

export interface RelayRequestInfo {
  /** When the CLI registered the challenge (ms since the epoch). */
  registeredAt: number;
  source: RelaySource;
  status: 'pending' | 'confirmed' | 'ended';
  endReason?: RelayEndReason;
}

export type RelayClaim =
  | { status: 'ready'; bundle: string }
  | { status: 'pending' }
  | { status: 'ended'; reason: RelayEndReason }
  | { status: 'unknown' };

export interface MemoryRelayStoreOptions {
  now?: Clock;
  /** How long a registered challenge, and again a confirmed or ended one, is kept; default 5 minutes. */
  ttlMs?: number;
  /** Entries (pending, confirmed and ended) kept at once; default 1000. */
  maxEntries?: number;
  /** Pending registrations per source address; default 10. */
  maxPendingPerSource?: number;
  /** Confirmed, unclaimed bundles per identity; default 5. */
  maxConfirmedPerIdentity?: number;
  /** Wrong codes before a challenge ends; default RELAY_MAX_WRONG_CODES (5). */
  maxWrongCodes?: number;
  /** Largest bundle stored, in bytes; default 64 KiB (MAX_BUNDLE_BYTES). */
  maxBundleBytes?: number;
}

export const DEFAULT_RELAY_TTL_MS = 5 * 60 * 1000;

/** The lifetime of a store's entries, for what the relay tells people (a store that does not say: the default). */
export function relayTtlMs(store: Pick<RelayStore, 'ttlMs'> | undefined): number {
  return store?.ttlMs ?? DEFAULT_RELAY_TTL_MS;
}
export const DEFAULT_RELAY_MAX_ENTRIES = 1000;
export const DEFAULT_RELAY_MAX_PENDING_PER_SOURCE = 10;
export const DEFAULT_RELAY_MAX_CONFIRMED_PER_IDENTITY = 5;

interface Entry {
  code: string;
  source: RelaySource;
  registeredAt: number;
  expiresAt: number;
  wrongCodes: number;
  bundle?: string;
  identity?: string;
  /** Set once claimed or ended by wrong codes: kept until expiry so late confirms get a warning. */
  ended?: RelayEndReason;
  confirmed: boolean;
}

/** The key the per-source bound counts by: the address a proxy reported, else the connection's. */
export function relaySourceKey(source: RelaySource): string {
  return source.forwardedFor ?? source.address;
}

/**
 * The single-process RelayStore: a Map bounded in count, per source and per identity, and in entry size,
 * expiry by the injected clock. When full it refuses new challenges (after dropping expired ones); it never
 * evicts a live entry.
 */
export function createMemoryRelayStore(options: MemoryRelayStoreOptions = {}): RelayStore {
  const now = options.now ?? systemClock;
  const ttlMs = options.ttlMs ?? DEFAULT_RELAY_TTL_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_RELAY_MAX_ENTRIES;
  const maxPerSource = options.maxPendingPerSource ?? DEFAULT_RELAY_MAX_PENDING_PER_SOURCE;
  const maxPerIdentity = options.maxConfirmedPerIdentity ?? DEFAULT_RELAY_MAX_CONFIRMED_PER_IDENTITY;
  const maxWrongCodes = options.maxWrongCodes ?? RELAY_MAX_WRONG_CODES;
  const maxBundleBytes = options.maxBundleBytes ?? MAX_BUNDLE_BYTES;
  const entries = new Map<string, Entry>();

  /** The live entry for a challenge; an expired one is dropped. */
  const live = (challenge: string): Entry | undefined => {
    const entry = entries.get(challenge);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(challenge);
      return undefined;
    }
    return entry;
  };

  const sweep = (): void => {
    const time = now();
    for (const [challenge, entry] of entries) if (entry.expiresAt <= time) entries.delete(challenge);
  };

  const count = (matches: (entry: Entry) => boolean): number => {
    let n = 0;
    for (const entry of entries.values()) if (matches(entry)) n += 1;
    return n;
  };

  const end = (entry: Entry, reason: RelayEndReason): void => {
    entry.ended = reason;
    delete entry.bundle;
    entry.expiresAt = now() + ttlMs;
  };

  return {
    ttlMs,
    register: (challenge, request) => {
      if (live(challenge) !== undefined) return Promise.resolve('exists');
      sweep();
      if (entries.size >= maxEntries) return Promise.resolve('full');
      const key = relaySourceKey(request.source);
      const pending = (entry: Entry): boolean =>
        !entry.confirmed && entry.ended === undefined && relaySourceKey(entry.source) === key;
      if (count(pending) >= maxPerSource) return Promise.resolve('source-full');
      const time = now();
      entries.set(challenge, {
        code: request.code,
        source: { ...request.source },
        registeredAt: time,
        expiresAt: time + ttlMs,
        wrongCodes: 0,
        confirmed: false,
      });
      return Promise.resolve('registered');
    },
    lookup: (challenge) => {
      const entry = live(challenge);
      if (entry === undefined) return Promise.resolve(undefined);
      const status = entry.ended !== undefined ? 'ended' : entry.confirmed ? 'confirmed' : 'pending';
      return Promise.resolve({
        registeredAt: entry.registeredAt,
        source: { ...entry.source },
        status,
        ...(entry.ended === undefined ? {} : { endReason: entry.ended }),
      });
    },
    confirm: (challenge, confirmation) => {
      const entry = live(challenge);
      if (entry === undefined) return Promise.resolve({ status: 'unknown' });
      if (entry.ended === 'wrong-codes') return Promise.resolve({ status: 'ended', reason: entry.ended });
      if (!relayCodesMatch(confirmation.code, entry.code)) {
        entry.wrongCodes += 1;
        // Tries count while pending only: a confirmed or claimed challenge keeps its warning.
        if (entry.confirmed) return Promise.resolve({ status: 'wrong-code', triesLeft: 0 });
        if (entry.wrongCodes >= maxWrongCodes) {
          end(entry, 'wrong-codes');
          return Promise.resolve({ status: 'ended', reason: 'wrong-codes' });
        }
        return Promise.resolve({ status: 'wrong-code', triesLeft: maxWrongCodes - entry.wrongCodes });
      }
      if (entry.confirmed) return Promise.resolve({ status: 'already-confirmed' });
      if (Buffer.byteLength(confirmation.bundle, 'utf8') > maxBundleBytes) {
        return Promise.resolve({ status: 'too-large' });
      }
      const identity = confirmation.identity ?? '';
      const unclaimed = (other: Entry): boolean =>
        other.bundle !== undefined && (other.identity ?? '') === identity;
      if (count(unclaimed) >= maxPerIdentity) return Promise.resolve({ status: 'identity-full' });
      entry.bundle = confirmation.bundle;
      entry.confirmed = true;
      if (confirmation.identity !== undefined) entry.identity = confirmation.identity;
      entry.expiresAt = now() + ttlMs;
      return Promise.resolve({ status: 'confirmed' });
    },
    claim: (challenge) => {
      const entry = live(challenge);
      if (entry === undefined) return Promise.resolve({ status: 'unknown' });
      if (entry.ended !== undefined) return Promise.resolve({ status: 'ended', reason: entry.ended });
      if (entry.bundle === undefined) return Promise.resolve({ status: 'pending' });
      const { bundle } = entry;
      end(entry, 'claimed');
      return Promise.resolve({ status: 'ready', bundle });
    },
  };
}
