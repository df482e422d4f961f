/**
 * Issue 8 items 1 and 5 in process (createServeApp on 127.0.0.1:0 in front of the kit's recording app): paths
 * with dot segments or double encoding get 400 and relay spellings are answered by serve, for HTTP and WebSocket
 * upgrades alike, proved by the app's own request log; and the identity header reaches the app and /api/health
 * only from a trusted proxy address or with the proxy secret, which itself never reaches the app.
 * The same through real nginx and Apache: test/security/path-confusion.test.ts.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServeApp, type ServeAppOptions } from '../../src/server/create-serve-app';
import { cliEnv, makeTempHome, runCli } from '../kit/cli-runner';
import { rawRequest, upgradeRequest } from '../kit/hostile-kit';
import { startServeSidecar } from '../kit/real-components';
import { PATH_CONFUSION_ATTACKS, PLAIN_PATHS, RELAY_SPELLINGS } from '../kit/path-confusion-cases';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';

const IDENTITY = 'x-auth-request-email';
const FORGED = 'ceo@corp.example';
const SECRET_HEADER = 'X-Cookie-Bridge-Proxy-Secret';
const SECRET = 'proxy-secret-0123456789abcdef';

interface RunningServe {
  port: number;
  close(): Promise<void>;
}

/** serve that trusts no address, only the proxy secret. */
function startSecretOnlyServe(upstream: string): Promise<RunningServe> {
  return startServe({ upstream, trustedProxies: [], proxySecret: { header: SECRET_HEADER, value: SECRET } });
}

