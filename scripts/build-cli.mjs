// Builds the CLI that `bin` (package.json) points at, in dist/cli/:
//   cookie-bridge.js   the entry (src/cli/main.ts): turns V8's compile cache on, answers --version, then
//                      loads cli-core.js (so the cache covers it, and --version reads a few KB only); on
//                      Node 20 through its own V8 code cache (src/cli/code-cache.ts), keyed by a hash of
//                      cli-core.js built into the entry
//   cli-core.js        our code (src/cli/run-cli.ts and all it can reach) with env-paths and commander (required
//                      only by a command line that needs it: src/cli/plain-command-line.ts parses the plain ones)
//   vendor/<name>.js   one bundle per heavy dependency, required only by the code that uses it
//
// Why: a cold start of `cookie-bridge api info` spent most of its time resolving and reading ~45 files of
// ours and ~100 of undici's. One file for our code, one per dependency, none loaded before it is needed.
// Our modules that are required lazily (the definitions' commands, cli-context.ts) stay lazy inside the bundle:
// esbuild wraps each in an init function that runs on its first require. The library (`exports`, the SDK,
// dist/src) is tsc's output, not this.
//
//   node scripts/build-cli.mjs            (run by `npm run build`, after tsc)
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const BIN = join(ROOT, pkg.bin['cookie-bridge']);
const OUT_DIR = dirname(BIN);

/**
 * Dependencies bundled on their own (dist/cli/vendor/<name>.js), each required only where the code requires
 * it: undici by the first request, tough-cookie by the first jar read, express and http-proxy-middleware by
 * `serve`, ioredis by `serve` with a Redis relay store. Every other package stays a plain require() of
 * node_modules (`open` is ES modules: import()).
 */
const VENDOR = ['undici', 'tough-cookie', 'express', 'http-proxy-middleware', 'ioredis'];
/**
 * Small packages inside the core bundle. commander is one although a plain command line never requires it
 * (esbuild runs a CommonJS package's code on its first require): in the core, the help, an error or
 * `completion --endpoints` (a shell's Tab) compile it with the core's V8 code cache; as a bundle of its own
 * they compiled it from source, ~16–25 M instructions more, for the same `api info`.
 */
const INLINE = new Set(['commander', 'env-paths']);

/**
 * undici's index loads fetch, WebSocket, EventSource, the cache API and the mocks: about a third of its
 * load time, none of it used by the CLI. Its bundle holds every dispatcher, handler and interceptor, the
 * request API, connector and errors (one copy: ProxyAgent's pools must share undici's internal symbols with
 * it); the web APIs and mocks still work, loading the full index (vendor/undici-full.js, a copy of its own
 * that reaches our dispatchers through their public dispatch()) on first access.
 */
