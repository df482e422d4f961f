'use strict';
/**
 * Section 2: a 1 GiB response from the demo API: curl direct; curl through the floor proxy
 * (bench/floor-proxy.js, node:http's client, then undici's) and through cookie-bridge proxy (peak RSS of each proxy); the floor request
 * (bench/floor-request.js: undici piped to stdout) and cookie-bridge request, each > /dev/null with its
 * start-up (peak RSS written at exit by the preload bench/peak-rss.js). Each row runs once per round
 * (BENCH_STREAM_ROUNDS, default 3) in a rotated order; the table gets the median time and the highest peak.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const { CLI, DIST_FIXTURES, GIB, childEnv } = require('../settings');
const { run, start, waitForOutput } = require('../processes');
const { median } = require('../median');
const { vmHwmKb } = require('../process-stats');
const { cookieLogin, startCookieBridgeProxy, startFloorProxy, tempDir } = require('../stack');

const PEAK_RSS = path.join(__dirname, '..', 'peak-rss.js');
/** Rounds of the section: every row measured once per round; the table shows medians. */
const STREAM_ROUNDS = Number(process.env.BENCH_STREAM_ROUNDS ?? 3);

/** One row over the rounds: the median time (and its speed), the highest peak RSS any round reached. */
function medianOfRounds(rounds) {
  const seconds = median(rounds.map((r) => r.seconds));
  const peaks = rounds.map((r) => r.peakKb).filter((kb) => kb !== undefined);
  return {
    seconds,
    mbps: GIB / 1024 ** 2 / seconds,
    peakKb: peaks.length === 0 ? undefined : Math.max(...peaks),
  };
}

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

/** curl through a proxy started by `startProxy`; the proxy's peak RSS read before it stops. */
async function throughProxy(startProxy, bytesPath) {
  const proxy = await startProxy();
  try {
    const timing = await curlDownload(`${proxy.url}${bytesPath}`);
    return { ...timing, peakKb: vmHwmKb(proxy.handle.pid) };
  } finally {
    await proxy.handle.stop();
  }
}

/** `node -r peak-rss.js <args>` with stdout to /dev/null, timed from spawn to exit (start-up included). */
async function nodeToDevNull(label, args, env, peakFile) {
  const startedAt = performance.now();
  const result = await run(
    process.execPath,
    ['-r', PEAK_RSS, ...args],
    { env: { ...env, BENCH_PEAK_RSS_FILE: peakFile }, stdout: 'ignore' },
    300_000,
  );
  const seconds = (performance.now() - startedAt) / 1000;
  if (result.code !== 0) throw new Error(`${label} failed (${result.code}): ${result.stderr}`);
  const peakKb = Number(fs.readFileSync(peakFile, 'utf8')) || undefined;
  return { seconds, mbps: GIB / 1024 ** 2 / seconds, peakKb };
}

async function sectionStreaming(results) {
  const api = start(process.execPath, [path.join(DIST_FIXTURES, 'demo-api.js'), '0']);
  const home = tempDir('cookie-bridge-bench-stream-');
  try {
    const [, apiUrl] = await waitForOutput(api, /listening on (http:\/\/\S+)/);
    const cookie = `session=${crypto.randomBytes(24).toString('base64url')}`;
    await cookieLogin(home, apiUrl, [{ name: 'session', value: cookie.slice('session='.length) }]);
    const bytesPath = `/api/bytes?size=${GIB}`;
    const measures = {
      direct: () => curlDownload(`${apiUrl}${bytesPath}`),
      viaFloorProxy: () => throughProxy(() => startFloorProxy(apiUrl, cookie, 'node-http'), bytesPath),
      viaFloorUndici: () => throughProxy(() => startFloorProxy(apiUrl, cookie, 'undici'), bytesPath),
      viaProxy: () => throughProxy(() => startCookieBridgeProxy(home, apiUrl), bytesPath),
      viaFloorRequest: () =>
        nodeToDevNull(
          'floor request',
          [path.join(__dirname, '..', 'floor-request.js'), `${apiUrl}${bytesPath}`],
          childEnv({ BENCH_COOKIE: cookie }),
          path.join(home, 'peak-rss-floor'),
        ),
      viaRequest: () =>
        nodeToDevNull(
          'cookie-bridge request',
          [CLI, 'request', '-s', '-e', apiUrl, bytesPath],
          childEnv({ COOKIE_BRIDGE_HOME: home }),
          path.join(home, 'peak-rss-request'),
        ),
    };
    // Every row once per round, in a rotated order: a host whose speed drifts touches all rows alike.
    const keys = Object.keys(measures);
    const samples = Object.fromEntries(keys.map((key) => [key, []]));
    for (let round = 0; round < STREAM_ROUNDS; round += 1) {
      for (let k = 0; k < keys.length; k += 1) {
        const key = keys[(k + round) % keys.length];
        samples[key].push(await measures[key]());
      }
    }
    const summary = Object.fromEntries(keys.map((key) => [key, medianOfRounds(samples[key])]));
    const { direct, viaFloorProxy, viaFloorUndici, viaProxy, viaFloorRequest, viaRequest } = summary;
    results.streaming = {
      direct,
      viaFloorProxy,
      viaFloorUndici,
      viaProxy,
      viaFloorRequest,
      viaRequest,
      rounds: STREAM_ROUNDS,
    };
  } finally {
    await api.stop();
    fs.rmSync(home, { recursive: true, force: true });
  }
}

module.exports = { sectionStreaming };
