'use strict';
/**
 * The floor for the local proxy (sections 1 and 2): the least a Node proxy can do for the same job, with no
 * checks at all. A node:http server that sets the Cookie ($BENCH_COOKIE) on every request and pipes it to
 * the upstream (argv[2], e.g. http://127.0.0.1:4000) through a keep-alive agent, and the answer back.
 * What cookie-bridge proxy reaches beside this, in the same run, is the cost of its own work; what this
 * reaches beside nginx is the cost of Node. Loopback only. Prints "listening <port>" on stdout.
 */
const http = require('node:http');

const upstream = new URL(process.argv[2]);
const cookie = process.env.BENCH_COOKIE || '';
const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

const server = http.createServer((req, res) => {
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
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
