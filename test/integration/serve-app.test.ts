import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import request from 'supertest';
import { WebSocket, WebSocketServer } from 'ws';
import { patternStream, startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { createServeApp, type ServeAppOptions } from '../../src/server/create-serve-app';

const SIZE = 16 * 1024 * 1024 + 123;

interface Running {
  url: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Serves createServeApp on 127.0.0.1:0 with the upgrade handler wired. */
async function startServe(options: ServeAppOptions): Promise<Running> {
  const { app, upgrade } = createServeApp(options);
  const server = http.createServer(app);
  server.on('upgrade', upgrade);
  return listen(server);
}

/** A raw upstream: /upload hashes the streamed body, /echo reflects the request, /hang never answers, WebSocket echo. */
async function startRawUpstream(): Promise<Running & { hanging: http.ServerResponse[] }> {
  const hanging: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/upload') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            bytes,
            sha256: hash.digest('hex'),
            chunked: req.headers['transfer-encoding'] ?? null,
          }),
        );
      });
      return;
    }
    if (path === '/echo') {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-upstream', 'raw');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
      return;
    }
    if (path === '/hang') {
      hanging.push(res);
      return;
    }
    res.statusCode = 404;
    res.setHeader('content-type', 'application/json');
    res.end('{"error":"not_found"}');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    socket.on('message', (data, isBinary) => {
      socket.send(
        isBinary
          ? data
          : `echo:${String(data)} user:${String(req.headers['x-auth-request-email'])} path:${req.url}`,
        { binary: isBinary },
      );
    });
  });
  const running = await listen(server);
  return {
    ...running,
    hanging,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await running.close();
    },
  };
}

function sha256(stream: NodeJS.ReadableStream): Promise<{ bytes: number; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    stream.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    stream.on('error', reject);
  });
}

