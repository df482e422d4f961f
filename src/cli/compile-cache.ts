import { isAbsolute, join } from 'node:path';

/**
 * Where the compile cache lives: the user's own cache folder (`$XDG_CACHE_HOME`, else `~/.cache`), never the
 * shared temp folder, where another user could plant a cache entry the CLI would load.
 */
export function compileCacheDirectory(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.cache');
  return join(base, 'cookie-bridge', 'compile-cache');
}

/** The part of node:module this needs: `enableCompileCache` exists from Node 22.1 on. */
export interface CompileCacheHost {
  enableCompileCache?: (directory?: string) => unknown;
}

/**
 * Turns on V8's compile cache (Node >= 22.1), so later start-ups skip compiling the CLI's bundle; a no-op on
 * Node 20, which has no such API. Returns whether it was asked for. A cache that cannot be used (read-only
 * folder, NODE_DISABLE_COMPILE_CACHE) only costs speed, so errors are swallowed. Must run before the CLI's
 * code is required.
 */
export function enableCompileCacheIfAvailable(host: CompileCacheHost, directory: string): boolean {
  if (typeof host.enableCompileCache !== 'function') return false;
  try {
    host.enableCompileCache(directory);
    return true;
  } catch {
    return false;
  }
}
