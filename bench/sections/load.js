'use strict';
/**
 * Section 5: load. cookie-bridge proxy, then cookie-bridge serve, each in front of the bench upstream
 * (1 KiB JSON + WebSocket echo), each under `wrk -c500` (500 keep-alive connections for BENCH_WRK_SECONDS)
 * and, at the same time, 1000 WebSockets held open together that each send 20 numbered messages and check
 * every echo comes back unchanged and in order (bench/ws-load-client.js). Reported per target: wrk's
 * requests/s, p99 and errors, the WebSocket counts, the target's RSS and open descriptors before, at the peak
 * and after, and the client connections still open on its port afterwards (must fall to 0).
 */
const os = require('node:os');
const path = require('node:path');
const { clearInterval, setInterval } = require('node:timers');
const { setTimeout: delay } = require('node:timers/promises');

const { childEnv } = require('../settings');
const { run } = require('../processes');
const { maxOpenFiles, openFds, vmHwmKb, vmRssKb } = require('../process-stats');
const {
  randomCookie,
  startCookieBridgeProxy,
  startCookieBridgeServe,
  startUpstreamWithLogin,
} = require('../stack');
const { wrkLoad } = require('../wrk');

const HTTP_CONNECTIONS = 500;
const WEBSOCKETS = 1000;
const WS_MESSAGES = 20;
/** How often the target's RSS and descriptors are sampled during the run. */
const SAMPLE_MS = 200;
/** How long the target gets, after the clients are done, to close what they opened. */
const SETTLE_MS = 15_000;

/** Established TCP connections whose local port is `port` (clients connected to the target). */
async function connectionsOn(port) {
  const result = await run('ss', ['-Htn', 'state', 'established', `( sport = :${port} )`], {}, 10_000);
  return result.stdout.split('\n').filter((line) => line.trim() !== '').length;
}

async function webSocketLoad(url, cookie) {
  const result = await run(
    process.execPath,
    [path.join(__dirname, '..', 'ws-load-client.js'), url],
    {
      env: childEnv({
        BENCH_WS_SOCKETS: String(WEBSOCKETS),
        BENCH_WS_MESSAGES: String(WS_MESSAGES),
        ...(cookie === undefined ? {} : { BENCH_COOKIE: cookie }),
      }),
    },
    180_000,
  );
  if (result.code !== 0) throw new Error(`ws-load-client failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop());
}

/** One target under the HTTP and WebSocket load at once; `cookie` is sent by the clients when the target does not add it. */
async function loadRun(target, cookie) {
  const pid = target.handle.pid;
  const port = Number(new URL(target.url).port);
  const before = { rssKb: vmRssKb(pid), fds: openFds(pid) };
  const peak = { ...before };
  const sampler = setInterval(() => {
    peak.rssKb = Math.max(peak.rssKb ?? 0, vmRssKb(pid) ?? 0);
    peak.fds = Math.max(peak.fds ?? 0, openFds(pid) ?? 0);
  }, SAMPLE_MS);
  let http;
  let ws;
  try {
    [http, ws] = await Promise.all([
      wrkLoad(`${target.url}/api/items`, cookie === undefined ? [] : [`Cookie: ${cookie}`], HTTP_CONNECTIONS),
      webSocketLoad(`${target.url.replace(/^http/, 'ws')}/ws`, cookie),
    ]);
  } finally {
    clearInterval(sampler);
  }
  let clientConnections = await connectionsOn(port);
  for (let waited = 0; clientConnections > 0 && waited < SETTLE_MS; waited += 250) {
    await delay(250);
    clientConnections = await connectionsOn(port);
  }
  const after = { rssKb: vmRssKb(pid), fds: openFds(pid) };
  return {
    http,
    ws,
    before,
    peak: { ...peak, hwmKb: vmHwmKb(pid) },
    after,
    clientConnections,
    maxOpenFiles: maxOpenFiles(pid),
    loadAverage: os.loadavg(),
  };
}

async function sectionLoad(results) {
  results.upstream ??= await startUpstreamWithLogin(randomCookie());
  const { url, home, cookie } = results.upstream;
  const softHard = await run('sh', ['-c', 'echo "$(ulimit -Sn) $(ulimit -Hn)"'], {}, 10_000);
  const load = { ulimit: softHard.stdout.trim(), rows: {} };
  results.load = load;

  const proxy = await startCookieBridgeProxy(home, url);
  try {
    load.rows['cookie-bridge proxy'] = await loadRun(proxy);
  } finally {
    await proxy.handle.stop();
  }
  const serve = await startCookieBridgeServe(url);
  try {
    load.rows['cookie-bridge serve'] = await loadRun(serve, cookie);
  } finally {
    await serve.stop();
  }
}

module.exports = { sectionLoad, HTTP_CONNECTIONS, WEBSOCKETS, WS_MESSAGES };