function undiciEntry() {
  const requireHere = createRequire(join(ROOT, 'package.json'));
  const lib = (path) => JSON.stringify(join(dirname(requireHere.resolve('undici')), 'lib', path));
  const names = Object.keys(requireHere('undici'));
  return `'use strict';
const Dispatcher = require(${lib('dispatcher/dispatcher')});
const api = require(${lib('api')});
const util = require(${lib('core/util')});
const errors = require(${lib('core/errors')});
const { getGlobalDispatcher, setGlobalDispatcher } = require(${lib('global')});
Object.assign(Dispatcher.prototype, api); // as undici's index.js does
// undici's index.js makeDispatcher: request(url, opts) on opts.dispatcher or the global one.
function makeDispatcher(fn) {
  return (url, opts, handler) => {
    if (typeof opts === 'function') { handler = opts; opts = null; }
    if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) {
      throw new errors.InvalidArgumentError('invalid url');
    }
    if (opts != null && typeof opts !== 'object') throw new errors.InvalidArgumentError('invalid opts');
    if (opts && opts.path != null) {
      if (typeof opts.path !== 'string') throw new errors.InvalidArgumentError('invalid opts.path');
      const path = opts.path.startsWith('/') ? opts.path : '/' + opts.path;
      url = new URL(util.parseOrigin(url).origin + path);
    } else {
      if (!opts) opts = typeof url === 'object' ? url : {};
      url = util.parseURL(url);
    }
    const { agent, dispatcher = getGlobalDispatcher() } = opts;
    if (agent) throw new errors.InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
    return fn.call(dispatcher, {
      ...opts,
      origin: url.origin,
      path: url.search ? url.pathname + url.search : url.pathname,
      method: opts.method || (opts.body ? 'PUT' : 'GET'),
    }, handler);
  };
}
Object.assign(exports, {
  Dispatcher,
  Client: require(${lib('dispatcher/client')}),
  Pool: require(${lib('dispatcher/pool')}),
  BalancedPool: require(${lib('dispatcher/balanced-pool')}),
  Agent: require(${lib('dispatcher/agent')}),
  ProxyAgent: require(${lib('dispatcher/proxy-agent')}),
  EnvHttpProxyAgent: require(${lib('dispatcher/env-http-proxy-agent')}),
  RetryAgent: require(${lib('dispatcher/retry-agent')}),
  RetryHandler: require(${lib('handler/retry-handler')}),
  DecoratorHandler: require(${lib('handler/decorator-handler')}),
  RedirectHandler: require(${lib('handler/redirect-handler')}),
  createRedirectInterceptor: require(${lib('interceptor/redirect-interceptor')}),
  interceptors: {
    redirect: require(${lib('interceptor/redirect')}),
    retry: require(${lib('interceptor/retry')}),
    dump: require(${lib('interceptor/dump')}),
    dns: require(${lib('interceptor/dns')}),
  },
  buildConnector: require(${lib('core/connect')}),
  errors,
  getGlobalDispatcher,
  setGlobalDispatcher,
  request: makeDispatcher(api.request),
  stream: makeDispatcher(api.stream),
  pipeline: makeDispatcher(api.pipeline),
  connect: makeDispatcher(api.connect),
  upgrade: makeDispatcher(api.upgrade),
});
let full;
for (const name of ${JSON.stringify(names)}) {
  if (!(name in exports)) {
    Object.defineProperty(exports, name, { enumerable: true, get: () => (full ??= require('./undici-full.js'))[name] });
  }
}
`;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: `node${pkg.engines.node.replace(/^>=/, '')}`,
  // Whitespace and syntax only: names stay, so stack traces and error names read as in the source.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};

/** Resolves the vendor packages to their own bundle and leaves other packages to node_modules. */
function dependencyBoundaries(ownVendor) {
  return {
    name: 'dependency-boundaries',
    setup(build) {
      build.onResolve({ filter: /^\.\/undici-full\.js$/ }, (args) => ({ path: args.path, external: true }));
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:') || args.kind === 'entry-point') return undefined;
        const name = args.path.startsWith('@')
          ? args.path.split('/').slice(0, 2).join('/')
          : args.path.split('/')[0];
        if (ownVendor !== undefined) {
          // Inside a vendor bundle: other vendor bundles stay separate, the rest is bundled.
          if (name !== ownVendor && VENDOR.includes(name) && name === args.path) {
            return { path: `./${name}.js`, external: true };
          }
          return undefined;
        }
        if (VENDOR.includes(name) && name === args.path) {
          return { path: `./vendor/${name}.js`, external: true };
        }
        if (INLINE.has(name)) return undefined;
        return { path: args.path, external: true };
      });
      // The entry (main.ts) stays a few lines: it turns the compile cache on, then requires the core bundle.
      build.onResolve({ filter: /^\.\/run-cli$/ }, (args) =>
        ownVendor === undefined && /main\.ts$/.test(args.importer)
          ? { path: './cli-core.js', external: true }
          : undefined,
      );
      // src/cli/main.ts reads the version from package.json through tsc's dist/ layout: the root one here.
      // Only the version is inlined, not the whole package.json.
      build.onResolve({ filter: /package\.json$/ }, () => ({ path: 'package.json', namespace: 'version' }));
      build.onLoad({ filter: /.*/, namespace: 'version' }, () => ({
        contents: JSON.stringify({ version: pkg.version }),
        loader: 'json',
      }));
    },
  };
}

/**
 * commander requires node:child_process at load for executable subcommands, which we do not use: that pulls
 * in net, dgram and child_process on every start. Give it a stand-in that loads the real one on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process-for-commander',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      /[/\\]commander[/\\]/.test(args.importer)
        ? { path: 'lazy-child-process', namespace: 'lazy' }
        : undefined,
    );
    build.onLoad({ filter: /^lazy-child-process$/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, key) => require('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

/**
 * undici's HTTP/2 client requires node:http2 at load (~5 ms) and reads seven header-name constants from it;
 * we never enable HTTP/2. Its stand-in holds those constants (checked against node:http2 at build time) and
 * loads the real module when anything else is used (http2.connect).
 */
