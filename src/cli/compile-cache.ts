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

/** What the entry uses of node:module: the compile cache switch and what code-cache.ts needs. */
export type NodeModuleApi = CompileCacheHost & Pick<typeof import('node:module'), 'Module' | 'createRequire'>;

/**
 * node:module as the entry needs it. Where node:module has no enableCompileCache (Node < 22.1), the CommonJS
 * loader's Module class, the entry's own `module.constructor`: the object node:module exports, without what
 * requiring node:module loads first (source maps, the ES module loader's register: ~13 KB of the young
 * generation at every start, bench/README.md section 3); code-cache.ts uses only what the class has itself
 * (Module, createRequire, _nodeModulePaths, _cache). Elsewhere, or if the class lacks one of those, node:module.
 */
export function nodeModuleApi(
  nodeVersion: string,
  entryModule: { constructor: unknown },
  load: () => NodeModuleApi,
): NodeModuleApi {
  const [major = 0, minor = 0] = nodeVersion.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 1)) return load();
  const loader = entryModule.constructor;
  if (typeof loader !== 'function') return load();
  const statics = loader as unknown as Partial<Record<string, unknown>>;
  const complete =
    statics.Module === loader &&
    typeof statics.createRequire === 'function' &&
    typeof statics._nodeModulePaths === 'function' &&
    typeof statics._cache === 'object';
  return complete ? (loader as unknown as NodeModuleApi) : load();
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
