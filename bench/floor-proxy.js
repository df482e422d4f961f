'use strict';
/**
 * The floor for the local proxy (sections 1 and 2): the least a Node proxy can do for the same job, with no
 * checks at all. A node:http server that sets the Cookie ($BENCH_COOKIE) on every request and sends it to
 * the upstream (argv[2], e.g. http://127.0.0.1:4000), the answer piped back, with one of two clients
 * (argv[3]): `node-http` (default), an http.Agent with keep-alive; `undici`, an undici Pool (`stream()`,
 * what cookie-bridge's data path is built on). What cookie-bridge proxy reaches beside these, in the same
 * run, is the cost of its own work; what they reach beside nginx is the cost of Node. Loopback only.
 * Prints "listening <port>" on stdout.
 */
const http = require('node:http');

const upstream = new URL(process.argv[2]);
const client = process.argv[3] || 'node-http';
const cookie = process.env.BENCH_COOKIE || '';
/** Request headers that describe the client's own connection, not the request. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te'];

function viaNodeHttp() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  return (req, res) => {
    const headers = { ...req.headers, cookie };
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  };
}

function viaUndici() {
  const { Pool } = require('undici');
  const pool = new Pool(upstream.origin, { connections: 512 });
  return (req, res) => {
    const headers = { ...req.headers, cookie };
    for (const name of HOP_BY_HOP) delete headers[name];
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    pool.stream(
      { method: req.method, path: req.url, headers, body: hasBody ? req : null },
      ({ statusCode, headers: answerHeaders }) => {
        for (const name of HOP_BY_HOP) delete answerHeaders[name];
        res.writeHead(statusCode, answerHeaders);
        return res;
      },
      (error) => {
        if (!error) return;
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    );
  };
}

const server = http.createServer(client === 'undici' ? viaUndici() : viaNodeHttp());
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