async function startServe(options: ServeAppOptions): Promise<RunningServe> {
  const { app, upgrade } = createServeApp(options);
  const server = http.createServer(app);
  server.on('upgrade', upgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('serve refuses path confusion before forwarding anything', () => {
  let app: RecordingApp;
  let serve: RunningServe;

  beforeAll(async () => {
    app = await startRecordingApp();
    serve = await startServe({ upstream: app.url });
  });
  afterAll(async () => {
    await serve.close();
    await app.close();
  });
  beforeEach(() => {
    app.log.length = 0;
  });

  it.each(PATH_CONFUSION_ATTACKS.map((c) => [c.name, c.path]))(
    '%s: 400 JSON for %s (HTTP and WebSocket), nothing reaches the app',
    async (_name, path) => {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(serve.port, { method, path, headers: { [IDENTITY]: FORGED } });
        expect(res.status).toBe(400);
        expect(res.headers?.['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(res.status === 400 ? res.body : '{}')).toMatchObject({ error: 'bad_request' });
      }
      expect(await upgradeRequest(serve.port, path, { [IDENTITY]: FORGED })).toBe(400);
      expect(app.log).toEqual([]);
    },
  );

  it.each(RELAY_SPELLINGS.map((c) => [c.name, c.path]))(
    '%s: %s is answered by serve, never forwarded (HTTP and WebSocket)',
    async (_name, path) => {
      const res = await rawRequest(serve.port, { path, headers: { [IDENTITY]: FORGED } });
      expect([200, 404, 405]).toContain(res.status);
      expect(await upgradeRequest(serve.port, path, { [IDENTITY]: FORGED })).toBe(404);
      expect(app.log).toEqual([]);
    },
  );

  it('forwards plain paths exactly as they came, %2F inside a segment included', async () => {
    for (const { path } of PLAIN_PATHS) {
      const res = await rawRequest(serve.port, { path });
      expect(res.status).toBe(200);
    }
    expect(app.log.map((entry) => entry.url)).toEqual(PLAIN_PATHS.map((c) => c.path));
  });
});

describe('serve believes the identity header only from the proxy', () => {
  let app: RecordingApp;
  afterEach(async () => {
    await app.close();
  });

  const identitiesSeen = (): Array<string | undefined> => app.log.map((entry) => entry.headers[IDENTITY]);

  it('by default trusts loopback: the identity reaches the app and /api/health', async () => {
    app = await startRecordingApp();
    const serve = await startServe({ upstream: app.url });
    try {
      await rawRequest(serve.port, { path: '/graphql', headers: { [IDENTITY]: 'alice@example.com' } });
      const health = await rawRequest(serve.port, {
        path: '/api/health',
        headers: { [IDENTITY]: 'alice@example.com' },
      });
      expect(identitiesSeen()).toEqual(['alice@example.com', 'alice@example.com']);
      expect(JSON.parse(health.status === 200 ? health.body : '{}')).toEqual({
        status: 'ok',
        user: 'alice@example.com',
      });
    } finally {
      await serve.close();
    }
  });

  it('removes the identity of a request from an untrusted address, before the app and /api/health', async () => {
    app = await startRecordingApp();
    // Only configured, never contacted: 127.0.0.1 is outside it, so our requests are untrusted.
    const serve = await startServe({ upstream: app.url, trustedProxies: ['10.0.0.0/8'] });
    try {
      const res = await rawRequest(serve.port, { path: '/graphql', headers: { [IDENTITY]: FORGED } });
      const health = await rawRequest(serve.port, { path: '/api/health', headers: { [IDENTITY]: FORGED } });
      const token = await rawRequest(serve.port, { path: '/token', headers: { [IDENTITY]: FORGED } });
      expect(res.status).toBe(200);
      expect(JSON.parse(health.status === 200 ? health.body : '{}')).toEqual({ status: 'ok', user: null });
      expect(token.status === undefined ? '' : token.body).not.toContain(FORGED);
      expect(app.log.map((entry) => entry.url)).toEqual(['/graphql', '/api/health']);
      expect(identitiesSeen()).toEqual([undefined, undefined]);
      expect(await upgradeRequest(serve.port, '/socket', { [IDENTITY]: FORGED })).toBe(403);
      expect(app.log[2]).toMatchObject({ upgrade: true, url: '/socket' });
      expect(app.log[2]?.headers[IDENTITY]).toBeUndefined();
    } finally {
      await serve.close();
    }
  });

  it('trusts the proxy secret from any address, compares it exactly and never forwards it', async () => {
    app = await startRecordingApp();
    const serve = await startSecretOnlyServe(app.url);
    try {
      const send = (secret: string | undefined) =>
        rawRequest(serve.port, {
          path: '/graphql',
          headers: {
            [IDENTITY]: 'bob@example.com',
            ...(secret === undefined ? {} : { [SECRET_HEADER]: secret }),
          },
        });
      await send(SECRET);
      await send(undefined);
      await send(`${SECRET}x`);
      await send(SECRET.slice(0, -1));
      await send(SECRET.toUpperCase());
      expect(identitiesSeen()).toEqual(['bob@example.com', undefined, undefined, undefined, undefined]);
      for (const entry of app.log) expect(entry.headers[SECRET_HEADER.toLowerCase()]).toBeUndefined();
      const health = await rawRequest(serve.port, {
        path: '/api/health',
        headers: { [IDENTITY]: 'bob@example.com', [SECRET_HEADER]: SECRET },
      });
      expect(JSON.parse(health.status === 200 ? health.body : '{}')).toEqual({
        status: 'ok',
        user: 'bob@example.com',
      });
    } finally {
      await serve.close();
    }
  });

  it('does not believe a repeated secret header', async () => {
    app = await startRecordingApp();
    const serve = await startSecretOnlyServe(app.url);
    try {
      const repeated = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: serve.port, path: '/graphql', agent: false });
        req.setHeader(SECRET_HEADER, [SECRET, SECRET]);
        req.setHeader(IDENTITY, FORGED);
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(repeated).toBe(200);
      expect(identitiesSeen()).toEqual([undefined]);
    } finally {
      await serve.close();
    }
  });

  it('refuses a secret shorter than 16 characters and a bad CIDR', () => {
    expect(() =>
      createServeApp({
        upstream: 'http://127.0.0.1:1',
        proxySecret: { header: SECRET_HEADER, value: 'short' },
      }),
    ).toThrow(/at least 16/);
    expect(() => createServeApp({ upstream: 'http://127.0.0.1:1', trustedProxies: ['10.0.0.0/33'] })).toThrow(
      /prefix/,
    );
    expect(() => createServeApp({ upstream: 'http://127.0.0.1:1', trustedProxies: ['proxy.local'] })).toThrow(
      /not an IP/,
    );
  });
});

describe('cookie-bridge serve (built CLI): where the proxy secret comes from', () => {
  it('takes it from $COOKIE_BRIDGE_PROXY_SECRET and never prints it', async () => {
    const app = await startRecordingApp();
    const serve = await startServeSidecar(app.url, ['--trusted-proxy', 'none'], {
      COOKIE_BRIDGE_PROXY_SECRET: SECRET,
    });
    try {
      const port = Number(new URL(serve.url).port);
      await rawRequest(port, {
        path: '/a',
        headers: { [IDENTITY]: 'bob@example.com', [SECRET_HEADER]: SECRET },
      });
      await rawRequest(port, { path: '/b', headers: { [IDENTITY]: FORGED } });
      expect(app.log.map((entry) => [entry.url, entry.headers[IDENTITY]])).toEqual([
        ['/a', 'bob@example.com'],
        ['/b', undefined],
      ]);
      expect(serve.logs()).not.toContain(SECRET);
    } finally {
      await serve.stop();
      await app.close();
    }
  });

  it.each([
    [['--proxy-secret-file', '/nonexistent/proxy-secret'], {}, /--proxy-secret-file: cannot read/],
    [[], { COOKIE_BRIDGE_PROXY_SECRET: 'short' }, /at least 16/],
    [['--trusted-proxy', '10.0.0.0/8', 'proxy.internal'], {}, /--trusted-proxy: not an address or CIDR/],
    [['--proxy-secret-header', 'X-Secret'], {}, /--proxy-secret-header needs a secret/],
  ])('refuses %j with a usage error (exit 2) and a hint', async (args, env, message) => {
    const home = makeTempHome('cookie-bridge-serve-flags-');
    try {
      const result = await runCli(
        ['serve', '--upstream', 'http://127.0.0.1:9', '--port', '0', ...args],
        cliEnv(home.home, env),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/hint: /);
      expect(result.stderr).not.toContain('listening on');
    } finally {
      home.cleanup();
    }
  });
});