const HTTP2_HEADER_NAMES = [
  'HTTP2_HEADER_AUTHORITY',
  'HTTP2_HEADER_METHOD',
  'HTTP2_HEADER_PATH',
  'HTTP2_HEADER_SCHEME',
  'HTTP2_HEADER_CONTENT_LENGTH',
  'HTTP2_HEADER_EXPECT',
  'HTTP2_HEADER_STATUS',
];
const lazyHttp2 = {
  name: 'lazy-http2-for-undici',
  setup(build) {
    build.onResolve({ filter: /^(node:)?http2$/ }, (args) =>
      /[/\\]undici[/\\]lib[/\\]dispatcher[/\\]client-h2\.js$/.test(args.importer)
        ? { path: 'lazy-http2', namespace: 'lazy' }
        : undefined,
    );
    build.onLoad({ filter: /^lazy-http2$/, namespace: 'lazy' }, async () => {
      const { constants } = await import('node:http2');
      const headerNames = Object.fromEntries(HTTP2_HEADER_NAMES.map((name) => [name, constants[name]]));
      if (Object.values(headerNames).some((value) => typeof value !== 'string')) {
        throw new Error(`node:http2 lacks one of ${HTTP2_HEADER_NAMES.join(', ')}`);
      }
      return {
        contents: `const headerNames = ${JSON.stringify(headerNames)};
module.exports = new Proxy({}, {
  get: (_, key) => (key === 'constants' ? headerNames : require('node:http2')[key]),
});`,
        loader: 'js',
      };
    });
  },
};

/**
 * The entry learns the core bundle's identity from src/cli/cli-core-id.ts, replaced here by a hash of the
 * bundle just built: the code cache (src/cli/code-cache.ts) is keyed by it, so nothing is hashed at start-up.
 */
function coreBundleId(id) {
  return {
    name: 'core-bundle-id',
    setup(build) {
      build.onResolve({ filter: /^\.\/cli-core-id$/ }, () => ({ path: 'cli-core-id', namespace: 'core-id' }));
      build.onLoad({ filter: /.*/, namespace: 'core-id' }, () => ({
        contents: `export const CLI_CORE_ID = ${JSON.stringify(id)};`,
        loader: 'js',
      }));
    },
  };
}

/**
 * Commands whose code, and the code only they use, is a bundle of its own (dist/cli/<module>.js), loaded when
 * the command runs: the core bundle then holds what the short commands (`api info`, `header`, `cookies`,
 * `logout`, `request`) use, and every start compiles (or takes from the code cache) half as much. A command
 * bundle takes every module the core holds from the core (`coreModule(id)` below), so there is one instance
 * of each: one error class for `instanceof`, one HTTP client, one store. Code two command bundles share and
 * the core does not (the local proxy for `proxy` and `exec`) is in both files; one command runs per process.
 */
const COMMAND_BUNDLES = [
  'login-command',
  'serve-command',
  'proxy-command',
  'exec-command',
  'completion-command',
  'service-account-command',
  'users-command',
];

/**
 * In the core: a command definition's require('../commands/<name>') of a command bundle (src/cli/definitions/)
 * stays a require of its file.
 */
const commandBundlesExternal = {
  name: 'command-bundles-external',
  setup(build) {
    const names = COMMAND_BUNDLES.join('|');
    build.onResolve({ filter: new RegExp(`^\\.\\./commands/(${names})$`) }, (args) =>
      /[/\\]src[/\\]cli[/\\]definitions[/\\][^/\\]+\.ts$/.test(args.importer)
        ? { path: `./${args.path.slice('../commands/'.length)}.js`, external: true }
        : undefined,
    );
  },
};

/** The id the core registers a module under: its path from the root, or `package:<name>`. */
const coreIdOf = (inputPath) => inputPath.split(sep).join('/');

/**
 * In a command bundle: a module the core holds (a relative import resolving to one of `coreInputs`, or an
 * INLINE package) becomes `require('./cli-core.js').coreModule(id)`; records the ids used in `used`.
 */
function modulesFromCore(coreInputs, used) {
  return {
    name: 'modules-from-core',
    setup(build) {
      build.onResolve({ filter: /^\.\/cli-core\.js$/, namespace: 'core-module' }, () => ({
        path: './cli-core.js',
        external: true,
      }));
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData?.fromCore === true || args.kind === 'entry-point') return undefined;
        let id;
        if (/^[^./]/.test(args.path)) {
          if (!INLINE.has(args.path)) return undefined;
          id = `package:${args.path}`;
        } else {
          const resolved = await build.resolve(args.path, {
            importer: args.importer,
            resolveDir: args.resolveDir,
            kind: args.kind,
            pluginData: { fromCore: true },
          });
          if (resolved.errors.length > 0 || resolved.external) return undefined;
          const input = coreIdOf(relative(ROOT, resolved.path));
          if (!coreInputs.has(input)) return undefined;
          id = input;
        }
        used.add(id);
        return { path: id, namespace: 'core-module' };
      });
      build.onLoad({ filter: /.*/, namespace: 'core-module' }, (args) => ({
        contents: `module.exports = require('./cli-core.js').coreModule(${JSON.stringify(args.path)});`,
        loader: 'js',
        resolveDir: OUT_DIR,
      }));
    },
  };
}

