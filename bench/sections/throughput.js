'use strict';
/** Section 1: HTTP throughput and latency (wrk): direct, nginx injecting the Cookie, cookie-bridge proxy. */
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const { cpuSeconds, vmHwmKb } = require('../process-stats');
const {
  randomCookie,
  startCookieBridgeProxy,
  startCookieInjectingNginx,
  startUpstreamWithLogin,
  waitUntilUp,
} = require('../stack');
const { start, waitForOutput } = require('../processes');
const { wrk } = require('../wrk');

async function sectionThroughput(results) {
  const cookie = randomCookie();
  const upstream = await startUpstreamWithLogin(cookie);
  const direct = upstream.url;
  // Section 3 reuses the upstream and its login; run.js stops it at the end.
  results.upstream = upstream;
  const nginx = await startCookieInjectingNginx(upstream.port, cookie);
  let proxy;
  let floor;
  try {
    proxy = await startCookieBridgeProxy(upstream.home, direct);
    const checks = {
      direct: await waitUntilUp(`${direct}/api/items`, { cookie }),
      nginx: await waitUntilUp(`${nginx.url}/api/items`),
      proxy: await waitUntilUp(`${proxy.url}/api/items`),
    };
    for (const [label, status] of Object.entries(checks)) {
      if (status !== 200)
        throw new Error(`${label}: the upstream answered ${status} (credential not added?)`);
    }
    const rows = {
      direct: await wrk(`${direct}/api/items`, [`Cookie: ${cookie}`]),
      nginx: await wrk(`${nginx.url}/api/items`),
    };
    const cpuBefore = cpuSeconds(proxy.handle.pid);
    const wallBefore = performance.now();
    rows['cookie-bridge proxy'] = await wrk(`${proxy.url}/api/items`);
    const proxyCpu = (cpuSeconds(proxy.handle.pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
    results.throughput = { rows, proxyPeakRss: vmHwmKb(proxy.handle.pid), proxyCpu };
    await proxy.handle.stop();
    proxy = undefined;
    // The floor (part L): the least a Node proxy does per request, and the proxy on 2 processes.
    floor = await startFloorProxy(direct, cookie);
    rows['node floor proxy (bench/floor-proxy.js)'] = await wrk(`${floor.url}/api/items`);
    await floor.handle.stop();
    floor = undefined;
    proxy = await startCookieBridgeProxy(upstream.home, direct, ['--workers', '2']);
    rows['cookie-bridge proxy --workers 2'] = await wrk(`${proxy.url}/api/items`);
  } finally {
    if (proxy) await proxy.handle.stop();
    if (floor) await floor.handle.stop();
    await nginx.stop();
  }
}

/** bench/floor-proxy.js in front of `upstreamUrl`, adding `cookie`; resolves once it prints its URL. */
async function startFloorProxy(upstreamUrl, cookie) {
  const handle = start(process.execPath, [path.join(__dirname, '..', 'floor-proxy.js'), upstreamUrl], {
    env: { ...process.env, BENCH_COOKIE: cookie },
  });
  const [, url] = await waitForOutput(handle, /^(http:\/\/127\.0\.0\.1:\d+)$/m);
  return { handle, url };
}

module.exports = { sectionThroughput };
