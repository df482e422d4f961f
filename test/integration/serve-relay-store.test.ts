/**
 * `serve --relay-store` wiring (issue 12), in-process through runServe with a fake Redis store factory (the
 * store itself is tested on its own): serve starts whether or not the store answers, prints one line saying
 * which store it uses, passes the settings on without the password in the URL, and closes the store after the
 * server closed. Real listeners on loopback port 0.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { systemTimers } from '../../src/context';
import { runServe, type ServeCommandOptions, type ServeDeps } from '../../src/cli/commands/serve-command';
import type { RedisRelayStore, RedisRelayStoreOptions } from '../../src/server/redis-relay-store';
import { createMemoryRelayStore, RelayStoreUnavailableError } from '../../src/server/relay-store';
import { HTTP_REQUEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { recordingLogger } from '../kit/in-process-login';

const PASSWORD = 'redis-Pa55-word';

interface FakeRedis {
  options?: RedisRelayStoreOptions;
  /** Whether a connection to serve's port was refused when close() was called. */
  closedAfterServer?: boolean;
  closed: number;
}

/** A Redis store stand-in: `connected` decides ready() and whether every method rejects as unavailable. */
function fakeRedisFactory(
  connected: boolean,
  port: () => number,
): { factory: ServeDeps['createRedisRelayStore']; seen: FakeRedis } {
  const seen: FakeRedis = { closed: 0 };
  const factory = (options: RedisRelayStoreOptions): RedisRelayStore => {
    seen.options = options;
    const inner = createMemoryRelayStore();
    const gate = <T>(run: () => Promise<T>): Promise<T> =>
      connected ? run() : Promise.reject(new RelayStoreUnavailableError('redis: connection refused'));
    return {
      register: (c, r) => gate(() => inner.register(c, r)),
      lookup: (c) => gate(() => inner.lookup(c)),
      confirm: (c, r) => gate(() => inner.confirm(c, r)),
      claim: (c) => gate(() => inner.claim(c)),
      formKey: () => gate(() => Promise.resolve(Buffer.alloc(32, 5))),
      ready: () => Promise.resolve(connected),
      displayUrl: new URL(options.url).toString(),
      close: async () => {
        seen.closed += 1;
        seen.closedAfterServer = await refused(port());
      },
    };
  };
  return { factory, seen };
}

/** Whether a TCP connection to 127.0.0.1:port is refused now. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** serve's stderr, with a wait for a line matching a pattern (event-driven, bounded by the test's budget). */
function capturedStderr() {
  const stream = new PassThrough();
  let text = '';
  const waiters: Array<() => void> = [];
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
    for (const wake of waiters.splice(0)) wake();
  });
  const waitFor = async (pattern: RegExp): Promise<RegExpMatchArray> => {
    for (;;) {
      const match = pattern.exec(text);
      if (match !== null) return match;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { stream, text: () => text, waitFor };
}

function post(url: string, body: object): Promise<{ status: number; body: string; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json' }, timeout: HTTP_REQUEST_TIMEOUT_MS },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (data += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: data,
            ...(res.headers['retry-after'] === undefined ? {} : { retryAfter: res.headers['retry-after'] }),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(text);
  });
}

function get(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: HTTP_REQUEST_TIMEOUT_MS, headers }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

