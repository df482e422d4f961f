'use strict';
/** Section 4: login tail, the bundle POSTed to the loopback listener → CLI exit (7 runs, the first a warm-up). */
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const { CLI, SCRIPTED_BROWSER, childEnv } = require('../settings');
const { median } = require('../median');
const { start, waitForOutput, withTimeout } = require('../processes');
const { tempDir } = require('../stack');

async function sectionLogin(results) {
  const stack = start(process.execPath, [path.join(__dirname, '..', 'stack-server.js')]);
  const samples = [];
  try {
    const [, proxyUrl] = await waitForOutput(stack, /^proxy (http:\/\/\S+)$/m);
    for (let i = 0; i < 7; i++) {
      const home = tempDir('cookie-bridge-bench-login-');
      const handoffFile = path.join(home, 'handoff');
      const cli = start(process.execPath, [CLI, 'api', 'login', '-e', proxyUrl, '--timeout', '30'], {
        env: childEnv({
          COOKIE_BRIDGE_HOME: home,
          BROWSER: `${process.execPath} -r ${path.join(__dirname, '..', 'handoff-timestamp.js')} ${SCRIPTED_BROWSER}`,
          BENCH_HANDOFF_FILE: handoffFile,
          SCRIPTED_BROWSER_EMAIL: 'bench@example.com',
        }),
      });
      const exit = await withTimeout(cli.exited, 60_000, 'api login');
      const exitedAt = performance.timeOrigin + performance.now();
      if (exit.code !== 0) throw new Error(`api login failed (${exit.code}): ${cli.stderr()}`);
      const postedAt = Number(fs.readFileSync(handoffFile, 'utf8'));
      if (i > 0) samples.push(exitedAt - postedAt); // the first run warms the disk cache
      fs.rmSync(home, { recursive: true, force: true });
    }
  } finally {
    await stack.stop();
  }
  samples.sort((a, b) => a - b);
  results.login = { samples, median: median(samples), max: samples[samples.length - 1] };
}

module.exports = { sectionLogin };
