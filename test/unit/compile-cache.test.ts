import * as nodeModule from 'node:module';
import {
  compileCacheDirectory,
  enableCompileCacheIfAvailable,
  type CompileCacheHost,
} from '../../src/cli/compile-cache';

describe('enableCompileCacheIfAvailable', () => {
  it('does nothing where node:module has no enableCompileCache (Node < 22.1)', () => {
    expect(enableCompileCacheIfAvailable({}, '/cache')).toBe(false);
  });

  it('turns the cache on, in the folder given, where the API exists', () => {
    const calls: (string | undefined)[] = [];
    const host: CompileCacheHost = { enableCompileCache: (directory) => calls.push(directory) };
    expect(enableCompileCacheIfAvailable(host, '/cache')).toBe(true);
    expect(calls).toEqual(['/cache']);
  });

  it('a cache that cannot be used only costs speed: the error is swallowed', () => {
    const host: CompileCacheHost = {
      enableCompileCache: () => {
        throw new Error('EACCES');
      },
    };
    expect(enableCompileCacheIfAvailable(host, '/cache')).toBe(false);
  });

  it('follows the running Node: on if and only if it has the API', () => {
    const real = nodeModule as CompileCacheHost;
    const has = typeof real.enableCompileCache === 'function';
    // Enabling a real cache here would change how jest's own modules compile: ask with a stand-in that
    // only records, shaped as the running Node's module is.
    const host: CompileCacheHost = has ? { enableCompileCache: () => undefined } : {};
    expect(enableCompileCacheIfAvailable(host, '/cache')).toBe(has);
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    expect(has).toBe(major > 22 || (major === 22 && minor >= 1));
  });
});

describe('compileCacheDirectory', () => {
  it.each([
    [{}, '/home/ann/.cache/cookie-bridge/compile-cache'],
    [{ XDG_CACHE_HOME: '/var/cache/ann' }, '/var/cache/ann/cookie-bridge/compile-cache'],
    // A relative XDG_CACHE_HOME is invalid by the spec: ignored.
    [{ XDG_CACHE_HOME: 'cache' }, '/home/ann/.cache/cookie-bridge/compile-cache'],
  ])("%j → %s (the user's own folder, never the shared temp folder)", (env, expected) => {
    expect(compileCacheDirectory(env, '/home/ann')).toBe(expected);
  });
});
