import {
  type Stats,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type * as Vm from 'node:vm';

/**
 * V8's code cache for the CLI's core bundle (dist/cli/cli-core.js) on a Node without
 * `module.enableCompileCache` (Node 20 and 21, 22.0; compile-cache.ts turns Node's own on where it exists).
 * Without a cache, every start parses and compiles the whole ~450 KB bundle before the first command line
 * is read. With one, V8 takes the compiled code of the bundle's top level and of every function the first
 * run compiled from the cache file, and compiles nothing else up front.
 *
 * The bundle is compiled with vm.Script (the only public API on Node 20 that takes a code cache and can
 * write one after running), wrapped at build time (wrapBundleSource) like Node wraps a CommonJS module, with
 * a require() of its own folder.
 * Code in the bundle cannot use import() (vm.Script's wants an experimental flag on Node 20): the one ES
 * module the CLI loads (`open`) comes through the entry (CliHost.openPackage, run-cli.ts).
 *
 * A cache is bytecode the process will run, so it is read only when it can only have been written by this
 * user: its folder is ours (owner, not a symlink, not writable by group or others), and so is the file
 * (opened without following a symlink; regular, owner, mode); it is written 0600 into a folder made 0700,
 * through a temp file and a rename. V8 refuses a cache made by another V8 version, with other V8 flags, or
 * for a source of another length, but does not check its content (a corrupted cache crashes the process),
 * so the file holds the cache twice and is used only when both copies are equal; the file name carries a
 * hash of the bundle made at build time, the Node version and the architecture. Anything wrong costs speed
 * only: the bundle is then compiled from its source and a good cache written at exit.
 *
 * V8 keys a cache by its flags: one written after the CLI changed them (src/cli/v8-flags.ts) would be
 * refused by every later start. So the cache is written at exit only if no flag changed, or just before the
 * first change (`save()`, called by the CLI's beforeV8FlagsChange hook).
 */

/** What happened to the cache on this start (shown under --debug). */
export type CodeCacheState =
  | 'used'
  | 'missing'
  /** V8 refused it (another Node build, other V8 flags in NODE_OPTIONS): rewritten at exit. */
  | 'refused'
  /** Not two equal copies: a file cut short or changed in place. Rewritten at exit. */
  | 'corrupt'
  /** Not provably ours (owner, mode, symlink): left alone and not used. */
  | 'untrusted';

export interface CodeCacheOptions {
  /** The folder for cache files (the user's cache folder: compileCacheDirectory()). */
  directory: string;
  /** Identifies the bundle's content (a hash computed when it was built). */
  bundleId: string;
  /** The user the cache must belong to (process.getuid()). */
  uid: number;
  /** node:module and node:vm, injected by the entry so this module loads nothing itself. */
  moduleApi: Pick<typeof import('node:module'), 'Module' | 'createRequire'>;
  vm: typeof Vm;
}

export interface LoadedBundle {
  exports: unknown;
  state: CodeCacheState;
  /** The cache file this start read or will write. */
  file: string;
  /**
   * Writes the cache once, if this start had none it could use (missing, refused or corrupt); a no-op
   * otherwise and after the first call. Never throws: a cache that cannot be written costs speed only.
   * Returns whether a file was written.
   */
  save(): boolean;
}

const MAGIC = Buffer.from('CBV8CC1\n', 'latin1');
const HEADER_BYTES = MAGIC.length + 4;
const PRIVATE_DIR_MODE = 0o700;
const PRIVATE_FILE_MODE = 0o600;
const WRITABLE_BY_OTHERS = 0o022;
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** `<bundle>.<bundleId>.<node version>-<arch>.v8cache`: one file per build, Node and architecture. */
export function codeCacheFileName(bundleFile: string, bundleId: string): string {
  const base = bundleFile.replace(/^.*[\\/]/, '').replace(/\.js$/, '');
  return `${base}.${bundleId}.${process.version}-${process.arch}.v8cache`;
}

/** The cache framed for storage: magic, payload length, the payload twice. */
export function encodeCodeCache(payload: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(payload.length);
  return Buffer.concat([MAGIC, length, payload, payload]);
}

/**
 * Reads up to `length` bytes at `position` into `target` at `offset`; returns how many it read (0: the end).
 * fs.readSync's shape, so a file is read without a Buffer view per call.
 */
export type ReadStoredBytes = (target: Buffer, offset: number, length: number, position: number) => number;

/** The bytes of a stored cache of `storedSize` that its header and first copy take (what the loader reads). */
function headerAndOneCopyBytes(storedSize: number): number {
  return Math.ceil((storedSize + HEADER_BYTES) / 2);
}

/**
 * How much of the second copy is compared per read. The first copy is read into the caller's buffer (V8 needs
 * it there); the second only has to be compared, so it goes through this small buffer instead of another
 * payload-sized one: every page of fresh memory is a page fault (~60 of them for the CLI's ~250 KB cache).
 */
const COMPARE_CHUNK_BYTES = 16 * 1024;

/**
 * Reads into `target` from `offset` towards `end` the bytes from `position` on, until `end` or the end of what
 * `read` reads; returns the offset reached (`end` when nothing was missing).
 */
function readUpTo(
  read: ReadStoredBytes,
  target: Buffer,
  offset: number,
  end: number,
  position: number,
): number {
  let filled = offset;
  while (filled < end) {
    const count = read(target, filled, end - filled, position + filled - offset);
    if (count === 0) break;
    filled += count;
  }
  return filled;
}

/**
 * The payload of a stored cache of `size` bytes, read into `into` (from its start; it must hold the header
 * and one copy), or undefined when the stored bytes are not two equal copies behind the right header.
 */
export function readStoredCodeCache(size: number, read: ReadStoredBytes, into: Buffer): Buffer | undefined {
  if (size < HEADER_BYTES || into.length < HEADER_BYTES) return undefined;
  if (
    readUpTo(read, into, 0, HEADER_BYTES, 0) !== HEADER_BYTES ||
    into.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0
  ) {
    return undefined;
  }
  const length = into.readUInt32LE(MAGIC.length);
  const end = HEADER_BYTES + length;
  if (length === 0 || size !== HEADER_BYTES + 2 * length || into.length < end) return undefined;
  if (readUpTo(read, into, HEADER_BYTES, end, HEADER_BYTES) !== end) return undefined;
  const chunk = Buffer.allocUnsafe(Math.min(COMPARE_CHUNK_BYTES, length));
  for (let offset = 0; offset < length; offset += chunk.length) {
    const count = Math.min(chunk.length, length - offset);
    if (readUpTo(read, chunk, 0, count, end + offset) !== count) return undefined;
    const at = HEADER_BYTES + offset;
    if (into.compare(chunk, 0, count, at, at + count) !== 0) return undefined;
  }
  return into.subarray(HEADER_BYTES, end);
}

/** The payload of a stored cache held in memory (readStoredCodeCache over a buffer). */
export function decodeCodeCache(stored: Buffer): Buffer | undefined {
  return readStoredCodeCache(
    stored.length,
    (target, offset, length, position) => stored.copy(target, offset, position, position + length),
    Buffer.allocUnsafe(headerAndOneCopyBytes(stored.length)),
  );
}

function isOurs(stats: Stats, uid: number): boolean {
  return stats.uid === uid && (stats.mode & WRITABLE_BY_OTHERS) === 0;
}

/** The folder, when it is a real folder of ours that nobody else can write to. */
function trustedDirectory(directory: string, uid: number): boolean {
  try {
    const stats = lstatSync(directory);
    return stats.isDirectory() && isOurs(stats, uid);
  } catch {
    return false;
  }
}

type OpenedCache = { fd: number; size: number } | { state: 'missing' | 'corrupt' | 'untrusted' };

/** The cache file opened for reading once it is provably ours (the caller reads and closes it). */
function openCodeCache(directory: string, file: string, uid: number): OpenedCache {
  if (!existsSync(file)) return { state: 'missing' };
  if (!trustedDirectory(directory, uid)) return { state: 'untrusted' };
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | O_NOFOLLOW);
  } catch (error) {
    // ELOOP: a symlink where the cache should be.
    return { state: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'untrusted' };
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isFile() && isOurs(stats, uid)) return { fd, size: stats.size };
    closeSync(fd);
    return { state: 'untrusted' };
  } catch {
    closeSync(fd);
    return { state: 'corrupt' };
  }
}

