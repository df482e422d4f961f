'use strict';
/**
 * Preloaded into the built CLI by tests (NODE_OPTIONS=--require …): at exit, writes what the process loaded
 * to $COOKIE_BRIDGE_TEST_MODULES_FILE as JSON: `files` (every required file), `builtins` (node: modules) and
 * `internals` (Node's own internal modules, e.g. `internal/fs/promises`, which `fs.promises` loads).
 */
const fs = require('node:fs');

process.on('exit', () => {
  const file = process.env.COOKIE_BRIDGE_TEST_MODULES_FILE;
  if (!file) return;
  const native = process.moduleLoadList
    .filter((entry) => entry.startsWith('NativeModule '))
    .map((entry) => entry.slice('NativeModule '.length));
  const builtins = native.filter((name) => !name.startsWith('internal/'));
  const internals = native.filter((name) => name.startsWith('internal/'));
  fs.writeFileSync(file, JSON.stringify({ files: Object.keys(require.cache), builtins, internals }));
});
