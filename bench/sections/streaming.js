'use strict';
/** Section 2: a 1 GiB response, direct, through cookie-bridge proxy and through cookie-bridge request; peak RSS. */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const { CLI, DIST_FIXTURES, GIB } = require('../settings');
const { run, start, waitForOutput } = require('../processes');
const { vmHwmKb } = require('../process-stats');
const { cookieLogin, startCookieBridgeProxy, tempDir } = require('../stack');

async function curlDownload(url) {
  const result = await run(
    'curl',
    ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', url],
    {},
    300_000,
  );
  const [status, size, seconds] = result.stdout.trim().split(' ');
  if (result.code !== 0 || status !== '200' || Number(size) !== GIB) {
    throw new Error(`curl ${url}: ${result.stdout} ${result.stderr}`);
  }
  return { seconds: Number(seconds), mbps: GIB / 1024 ** 2 / Number(seconds) };
}

async function sectionStreaming(results) {
  const api = start(process.execPath, [path.join(DIST_FIXTURES, 'demo-api.js'), '0']);
  const home = tempDir('cookie-bridge-bench-stream-');
  try {
    const [, apiUrl] = await waitForOutput(api, /listening on (http:\/\/\S+)/);
    await cookieLogin(home, apiUrl, [
      { name: 'session', value: crypto.randomBytes(24).toString('base64url') },
    ]);
    const bytesPath = `/api/bytes?size=${GIB}`;
    const direct = await curlDownload(`${apiUrl}${bytesPath}`);
    const proxy = await startCookieBridgeProxy(home, apiUrl);
    let viaProxy;
    let proxyPeak;
    try {
      viaProxy = await curlDownload(`${proxy.url}${bytesPath}`);
      proxyPeak = vmHwmKb(proxy.handle.pid);
    } finally {
      await proxy.handle.stop();
    }
    const peakFile = path.join(home, 'peak-rss');
    const startedAt = performance.now();
    const request = await run(
      process.execPath,
      ['-r', path.join(__dirname, '..', 'peak-rss.js'), CLI, 'request', '-s', '-e', apiUrl, bytesPath],
      {
        env: { ...process.env, COOKIE_BRIDGE_HOME: home, BENCH_PEAK_RSS_FILE: peakFile },
        stdout: 'ignore',
      },
      300_000,
    );
    const requestSeconds = (performance.now() - startedAt) / 1000;
    if (request.code !== 0)
      throw new Error(`cookie-bridge request failed (${request.code}): ${request.stderr}`);
    const requestPeak = Number(fs.readFileSync(peakFile, 'utf8')) || undefined;
    results.streaming = {
      direct,
      viaProxy: { ...viaProxy, peakKb: proxyPeak },
      viaRequest: { seconds: requestSeconds, mbps: GIB / 1024 ** 2 / requestSeconds, peakKb: requestPeak },
    };
  } finally {
    await api.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

module.exports = { sectionStreaming };