/** A ReadStoredBytes over an open file. */
const readFromFile =
  (fd: number): ReadStoredBytes =>
  (target, offset, length, position) =>
    readSync(fd, target, offset, length, position);

/** Writes `data` as `file` (0600) in `directory` (made 0700), atomically; removes other builds' caches. */
function writeCodeCache(directory: string, file: string, data: Buffer, uid: number): boolean {
  try {
    mkdirSync(directory, { recursive: true, mode: PRIVATE_DIR_MODE });
    if (!trustedDirectory(directory, uid)) return false;
    const temp = `${file}.${process.pid}.tmp`;
    const fd = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW,
      PRIVATE_FILE_MODE,
    );
    try {
      writeSync(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
    removeOtherBuilds(directory, file);
    return true;
  } catch {
    return false;
  }
}

/** Caches of this bundle for other builds or Nodes are dead weight once a new one is written. */
function removeOtherBuilds(directory: string, file: string): void {
  const name = file.slice(directory.length + 1);
  const prefix = name.slice(0, name.indexOf('.') + 1);
  for (const entry of readdirSync(directory)) {
    if (entry !== name && entry.startsWith(prefix) && entry.endsWith('.v8cache')) {
      rmSync(join(directory, entry), { force: true });
    }
  }
}

/**
 * What scripts/build-cli.mjs puts around the core bundle (wrapBundleSource), so that the file itself is the
 * script V8 compiles: no copy of its source is made to wrap it at start-up (230 KB, ~70 page faults). Run as
 * a script (vm.Script, below), the file's value is the module function, which the loader calls like Node's
 * CommonJS wrapper; required as a plain CommonJS module (Node >= 22.1 with its own compile cache,
 * NODE_DISABLE_COMPILE_CACHE), it calls that function itself with the module's own variables. All on the
 * first line, so the bundle's line numbers in stack traces stay the file's.
 */
const BUNDLE_PROLOGUE =
  '(function (moduleFunction) { return typeof module === "object" && module !== null && typeof exports === "object" ' +
  '? moduleFunction.call(exports, exports, require, module, __filename, __dirname) : moduleFunction; })' +
  '(function (exports, require, module, __filename, __dirname) { ';
const BUNDLE_EPILOGUE = '\n});\n';

/** A CommonJS bundle's source as the file loadBundleWithCodeCache reads (see BUNDLE_PROLOGUE). */
export function wrapBundleSource(source: string): string {
  return `${BUNDLE_PROLOGUE}${source}${BUNDLE_EPILOGUE}`;
}

type ModuleFunction = (
  exports: unknown,
  require: NodeJS.Require,
  module: NodeJS.Module,
  filename: string,
  dirname: string,
) => void;

/**
 * Loads `bundleFile` (a CommonJS bundle wrapped by wrapBundleSource) as require() would, compiled with the code cache from
 * `options.directory` when there is a usable one. The module is registered in require's cache under its
 * path, like a required file.
 */
export function loadBundleWithCodeCache(bundleFile: string, options: CodeCacheOptions): LoadedBundle {
  const { moduleApi, vm, directory, uid } = options;
  const file = join(directory, codeCacheFileName(bundleFile, options.bundleId));
  const cache = openCodeCache(directory, file, uid);
  // One buffer for both reads: the source is read into it and copied out as a string, then the cache's first
  // copy is read over it (the second is compared through a small one: readStoredCodeCache). Each page of
  // fresh memory costs a page fault (~20–40 µs on a small VM), and the start would otherwise fault in the
  // source's bytes twice (a buffer, then the string) beside the cache's.
  let sourceFd: number | undefined;
  let source: string;
  let payload: Buffer | undefined;
  // What the start did with the cache when it has no usable payload.
  const cacheState: CodeCacheState = 'state' in cache ? cache.state : 'corrupt';
  try {
    sourceFd = openSync(bundleFile, 'r');
    const sourceSize = fstatSync(sourceFd).size;
    const cacheBytes = 'fd' in cache ? headerAndOneCopyBytes(cache.size) : 0;
    const buffer = Buffer.allocUnsafe(Math.max(sourceSize, cacheBytes));
    source = buffer.toString('utf8', 0, readUpTo(readFromFile(sourceFd), buffer, 0, sourceSize, 0));
    if ('fd' in cache) {
      try {
        payload = readStoredCodeCache(cache.size, readFromFile(cache.fd), buffer.subarray(0, cacheBytes));
      } catch {
        // An unreadable cache costs speed only (state 'corrupt').
      }
    }
  } finally {
    if (sourceFd !== undefined) closeSync(sourceFd);
    if ('fd' in cache) closeSync(cache.fd);
  }
  // Run as a script, any other file would run its code in the global scope.
  if (!source.startsWith(BUNDLE_PROLOGUE)) {
    throw new Error(`${bundleFile} is not a bundle wrapped for the code cache (npm run build makes one)`);
  }
  const script = new vm.Script(source, {
    filename: bundleFile,
    ...(payload === undefined ? {} : { cachedData: payload }),
  });
  const state: CodeCacheState =
    payload === undefined ? cacheState : script.cachedDataRejected === true ? 'refused' : 'used';

  const Module = moduleApi.Module as unknown as {
    new (id: string, parent?: unknown): NodeJS.Module;
    _cache: Record<string, NodeJS.Module>;
    _nodeModulePaths(from: string): string[];
  };
  const folder = dirname(bundleFile);
  const mod = new Module(bundleFile, require.main);
  mod.filename = bundleFile;
  mod.paths = Module._nodeModulePaths(folder);
  Module._cache[bundleFile] = mod;
  const bundleRequire = moduleApi.createRequire(bundleFile);
  try {
    const moduleFunction = script.runInThisContext() as ModuleFunction;
    moduleFunction.call(mod.exports, mod.exports, bundleRequire, mod, bundleFile, folder);
  } catch (error) {
    delete Module._cache[bundleFile];
    throw error;
  }
  mod.loaded = true;

  let saved = false;
  return {
    exports: mod.exports,
    state,
    file,
    save: () => {
      if (saved || state === 'used' || state === 'untrusted') return false;
      saved = true;
      return writeCodeCache(directory, file, encodeCodeCache(script.createCachedData()), uid);
    },
  };
}
