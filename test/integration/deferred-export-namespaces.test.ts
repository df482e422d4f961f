/**
 * src/cli/deferred-export-namespaces.ts rewrites esbuild's output for the core bundle: export namespaces are
 * filled when a module is first required instead of at the bundle's top level. Checked on a bundle built by
 * the pinned esbuild with the core bundle's options (a module required lazily, a live binding, a default
 * export): the rewritten bundle behaves as esbuild's own; and the rewrite refuses output it does not know.
 */
import * as esbuild from 'esbuild';
import * as vm from 'node:vm';
import { deferExportNamespaces, UnrecognisedBundleError } from '../../src/cli/deferred-export-namespaces';

const MODULES: Record<string, string> = {
  'entry.js': `import { bump } from './live.js';
export function lazy() { return require('./lazy.js'); }
export { bump };`,
  'lazy.js': `import { counter } from './live.js';
export let lazyValue = 1;
export function setLazy(value) { lazyValue = value; }
export { counter };
export default 'the default';`,
  'live.js': `export let counter = 0;
export function bump() { counter += 1; }`,
};

/** The modules above bundled as scripts/build-cli.mjs bundles the core (CommonJS, whitespace and syntax minified). */
async function bundle(): Promise<string> {
  const result = await esbuild.build({
    stdin: {
      contents: MODULES['entry.js'] ?? '',
      loader: 'js',
      resolveDir: '/virtual',
      sourcefile: 'entry.js',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'virtual',
        setup(build) {
          build.onResolve({ filter: /^\.\// }, (args) => ({
            path: args.path.slice(2),
            namespace: 'virtual',
          }));
          build.onLoad({ filter: /.*/, namespace: 'virtual' }, (args) => ({
            contents: MODULES[args.path] ?? '',
            loader: 'js',
          }));
        },
      },
    ],
  });
  return result.outputFiles[0]?.text ?? '';
}

interface Entry {
  lazy(): Record<string, unknown> & { setLazy(value: number): void };
  bump(): void;
  __esModule?: boolean;
}

function load(source: string): Entry {
  const module = { exports: {} as Entry };
  const run = vm.runInThisContext(`(function (exports, require, module) {${source}\n})`) as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: Entry },
  ) => void;
  run(module.exports, require, module);
  return module.exports;
}

/** What a user of the bundle sees, step by step. */
function observe(entry: Entry): unknown[] {
  const seen: unknown[] = [entry.__esModule, Object.keys(entry).sort()];
  const lazy = entry.lazy();
  seen.push(lazy.__esModule, Object.keys(lazy).sort(), lazy.default, lazy.lazyValue, lazy.counter);
  lazy.setLazy(5);
  entry.bump();
  entry.bump();
  seen.push(lazy.lazyValue, lazy.counter, entry.lazy().lazyValue);
  return seen;
}

describe('deferExportNamespaces on a bundle built by esbuild', () => {
  let source: string;
  beforeAll(async () => {
    source = await bundle();
  });

  it('esbuild fills the namespaces at the top level; the rewrite moves every getter into a function', () => {
    expect(source).toMatch(/__export\(lazy_exports,\{/);
    const rewritten = deferExportNamespaces(source);
    expect(rewritten).toMatch(/__deferExport\(lazy_exports,\(\)=>\(\{/);
    expect(rewritten).not.toMatch(/__export\([\w$]+_exports/);
    expect(rewritten).not.toMatch(/__toCommonJS\(/);
    expect(rewritten).toMatch(/__namespaceExports\(lazy_exports\)/);
  });

  it("the rewritten bundle behaves as esbuild's: live bindings, default export, __esModule, the same keys", () => {
    const expected = observe(load(source));
    expect(expected).toEqual([
      true,
      ['bump', 'lazy'],
      true,
      ['counter', 'default', 'lazyValue', 'setLazy'],
      'the default',
      1,
      0,
      5,
      2,
      5,
    ]);
    expect(observe(load(deferExportNamespaces(source)))).toEqual(expected);
  });

  it("a module required twice gives the same object, as Node's require does", () => {
    const entry = load(deferExportNamespaces(source));
    expect(entry.lazy()).toBe(entry.lazy());
  });

  it('refuses an __export call of another shape, and a namespace used elsewhere', () => {
    expect(() => deferExportNamespaces(`${source}__export(other_exports,{a:()=>compute()});`)).toThrow(
      UnrecognisedBundleError,
    );
    expect(() => deferExportNamespaces(`${source}console.log(lazy_exports);`)).toThrow(
      /uses of an export namespace outside __toCommonJS/,
    );
  });

  it('leaves a bundle without namespaces as it is', () => {
    const plain = 'var a=1;module.exports={a};';
    expect(deferExportNamespaces(plain)).toBe(plain);
  });
});
