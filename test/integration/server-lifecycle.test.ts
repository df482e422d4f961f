/**
 * Listening and stopping, shared by the login listener, the local forwarding proxy and serve
 * (src/http/server-lifecycle.ts), against real servers on 127.0.0.1:0. No timers: every wait is on an event.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { PortInUseError } from '../../src/errors';
import { closeGracefully, listenServer } from '../../src/http/server-lifecycle';

/** Longer than any test runs: the grace period must never be what ends a case that does not test it. */
const NEVER_MS = 2 ** 31 - 1;

interface Held {
  server: http.Server;
  port: number;
  /** Resolves with the response of the request the server holds, once it has arrived. */
  holding: Promise<http.ServerResponse>;
}

async function startHoldingServer(): Promise<Held> {
  let arrived: (res: http.ServerResponse) => void = () => undefined;
  const holding = new Promise<http.ServerResponse>((resolve) => (arrived = resolve));
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('part one, ');
    arrived(res);
  });
  const port = await listenServer(server, { port: 0, host: '127.0.0.1' });
  return { server, port, holding };
}

/** GETs / and resolves with the body, or with 'cut' when the connection ends before the response does. */
function get(port: number): Promise<string> {
  return new Promise((resolve) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
        res.on('aborted', () => resolve('cut'));
        res.on('error', () => resolve('cut'));
      })
      .on('error', () => resolve('cut'));
  });
}

it('resolves with the port bound, and a taken port is PortInUseError with the hint given', async () => {
  const first = http.createServer();
  const port = await listenServer(first, { port: 0, host: '127.0.0.1' });
  expect(port).toBeGreaterThan(0);
  const second = http.createServer();
  const attempt = listenServer(second, { port, host: '127.0.0.1', portInUseHint: 'try --port 0' });
  await expect(attempt).rejects.toBeInstanceOf(PortInUseError);
  await expect(attempt).rejects.toMatchObject({ port, hint: 'try --port 0' });
  expect(second.listening).toBe(false);
  await new Promise<void>((resolve) => first.close(() => resolve()));
});

it('lets an in-flight response finish before the server closes', async () => {
  const { server, port, holding } = await startHoldingServer();
  const body = get(port);
  const res = await holding;
  let closed = false;
  const stopping = closeGracefully(server, { graceMs: NEVER_MS });
  void stopping.closed.then(() => (closed = true));
  // A new connection is refused while the old one is served.
  await expect(
    new Promise((resolve, reject) =>
      net.connect(port, '127.0.0.1', () => resolve(undefined)).on('error', reject),
    ),
  ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  expect(closed).toBe(false);
  res.end('part two');
  expect(await body).toBe('part one, part two');
  await stopping.closed;
});

it('cuts what is left when the grace period ends, or at once on now()', async () => {
  for (const how of ['grace', 'now'] as const) {
    const { server, port, holding } = await startHoldingServer();
    const body = get(port);
    await holding;
    const stopping = closeGracefully(server, { graceMs: how === 'grace' ? 0 : NEVER_MS });
    if (how === 'now') stopping.now();
    expect(await body).toBe('cut');
    await stopping.closed;
  }
});

it('destroys upgraded sockets (which would keep the server open for ever)', async () => {
  const server = http.createServer();
  const upgraded = new Set<net.Socket>();
  server.on('upgrade', (_req, socket: net.Socket) => {
    upgraded.add(socket);
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
  });
  const port = await listenServer(server, { port: 0, host: '127.0.0.1' });
  const client = net.connect(port, '127.0.0.1');
  const switched = new Promise<void>((resolve) => client.once('data', () => resolve()));
  client.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n');
  await switched;
  const ended = new Promise<void>((resolve) => client.on('close', () => resolve()));
  await closeGracefully(server, { graceMs: NEVER_MS, upgraded }).closed;
  await ended;
  expect(server.listening).toBe(false);
});

it('a server that is not listening is closed already', async () => {
  await expect(closeGracefully(http.createServer(), { graceMs: NEVER_MS }).closed).resolves.toBeUndefined();
});