/**
 * The core's entry: run-cli.ts's exports, and coreModule(id) for the modules command bundles take from it.
 * A switch, not a table of loader functions: the table's ~40 closures were built at every start (~6 KB of
 * the young generation, bench/README.md section 3) for the few commands that run a bundle of their own.
 */
function coreEntry(ids) {
  const cases = [...ids]
    .sort()
    .map((id) => {
      const target = id.startsWith('package:') ? id.slice('package:'.length) : `./${id}`;
      return `    case ${JSON.stringify(id)}:\n      return require(${JSON.stringify(target)});`;
    })
    .join('\n');
  return `export * from './src/cli/run-cli.ts';
export function coreModule(id) {
  switch (id) {
${cases}
    default:
      throw new Error('cookie-bridge: the core bundle has no module ' + id + ' (npm run build)');
  }
}
`;
}

rmSync(OUT_DIR, { recursive: true, force: true });

const CORE = join(OUT_DIR, 'cli-core.js');
const coreOptions = {
  ...common,
  absWorkingDir: ROOT,
  plugins: [commandBundlesExternal, dependencyBoundaries(undefined), lazyChildProcess],
};
// 1. Which modules the core holds (everything run-cli.ts reaches without the command bundles).
const firstPass = await esbuild.build({
  ...coreOptions,
  entryPoints: [join(ROOT, 'src', 'cli', 'run-cli.ts')],
  write: false,
  metafile: true,
  outfile: CORE,
});
const coreInputs = new Set(Object.keys(firstPass.metafile.inputs).map(coreIdOf));
// 2. The command bundles, taking those from the core; which ones they take.
const usedFromCore = new Set();
await Promise.all(
  COMMAND_BUNDLES.map((name) =>
    esbuild.build({
      ...common,
      absWorkingDir: ROOT,
      entryPoints: [join(ROOT, 'src', 'cli', 'commands', `${name}.ts`)],
      outfile: join(OUT_DIR, `${name}.js`),
      plugins: [modulesFromCore(coreInputs, usedFromCore), dependencyBoundaries(undefined), lazyChildProcess],
    }),
  ),
);
// 3. The core, registering what the command bundles take.
await esbuild.build({
  ...coreOptions,
  stdin: { contents: coreEntry(usedFromCore), resolveDir: ROOT, sourcefile: 'cli-core-entry.js' },
  outfile: CORE,
});
// The core is loaded as a script with V8's code cache (src/cli/code-cache.ts): wrapped here, once, so no
// copy of it is made at start-up; its export namespaces are filled when first required, not at every start
// (src/cli/deferred-export-namespaces.ts). tsc has already built dist/src (npm run build runs it first).
const requireBuilt = createRequire(import.meta.url);
const { wrapBundleSource } = requireBuilt(join(ROOT, 'dist', 'src', 'cli', 'code-cache.js'));
const { deferExportNamespaces } = requireBuilt(
  join(ROOT, 'dist', 'src', 'cli', 'deferred-export-namespaces.js'),
);
writeFileSync(CORE, wrapBundleSource(deferExportNamespaces(readFileSync(CORE, 'utf8'))));
const coreId = createHash('sha256').update(readFileSync(CORE)).digest('hex').slice(0, 16);

await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
    outfile: BIN,
    plugins: [coreBundleId(coreId), dependencyBoundaries(undefined), lazyChildProcess],
  }),
  ...VENDOR.map((name) =>
    esbuild.build({
      ...common,
      stdin: {
        contents: name === 'undici' ? undiciEntry() : `module.exports = require(${JSON.stringify(name)});`,
        resolveDir: ROOT,
      },
      outfile: join(OUT_DIR, 'vendor', `${name}.js`),
      plugins: name === 'undici' ? [dependencyBoundaries(name), lazyHttp2] : [dependencyBoundaries(name)],
    }),
  ),
  esbuild.build({
    ...common,
    stdin: { contents: "module.exports = require('undici');", resolveDir: ROOT },
    outfile: join(OUT_DIR, 'vendor', 'undici-full.js'),
    plugins: [dependencyBoundaries('undici')],
  }),
]);

// `npx cookie-bridge` and a global install run the file directly; esbuild keeps main.ts's #! line.
chmodSync(BIN, 0o755);
// Node reads the package.json nearest to each .js file it loads (for its "type"): without this one, the
// project's whole package.json, parsed at every start (~20 KB of the young generation).
writeFileSync(join(OUT_DIR, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
