/**
 * Issue 13 at serve (createServeApp with `accounts`, on 127.0.0.1:0 in front of the kit's recording app): serve
 * verifies bearer tokens of its own issuer (expired, revoked, foreign key, wrong audience, malformed → 401 JSON
 * with the reason, and the app's own request log shows nothing reached it), replaces the identity and role
 * headers (never a mix with what the client sent), answers the issuer's public routes in every spelling without
 * forwarding them, answers nginx's auth check, and guards the admin API (401/403, CSRF rules). WebSocket
 * upgrades follow the same rules. The AccountService is the test kit's honest in-memory one (real ES256).
 */
import { createPublicKey, verify } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServeApp, type ServeAppOptions } from '../../src/server/create-serve-app';
import { rawRequest, upgradeRequest, type RawResponse } from '../kit/hostile-kit';
import {
  createMemoryAccountService,
  makeKitKey,
  signWith,
  type MemoryAccountService,
} from '../kit/memory-account-service';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';

const IDENTITY = 'x-auth-request-email';
const ROLE = 'x-cookie-bridge-role';
const ISSUER = 'https://api.example.test/cookie-bridge/sa';
const ADMIN = 'admin@example.com';
const USER = 'user@example.com';
const START = Date.UTC(2026, 11, 2, 12, 0, 0);
const DAY_MS = 86_400_000;