describe('createServeApp in front of an upstream', () => {
  let raw: Awaited<ReturnType<typeof startRawUpstream>>;
  let serve: Running;

  beforeAll(async () => {
    raw = await startRawUpstream();
    serve = await startServe({ upstream: raw.url, proxyTimeoutMs: 300 });
  });
  afterAll(async () => {
    await serve.close();
    await raw.close();
  });

  it('streams a large request body to the upstream', async () => {
    const expected = await sha256(patternStream(SIZE));
    // serve's default time-out: the suite's 300 ms one (for /hang) trips when a busy machine stalls the upload.
    const roomy = await startServe({ upstream: raw.url });
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${roomy.url}/upload`,
        { method: 'PUT', headers: { 'content-type': 'application/octet-stream' } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      patternStream(SIZE).pipe(req); // chunked: no Content-Length, so it cannot be buffered to measure it
    }).finally(() => roomy.close());
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ ...expected, chunked: 'chunked' });
  });

  it('keeps method, path, query and headers, sets X-Forwarded-*, passes the identity header', async () => {
    const res = await request(serve.url)
      .patch('/echo?a=1&b=two%20words&a=3')
      .set('X-Auth-Request-Email', 'alice@example.com')
      .set('X-Custom', 'kept')
      .set('Cookie', 'session=abc');
    expect(res.status).toBe(200);
    expect(res.headers['x-upstream']).toBe('raw');
    const body = res.body as { method: string; url: string; headers: Record<string, string> };
    expect(body.method).toBe('PATCH');
    expect(body.url).toBe('/echo?a=1&b=two%20words&a=3');
    expect(body.headers['x-auth-request-email']).toBe('alice@example.com');
    expect(body.headers['x-custom']).toBe('kept');
    expect(body.headers.cookie).toBe('session=abc');
    expect(body.headers.host).toBe(`127.0.0.1:${serve.port}`);
    expect(body.headers['x-forwarded-for']).toMatch(/127\.0\.0\.1/);
    expect(body.headers['x-forwarded-proto']).toBe('http');
    expect(body.headers['x-forwarded-host']).toBe(`127.0.0.1:${serve.port}`);
    expect(body.headers['x-forwarded-port']).toBe(String(serve.port));
  });

  it('proxies WebSocket upgrades both ways', async () => {
    const socket = new WebSocket(`${serve.url.replace('http', 'ws')}/live?x=1`, {
      headers: { 'X-Auth-Request-Email': 'alice@example.com' },
    });
    await once(socket, 'open');
    socket.send('hello');
    const [text] = (await once(socket, 'message')) as [Buffer];
    expect(String(text)).toBe('echo:hello user:alice@example.com path:/live?x=1');
    socket.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    const [binary] = (await once(socket, 'message')) as [Buffer];
    expect([...binary]).toEqual([0, 1, 2, 255]);
    socket.close();
    await once(socket, 'close');
  });

  it('refuses WebSocket upgrades on the relay prefix', async () => {
    const socket = new WebSocket(`${serve.url.replace('http', 'ws')}/cookie-bridge/relay/x`);
    const errors: Error[] = [];
    socket.on('error', (error) => errors.push(error));
    const [, response] = (await once(socket, 'unexpected-response')) as [unknown, http.IncomingMessage];
    expect(response.statusCode).toBe(404);
    socket.terminate();
  });

  it('answers 504 JSON when the upstream does not answer in time', async () => {
    const res = await request(serve.url).get('/hang');
    expect(res.status).toBe(504);
    expect(res.body).toEqual({ error: 'gateway_timeout', message: 'the upstream did not answer in time' });
    expect(raw.hanging.length).toBeGreaterThan(0);
  });

  it('answers /api/health itself when the upstream has none (404)', async () => {
    const res = await request(serve.url).get('/api/health').set('X-Auth-Request-Email', 'bob@example.com');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', user: 'bob@example.com' });
    // other 404s of the upstream stay 404s
    expect((await request(serve.url).get('/nothing-here')).status).toBe(404);
  });

  it("answers user null for Apache's (null) (mod_headers' value of an unset variable on an exempt route)", async () => {
    const res = await request(serve.url).get('/api/health').set('X-Auth-Request-Email', '(null)');
    expect(res.body).toEqual({ status: 'ok', user: null });
  });

  it('serves /token itself, from the cookies the browser sent', async () => {
    const res = await request(serve.url)
      .get('/token')
      .set('Cookie', '_oauth2_proxy=abc')
      .set('X-Auth-Request-Email', 'a@b.c');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<textarea id="bundle"');
    expect(res.text).toContain('Signed in as <strong id="user">a@b.c</strong>');
  });
});

describe('createServeApp in front of the demo API', () => {
  let api: RunningDemoApi;
  let serve: Running;

  beforeAll(async () => {
    api = await startDemoApi({ identityHeader: 'OIDC_CLAIM_email' });
    serve = await startServe({ upstream: api.url, identityHeader: 'OIDC_CLAIM_email' });
  });
  afterAll(async () => {
    await serve.close();
    await api.close();
  });

  it('streams a large response body from the upstream', async () => {
    const expected = await sha256(patternStream(SIZE));
    const got = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
      http.get(`${serve.url}/api/bytes?size=${SIZE}`, (res) => {
        expect(res.headers['content-length']).toBe(String(SIZE));
        sha256(res).then(resolve, reject);
      });
    });
    expect(got).toEqual(expected);
  });

  it("uses the upstream's own /api/health and a configured identity header", async () => {
    const health = await request(serve.url).get('/api/health').set('OIDC_CLAIM_email', 'carol@example.com');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok', user: 'carol@example.com' });
    const whoami = await request(serve.url).get('/api/whoami').set('OIDC_CLAIM_email', 'carol@example.com');
    expect(whoami.body).toEqual({ user: 'carol@example.com' });
    const echo = await request(serve.url).post('/api/echo?q=1').send({ hello: 'world' });
    expect(echo.body).toMatchObject({ method: 'POST', query: { q: '1' }, body: { hello: 'world' } });
  });

  it('reads the identity for /token from the configured header', async () => {
    const res = await request(serve.url)
      .get('/token')
      .set('Cookie', 's=1')
      .set('OIDC_CLAIM_email', 'dave@example.com');
    expect(res.text).toContain('Signed in as <strong id="user">dave@example.com</strong>');
  });
});

describe('createServeApp with the upstream down', () => {
  it('answers 502 JSON, also for /api/health', async () => {
    // serve binds its port while the upstream's is still taken, then the upstream goes: the system cannot hand
    // serve the upstream's port (serve would then forward to itself).
    const gone = await listen(http.createServer());
    const serve = await startServe({ upstream: gone.url });
    await gone.close();
    try {
      const res = await request(serve.url).get('/api/items');
      expect(res.status).toBe(502);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({
        error: 'bad_gateway',
        message: 'the upstream refused the connection (is it running?)',
      });
      expect((await request(serve.url).get('/api/health')).status).toBe(502);
      expect((await request(serve.url).get('/cookie-bridge/relay/info')).body).toEqual({ relay: 1 });
    } finally {
      await serve.close();
    }
  });
});
