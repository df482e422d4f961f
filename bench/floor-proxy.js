'use strict';
/**
 * The floor: the least a Node proxy can do per request on this machine, for comparison in the same run.
 * node:http in front of an undici Pool (raw dispatch, keep-alive), adding only the Cookie header: no guard,
 * no session check, no Set-Cookie handling, no header filtering beyond what HTTP requires.
 *
 *   BENCH_COOKIE='session=…' node bench/floor-proxy.js http://127.0.0.1:<upstream port> [connections]
 *
 * Listens on a free 127.0.0.1 port and prints its URL. Loopback only.
 */
const http = require('node:http');
const { Pool } = require('undici');

const upstream = new URL(process.argv[2]);
const cookie = process.env.BENCH_COOKIE || '';
const pool = new Pool(upstream.origin, { connections: Number(process.argv[3] || 64), pipelining: 1 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host']);

const server = http.createServer((req, res) => {
  const headers = { host: upstream.host, cookie };
  for (const name in req.headers) if (!HOP_BY_HOP.has(name)) headers[name] ??= req.headers[name];
  const body = req.headers['content-length'] || req.headers['transfer-encoding'] ? req : undefined;
  pool.dispatch(
    { method: req.method, path: req.url, headers, body },
    {
      onConnect() {},
      onHeaders(status, raw, resume) {
        const out = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toString('latin1');
          if (!HOP_BY_HOP.has(name.toLowerCase())) out.push(name, raw[i + 1].toString('latin1'));
        }
        res.writeHead(status, out);
        res.on('drain', resume);
        return true;
      },
      onData: (chunk) => res.write(chunk),
      onComplete: () => res.end(),
      onError: () => (res.headersSent ? res.destroy() : res.writeHead(502).end()),
    },
  );
});
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
