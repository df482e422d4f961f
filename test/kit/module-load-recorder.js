'use strict';
/**
 * Preloaded into the built CLI by tests (NODE_OPTIONS=--require …): at exit, writes what the process loaded
 * to $COOKIE_BRIDGE_TEST_MODULES_FILE as JSON: `files` (every required file) and `builtins` (node: modules).
 */
const fs = require('node:fs');

process.on('exit', () => {
  const file = process.env.COOKIE_BRIDGE_TEST_MODULES_FILE;
  if (!file) return;
  const builtins = process.moduleLoadList
    .filter((entry) => entry.startsWith('NativeModule ') && !entry.startsWith('NativeModule internal/'))
    .map((entry) => entry.slice('NativeModule '.length));
  fs.writeFileSync(file, JSON.stringify({ files: Object.keys(require.cache), builtins }));
});
