/**
 * serve --service-accounts with a Redis relay store keeps the service accounts in that Redis (issue 13: "in
 * Redis when serve runs with a Redis store, so every replica signs and checks alike"). Two runServe in-process
 * share one real redis-server on loopback: a token made through A's admin API verifies on B and B's JWKS lists
 * its key; a revocation on A is refused on B once the cache time (5 s, on the injected clock) has passed;
 * the keys live under the prefix derived from the relay prefix and nothing is written to a state dir. With
 * Redis down at start, serve starts, /cookie-bridge/admin/me answers 503 JSON, people are proxied without a
 * role header, and the
 * account checks work once Redis is up, without a restart.
 */
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';

import { Redis } from 'ioredis';

import { REDIS_RECOVERY_WAIT_MS } from '../../fixtures/real-components/budgets';
import { runServe, type ServeCommandOptions } from '../../src/cli/commands/serve-command';
import { systemTimers, type Logger } from '../../src/context';
import { createRedisAccountStateStore } from '../../src/server/accounts/redis-account-state-store';
import { createRedisRelayStore } from '../../src/server/redis-relay-store';
import { rawRequest, type RawResponse } from '../kit/hostile-kit';
import {
  findFreePort,
  REAL_COMPONENT_PATHS,
  RELAY_STORE_ACL_RULES,
  requireComponent,
  SERVE_WITH_ACCOUNTS_ACL_RULES,
  startRedisServer,
  type RunningRedisServer,
} from '../kit/real-components';

const describeWithRedis = requireComponent('redis-server', REAL_COMPONENT_PATHS.redisServer)
  ? describe
  : describe.skip;

const ADMIN = 'admin@example.com';
const IDENTITY = 'x-auth-request-email';
const ISSUER = 'http://127.0.0.1/cookie-bridge/sa';
const CACHE_MS = 5000;

/** Lines written to a stream or a logger, with a wait for one matching a pattern (event-driven, bounded). */
function recorder() {
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const add = (line: string): void => {
    lines.push(line);
    for (const wake of waiters.splice(0)) wake();
  };
  const waitFor = (pattern: RegExp, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`no line matching ${String(pattern)} (${what}) within budget:\n${lines.join('\n')}`),
          ),
        REDIS_RECOVERY_WAIT_MS,
      );
      const check = (): void => {
        const found = lines.find((line) => pattern.test(line));
        if (found === undefined) {
          waiters.push(check);
          return;
        }
        clearTimeout(timer);
        resolve(found);
      };
      check();
    });
  return { lines, add, waitFor };
}

