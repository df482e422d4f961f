import type { ResolvedCredential } from '../store/resolve-credential';
import type { Clock } from '../context';
import { TurnMemo } from '../store/turn-memo';

/**
 * The credential headers of each forwarded request, cheaply. Tokens and basic auth are fixed for the run
 * (asked once). A cookie jar is re-read only when its file changed or after `maxAgeMs` (so cookies that
 * expire stop being sent). With `jarVersionSync` the change check is one stat syscall per turn of the event
 * loop (shared by the requests read in that turn) and no await, so a refresh written by another process
 * (another proxy worker, `api login`) is seen by the next request; with only the asynchronous `jarVersion`,
 * one stat is shared by the requests in flight at that moment. The Cookie header depends on the request path
 * (cookie Path attributes), so it is cached per path, for at most `maxEntries` paths.
 */

export interface CachedCredential {
  /** The headers when they are cached and still current (the hot path: synchronous); undefined otherwise. */
  cachedHeadersFor(url: URL): Record<string, string> | undefined;
  headersFor(url: URL): Promise<Record<string, string>>;
  /** Forget what is cached (after this process wrote the jar). */
  invalidate(): void;
}

export interface CachedCredentialOptions {
  now: Clock;
  /** Identifies the jar's current content, e.g. the cookie file's inode, size and mtime. */
  jarVersion?: () => Promise<string>;
  /** The same, synchronously: preferred when given (no thread-pool round trip per request). */
  jarVersionSync?: () => string;
  maxAgeMs?: number;
  maxEntries?: number;
}

const DEFAULT_MAX_AGE_MS = 1000;
const DEFAULT_MAX_ENTRIES = 256;

export function createCachedCredential(
  credential: ResolvedCredential,
  options: CachedCredentialOptions,
): CachedCredential {
  if (credential.source !== 'cookie-jar') return fixedCredential(credential);
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const { jarVersionSync } = options;
  const cache = new Map<string, { headers: Record<string, string>; at: number }>();
  let cachedVersion: string | undefined;
  let versionInFlight: Promise<string> | undefined;

  // One stat per turn of the event loop: the requests read in the same I/O phase share it (measured: ~10%
  // fewer CPU µs per small request than a stat each); a jar written meanwhile is seen from the next turn on.
  const turnVersion = new TurnMemo<'jar', string>();
  const versionThisTurn = (stat: () => string): string => {
    let version = turnVersion.get('jar');
    if (version === undefined) {
      version = stat();
      turnVersion.set('jar', version);
    }
    return version;
  };
  const currentVersion = (): Promise<string> | string => {
    if (jarVersionSync !== undefined) return versionThisTurn(jarVersionSync);
    if (options.jarVersion === undefined) return '';
    versionInFlight ??= options.jarVersion().finally(() => {
      versionInFlight = undefined;
    });
    return versionInFlight;
  };
  const lookup = (version: string, url: URL, now: number): Record<string, string> | undefined => {
    if (version !== cachedVersion) {
      cache.clear();
      cachedVersion = version;
      return undefined;
    }
    const hit = cache.get(url.pathname);
    return hit !== undefined && now - hit.at < maxAgeMs ? hit.headers : undefined;
  };

  return {
    cachedHeadersFor(url) {
      if (jarVersionSync === undefined && options.jarVersion !== undefined) return undefined;
      return lookup(jarVersionSync === undefined ? '' : versionThisTurn(jarVersionSync), url, options.now());
    },
    async headersFor(url) {
      const version = await currentVersion();
      const now = options.now();
      const hit = lookup(version, url, now);
      if (hit !== undefined) return hit;
      const headers = await credential.headersFor(url);
      if (cachedVersion === version) {
        const key = url.pathname;
        cache.delete(key);
        cache.set(key, { headers, at: now });
        if (cache.size > maxEntries) {
          const oldest = cache.keys().next();
          if (oldest.done !== true) cache.delete(oldest.value);
        }
      }
      return headers;
    },
    invalidate() {
      cache.clear();
      cachedVersion = undefined;
      versionInFlight = undefined;
      turnVersion.delete('jar');
    },
  };
}

/** A token, basic auth or nothing: the same headers for every request of the run, asked for once. */
function fixedCredential(credential: ResolvedCredential): CachedCredential {
  let headers: Record<string, string> | undefined;
  return {
    cachedHeadersFor: () => headers,
    async headersFor(url) {
      headers ??= await credential.headersFor(url);
      return headers;
    },
    invalidate: () => undefined,
  };
}
