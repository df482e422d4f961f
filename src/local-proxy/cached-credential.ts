import type { ResolvedCredential } from '../store/resolve-credential';
import type { Clock } from '../context';

/**
 * The credential headers of each forwarded request, cheaply. Tokens and basic auth are fixed for the run.
 * A cookie jar is re-read only when its file changed (a stat, shared by the requests in flight at that
 * moment: refreshes written by other processes are seen on the next request) or after `maxAgeMs` (so
 * cookies that expire stop being sent). The Cookie header depends on the request path (cookie Path
 * attributes), so it is cached per path, for at most `maxEntries` paths.
 */

export interface CachedCredential {
  headersFor(url: URL): Promise<Record<string, string>>;
  /** Forget what is cached (after this process wrote the jar). */
  invalidate(): void;
}

export interface CachedCredentialOptions {
  now: Clock;
  /** Identifies the jar's current content, e.g. the cookie file's inode, size and mtime. */
  jarVersion?: () => Promise<string>;
  maxAgeMs?: number;
  maxEntries?: number;
}

const DEFAULT_MAX_AGE_MS = 1000;
const DEFAULT_MAX_ENTRIES = 256;

export function createCachedCredential(
  credential: ResolvedCredential,
  options: CachedCredentialOptions,
): CachedCredential {
  if (credential.source !== 'cookie-jar') {
    return { headersFor: (url) => credential.headersFor(url), invalidate: () => undefined };
  }
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const cache = new Map<string, { headers: Record<string, string>; at: number }>();
  let cachedVersion: string | undefined;
  let versionInFlight: Promise<string> | undefined;

  const currentVersion = (): Promise<string> => {
    if (options.jarVersion === undefined) return Promise.resolve('');
    versionInFlight ??= options.jarVersion().finally(() => {
      versionInFlight = undefined;
    });
    return versionInFlight;
  };

  return {
    async headersFor(url) {
      const version = await currentVersion();
      if (version !== cachedVersion) {
        cache.clear();
        cachedVersion = version;
      }
      const key = url.pathname;
      const hit = cache.get(key);
      const now = options.now();
      if (hit !== undefined && now - hit.at < maxAgeMs) return hit.headers;
      const headers = await credential.headersFor(url);
      if (cachedVersion === version) {
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
    },
  };
}
