/**
 * A build step for the core bundle (scripts/build-cli.mjs): esbuild gives every module that is required
 * lazily (the commands' modules, cli-context.ts) or that a command bundle takes from the core an export
 * namespace, and fills it at the bundle's top level:
 *
 *   var errors_exports = {};
 *   __export(errors_exports, { ExitCode: () => ExitCode, UsageError: () => UsageError, … });
 *
 * One getter closure and one accessor per export, ~300 of them: ~55 KB of young-generation allocation at
 * every start (the bundle's top level: 194 -> 140 KB), for namespaces that a short command mostly never reads
 * (V8's first young-generation collection, ~4 ms, comes when ~550 KB have been allocated after Node's own
 * start: bench/README.md, section 3). A namespace is only read
 * through `__toCommonJS(x_exports)`, when its module is required, which copies it into a new object with one
 * more closure per export. This step makes each `__export` record a function that builds the getters, and
 * each require fill the namespace then and hand it out itself, marked `__esModule` as the copy was:
 *
 *   __deferExport(errors_exports, () => ({ ExitCode: () => ExitCode, … }));
 *   … __namespaceExports(errors_exports) …
 *
 * The getters are the same closures over the same bindings, so a require sees the same live values; two
 * requires of a module now get the same object, as Node's require does. The step refuses (throws at build
 * time) any output it does not recognise: an `__export` call of another shape, or a namespace used anywhere
 * else than in these places (a later esbuild could emit either).
 */

/** esbuild's export call: a namespace, then getters that each return a binding (`x` or `import_y.x`). */
const EXPORT_CALL =
  /__export\(([A-Za-z_$][\w$]*_exports),\{((?:[\w$]+:\(\)=>[A-Za-z_$][\w$]*(?:\.[\w$]+)*,?)*)\}\)/g;
const TO_COMMONJS_CALL = /__toCommonJS\(([A-Za-z_$][\w$]*_exports)\)/g;
/** Every place a namespace may appear once the step is done. */
const NAMESPACE_USES = [
  /([A-Za-z_$][\w$]*_exports)=\{\}/g,
  /__deferExport\(([A-Za-z_$][\w$]*_exports),/g,
  /__namespaceExports\(([A-Za-z_$][\w$]*_exports)\)/g,
];
const NAMESPACE = /(?<![\w$])[A-Za-z_$][\w$]*_exports(?![\w$])/g;

/** The two helpers, put before esbuild's own (they call its `__export`, defined by the time they run). */
const HELPERS =
  'var __pendingExports=new Map(),' +
  '__deferExport=(target,getters)=>{__pendingExports.set(target,getters)},' +
  '__namespaceExports=target=>{const getters=__pendingExports.get(target);' +
  'if(getters!==void 0){__pendingExports.delete(target);__export(target,getters())}' +
  'Object.hasOwn(target,"__esModule")||Object.defineProperty(target,"__esModule",{value:!0});return target};';

export class UnrecognisedBundleError extends Error {
  constructor(detail: string) {
    super(
      `deferExportNamespaces: ${detail} (esbuild's output changed? see src/cli/deferred-export-namespaces.ts)`,
    );
    this.name = 'UnrecognisedBundleError';
  }
}

/** The bundle's source with its export namespaces filled on first require (see above). */
export function deferExportNamespaces(source: string): string {
  const calls = source.split('__export(').length - 1;
  let deferred = 0;
  let result = source.replace(EXPORT_CALL, (_call, namespace: string, getters: string) => {
    deferred += 1;
    return `__deferExport(${namespace},()=>({${getters}}))`;
  });
  if (deferred !== calls) {
    throw new UnrecognisedBundleError(`${calls - deferred} of ${calls} __export calls have an unknown shape`);
  }
  result = result.replace(TO_COMMONJS_CALL, '__namespaceExports($1)');
  let known = 0;
  for (const use of NAMESPACE_USES) known += [...result.matchAll(use)].length;
  const all = [...result.matchAll(NAMESPACE)].length;
  if (all !== known) {
    throw new UnrecognisedBundleError(`${all - known} uses of an export namespace outside __toCommonJS`);
  }
  return deferred === 0 ? source : `${HELPERS}${result}`;
}