interface RunningServe {
  port: number;
  close(): Promise<void>;
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

function ok(res: RawResponse | { error: string }): RawResponse {
  if ('error' in res) throw new Error(`no answer: ${res.error}`);
  return res;
}

function json(res: RawResponse | { error: string }): Record<string, unknown> {
  return JSON.parse(ok(res).body) as Record<string, unknown>;
}

let now = START;
let app: RecordingApp;
let accounts: MemoryAccountService;
let serve: RunningServe;
let port: number;

const get = (path: string, headers: http.OutgoingHttpHeaders = {}) => rawRequest(port, { path, headers });
const send = (method: string, path: string, body: unknown, headers: http.OutgoingHttpHeaders = {}) =>
  rawRequest(port, {
    method,
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function tokenFor(name: string, role: 'admin' | 'user' = 'user', lifetimeMs?: number): Promise<string> {
  const { token } = await accounts.create({
    name,
    role,
    createdBy: ADMIN,
    ...(lifetimeMs === undefined ? {} : { lifetimeMs }),
  });
  return token;
}

beforeAll(async () => {
  app = await startRecordingApp();
  accounts = createMemoryAccountService({ issuer: ISSUER, admins: [ADMIN], now: () => now });
  serve = await startServe({ upstream: app.url, accounts, admins: [ADMIN] });
  port = serve.port;
});
afterAll(async () => {
  await serve.close();
  await app.close();
});
beforeEach(() => {
  app.log.length = 0;
  now = START;
});

describe('bearer tokens of our issuer', () => {
  it('a valid token: the app sees the token identity and role, never the client-sent ones', async () => {
    const token = await tokenFor('ci-valid', 'user');
    const res = await get('/api/items', {
      ...bearer(token),
      [IDENTITY]: 'ceo@corp.example',
      [ROLE]: 'admin',
    });
    expect(ok(res).status).toBe(200);
    expect(app.log).toHaveLength(1);
    expect(app.log[0]?.headers[IDENTITY]).toBe('ci-valid@service-accounts.invalid');
    expect(app.log[0]?.headers[ROLE]).toBe('user');
  });

  it('an admin service account gets role admin', async () => {
    const token = await tokenFor('ci-admin', 'admin');
    await get('/api/items', bearer(token));
    expect(app.log[0]?.headers[ROLE]).toBe('admin');
  });

  const cases: Array<[string, () => Promise<string>, string]> = [
    [
      'expired',
      async () => {
        const token = await tokenFor('ci-expired', 'user', DAY_MS);
        now = START + 2 * DAY_MS;
        return token;
      },
      'expired',
    ],
    [
      'revoked',
      async () => {
        const token = await tokenFor('ci-revoked');
        await accounts.revoke('ci-revoked', ADMIN);
        return token;
      },
      'revoked',
    ],
    [
      'signed with a foreign key',
      async () => {
        await tokenFor('ci-foreign');
        return signWith(makeKitKey(), accounts.claimsFor('ci-foreign'));
      },
      'unknown-key',
    ],
    [
      'a foreign key claiming our kid',
      async () => {
        await tokenFor('ci-kid');
        return signWith({ ...makeKitKey(), kid: accounts.currentKey().kid }, accounts.claimsFor('ci-kid'));
      },
      'bad-signature',
    ],
    [
      'for another audience',
      async () => {
        await tokenFor('ci-aud');
        return signWith(accounts.currentKey(), { ...accounts.claimsFor('ci-aud'), aud: 'other-app' });
      },
      'wrong-audience',
    ],
    [
      'alg none',
      async () => {
        await tokenFor('ci-none');
        const [head, payload] = signWith(accounts.currentKey(), accounts.claimsFor('ci-none'), {
          alg: 'none',
        }).split('.');
        return `${head}.${payload}.`;
      },
      'unsupported-algorithm',
    ],
    [
      'malformed signature part',
      async () => {
        const token = await tokenFor('ci-malformed');
        return `${token.slice(0, token.lastIndexOf('.'))}.not*base64`;
      },
      'malformed',
    ],
    ['over 8 KiB', async () => `${await tokenFor('ci-long')}${'A'.repeat(9000)}`, 'malformed'],
    [
      'for an account that does not exist',
      async () => signWith(accounts.currentKey(), { ...accounts.claimsFor('nobody'), sub: 'sa:nobody' }),
      'unknown-account',
    ],
  ];

  it.each(cases)(
    '%s: 401 JSON with the reason, nothing reaches the app (HTTP and WebSocket)',
    async (_name, make, reason) => {
      const token = await make();
      const res = await get('/api/items', { ...bearer(token), [IDENTITY]: ADMIN });
      expect(ok(res).status).toBe(401);
      expect(ok(res).headers['content-type']).toMatch(/^application\/json/);
      expect(ok(res).headers['cache-control']).toBe('no-store');
      expect(json(res)).toMatchObject({ error: 'token_invalid', reason });
      expect(typeof json(res).message).toBe('string');
      expect(ok(res).body).not.toContain(token);
      expect(await upgradeRequest(port, '/socket', { ...bearer(token), [IDENTITY]: ADMIN })).toBe(401);
      expect(app.log).toEqual([]);
    },
  );

  it('a valid token on a WebSocket upgrade: identity and role replaced', async () => {
    const token = await tokenFor('ws-robot', 'user');
    expect(
      await upgradeRequest(port, '/socket', { ...bearer(token), [IDENTITY]: ADMIN, [ROLE]: 'admin' }),
    ).toBe(403);
    expect(app.log).toHaveLength(1);
    expect(app.log[0]).toMatchObject({ upgrade: true, url: '/socket' });
    expect(app.log[0]?.headers[IDENTITY]).toBe('ws-robot@service-accounts.invalid');
    expect(app.log[0]?.headers[ROLE]).toBe('user');
  });

  it("another issuer's bearer is the proxy's business: forwarded unchanged, the person's role from the identity", async () => {
    const foreign = signWith(makeKitKey(), {
      iss: 'https://idp.example.test',
      aud: 'x',
      exp: START / 1000 + 60,
    });
    await get('/api/items', { ...bearer(foreign), [IDENTITY]: USER, [ROLE]: 'admin' });
    expect(app.log[0]?.headers.authorization).toBe(`Bearer ${foreign}`);
    expect(app.log[0]?.headers[IDENTITY]).toBe(USER);
    expect(app.log[0]?.headers[ROLE]).toBe('user');
  });
});

describe('the role header of people', () => {
  it('set from the role of the trusted identity, a client-sent one replaced', async () => {
    await get('/a', { [IDENTITY]: USER, [ROLE]: 'admin' });
    await get('/b', { [IDENTITY]: ADMIN });
    expect(app.log.map((entry) => entry.headers[ROLE])).toEqual(['user', 'admin']);
    expect(accounts.roleLookups).toEqual(expect.arrayContaining([USER, ADMIN]));
  });

  it('removed when nobody is named (HTTP and WebSocket)', async () => {
    await get('/a', { [ROLE]: 'admin' });
    await upgradeRequest(port, '/socket', { [ROLE]: 'admin' });
    expect(app.log).toHaveLength(2);
    for (const entry of app.log) expect(entry.headers[ROLE]).toBeUndefined();
  });

  it('removed with the identity of an untrusted address; a client role header is removed without accounts too', async () => {
    const untrusted = await startServe({ upstream: app.url, accounts, trustedProxies: [] });
    const plain = await startServe({ upstream: app.url });
    try {
      await rawRequest(untrusted.port, { path: '/a', headers: { [IDENTITY]: ADMIN, [ROLE]: 'admin' } });
      await rawRequest(plain.port, { path: '/b', headers: { [IDENTITY]: USER, [ROLE]: 'admin' } });
      expect(app.log.map((entry) => [entry.url, entry.headers[IDENTITY], entry.headers[ROLE]])).toEqual([
        ['/a', undefined, undefined],
        ['/b', USER, undefined],
      ]);
    } finally {
      await untrusted.close();
      await plain.close();
    }
  });
});

describe('the issuer routes', () => {
  it('discovery and JWKS: public, cacheable, and the JWKS verifies a token serve issued', async () => {
    const discovery = await get('/cookie-bridge/sa/.well-known/openid-configuration', { [IDENTITY]: ADMIN });
    expect(ok(discovery).status).toBe(200);
    expect(json(discovery)).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/jwks`,
      id_token_signing_alg_values_supported: ['ES256'],
    });
    const jwks = await get('/cookie-bridge/sa/jwks');
    expect(ok(jwks).headers['cache-control']).toBe('public, max-age=300');
    const keys = json(jwks).keys as Array<Record<string, string>>;
    const token = await tokenFor('jwks-check');
    const [head, payload, signature] = token.split('.') as [string, string, string];
    const kid = (JSON.parse(Buffer.from(head, 'base64url').toString()) as { kid: string }).kid;
    const jwk = keys.find((key) => key.kid === kid);
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(JSON.stringify(keys)).not.toMatch(/"d"/);
    const publicKey = createPublicKey({ key: jwk as never, format: 'jwk' });
    expect(
      verify(
        'sha256',
        Buffer.from(`${head}.${payload}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      ),
    ).toBe(true);
    expect(app.log).toEqual([]);
  });

  it.each([
    '/Cookie-Bridge/SA/jwks',
    '/cookie-bridge%2Fsa%2Fjwks',
    '/%63ookie-bridge/sa/jwks',
    '//cookie-bridge//sa/jwks',
    '/cookie-bridge/sa/jwks/',
  ])('%s is answered by serve, never forwarded', async (path) => {
    const res = await get(path, { [IDENTITY]: ADMIN });
    expect(ok(res).status).toBe(200);
    expect(json(res)).toHaveProperty('keys');
    expect(app.log).toEqual([]);
  });

  it.each([
    ['an unknown route under the issuer', '/cookie-bridge/sa/graphql', 404],
    ['the issuer path itself', '/cookie-bridge/sa', 404],
    ['dot segments out of the issuer', '/cookie-bridge/sa/../../graphql', 400],
    ['encoded dot segments into the issuer', '/graphql/%2e%2e/cookie-bridge/sa/jwks', 400],
  ])('%s (%s): %d, nothing forwarded (HTTP and WebSocket)', async (_name, path, status) => {
    expect(ok(await get(path, { [IDENTITY]: ADMIN })).status).toBe(status);
    expect(await upgradeRequest(port, path, { [IDENTITY]: ADMIN })).toBe(status === 400 ? 400 : 404);
    expect(app.log).toEqual([]);
  });

  it('POST to the JWKS: 405', async () => {
    expect(ok(await send('POST', '/cookie-bridge/sa/jwks', {})).status).toBe(405);
    expect(app.log).toEqual([]);
  });
});

describe("nginx's auth check", () => {
  it('200 with the identity and role for a valid token, 401 JSON otherwise; never forwarded', async () => {
    const token = await tokenFor('nginx-robot', 'admin');
    const good = ok(await get('/cookie-bridge/auth/check', bearer(token)));
    expect(good.status).toBe(200);
    expect(good.headers['x-auth-request-email']).toBe('nginx-robot@service-accounts.invalid');
    expect(good.headers[ROLE]).toBe('admin');
    await accounts.revoke('nginx-robot', ADMIN);
    const revoked = await get('/cookie-bridge/auth/check', bearer(token));
    expect(ok(revoked).status).toBe(401);
    expect(json(revoked)).toMatchObject({ error: 'token_invalid', reason: 'revoked' });
    const none = await get('/cookie-bridge/auth/check', { [IDENTITY]: ADMIN });
    expect(ok(none).status).toBe(401);
    expect(ok(none).headers['x-auth-request-email']).toBeUndefined();
    const foreign = signWith(makeKitKey(), { iss: 'https://idp.example.test' });
    expect(json(await get('/cookie-bridge/auth/check', bearer(foreign)))).toMatchObject({
      reason: 'unknown-key',
    });
    expect(ok(await get('/cookie-bridge/%61uth/check', bearer(token))).status).toBe(401);
    expect(app.log).toEqual([]);
  });
});

describe('the admin API', () => {
  it('no identity: 401 JSON', async () => {
    const res = await get('/cookie-bridge/admin/service-accounts');
    expect(ok(res).status).toBe(401);
    expect(json(res)).toMatchObject({ error: 'not_signed_in' });
  });

  it('a user: 403 naming who may; /me answers anyone signed in', async () => {
    const res = await get('/cookie-bridge/admin/service-accounts', { [IDENTITY]: USER });
    expect(ok(res).status).toBe(403);
    expect(json(res)).toEqual({
      error: 'forbidden',
      message: `${USER} is not an admin: only admins may list service accounts`,
      admins: `ask an admin: ${ADMIN}`,
    });
    expect(json(await get('/cookie-bridge/admin/me', { [IDENTITY]: USER }))).toEqual({
      identity: USER,
      role: 'user',
      kind: 'person',
    });
  });

  it('a service account with role user: 403; with role admin: allowed', async () => {
    const userToken = await tokenFor('robot-user', 'user');
    const adminToken = await tokenFor('robot-admin', 'admin');
    expect(ok(await send('POST', '/cookie-bridge/admin/keys/rotate', {}, bearer(userToken))).status).toBe(
      403,
    );
    const list = await get('/cookie-bridge/admin/service-accounts', bearer(adminToken));
    expect(ok(list).status).toBe(200);
    expect(json(await get('/cookie-bridge/admin/me', bearer(adminToken)))).toEqual({
      identity: 'robot-admin@service-accounts.invalid',
      role: 'admin',
      kind: 'service-account',
    });
    expect(app.log).toEqual([]);
  });

  it('an admin creates (token once), lists (no token), revokes; the revoked token is refused at once', async () => {
    const created = await send(
      'POST',
      '/cookie-bridge/admin/service-accounts',
      { name: 'nightly', expiresIn: 7 * 86400 },
      { [IDENTITY]: ADMIN },
    );
    expect(ok(created).status).toBe(201);
    const body = json(created);
    expect(body).toMatchObject({
      name: 'nightly',
      role: 'user',
      status: 'active',
      createdBy: ADMIN,
      createdAt: new Date(START).toISOString(),
      expiresAt: new Date(START + 7 * DAY_MS).toISOString(),
    });
    const token = body.token as string;
    expect((await accounts.verifyBearer(token)).ok).toBe(true);
    const list = ok(await get('/cookie-bridge/admin/service-accounts', { [IDENTITY]: ADMIN }));
    expect(list.body).not.toContain(token);
    expect(list.body).not.toContain('jti');
    expect(JSON.parse(list.body)).toMatchObject({
      serviceAccounts: expect.arrayContaining([expect.objectContaining({ name: 'nightly' })]),
    });
    expect(
      ok(
        await send(
          'POST',
          '/cookie-bridge/admin/service-accounts',
          { name: 'nightly' },
          { [IDENTITY]: ADMIN },
        ),
      ).status,
    ).toBe(409);
    const revoked = await send('DELETE', '/cookie-bridge/admin/service-accounts/nightly', undefined, {
      [IDENTITY]: ADMIN,
    });
    expect(json(revoked)).toMatchObject({
      name: 'nightly',
      status: 'revoked',
      revokedAt: new Date(START).toISOString(),
    });
    expect(json(await get('/api/items', bearer(token)))).toMatchObject({
      error: 'token_invalid',
      reason: 'revoked',
    });
    expect(
      ok(
        await send('DELETE', '/cookie-bridge/admin/service-accounts/never', undefined, { [IDENTITY]: ADMIN }),
      ).status,
    ).toBe(404);
    expect(app.log).toEqual([]);
  });

  it.each([
    [{ name: 'Bad Name' }, 'not a service account name'],
    [{ name: 'ok-name', role: 'root' }, 'role must be one of'],
    [{ name: 'ok-name', expiresIn: -5 }, 'expiresIn'],
    [{ role: 'user' }, 'name is required'],
  ])('bad creation %j: 400 (%s)', async (request, message) => {
    const res = await send('POST', '/cookie-bridge/admin/service-accounts', request, { [IDENTITY]: ADMIN });
    expect(ok(res).status).toBe(400);
    expect(json(res)).toMatchObject({ error: 'bad_request' });
    expect(json(res).message).toContain(message);
  });

  it('users: listed with their roles; an admin changes one', async () => {
    await get('/x', { [IDENTITY]: 'carol@example.com' });
    const set = await send(
      'PUT',
      `/cookie-bridge/admin/users/${encodeURIComponent('carol@example.com')}/role`,
      { role: 'admin' },
      { [IDENTITY]: ADMIN },
    );
    expect(json(set)).toEqual({ identity: 'carol@example.com', role: 'admin', roleSource: 'registry' });
    const users = json(await get('/cookie-bridge/admin/users', { [IDENTITY]: ADMIN })).users as Array<
      Record<string, unknown>
    >;
    expect(users).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ identity: 'carol@example.com', role: 'admin', roleSource: 'registry' }),
        expect.objectContaining({ identity: ADMIN, role: 'admin', roleSource: 'admin-flag' }),
      ]),
    );
    await get('/y', { [IDENTITY]: 'carol@example.com' });
    expect(app.log.at(-1)?.headers[ROLE]).toBe('admin');
  });

  it('rotating the key: a new kid, both published', async () => {
    const before = accounts.currentKey().kid;
    const res = await send('POST', '/cookie-bridge/admin/keys/rotate', {}, { [IDENTITY]: ADMIN });
    const { kid } = json(res) as { kid: string };
    expect(kid).not.toBe(before);
    const kids = (json(await get('/cookie-bridge/sa/jwks')).keys as Array<{ kid: string }>).map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([before, kid]));
  });

  it('CSRF: state changes need JSON and are refused from another site', async () => {
    const form = await rawRequest(port, {
      method: 'POST',
      path: '/cookie-bridge/admin/service-accounts',
      headers: { [IDENTITY]: ADMIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=csrf-form',
    });
    expect(ok(form).status).toBe(415);
    const plain = await rawRequest(port, {
      method: 'POST',
      path: '/cookie-bridge/admin/service-accounts',
      headers: { [IDENTITY]: ADMIN, 'content-type': 'text/plain' },
      body: '{"name":"csrf-text"}',
    });
    expect(ok(plain).status).toBe(415);
    for (const site of ['cross-site', 'same-site']) {
      const res = await send(
        'POST',
        '/cookie-bridge/admin/service-accounts',
        { name: `csrf-${site}` },
        { [IDENTITY]: ADMIN, 'sec-fetch-site': site },
      );
      expect(ok(res).status).toBe(403);
      expect(json(res)).toMatchObject({ error: 'cross_origin_refused' });
    }
    const names = (await accounts.list()).map((account) => account.name);
    expect(names.filter((name) => name.startsWith('csrf'))).toEqual([]);
    const same = await send(
      'POST',
      '/cookie-bridge/admin/service-accounts',
      { name: 'same-origin' },
      { [IDENTITY]: ADMIN, 'sec-fetch-site': 'same-origin' },
    );
    expect(ok(same).status).toBe(201);
    // A top-level navigation after an IdP round trip arrives cross-site: reading the page still works.
    expect(
      ok(await get('/cookie-bridge/admin/', { [IDENTITY]: ADMIN, 'sec-fetch-site': 'cross-site' })).status,
    ).toBe(200);
  });

  it.each([
    '/cookie-bridge/%61dmin/users',
    '/cookie-bridge/admin%2Fusers',
    '/COOKIE-BRIDGE/ADMIN/USERS',
    '/cookie-bridge/admin/nothing',
  ])('%s: answered by serve, never forwarded', async (path) => {
    const res = ok(await get(path, { [IDENTITY]: USER }));
    expect([403, 404]).toContain(res.status);
    expect(await upgradeRequest(port, path, { [IDENTITY]: ADMIN })).toBe(404);
    expect(app.log).toEqual([]);
  });
});

