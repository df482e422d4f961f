/**
 * Correctness under concurrency (issue 11, "Load"), at a scale that holds on 2 busy cores; the timed load
 * run with 500 connections and 1000 WebSockets is bench/ section 5. Through the local forwarding proxy and
 * through serve, each in front of a real throwaway upstream on loopback: 200 keep-alive connections with a
 * request each in flight at once (three rounds), and at the same time 300 WebSockets held open together,
 * each echoing 10 numbered messages (fixtures/websocket-echo-load.ts, shared with the bench). Nothing
 * fails, every answer is the one asked for, no message is lost or reordered, and afterwards every client
 * connection and every WebSocket tunnel to the upstream is closed. Nothing here is timed.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { runWebSocketEchoLoad } from '../../fixtures/websocket-echo-load';
import { CONCURRENT_LOAD_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { createLocalForwardingProxy } from '../../src/local-proxy/local-forwarding-proxy';
import { createServeApp } from '../../src/server/create-serve-app';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { makeTempHome } from '../kit/cli-runner';

const COOKIE = 'session=7c41e09b2d5a8f36';
const CONNECTIONS = 200;
const ROUNDS = 3;
const WEBSOCKETS = 300;
const MESSAGES = 10;

/** The connections a server accepted: open now, the most open at once, and a wait until none is open. */
interface ConnectionTracker {
  readonly open: Set<Duplex>;
  peak: number;
  accepted: number;
  /** Resolves once no tracked connection is open; rejects after `ms` naming how many are left. */
  allClosed(ms: number): Promise<void>;
  add(socket: Duplex): void;
}

function trackConnections(): ConnectionTracker {
  const waiters = new Set<() => void>();
  const tracker: ConnectionTracker = {
    open: new Set(),
    peak: 0,
    accepted: 0,
    add(socket) {
      tracker.open.add(socket);
      tracker.accepted++;
      tracker.peak = Math.max(tracker.peak, tracker.open.size);
      socket.once('close', () => {
        tracker.open.delete(socket);
        if (tracker.open.size === 0) for (const wake of waiters) wake();
      });
    },
    allClosed(ms) {
      if (tracker.open.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`${tracker.open.size} connection(s) still open after ${ms} ms`));
        }, ms);
        const wake = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
      });
    },
  };
  return tracker;
}

interface Upstream {
  url: string;
  /** Every connection to the upstream (HTTP and WebSocket). */
  connections: ConnectionTracker;
  /** The WebSocket tunnels alone. */
  tunnels: ConnectionTracker;
  close(): Promise<void>;
}

