/**
 * The V8 code cache of the CLI's core bundle (src/cli/code-cache.ts) on real files: a small CommonJS bundle
 * in a temp folder, loaded, cached, loaded again from the cache, and every way a cache file can be wrong.
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import {
  codeCacheFileName,
  decodeCodeCache,
  encodeCodeCache,
  readStoredCodeCache,
  loadBundleWithCodeCache,
  wrapBundleSource,
  type CodeCacheOptions,
} from '../../src/cli/code-cache';

const uid = process.getuid?.() ?? 0;

describe('code cache framing', () => {
  const payload = Buffer.from('some bytes V8 wrote');

  it('round-trips: magic, length, two copies', () => {
    const stored = encodeCodeCache(payload);
    expect(stored.length).toBe(12 + 2 * payload.length);
    expect(decodeCodeCache(stored)).toEqual(payload);
  });

  it.each([
    ['a byte changed in the first copy', (b: Buffer) => b.writeUInt8(b.readUInt8(12) ^ 1, 12)],
    [
      'a byte changed in the second copy',
      (b: Buffer) => b.writeUInt8(b.readUInt8(b.length - 1) ^ 1, b.length - 1),
    ],
    ['another magic', (b: Buffer) => b.writeUInt8(b.readUInt8(0) ^ 1, 0)],
  ])('refuses %s', (_, change) => {
    const stored = encodeCodeCache(payload);
    change(stored);
    expect(decodeCodeCache(stored)).toBeUndefined();
  });

  it('refuses a file cut short, one with bytes added, an empty payload and a bare header', () => {
    const stored = encodeCodeCache(payload);
    expect(decodeCodeCache(stored.subarray(0, stored.length - 1))).toBeUndefined();
    expect(decodeCodeCache(Buffer.concat([stored, Buffer.from([0])]))).toBeUndefined();
    expect(decodeCodeCache(encodeCodeCache(Buffer.alloc(0)))).toBeUndefined();
    expect(decodeCodeCache(stored.subarray(0, 5))).toBeUndefined();
  });

  describe('readStoredCodeCache (what the loader reads from the file)', () => {
    // Larger than the compare chunk, so the second copy is compared over several reads.
    const big = Buffer.from(Array.from({ length: 40_000 }, (_, i) => (i * 7) & 0xff));
    const reader =
      (stored: Buffer, reads: Array<{ position: number; bufferBytes: number }>) =>
      (target: Buffer, offset: number, length: number, position: number): number => {
        // Short reads (at most 3000 bytes) like a pipe or a busy disk may give.
        const count = stored.copy(target, offset, position, position + Math.min(length, 3000));
        reads.push({ position, bufferBytes: target.length });
        return count;
      };

    it('reads one copy into the given buffer and compares the second in chunks, never a second payload-sized buffer', () => {
      const stored = encodeCodeCache(big);
      const reads: Array<{ position: number; bufferBytes: number }> = [];
      const into = Buffer.alloc(12 + big.length);
      const payload = readStoredCodeCache(stored.length, reader(stored, reads), into);
      expect(payload).toEqual(big);
      expect(payload?.buffer).toBe(into.buffer);
      const secondCopyReads = reads.filter((read) => read.position >= 12 + big.length);
      expect(secondCopyReads.length).toBeGreaterThan(1);
      expect(Math.max(...secondCopyReads.map((read) => read.bufferBytes))).toBeLessThanOrEqual(16 * 1024);
    });

    it('refuses a difference in the last chunk of the second copy, a file cut short, and a buffer too small', () => {
      const stored = encodeCodeCache(big);
      const changed = Buffer.from(stored);
      changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 1, changed.length - 1);
      expect(
        readStoredCodeCache(changed.length, reader(changed, []), Buffer.alloc(stored.length)),
      ).toBeUndefined();
      // The size says two copies, the bytes end early.
      const short = stored.subarray(0, stored.length - 100);
      expect(
        readStoredCodeCache(stored.length, reader(short, []), Buffer.alloc(stored.length)),
      ).toBeUndefined();
      expect(
        readStoredCodeCache(stored.length, reader(stored, []), Buffer.alloc(12 + big.length - 1)),
      ).toBeUndefined();
    });
  });

  it('names the file after the bundle, its build id, the Node version and the architecture', () => {
    expect(codeCacheFileName('/x/dist/cli/cli-core.js', 'abc123')).toBe(
      `cli-core.abc123.${process.version}-${process.arch}.v8cache`,
    );
  });
});

describe('loadBundleWithCodeCache', () => {
  let temp: string;
  let bundle: string;
  /** The bundle's own code (the file holds it wrapped, as the build writes the core). */
  let body: string;
  let cacheDir: string;
  const options = (extra: Partial<CodeCacheOptions> = {}): CodeCacheOptions => ({
    directory: cacheDir,
    bundleId: 'build1',
    uid,
    moduleApi: nodeModule,
    vm,
    ...extra,
  });
  const cacheFile = (id = 'build1'): string => path.join(cacheDir, codeCacheFileName(bundle, id));
  /** Loads the bundle the way the entry does; forgets it from require's cache afterwards. */
  const load = (extra: Partial<CodeCacheOptions> = {}): ReturnType<typeof loadBundleWithCodeCache> => {
    const loaded = loadBundleWithCodeCache(bundle, options(extra));
    delete (nodeModule as unknown as { _cache: Record<string, unknown> })._cache[bundle];
    return loaded;
  };

  beforeEach(() => {
    temp = mkdtempSync(path.join(tmpdir(), 'cookie-bridge-code-cache-'));
    bundle = path.join(temp, 'dist', 'core.js');
    cacheDir = path.join(temp, 'cache', 'cookie-bridge', 'compile-cache');
    const dist = path.dirname(bundle);
    mkdirSync(dist, { recursive: true });
    writeFileSync(path.join(dist, 'helper.js'), 'exports.twice = (n) => n * 2;\n');
    body = [
      "'use strict';",
      "const helper = require('./helper.js');",
      'function lazyWork(n) { return helper.twice(n) + 1; }',
      'exports.answer = lazyWork(20);',
      'exports.where = [__filename, __dirname, module.id];',
      'exports.fail = () => { throw new Error("from the bundle"); };',
      '',
    ].join('\n');
    writeFileSync(bundle, wrapBundleSource(body));
  });
  afterEach(() => rmSync(temp, { recursive: true, force: true }));

  it('first start: compiles from source (missing), then writes the cache 0600 in a folder made 0700', () => {
    const first = load();
    expect(first.state).toBe('missing');
    expect(first.file).toBe(cacheFile());
    const exports = first.exports as { answer: number; where: string[] };
    expect(exports.answer).toBe(41);
    expect(exports.where).toEqual([bundle, path.dirname(bundle), bundle]);
    expect(existsSync(cacheFile())).toBe(false);
    expect(first.save()).toBe(true);
    expect(first.save()).toBe(false);
    expect(statSync(cacheFile()).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    expect(decodeCodeCache(readFileSync(cacheFile()))).toBeDefined();
    expect(readdirSync(cacheDir)).toEqual([path.basename(cacheFile())]);
  });

  it('next start: V8 takes the cache (used), the bundle works the same and nothing is written', () => {
    load().save();
    const before = readFileSync(cacheFile());
    const second = load();
    expect(second.state).toBe('used');
    expect((second.exports as { answer: number }).answer).toBe(41);
    expect(second.save()).toBe(false);
    expect(readFileSync(cacheFile()).equals(before)).toBe(true);
  });

  it('stack traces name the bundle file with its own line numbers', () => {
    load().save();
    const { fail } = load().exports as { fail: () => never };
    expect(fail).toThrow('from the bundle');
    try {
      fail();
    } catch (error) {
      expect((error as Error).stack).toContain(`${bundle}:6:`);
    }
  });

  it('a corrupted cache (two copies that differ) is not given to V8; the bundle loads and a good one is written', () => {
    load().save();
    const stored = readFileSync(cacheFile());
    stored.writeUInt8(stored.readUInt8(stored.length - 10) ^ 0xff, stored.length - 10);
    writeFileSync(cacheFile(), stored, { mode: 0o600 });
    const loaded = load();
    expect(loaded.state).toBe('corrupt');
    expect((loaded.exports as { answer: number }).answer).toBe(41);
    expect(loaded.save()).toBe(true);
    expect(load().state).toBe('used');
  });

  it('a cache for another source of the same name is refused by V8 and rewritten', () => {
    load().save();
    writeFileSync(bundle, wrapBundleSource(`${body}exports.more = true;\n`));
    const loaded = load();
    expect(loaded.state).toBe('refused');
    expect((loaded.exports as { more: boolean }).more).toBe(true);
    expect(loaded.save()).toBe(true);
    expect(load().state).toBe('used');
  });

  it('a new build id starts a new file and removes the old build’s', () => {
    load().save();
    const next = load({ bundleId: 'build2' });
    expect(next.state).toBe('missing');
    expect(next.save()).toBe(true);
    expect(readdirSync(cacheDir)).toEqual([path.basename(cacheFile('build2'))]);
  });

  describe('a cache not provably written by this user is never read nor replaced', () => {
    beforeEach(() => {
      load().save();
    });

    it('group- or world-writable file', () => {
      chmodSync(cacheFile(), 0o620);
      const loaded = load();
      expect(loaded.state).toBe('untrusted');
      expect((loaded.exports as { answer: number }).answer).toBe(41);
      expect(loaded.save()).toBe(false);
      expect(statSync(cacheFile()).mode & 0o777).toBe(0o620);
    });

    it('a folder others can write to', () => {
      chmodSync(cacheDir, 0o777);
      expect(load().state).toBe('untrusted');
    });

    it('a file owned by another user', () => {
      expect(load({ uid: uid + 1 }).state).toBe('untrusted');
    });

    it('a symlink in place of the file', () => {
      const real = path.join(temp, 'planted.v8cache');
      writeFileSync(real, readFileSync(cacheFile()), { mode: 0o600 });
      rmSync(cacheFile());
      symlinkSync(real, cacheFile());
      const loaded = load();
      expect(loaded.state).toBe('untrusted');
      expect(loaded.save()).toBe(false);
      expect(lstatSync(cacheFile()).isSymbolicLink()).toBe(true);
    });

    it('a symlink in place of the folder', () => {
      const moved = path.join(temp, 'elsewhere');
      renameSync(cacheDir, moved);
      symlinkSync(moved, cacheDir);
      expect(load().state).toBe('untrusted');
    });
  });

  it('a cache folder that cannot be created costs speed only: save() says false, nothing throws', () => {
    writeFileSync(path.join(temp, 'cache'), 'a file where the folder should be');
    const loaded = load();
    expect(loaded.state).toBe('missing');
    expect(loaded.save()).toBe(false);
  });

  it('an error thrown by the bundle itself reaches the caller and leaves nothing registered', () => {
    writeFileSync(bundle, wrapBundleSource('throw new Error("broken bundle");\n'));
    expect(() => loadBundleWithCodeCache(bundle, options())).toThrow('broken bundle');
    expect((nodeModule as unknown as { _cache: Record<string, unknown> })._cache[bundle]).toBeUndefined();
  });

  it('a file the build did not wrap is refused with a message that says so, and leaves nothing registered', () => {
    writeFileSync(bundle, body);
    expect(() => loadBundleWithCodeCache(bundle, options())).toThrow(
      `${bundle} is not a bundle wrapped for the code cache (npm run build makes one)`,
    );
    expect((nodeModule as unknown as { _cache: Record<string, unknown> })._cache[bundle]).toBeUndefined();
  });

  it('the wrapped file is still a plain CommonJS module for require() (Node >= 22.1, caches turned off)', () => {
    const required = nodeModule.createRequire(bundle)(bundle) as { answer: number; where: string[] };
    expect(required.answer).toBe(41);
    expect(required.where).toEqual([bundle, path.dirname(bundle), bundle]);
    delete (nodeModule as unknown as { _cache: Record<string, unknown> })._cache[bundle];
  });
});
