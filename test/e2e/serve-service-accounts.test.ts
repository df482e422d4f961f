/**
 * `cookie-bridge serve --service-accounts` from the built CLI (issue 13), in front of the kit's recording app on
 * loopback: the issuer's JWKS is public, an admin (named by the identity header, believed from loopback)
 * creates a token through the admin API, the token reaches the app as the robot, a revoked one is refused
 * before it; the state lands in $COOKIE_BRIDGE_STATE_DIR (0700/0600); serve's --debug log never shows the
 * token or a private key. Bad flags are usage errors (exit 2) naming the flag.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliEnv, makeTempHome, runCli } from '../kit/cli-runner';
import { rawRequest, type RawResponse } from '../kit/hostile-kit';
import { pollUntil } from '../kit/poll-until';
import {
  HTTP_REQUEST_TIMEOUT_MS,
  REAL_COMPONENT_PATHS,
  REAL_SETUP_TIMEOUT_MS,
  requireComponent,
  startRedisServer,
  startServeSidecar,
  type RunningRedisServer,
  type ServeSidecar,
} from '../kit/real-components';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';

const ADMIN = 'admin@example.com';
const IDENTITY = 'x-auth-request-email';

const answer = (res: RawResponse | { error: string }): RawResponse => {
  if ('error' in res) throw new Error(res.error);
  return res;
};

describe('serve --service-accounts (built CLI)', () => {
  let app: RecordingApp;
  let serve: ServeSidecar;
  let port: number;
  const state = makeTempHome('cookie-bridge-sa-state-');
  const stateDir = path.join(state.home, 'state');

  beforeAll(async () => {
    app = await startRecordingApp();
    serve = await startServeSidecar(
      app.url,
      ['--service-accounts', '--sa-issuer', 'http://127.0.0.1:9/cookie-bridge/sa', '--admin', ADMIN],
      { COOKIE_BRIDGE_STATE_DIR: stateDir },
    );
    port = Number(new URL(serve.url).port);
  });
  afterAll(async () => {
    await serve?.stop();
    await app?.close();
    state.cleanup();
  });

  it('issues a token an app then sees as the robot; revoked, it is refused; nothing secret in the log', async () => {
    const jwks = answer(await rawRequest(port, { path: '/cookie-bridge/sa/jwks' }));
    expect(jwks.status).toBe(200);
    const body = JSON.stringify({ name: 'nightly', role: 'user' });
    const admin = { 'content-type': 'application/json', [IDENTITY]: ADMIN };
    const created = answer(
      await rawRequest(port, {
        method: 'POST',
        path: '/cookie-bridge/admin/service-accounts',
        headers: { ...admin, 'content-length': String(Buffer.byteLength(body)) },
        body,
      }),
    );
    expect(created.status).toBe(201);
    const { token } = JSON.parse(created.body) as { token: string };

    const ok = answer(
      await rawRequest(port, { path: '/api/items', headers: { authorization: `Bearer ${token}` } }),
    );
    expect(ok.status).toBe(200);
    expect(
      app.log.map((entry) => [entry.url, entry.headers[IDENTITY], entry.headers['x-cookie-bridge-role']]),
    ).toEqual([['/api/items', 'nightly@service-accounts.invalid', 'user']]);

    const revoked = answer(
      await rawRequest(port, {
        method: 'DELETE',
        path: '/cookie-bridge/admin/service-accounts/nightly',
        headers: { ...admin, 'content-length': '0' },
      }),
    );
    expect(revoked.status).toBe(200);
    const refused = answer(
      await rawRequest(port, { path: '/api/items', headers: { authorization: `Bearer ${token}` } }),
    );
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'token_invalid', reason: 'revoked' });
    expect(app.log).toHaveLength(1);

    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    for (const file of fs.readdirSync(stateDir).filter((name) => name.endsWith('.json'))) {
      expect(fs.statSync(path.join(stateDir, file)).mode & 0o777).toBe(0o600);
    }
    const logs = serve.logs();
    expect(logs).toContain('service accounts on, issuer http://127.0.0.1:9/cookie-bridge/sa');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.split('.')[2]!);
    expect(logs).not.toMatch(/PRIVATE KEY|"d"\s*:/);
  });
});

describe('serve service-account flags (built CLI)', () => {
  it.each([
    [['--sa-issuer', 'https://api.example.com/cookie-bridge/sa'], /--sa-issuer needs --service-accounts/],
    [['--service-accounts'], /needs --sa-issuer/],
    [['--service-accounts', '--sa-issuer', 'http://api.example.com/sa'], /https/],
    [
      ['--service-accounts', '--sa-issuer', 'https://api.example.com/sa', '--sa-max-lifetime', '1y'],
      /--sa-max-lifetime/,
    ],
    [['--role-header', 'Authorization'], /--role-header cannot be/],
  ])('%j: a usage error (exit 2)', async (args, message) => {
    const home = makeTempHome();
    try {
      const result = await runCli(
        ['serve', '--upstream', 'http://127.0.0.1:9', '--port', '0', ...args],
        cliEnv(home.home),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
    } finally {
      home.cleanup();
    }
  });
});

const describeRedis = requireComponent('redis-server', REAL_COMPONENT_PATHS.redisServer)
  ? describe
  : describe.skip;

describeRedis('serve --service-accounts with a Redis relay store (built CLI, two replicas)', () => {
  let app: RecordingApp;
  let redis: RunningRedisServer;
  const replicas: ServeSidecar[] = [];
  const state = makeTempHome('cookie-bridge-sa-redis-state-');
  const password = 'replicas-share-this-password';

  beforeAll(async () => {
    app = await startRecordingApp();
    redis = await startRedisServer({ password });
    for (const name of ['a', 'b']) {
      replicas.push(
        await startServeSidecar(
          app.url,
          ['--service-accounts', '--sa-issuer', 'http://127.0.0.1:9/cookie-bridge/sa', '--admin', ADMIN],
          {
            COOKIE_BRIDGE_STATE_DIR: path.join(state.home, name),
            COOKIE_BRIDGE_RELAY_STORE: redis.url,
            COOKIE_BRIDGE_RELAY_STORE_PASSWORD: password,
          },
        ),
      );
    }
  }, REAL_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    for (const replica of replicas) await replica.stop();
    await redis?.stop();
    await app?.close();
    state.cleanup();
  }, REAL_SETUP_TIMEOUT_MS);

  it('keeps keys and registry in that Redis: a token made on one replica works on the other, revoked there too', async () => {
    const [a, b] = replicas.map((replica) => Number(new URL(replica.url).port)) as [number, number];
    const admin = { 'content-type': 'application/json', [IDENTITY]: ADMIN };
    const body = JSON.stringify({ name: 'shared' });
    const created = answer(
      await rawRequest(a, {
        method: 'POST',
        path: '/cookie-bridge/admin/service-accounts',
        headers: { ...admin, 'content-length': String(Buffer.byteLength(body)) },
        body,
      }),
    );
    expect(created.status).toBe(201);
    const { token } = JSON.parse(created.body) as { token: string };
    const onB = answer(
      await rawRequest(b, { path: '/api/items?on=b', headers: { authorization: `Bearer ${token}` } }),
    );
    expect(onB.status).toBe(200);
    expect(app.log.find((entry) => entry.url === '/api/items?on=b')?.headers[IDENTITY]).toBe(
      'shared@service-accounts.invalid',
    );
    // Both publish the one key; neither wrote a state dir.
    const kids = await Promise.all(
      [a, b].map(async (port) => {
        const jwks = answer(await rawRequest(port, { path: '/cookie-bridge/sa/jwks' }));
        return (JSON.parse(jwks.body) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      }),
    );
    expect(kids[0]).toEqual(kids[1]);
    for (const name of ['a', 'b']) expect(fs.existsSync(path.join(state.home, name))).toBe(false);
    for (const replica of replicas) {
      expect(replica.logs()).toMatch(/state in redis:\/\/127\.0\.0\.1:\d+ \(prefix cookie-bridge:accounts:/);
      expect(replica.logs()).not.toContain(password);
    }

    const revoked = answer(
      await rawRequest(b, {
        method: 'DELETE',
        path: '/cookie-bridge/admin/service-accounts/shared',
        headers: { ...admin, 'content-length': '0' },
      }),
    );
    expect(revoked.status).toBe(200);
    // Replica a sees it within its cache time (at most 5 s).
    const refused = await pollUntil(
      'replica a refuses the revoked token',
      HTTP_REQUEST_TIMEOUT_MS,
      async () => {
        const reply = answer(
          await rawRequest(a, { path: '/api/items?on=a', headers: { authorization: `Bearer ${token}` } }),
        );
        return reply.status === 401 ? reply : undefined;
      },
    );
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'token_invalid', reason: 'revoked' });
  });
});