/** Answers `{"path":…}` to requests carrying COOKIE (401 otherwise) and echoes WebSocket messages unchanged. */
async function startUpstream(): Promise<Upstream> {
  const connections = trackConnections();
  const tunnels = trackConnections();
  const server = http.createServer((req, res) => {
    const ok = req.headers.cookie === COOKIE;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { path: req.url } : { error: 'unauthorized' }));
  });
  // Idle keep-alive connections stay open far longer than any wait below: only a client closing them ends them.
  server.keepAliveTimeout = 10 * HTTP_REQUEST_TIMEOUT_MS;
  server.on('connection', (socket: Socket) => connections.add(socket));
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if (req.headers.cookie !== COOKIE) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    tunnels.add(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One GET on `agent`; resolves status and parsed body. */
function get(
  agent: http.Agent,
  port: number,
  path: string,
  headers: http.OutgoingHttpHeaders,
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/**
 * The load through the server on `port` (whose accepted connections `front` tracks): the HTTP rounds and
 * the WebSockets at once. `headers` are what the clients send (the Cookie when the server does not add it).
 */
async function loadThrough(port: number, front: ConnectionTracker, headers: Record<string, string>) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const httpLoad = async (): Promise<string[]> => {
    const wrong: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const answers = await Promise.all(
        Array.from({ length: CONNECTIONS }, (_, i) => get(agent, port, `/item/${round}-${i}`, headers)),
      );
      answers.forEach((answer, i) => {
        const path = `/item/${round}-${i}`;
        if (answer.status !== 200 || (answer.body as { path?: string }).path !== path) {
          wrong.push(`${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
        }
      });
    }
    return wrong;
  };
  const [wrongAnswers, ws] = await Promise.all([
    httpLoad(),
    runWebSocketEchoLoad({
      url: `ws://127.0.0.1:${port}/live`,
      sockets: WEBSOCKETS,
      messages: MESSAGES,
      headers,
      timeoutMs: CONCURRENT_LOAD_TIMEOUT_MS,
    }),
  ]);
  agent.destroy();
  await front.allClosed(HTTP_REQUEST_TIMEOUT_MS);
  return { wrongAnswers, ws };
}

function expectCleanEcho(ws: Awaited<ReturnType<typeof runWebSocketEchoLoad>>): void {
  expect(ws.errorSamples).toEqual([]);
  expect(ws).toMatchObject({
    sockets: WEBSOCKETS,
    opened: WEBSOCKETS,
    peakOpen: WEBSOCKETS,
    errors: 0,
    sent: WEBSOCKETS * MESSAGES,
    received: WEBSOCKETS * MESSAGES,
    lost: 0,
    outOfOrder: 0,
    closed: WEBSOCKETS,
  });
}

const TEST_TIMEOUT_MS = CONCURRENT_LOAD_TIMEOUT_MS + 4 * HTTP_REQUEST_TIMEOUT_MS;

describe('under concurrent load: 200 keep-alive connections and 300 WebSockets at once', () => {
  let upstream: Upstream;

  beforeEach(async () => {
    upstream = await startUpstream();
  });
  afterEach(async () => {
    await upstream.close();
  });

  it(
    'the local proxy: every answer the one asked for, every echo in order, every connection closed after',
    async () => {
      const temp = makeTempHome();
      const store = new FileCredentialStore({ home: temp.home });
      await store.saveLogin(
        {
          endpoint: upstream.url,
          auth: { type: 'cookies' },
          identity: 'load@example.com',
          loggedInAt: '2026-01-01T00:00:00.000Z',
        },
        [{ name: 'session', value: COOKIE.slice('session='.length) }],
      );
      const proxy = await createLocalForwardingProxy({ endpoint: upstream.url, store, env: {} });
      const front = trackConnections();
      proxy.server.on('connection', (socket: Socket) => front.add(socket));
      try {
        const { port } = await proxy.listen(0);
        const { wrongAnswers, ws } = await loadThrough(port, front, {});
        expect(wrongAnswers).toEqual([]);
        expectCleanEcho(ws);
        // the load really was concurrent: 200 HTTP connections open at once, then kept alive
        expect(front.peak).toBeGreaterThanOrEqual(CONNECTIONS);
        expect(front.accepted).toBeGreaterThanOrEqual(CONNECTIONS + WEBSOCKETS);
        // each WebSocket closed by the client closed its tunnel to the upstream
        expect(upstream.tunnels.accepted).toBe(WEBSOCKETS);
        await upstream.tunnels.allClosed(HTTP_REQUEST_TIMEOUT_MS);
      } finally {
        await proxy.close();
        temp.cleanup();
      }
      // closing the proxy closes its keep-alive connections to the upstream too
      await upstream.connections.allClosed(HTTP_REQUEST_TIMEOUT_MS);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'serve: every answer the one asked for, every echo in order, every connection closed after',
    async () => {
      const { app, upgrade } = createServeApp({ upstream: upstream.url });
      const server = http.createServer(app);
      server.on('upgrade', upgrade);
      const front = trackConnections();
      server.on('connection', (socket: Socket) => front.add(socket));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const { wrongAnswers, ws } = await loadThrough(port, front, { cookie: COOKIE });
        expect(wrongAnswers).toEqual([]);
        expectCleanEcho(ws);
        expect(front.peak).toBeGreaterThanOrEqual(CONNECTIONS);
        expect(front.accepted).toBeGreaterThanOrEqual(CONNECTIONS + WEBSOCKETS);
        expect(upstream.tunnels.accepted).toBe(WEBSOCKETS);
        await upstream.tunnels.allClosed(HTTP_REQUEST_TIMEOUT_MS);
      } finally {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
    },
    TEST_TIMEOUT_MS,
  );
});
