'use strict';
/**
 * Section 1: HTTP throughput and latency (wrk): direct, nginx injecting the Cookie, the floor proxy
 * (bench/floor-proxy.js: the least a Node proxy does for the same job) and cookie-bridge proxy.
 */
const { performance } = require('node:perf_hooks');

const { cpuSeconds, vmHwmKb } = require('../process-stats');
const {
  randomCookie,
  startCookieBridgeProxy,
  startCookieInjectingNginx,
  startFloorProxy,
  startUpstreamWithLogin,
  waitUntilUp,
} = require('../stack');
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
    floor = await startFloorProxy(direct, cookie);
    const checks = {
      direct: await waitUntilUp(`${direct}/api/items`, { cookie }),
      nginx: await waitUntilUp(`${nginx.url}/api/items`),
      floor: await waitUntilUp(`${floor.url}/api/items`),
      proxy: await waitUntilUp(`${proxy.url}/api/items`),
    };
    for (const [label, status] of Object.entries(checks)) {
      if (status !== 200)
        throw new Error(`${label}: the upstream answered ${status} (credential not added?)`);
    }
    const rows = {
      direct: await wrk(`${direct}/api/items`, [`Cookie: ${cookie}`]),
      nginx: await wrk(`${nginx.url}/api/items`),
      'floor proxy (node:http, no checks)': await wrk(`${floor.url}/api/items`),
    };
    const floorPeakRss = vmHwmKb(floor.handle.pid);
    await floor.handle.stop();
    floor = undefined;
    const cpuBefore = cpuSeconds(proxy.handle.pid);
    const wallBefore = performance.now();
    rows['cookie-bridge proxy'] = await wrk(`${proxy.url}/api/items`);
    const proxyCpu = (cpuSeconds(proxy.handle.pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
    results.throughput = { rows, proxyPeakRss: vmHwmKb(proxy.handle.pid), floorPeakRss, proxyCpu };
  } finally {
    if (proxy) await proxy.handle.stop();
    if (floor) await floor.handle.stop();
    await nginx.stop();
  }
}

module.exports = { sectionThroughput };
