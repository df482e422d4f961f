'use strict';
/**
 * Section 5's WebSocket load: opens $BENCH_WS_SOCKETS (default 1000) WebSockets to argv[2] (an echo, through
 * the local proxy or serve), holds them open together, sends $BENCH_WS_MESSAGES (default 20) numbered
 * messages on each and checks every echo arrives unchanged and in order, then closes them all
 * (fixtures/websocket-echo-load.ts, built to dist/). Sends Cookie: $BENCH_COOKIE when set. Prints the
 * counts as one JSON line on stdout. A child process of its own, so its event loop does not share the
 * harness's.
 */
const path = require('node:path');

const { DIST_FIXTURES } = require('./settings');

const { runWebSocketEchoLoad } = require(path.join(DIST_FIXTURES, 'websocket-echo-load.js'));

runWebSocketEchoLoad({
  url: process.argv[2],
  sockets: Number(process.env.BENCH_WS_SOCKETS || 1000),
  messages: Number(process.env.BENCH_WS_MESSAGES || 20),
  headers: process.env.BENCH_COOKIE ? { cookie: process.env.BENCH_COOKIE } : {},
  timeoutMs: Number(process.env.BENCH_WS_TIMEOUT_MS || 120_000),
}).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error) => {
    process.stderr.write(`ws-load-client: ${error.stack || error}\n`);
    process.exitCode = 1;
  },
);
