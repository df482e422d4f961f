'use strict';
/** Section 3: cold start (hyperfine): node -e '', api info --offline, api info; the slowest requires. */
const fs = require('node:fs');
const path = require('node:path');

const { CLI } = require('../settings');
const { run } = require('../processes');
const { randomCookie, startUpstreamWithLogin } = require('../stack');

async function sectionColdStart(results) {
  // Section 1 leaves its upstream and login behind; start our own when it did not run.
  results.upstream ??= await startUpstreamWithLogin(randomCookie());
  const { url: endpoint, home } = results.upstream;
  const env = { ...process.env, COOKIE_BRIDGE_HOME: home };
  const exportFile = path.join(home, 'hyperfine.json');
  const commands = [
    `${process.execPath} -e ''`,
    `${process.execPath} ${CLI} api info --offline -e ${endpoint}`,
    `${process.execPath} ${CLI} api info -e ${endpoint}`,
  ];
  const check = await run(process.execPath, [CLI, 'api', 'info', '-e', endpoint, '--json'], { env }, 30_000);
  if (!/"state": "ok"/.test(check.stdout))
    throw new Error(`api info does not reach the upstream: ${check.stdout}${check.stderr}`);
  const hyperfine = await run(
    'hyperfine',
    ['-N', '--warmup', '5', '--runs', '40', '--export-json', exportFile, ...commands],
    { env },
    300_000,
  );
  if (hyperfine.code !== 0) throw new Error(`hyperfine failed: ${hyperfine.stderr}`);
  const timings = JSON.parse(fs.readFileSync(exportFile, 'utf8')).results.map((r) => ({
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
    node: timings[0],
    offline: timings[1],
    online: timings[2],
    requires: fs.existsSync(requireFile) ? JSON.parse(fs.readFileSync(requireFile, 'utf8')) : [],
  };
}

module.exports = { sectionColdStart };
