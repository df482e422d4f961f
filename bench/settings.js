'use strict';
/** Where the benchmarks find the built code, and the settings a run takes from the environment. */
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const { bin } = require('../package.json');

/** Forward-proxy variables (any case): bench traffic is loopback only and must never go through one. */
const PROXY_VARIABLE = /^(https?|all|no)_proxy$/i;

/** The environment of bench's children: this process's, without proxy variables, plus `extra`. */
function childEnv(extra = {}) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) if (!PROXY_VARIABLE.test(name)) env[name] = value;
  return { ...env, ...extra };
}

module.exports = {
  ROOT,
  /** The built CLI, wherever package.json's bin points (the bundle, once there is one). */
  CLI: path.join(ROOT, typeof bin === 'string' ? bin : bin['cookie-bridge']),
  DIST_INDEX: path.join(DIST, 'src', 'index.js'),
  DIST_FIXTURES: path.join(DIST, 'fixtures'),
  /** The shared launchers (child-process handle, readiness, budgets, templates), built by `npm run build`. */
  REAL_COMPONENTS: path.join(DIST, 'fixtures', 'real-components'),
  SCRIPTED_BROWSER: path.join(ROOT, 'test', 'kit', 'scripted-browser.js'),
  README: path.join(__dirname, 'README.md'),
  /** BENCH_WRK_SECONDS (default 10): length of each measured wrk run. */
  WRK_SECONDS: Number(process.env.BENCH_WRK_SECONDS || 10),
  /** BENCH_SECTIONS (default "1,2,3,4,5"): which sections run. */
  SECTIONS: new Set((process.env.BENCH_SECTIONS || '1,2,3,4,5').split(',').map((s) => s.trim())),
  /** BENCH_NO_README=1: print the results only, leave bench/README.md alone. */
  WRITE_README: process.env.BENCH_NO_README !== '1',
  GIB: 1024 ** 3,
  childEnv,
};
