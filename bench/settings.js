'use strict';
/** Where the benchmarks find the built code, and the settings a run takes from the environment. */
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');

module.exports = {
  ROOT,
  /** The built CLI: the file package.json's `bin` names (the bundle of scripts/build-cli.mjs). */
  CLI: path.join(ROOT, require('../package.json').bin['cookie-bridge']),
  DIST_INDEX: path.join(DIST, 'src', 'index.js'),
  DIST_FIXTURES: path.join(DIST, 'fixtures'),
  /** The shared launchers (child-process handle, readiness, budgets, templates), built by `npm run build`. */
  REAL_COMPONENTS: path.join(DIST, 'fixtures', 'real-components'),
  SCRIPTED_BROWSER: path.join(ROOT, 'test', 'kit', 'scripted-browser.js'),
  README: path.join(__dirname, 'README.md'),
  /** BENCH_WRK_SECONDS (default 10): length of each measured wrk run. */
  WRK_SECONDS: Number(process.env.BENCH_WRK_SECONDS || 10),
  /** BENCH_SECTIONS (default "1,2,3,4"): which sections run. */
  SECTIONS: new Set((process.env.BENCH_SECTIONS || '1,2,3,4').split(',').map((s) => s.trim())),
  /** BENCH_NO_README=1: print the results only, leave bench/README.md alone. */
  WRITE_README: process.env.BENCH_NO_README !== '1',
  GIB: 1024 ** 3,
};
