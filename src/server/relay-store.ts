import { systemClock, type Clock } from '../context';
import { MAX_BUNDLE_BYTES } from '../core/bundle-codec';

/**
 * Where relay logins wait between the /token page (which registers the challenge), the confirm post (which
 * stores the bundle) and the CLI's claim (which takes it once). Asynchronous, so a deployment with several
 * replicas can plug in a shared implementation (see docs/serve.md).
 */
export interface RelayStore {
  /**
   * Marks a challenge as seen (pending). 'exists' when it is already known (pending or confirmed; its expiry
   * is not extended); 'full' when there is no room for another entry.
   */
  register(challenge: string): Promise<'registered' | 'exists' | 'full'>;
  /**
   * Stores the bundle of a pending challenge. 'unknown' when it was never registered or has expired,
   * 'already-confirmed' when it holds a bundle already (never overwritten), 'too-large' over the size limit.
   */
  confirm(
    challenge: string,
    bundle: string,
  ): Promise<'confirmed' | 'unknown' | 'already-confirmed' | 'too-large'>;
  /** Takes the bundle of a confirmed challenge and forgets the challenge (one-shot). */
  claim(challenge: string): Promise<RelayClaim>;
}

export type RelayClaim = { status: 'ready'; bundle: string } | { status: 'pending' } | { status: 'unknown' };

export interface MemoryRelayStoreOptions {
  now?: Clock;
  /** How long a registered challenge, and again a confirmed bundle, is kept; default 5 minutes. */
  ttlMs?: number;
  /** Entries (pending and confirmed) kept at once; default 1000. */
  maxEntries?: number;
  /** Largest bundle stored, in bytes; default 64 KiB (MAX_BUNDLE_BYTES). */
  maxBundleBytes?: number;
}

export const DEFAULT_RELAY_TTL_MS = 5 * 60 * 1000;
export const DEFAULT_RELAY_MAX_ENTRIES = 1000;

interface Entry {
  expiresAt: number;
  bundle?: string;
}

/**
 * The single-process RelayStore: a Map bounded in count and entry size, expiry by the injected clock.
 * When full it refuses new challenges (after dropping expired ones); it never evicts a live entry.
 */
export function createMemoryRelayStore(options: MemoryRelayStoreOptions = {}): RelayStore {
  const now = options.now ?? systemClock;
  const ttlMs = options.ttlMs ?? DEFAULT_RELAY_TTL_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_RELAY_MAX_ENTRIES;
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

  return {
    register: (challenge) => {
      if (live(challenge) !== undefined) return Promise.resolve('exists');
      if (entries.size >= maxEntries) sweep();
      if (entries.size >= maxEntries) return Promise.resolve('full');
      entries.set(challenge, { expiresAt: now() + ttlMs });
      return Promise.resolve('registered');
    },
    confirm: (challenge, bundle) => {
      const entry = live(challenge);
      if (entry === undefined) return Promise.resolve('unknown');
      if (entry.bundle !== undefined) return Promise.resolve('already-confirmed');
      if (Buffer.byteLength(bundle, 'utf8') > maxBundleBytes) return Promise.resolve('too-large');
      entry.bundle = bundle;
      entry.expiresAt = now() + ttlMs;
      return Promise.resolve('confirmed');
    },
    claim: (challenge) => {
      const entry = live(challenge);
      if (entry === undefined) return Promise.resolve({ status: 'unknown' });
      if (entry.bundle === undefined) return Promise.resolve({ status: 'pending' });
      entries.delete(challenge);
      return Promise.resolve({ status: 'ready', bundle: entry.bundle });
    },
  };
}
