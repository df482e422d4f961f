import type { Clock } from '../../context';
import type { AccountDocumentCodec, AccountStateStore } from './account-state-store';

/**
 * One document of the AccountStateStore, cached for the hot paths (verifyBearer, roleOf): `get` answers from
 * the cache while it is younger than `cacheMs`, `reload` reads the store now (callers asking at the same time
 * share one read), `set` puts this process's own write in at once. A read that began before such a write never
 * overwrites it when it ends late.
 */
export interface DocumentCache<T> {
  get(): Promise<T>;
  reload(): Promise<T>;
  reloadIfOlderThan(ms: number): Promise<T>;
  set(document: T): void;
}

export function documentCache<T>(
  store: AccountStateStore,
  codec: AccountDocumentCodec<T>,
  now: Clock,
  cacheMs: number,
): DocumentCache<T> {
  let value: T | undefined;
  let loadedAt = -Infinity;
  let loading: Promise<T> | undefined;
  /** Bumped by every set: a read that started before this process's own write must not overwrite it. */
  let generation = 0;
  const load = (): Promise<T> => {
    const started = generation;
    loading ??= store.read(codec).then(
      (document) => {
        loading = undefined;
        if (generation !== started) return value as T;
        cache.set(document);
        return document;
      },
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
  const cache: DocumentCache<T> = {
    get: () => (value !== undefined && now() - loadedAt < cacheMs ? Promise.resolve(value) : load()),
    reload: load,
    reloadIfOlderThan: (ms) =>
      value !== undefined && now() - loadedAt < ms ? Promise.resolve(value) : load(),
    set(document) {
      generation += 1;
      value = document;
      loadedAt = now();
    },
  };
  return cache;
}