describe('serve --relay-store', () => {
  let upstream: http.Server;
  let upstreamUrl: string;

  beforeAll(async () => {
    upstream = http.createServer((_req, res) => res.end('from the app'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  /** Starts serve in-process; `stop()` sends it a stop signal and resolves with its exit code. */
  async function startServe(flags: Partial<ServeCommandOptions>, env: NodeJS.ProcessEnv, connected: boolean) {
    const stderr = capturedStderr();
    const logger = recordingLogger();
    let stopHandler: ((signal: NodeJS.Signals) => void) | undefined;
    let port = 0;
    const redis = fakeRedisFactory(connected, () => port);
    const exit = runServe(
      { env, logger, now: () => Date.UTC(2026, 11, 2), timers: systemTimers, stderr: stderr.stream },
      {
        upstream: upstreamUrl,
        port: 0,
        host: '127.0.0.1',
        identityHeader: 'X-Auth-Request-Email',
        upstreamTimeout: 60,
        ...flags,
      },
      {
        createRedisRelayStore: redis.factory,
        onStopSignals: (handler) => {
          stopHandler = handler;
          return () => {
            stopHandler = undefined;
          };
        },
      },
    );
    const [, portText] = await Promise.race([
      stderr.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/),
      exit.then((code) => Promise.reject(new Error(`serve exited with ${code}`))),
    ]);
    port = Number(portText);
    return {
      url: `http://127.0.0.1:${port}`,
      stderr,
      logger,
      redis,
      stop: async (): Promise<number> => {
        stopHandler?.('SIGTERM');
        return exit;
      },
    };
  }

  it('Redis down: serve starts, says so in one line, answers relay routes 503 and proxies; the store closes after the server', async () => {
    const serve = await startServe(
      { relayStorePrefix: 'team-a:relay:', relayTtl: 30 },
      { COOKIE_BRIDGE_RELAY_STORE: `redis://relay:${PASSWORD}@127.0.0.1:6379/0` },
      false,
    );
    const [line] = await serve.stderr.waitFor(/relay store: .*\n/);
    expect(line).toBe(
      'relay store: redis://relay@127.0.0.1:6379/0 (prefix team-a:relay:): unreachable: relay sign-ins answer 503 until it is back; proxying and /token work\n',
    );
    expect(serve.redis.seen.options).toMatchObject({
      url: 'redis://relay@127.0.0.1:6379/0',
      password: PASSWORD,
      prefix: 'team-a:relay:',
      ttlMs: 30_000,
    });

    const registered = await post(`${serve.url}/cookie-bridge/relay/register`, {
      challenge: 'c'.repeat(43),
      code: 'K7QD-M2XW',
    });
    expect(registered.status).toBe(503);
    expect(JSON.parse(registered.body)).toMatchObject({ error: 'relay_store_unavailable' });
    expect(registered.retryAfter).toBeDefined();
    expect(await get(`${serve.url}/api/items`)).toEqual({ status: 200, body: 'from the app' });

    expect(await serve.stop()).toBe(0);
    expect(serve.redis.seen.closed).toBe(1);
    expect(serve.redis.seen.closedAfterServer).toBe(true);
    // The password went to the store only: not to stderr, nor to any log line (debug included).
    expect(serve.stderr.text()).not.toContain(PASSWORD);
    expect(serve.logger.lines.join('\n')).not.toContain(PASSWORD);
  });

  it('Redis up: "connected"', async () => {
    const serve = await startServe({ relayStore: 'redis://127.0.0.1:6379/2' }, {}, true);
    const [line] = await serve.stderr.waitFor(/relay store: .*\n/);
    expect(line).toBe('relay store: redis://127.0.0.1:6379/2 (prefix cookie-bridge:relay:): connected\n');
    expect(serve.redis.seen.options?.password).toBeUndefined();
    expect(await serve.stop()).toBe(0);
    expect(serve.redis.seen.closed).toBe(1);
  });

  it('by default the memory store, and no Redis store is made', async () => {
    const serve = await startServe({}, {}, true);
    const [line] = await serve.stderr.waitFor(/relay store: .*\n/);
    expect(line).toMatch(/^relay store: memory \(this process only/);
    expect(serve.redis.seen.options).toBeUndefined();
    expect(await serve.stop()).toBe(0);
  });

  it('--relay-ttl 90: the refusals and the /token page state 90 seconds', async () => {
    const serve = await startServe({ relayTtl: 90 }, {}, true);
    await serve.stderr.waitFor(/relay store: memory/);
    const challenge = (letter: string): string => letter.repeat(43);
    const register = (letter: string) =>
      post(`${serve.url}/cookie-bridge/relay/register`, { challenge: challenge(letter), code: 'K7QD-M2XW' });
    // The default bound is 10 pending sign-ins per address: the 11th is refused.
    for (const letter of 'abcdefghij') expect((await register(letter)).status).toBe(201);
    const refused = await register('k');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body)).toEqual({
      error: 'relay_source_full',
      message:
        'too many relay sign-ins are waiting from your address: finish or let them expire (90 seconds), then try again',
      ttl_seconds: 90,
    });

    const page = await get(`${serve.url}/token?state=the-state&relay=${challenge('a')}`, {
      cookie: '_oauth2_proxy=c2Vzc2lvbg',
      'x-auth-request-email': 'alice@example.com',
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('The request stays open for 90 seconds after the terminal made it.');
    expect(await serve.stop()).toBe(0);
  });

  it('refuses a password in the argv URL before listening, without printing it', async () => {
    const redis = fakeRedisFactory(true, () => 0);
    const stderr = capturedStderr();
    const run = runServe(
      { env: {}, logger: recordingLogger(), now: () => 0, timers: systemTimers, stderr: stderr.stream },
      {
        upstream: upstreamUrl,
        port: 0,
        host: '127.0.0.1',
        identityHeader: 'X-Auth-Request-Email',
        upstreamTimeout: 60,
        relayStore: `redis://:${PASSWORD}@127.0.0.1:6379`,
      },
      { createRedisRelayStore: redis.factory, onStopSignals: () => () => undefined },
    );
    const error = (await run.catch((thrown: unknown) => thrown)) as {
      code: string;
      message: string;
      hint: string;
    };
    expect(error.code).toBe('E_USAGE');
    expect(`${error.message} ${error.hint}`).not.toContain(PASSWORD);
    expect(error.hint).toContain('--relay-store-password-file');
    expect(redis.seen.options).toBeUndefined();
    expect(stderr.text()).toBe('');
  });
});