describe('the admin page', () => {
  it('escapes the identity, has a strict CSP, and carries no token', async () => {
    const evil = '<script>alert(1)</script>@example.com';
    await send(
      'PUT',
      `/cookie-bridge/admin/users/${encodeURIComponent(evil)}/role`,
      { role: 'admin' },
      { [IDENTITY]: ADMIN },
    );
    const token = await tokenFor('page-robot');
    const res = ok(await get('/cookie-bridge/admin/', { [IDENTITY]: evil }));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;@example.com');
    expect(res.body).not.toContain('<script>alert(1)');
    expect(res.body).not.toContain(token);
    expect(res.body).toContain('save it now: it will not be shown again');
    expect(res.body).toMatch(/id="copy"/);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('a user gets a 403 page, nobody a 401 page; /cookie-bridge/admin redirects to the slash', async () => {
    const user = ok(await get('/cookie-bridge/admin/', { [IDENTITY]: USER }));
    expect(user.status).toBe(403);
    expect(user.body).toContain(`ask an admin: ${ADMIN}`);
    expect(ok(await get('/cookie-bridge/admin/')).status).toBe(401);
    const bare = ok(await get('/cookie-bridge/admin', { [IDENTITY]: ADMIN }));
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/cookie-bridge/admin/');
  });
});
