'use strict';
/**
 * Preloaded (node -r) into test/kit/scripted-browser.js by the login benchmark: just before the browser
 * POSTs the bundle to the CLI's loopback listener (POST /callback on 127.0.0.1), writes the wall-clock
 * time in ms (performance.timeOrigin + performance.now(), comparable across processes) to
 * $BENCH_HANDOFF_FILE. The scripted browser itself is used unchanged.
 */
const fs = require('node:fs');
const http = require('node:http');
const { performance } = require('node:perf_hooks');

const original = http.request;
http.request = function request(url, options) {
  const target = url instanceof URL ? url : undefined;
  const method = (options && options.method) || 'GET';
  const req = original.apply(this, arguments);
  if (target !== undefined && method === 'POST' && target.pathname === '/callback') {
    const end = req.end;
    req.end = function (...args) {
      if (process.env.BENCH_HANDOFF_FILE) {
        fs.writeFileSync(process.env.BENCH_HANDOFF_FILE, String(performance.timeOrigin + performance.now()));
      }
      return end.apply(this, args);
    };
  }
  return req;
};
