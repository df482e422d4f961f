'use strict';
/**
 * Preloaded into the built CLI by tests (NODE_OPTIONS=--require …): at exit, writes what the process loaded
 * to $COOKIE_BRIDGE_TEST_MODULES_FILE as JSON: `files` (every required file), `builtins` (node: modules) and
 * `internals` (Node's own internal modules, e.g. `internal/fs/promises`, which `fs.promises` loads) and
 * `threads`, how many threads the process has at exit (Linux: /proc/self/task; null elsewhere), which grows by
 * libuv's thread pool (4) once anything used it.
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
  let threads = null;
  try {
    threads = fs.readdirSync('/proc/self/task').length;
  } catch {
    // Not Linux: no count.
  }
  fs.writeFileSync(file, JSON.stringify({ files: Object.keys(require.cache), builtins, internals, threads }));
});
