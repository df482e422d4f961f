import * as nodeModule from 'node:module';
import {
  compileCacheDirectory,
  enableCompileCacheIfAvailable,
  nodeModuleApi,
  type CompileCacheHost,
  type NodeModuleApi,
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

describe('nodeModuleApi', () => {
  const requireNodeModule = (): NodeModuleApi => nodeModule as unknown as NodeModuleApi;
  // What the entry passes: its own CommonJS module (jest gives the test a `module` of its own).
  const entryModule = new nodeModule.Module('/entry.js');
  const countingLoad = (): { load: () => NodeModuleApi; calls: () => number } => {
    let calls = 0;
    return {
      load: () => {
        calls++;
        return requireNodeModule();
      },
      calls: () => calls,
    };
  };

  it.each(['20.20.2', '18.19.0', '22.0.0'])(
    'Node %s (no enableCompileCache): the CommonJS Module class, node:module itself, without requiring it',
    (version) => {
      const { load, calls } = countingLoad();
      const api = nodeModuleApi(version, entryModule, load);
      expect(calls()).toBe(0);
      // The same object node:module exports (its public wrapper adds to this class and exports it).
      expect(api).toBe(requireNodeModule().Module);
      expect(typeof api.createRequire).toBe('function');
      expect(api.Module).toBe(api);
    },
  );

  it.each(['22.1.0', '22.12.0', '23.0.0', '24.3.1'])(
    'Node %s: node:module, for its enableCompileCache',
    (version) => {
      const { load, calls } = countingLoad();
      expect(nodeModuleApi(version, entryModule, load)).toBe(requireNodeModule());
      expect(calls()).toBe(1);
    },
  );

  it('a module whose class lacks what the code cache uses gets node:module', () => {
    class Partial {
      static createRequire = (): undefined => undefined;
    }
    const { load, calls } = countingLoad();
    expect(nodeModuleApi('20.20.2', new Partial(), load)).toBe(requireNodeModule());
    expect(nodeModuleApi('20.20.2', Object.create(null) as { constructor: unknown }, load)).toBe(
      requireNodeModule(),
    );
    expect(calls()).toBe(2);
  });
});
