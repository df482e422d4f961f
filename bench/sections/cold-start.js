'use strict';
/**
 * Section 3: cold start (hyperfine -N): `node -e ''` and the floors beside it (node loading only node:http,
 * only undici, one undici GET: what a command that needs them cannot go below), then `--version`, `api info --offline` and
 * `api info` with its server check against the local upstream; the slowest requires of `api info --offline`.
 */
const fs = require('node:fs');
const path = require('node:path');

const { CLI, ROOT, childEnv } = require('../settings');
const { run } = require('../processes');
const { randomCookie, startUpstreamWithLogin } = require('../stack');

/** [key, label, command line] in the order hyperfine runs them. */
function commands(endpoint) {
  const node = process.execPath;
  return [
    ['node', "node -e ''", `${node} -e ''`],
    ['nodeHttp', 'floor: node -e "require(\'node:http\')"', `${node} -e "require('node:http')"`],
    ['nodeUndici', 'floor: node -e "require(\'undici\')"', `${node} -e "require('undici')"`],
    [
      'floorInfo',
      'floor: one undici GET of /api/health (bench/floor-info.js)',
      `${node} ${path.join(__dirname, '..', 'floor-info.js')} ${endpoint}/api/health`,
    ],
    [
      'floorInfoNodeHttp',
      'floor: one node:http GET of /api/health (bench/floor-info.js node-http)',
      `${node} ${path.join(__dirname, '..', 'floor-info.js')} ${endpoint}/api/health node-http`,
    ],
    ['version', '--version', `${node} ${CLI} --version`],
    ['offline', 'api info --offline', `${node} ${CLI} api info --offline -e ${endpoint}`],
    ['online', 'api info (server check, local upstream)', `${node} ${CLI} api info -e ${endpoint}`],
  ];
}

async function sectionColdStart(results) {
  // Section 1 leaves its upstream and login behind; start our own when it did not run.
  results.upstream ??= await startUpstreamWithLogin(randomCookie());
  const { url: endpoint, home, cookie } = results.upstream;
  const env = childEnv({ COOKIE_BRIDGE_HOME: home, BENCH_COOKIE: cookie });
  const exportFile = path.join(home, 'hyperfine.json');
  const list = commands(endpoint);
  const check = await run(process.execPath, [CLI, 'api', 'info', '-e', endpoint, '--json'], { env }, 30_000);
  if (!/"state": "ok"/.test(check.stdout))
    throw new Error(`api info does not reach the upstream: ${check.stdout}${check.stderr}`);
  // From the checkout, so require('undici') resolves as it does for the CLI.
  const hyperfine = await run(
    'hyperfine',
    ['-N', '--warmup', '5', '--runs', '40', '--export-json', exportFile, ...list.map(([, , cmd]) => cmd)],
    { env, cwd: ROOT },
    300_000,
  );
  if (hyperfine.code !== 0) throw new Error(`hyperfine failed: ${hyperfine.stderr}`);
  const rows = JSON.parse(fs.readFileSync(exportFile, 'utf8')).results.map((r, i) => ({
    key: list[i][0],
    label: list[i][1],
    mean: r.mean * 1000,
    stddev: r.stddev * 1000,
    median: r.median * 1000,
  }));
  const requireFile = path.join(home, 'require-times.json');
  await run(
    process.execPath,
    ['-r', path.join(__dirname, '..', 'require-times.js'), CLI, 'api', 'info', '--offline', '-e', endpoint],
    { env: { ...env, BENCH_REQUIRE_TIMES_FILE: requireFile } },
    30_000,
  );
  results.coldStart = {
    rows,
    ...Object.fromEntries(rows.map((row) => [row.key, row])),
    requires: fs.existsSync(requireFile) ? JSON.parse(fs.readFileSync(requireFile, 'utf8')) : [],
  };
}

module.exports = { sectionColdStart };
