'use strict';
/**
 * The benchmark's small upstream: every request gets a 1 KiB JSON answer when it carries the expected
 * Cookie (BENCH_COOKIE), 401 otherwise, so each setup is checked to really add the credential. A WebSocket
 * upgrade with the same Cookie gets an echo (every message sent back unchanged; section 5's load run).
 * Loopback only. Prints "listening <port>" on stdout.
 */
const http = require('node:http');

const { WebSocketServer } = require('ws');

const expected = process.env.BENCH_COOKIE || '';
const filler = 'x'.repeat(1024);
const template = JSON.stringify({ status: 'ok', user: 'bench', items: [], filler: '' });
const body = Buffer.from(
  JSON.stringify({ status: 'ok', user: 'bench', items: [], filler: filler.slice(0, 1024 - template.length) }),
);
const unauthorized = Buffer.from('{"error":"unauthorized"}');

const server = http.createServer((req, res) => {
  if (req.headers.cookie !== expected) {
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': unauthorized.length });
    res.end(unauthorized);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
const echo = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  if (req.headers.cookie !== expected) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  echo.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => ws.terminate());
  });
});
server.keepAliveTimeout = 30_000;
server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