describeWithRedis('serve --service-accounts with a Redis relay store (real redis-server)', () => {
  let tmp: string;
  let upstream: http.Server;
  let upstreamUrl: string;
  const seenByApp: Array<string | undefined> = [];
  /** The role header of each request the app got (x-cookie-bridge-role). */
  const rolesSeenByApp: Array<string | undefined> = [];
  let now = Date.UTC(2026, 11, 2, 12, 0, 0);
  const running: Array<{ stop(): Promise<number> }> = [];
  const servers: RunningRedisServer[] = [];

  beforeAll(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-serve-accounts-redis-'));
    upstream = http.createServer((req, res) => {
      seenByApp.push(req.headers[IDENTITY] as string | undefined);
      rolesSeenByApp.push(req.headers['x-cookie-bridge-role'] as string | undefined);
      res.end('from the app');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const serve of running.splice(0)) expect(await serve.stop()).toBe(0);
    for (const redis of servers.splice(0)) await redis.stop();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await fs.rm(tmp, { recursive: true, force: true, maxRetries: 3 });
  });

  /** runServe in-process with the real Redis stores; the state dir it would use is `stateDir`. */
  async function startServe(
    redisUrl: string,
    stateDir: string,
    flags: Partial<ServeCommandOptions> = {},
    password?: string,
  ) {
    const stderr = recorder();
    const log = recorder();
    const logger: Logger = {
      debug: (message) => log.add(`debug: ${message}`),
      info: (message) => log.add(`info: ${message}`),
      warn: (message) => log.add(`warn: ${message}`),
    };
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => stderr.add(chunk.toString('utf8')));
    let stopHandler: ((signal: NodeJS.Signals) => void) | undefined;
    const exit = runServe(
      {
        env: {
          COOKIE_BRIDGE_RELAY_STORE: redisUrl,
          COOKIE_BRIDGE_STATE_DIR: stateDir,
          ...(password === undefined ? {} : { COOKIE_BRIDGE_RELAY_STORE_PASSWORD: password }),
        },
        logger,
        now: () => now,
        timers: systemTimers,
        stderr: stream,
      },
      {
        upstream: upstreamUrl,
        port: 0,
        host: '127.0.0.1',
        identityHeader: 'X-Auth-Request-Email',
        upstreamTimeout: 60,
        serviceAccounts: true,
        saIssuer: ISSUER,
        admin: [ADMIN],
        ...flags,
      },
      {
        createRedisRelayStore,
        createRedisAccountStateStore,
        onStopSignals: (handler) => {
          stopHandler = handler;
          return () => {
            stopHandler = undefined;
          };
        },
      },
    );
    const listening = await Promise.race([
      stderr.waitFor(/listening on http:\/\/127\.0\.0\.1:\d+/, 'listening'),
      exit.then((code) => Promise.reject(new Error(`serve exited with ${code}`))),
    ]);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(listening)?.[1]);
    const serve = {
      port,
      stderr,
      log,
      stop: (): Promise<number> => {
        stopHandler?.('SIGTERM');
        return exit;
      },
    };
    running.push(serve);
    return serve;
  }

  const call = async (
    port: number,
    method: string,
    p: string,
    headers: http.OutgoingHttpHeaders = {},
    body?: unknown,
  ): Promise<RawResponse> => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const res = await rawRequest(port, {
      method,
      path: p,
      headers: {
        ...(text === undefined
          ? {}
          : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
        ...headers,
      },
      ...(text === undefined ? {} : { body: text }),
    });
    if ('error' in res) throw new Error(res.error);
    return res;
  };
  const asAdmin = { [IDENTITY]: ADMIN };

  it('shares the accounts between two replicas: made on A, verified and revoked on B; no state dir', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const stateDir = path.join(tmp, 'state-shared');
    const flags = { relayStorePrefix: 'team-a:relay:' };
    const a = await startServe(redis.url, stateDir, flags);
    const b = await startServe(redis.url, stateDir, flags);
    const line = await a.stderr.waitFor(/service accounts on/, 'accounts line');
    expect(line).toBe(
      `cookie-bridge serve: service accounts on, issuer ${ISSUER} (public: ${ISSUER}/jwks), ` +
        `state in ${redis.url} (prefix team-a:accounts:)\n`,
    );

    const created = await call(a.port, 'POST', '/cookie-bridge/admin/service-accounts', asAdmin, {
      name: 'ci',
    });
    expect(created.status).toBe(201);
    const { token } = JSON.parse(created.body) as { token: string };
    const { kid } = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
      kid: string;
    };
    const jwksOnB = JSON.parse((await call(b.port, 'GET', '/cookie-bridge/sa/jwks')).body) as {
      keys: Array<{ kid: string }>;
    };
    expect(jwksOnB.keys.map((key) => key.kid)).toContain(kid);

    seenByApp.length = 0;
    const onB = await call(b.port, 'GET', '/api/items', { authorization: `Bearer ${token}` });
    expect(onB.status).toBe(200);
    expect(seenByApp).toEqual(['ci@service-accounts.invalid']);

    const revoked = await call(a.port, 'DELETE', '/cookie-bridge/admin/service-accounts/ci', asAdmin, {});
    expect(revoked.status).toBe(200);
    // B read the registry before the revocation; past the cache time it reads it again.
    now += CACHE_MS + 1;
    seenByApp.length = 0;
    const refused = await call(b.port, 'GET', '/api/items', { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(401);
    expect(refused.body).toContain('revoked');
    expect(seenByApp).toEqual([]);

    const admin = new Redis(redis.url, { lazyConnect: true });
    try {
      await admin.connect();
      const keys = (await admin.keys('team-a:accounts:*')).sort();
      expect(keys).toEqual(
        expect.arrayContaining(['team-a:accounts:keys', 'team-a:accounts:service-accounts']),
      );
    } finally {
      admin.disconnect();
    }
    await expect(fs.stat(stateDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('starts while Redis is down (503 for the admin API, people proxied without a role) and recovers without a restart', async () => {
    const port = await findFreePort();
    const url = `redis://127.0.0.1:${port}`;
    const serve = await startServe(url, path.join(tmp, 'state-down'));
    await serve.stderr.waitFor(/relay store: .*unreachable/, 'relay store line');
    await serve.log.waitFor(
      /^warn: service accounts store redis:\/\/127\.0\.0\.1:\d+: cannot connect/,
      'warning',
    );

    const me = await call(serve.port, 'GET', '/cookie-bridge/admin/me', asAdmin);
    expect(me.status).toBe(503);
    expect(JSON.parse(me.body)).toEqual({
      error: 'internal_error',
      message: 'the service-account state is unavailable',
    });
    // A person's role is in the registry: not guessed. The request goes on without a role header (the app
    // sees the least privilege), even one that claims a role; a request naming nobody goes through too.
    seenByApp.length = 0;
    rolesSeenByApp.length = 0;
    const person = await call(serve.port, 'GET', '/api/items', {
      [IDENTITY]: 'someone@example.com',
      'x-cookie-bridge-role': 'admin',
    });
    expect(person.status).toBe(200);
    expect(seenByApp).toEqual(['someone@example.com']);
    expect(rolesSeenByApp).toEqual([undefined]);
    const proxied = await call(serve.port, 'GET', '/api/items');
    expect(proxied.status).toBe(200);
    expect(proxied.body).toBe('from the app');

    const redis = await startRedisServer({ port });
    servers.push(redis);
    await serve.log.waitFor(/^info: service accounts store .*: connected again/, 'back');
    const meAgain = await call(serve.port, 'GET', '/cookie-bridge/admin/me', asAdmin);
    expect(meAgain.status).toBe(200);
    expect(JSON.parse(meAgain.body)).toMatchObject({ identity: ADMIN, role: 'admin', kind: 'person' });
  });

  it("works as the ACL user docs/serve.md gives (the accounts' key pattern is needed), no password shown", async () => {
    const password = 'acl-Pa55-word-for-serve';
    const redis = await startRedisServer({
      aclUser: { name: 'serve', password, rules: SERVE_WITH_ACCOUNTS_ACL_RULES },
    });
    servers.push(redis);
    const admin = new Redis(redis.url, { lazyConnect: true });
    try {
      await admin.connect();
      await admin.call(
        'ACL',
        'SETUSER',
        'relayonly',
        'on',
        `>${password}`,
        ...RELAY_STORE_ACL_RULES.split(' '),
      );
    } finally {
      admin.disconnect();
    }
    const port = redis.url.replace(/^.*:/, '');
    const full = await startServe(`redis://serve@127.0.0.1:${port}`, path.join(tmp, 'acl'), {}, password);
    const created = await call(full.port, 'POST', '/cookie-bridge/admin/service-accounts', asAdmin, {
      name: 'ci',
    });
    expect(created.status).toBe(201);
    const { token } = JSON.parse(created.body) as { token: string };
    expect((await call(full.port, 'GET', '/api/items', { authorization: `Bearer ${token}` })).status).toBe(
      200,
    );

    // The relay store's rules alone: the accounts' keys are refused (NOPERM), so account checks answer 503.
    const relayOnly = await startServe(
      `redis://relayonly@127.0.0.1:${port}`,
      path.join(tmp, 'acl'),
      {},
      password,
    );
    expect((await call(relayOnly.port, 'GET', '/cookie-bridge/admin/me', asAdmin)).status).toBe(503);
    await relayOnly.log.waitFor(/^warn: serve: service accounts: .*NOPERM/, 'NOPERM in the log');

    const everything = [
      ...full.stderr.lines,
      ...full.log.lines,
      ...relayOnly.stderr.lines,
      ...relayOnly.log.lines,
    ];
    expect(everything.join('\n')).not.toContain(password);
  });

  it('refuses --state-dir with a Redis relay store (the accounts live in Redis)', async () => {
    await expect(
      runServe(
        {
          env: { COOKIE_BRIDGE_RELAY_STORE: 'redis://127.0.0.1:1' },
          logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
          now: () => now,
          timers: systemTimers,
          stderr: new PassThrough(),
        },
        {
          upstream: upstreamUrl,
          port: 0,
          host: '127.0.0.1',
          identityHeader: 'X-Auth-Request-Email',
          upstreamTimeout: 60,
          serviceAccounts: true,
          saIssuer: ISSUER,
          stateDir: path.join(tmp, 'never'),
        },
        {
          createRedisRelayStore: () => {
            throw new Error('no store may open');
          },
          createRedisAccountStateStore: () => {
            throw new Error('no store may open');
          },
          onStopSignals: () => () => undefined,
        },
      ),
    ).rejects.toMatchObject({ code: 'E_USAGE', message: expect.stringContaining('--state-dir') as unknown });
  });
});
