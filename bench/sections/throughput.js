'use strict';
/**
 * Section 1: HTTP throughput and latency (wrk): direct, nginx injecting the Cookie, the floor proxy
 * (bench/floor-proxy.js: the least a Node proxy does for the same job; with node:http's client, then with
 * undici's), cookie-bridge proxy, and cookie-bridge proxy --workers 2.
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

/** The floor proxy's two clients (bench/floor-proxy.js), each measured. */
const FLOOR_CLIENTS = ['node-http', 'undici'];

/** The row label of a floor proxy. */
function floorLabel(client) {
  return `floor proxy (${client === 'undici' ? 'undici Pool' : 'node:http agent'}, no checks)`;
}

async function sectionThroughput(results) {
  const cookie = randomCookie();
  const upstream = await startUpstreamWithLogin(cookie);
  const direct = upstream.url;
  // Section 3 reuses the upstream and its login; run.js stops it at the end.
  results.upstream = upstream;
  const nginx = await startCookieInjectingNginx(upstream.port, cookie);
  let proxy;
  const floors = {};
  try {
    proxy = await startCookieBridgeProxy(upstream.home, direct);
    for (const client of FLOOR_CLIENTS) floors[client] = await startFloorProxy(direct, cookie, client);
    const checks = {
      direct: await waitUntilUp(`${direct}/api/items`, { cookie }),
      nginx: await waitUntilUp(`${nginx.url}/api/items`),
      proxy: await waitUntilUp(`${proxy.url}/api/items`),
    };
    for (const [client, floor] of Object.entries(floors)) {
      checks[`floor proxy (${client})`] = await waitUntilUp(`${floor.url}/api/items`);
    }
    for (const [label, status] of Object.entries(checks)) {
      if (status !== 200)
        throw new Error(`${label}: the upstream answered ${status} (credential not added?)`);
    }
    const rows = {
      direct: await wrk(`${direct}/api/items`, [`Cookie: ${cookie}`]),
      nginx: await wrk(`${nginx.url}/api/items`),
    };
    const floorPeakRss = {};
    for (const [client, floor] of Object.entries(floors)) {
      rows[floorLabel(client)] = await wrk(`${floor.url}/api/items`);
      floorPeakRss[client] = vmHwmKb(floor.handle.pid);
      await floor.handle.stop();
      delete floors[client];
    }
    const cpuBefore = cpuSeconds(proxy.handle.pid);
    const wallBefore = performance.now();
    rows['cookie-bridge proxy'] = await wrk(`${proxy.url}/api/items`);
    const proxyCpu = (cpuSeconds(proxy.handle.pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
    results.throughput = { rows, proxyPeakRss: vmHwmKb(proxy.handle.pid), floorPeakRss, proxyCpu };
    await proxy.handle.stop();
    proxy = undefined;
    // The same proxy as 2 processes sharing the port (`proxy --workers 2`, node:cluster): the 2-core answer.
    proxy = await startCookieBridgeProxy(upstream.home, direct, ['--workers', '2']);
    if ((await waitUntilUp(`${proxy.url}/api/items`)) !== 200)
      throw new Error('cookie-bridge proxy --workers 2: the credential was not added');
    rows['cookie-bridge proxy --workers 2'] = await wrk(`${proxy.url}/api/items`);
  } finally {
    if (proxy) await proxy.handle.stop();
    for (const floor of Object.values(floors)) await floor.handle.stop();
    await nginx.stop();
  }
}

module.exports = { sectionThroughput, FLOOR_CLIENTS, floorLabel };
