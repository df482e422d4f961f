/**
 * serve with the real account service (createAccountService over createFileAccountStateStore in a temp state
 * dir), in process on 127.0.0.1:0 in front of the kit's recording app: the admin API issues a token that the
 * published JWKS verifies and the app then sees as the robot (identity and role replaced); revoked, expired,
 * foreign-key, wrong-audience and alg-none tokens get 401 JSON with the reason and never reach the app; the
 * state dir is 0700 with 0600 files and no answer carries a private key; a corrupt state file is a 503 naming
 * nothing secret, with the file named in serve's log, and the app sees nothing.
 */
import { createPublicKey, verify } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAccountService } from '../../src/server/accounts/account-service';
import type { AccountService } from '../../src/server/accounts/account-types';
import { createFileAccountStateStore } from '../../src/server/accounts/file-account-state-store';
import { createServeApp } from '../../src/server/create-serve-app';
import { recordingLogger } from '../kit/in-process-login';
import { rawRequest, type RawResponse } from '../kit/hostile-kit';
import { makeKitKey, signWith } from '../kit/memory-account-service';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';

const ISSUER = 'https://api.example.test/cookie-bridge/sa';
const ADMIN = 'admin@example.com';
const IDENTITY = 'x-auth-request-email';
const ROLE = 'x-cookie-bridge-role';
const START = Date.UTC(2026, 11, 2, 12, 0, 0);
const DAY_MS = 86_400_000;

let now = START;
let tmp: string;
let stateDir: string;
let app: RecordingApp;
let accounts: AccountService;
let server: http.Server;
let port: number;
const logger = recordingLogger();

const answer = (res: RawResponse | { error: string }): RawResponse => {
  if ('error' in res) throw new Error(res.error);
  return res;
};
const get = async (p: string, headers: http.OutgoingHttpHeaders = {}) =>
  answer(await rawRequest(port, { path: p, headers }));
/** A JSON call as an admin (Content-Length set: node sends a DELETE's body without framing otherwise). */
const send = async (method: string, p: string, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  const text = JSON.stringify(body);
  return answer(
    await rawRequest(port, {
      method,
      path: p,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(text)),
        [IDENTITY]: ADMIN,
        ...headers,
      },
      body: text,
    }),
  );
};
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function create(name: string, expiresIn?: number): Promise<string> {
  const res = await send('POST', '/cookie-bridge/admin/service-accounts', {
    name,
    ...(expiresIn === undefined ? {} : { expiresIn }),
  });
  expect(res.status).toBe(201);
  return (JSON.parse(res.body) as { token: string }).token;
}

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cb-serve-accounts-'));
  stateDir = path.join(tmp, 'state');
  app = await startRecordingApp();
  accounts = createAccountService({
    issuer: ISSUER,
    admins: [ADMIN],
    store: createFileAccountStateStore({ dir: stateDir }),
    now: () => now,
    cacheMs: 0,
  });
  const serve = createServeApp({ upstream: app.url, accounts, admins: [ADMIN], logger });
  server = http.createServer(serve.app);
  server.on('upgrade', serve.upgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await app.close();
  await fs.rm(tmp, { recursive: true, force: true, maxRetries: 3 });
});
beforeEach(() => {
  app.log.length = 0;
  now = START;
});

it('a token from the admin API verifies with the JWKS and reaches the app as the robot', async () => {
  const token = await create('ci');
  const jwks = JSON.parse((await get('/cookie-bridge/sa/jwks')).body) as {
    keys: Array<Record<string, string>>;
  };
  const [head, payload, signature] = token.split('.') as [string, string, string];
  const { kid } = JSON.parse(Buffer.from(head, 'base64url').toString()) as { kid: string };
  const jwk = jwks.keys.find((key) => key.kid === kid);
  expect(jwk).toBeDefined();
  const key = createPublicKey({ key: jwk as never, format: 'jwk' });
  const signed = Buffer.from(`${head}.${payload}`);
  const raw = Buffer.from(signature, 'base64url');
  expect(verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);

  const res = await get('/api/items', { ...bearer(token), [IDENTITY]: 'ceo@corp.example', [ROLE]: 'admin' });
  expect(res.status).toBe(200);
  expect(app.log.map((entry) => [entry.headers[IDENTITY], entry.headers[ROLE]])).toEqual([
    ['ci@service-accounts.invalid', 'user'],
  ]);
});

it.each<[string, () => Promise<string>, string]>([
  [
    'revoked',
    async () => {
      const token = await create('gone');
      const revoked = await send('DELETE', '/cookie-bridge/admin/service-accounts/gone', {});
      expect(revoked.status).toBe(200);
      return token;
    },
    'revoked',
  ],
  [
    'expired',
    async () => {
      const token = await create('short', 3600);
      now = START + DAY_MS;
      return token;
    },
    'expired',
  ],
  [
    'signed with a foreign key',
    async () => {
      const token = await create('copied');
      const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
        string,
        unknown
      >;
      return signWith(makeKitKey(), claims);
    },
    'unknown-key',
  ],
  [
    'for another audience (our key, a sibling service on the same state)',
    async () => {
      const sibling = createAccountService({
        issuer: ISSUER,
        audience: 'other-app',
        store: createFileAccountStateStore({ dir: stateDir }),
        now: () => now,
        cacheMs: 0,
      });
      return (await sibling.create({ name: 'elsewhere', role: 'admin', createdBy: ADMIN })).token;
    },
    'wrong-audience',
  ],
  [
    'alg none',
    async () => {
      const token = await create('none');
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      return `${header}.${token.split('.')[1]!}.`;
    },
    '',
  ],
])('%s: 401 JSON with the reason, the app sees nothing', async (_name, make, reason) => {
  const token = await make();
  const res = await get('/api/items', { ...bearer(token), [IDENTITY]: ADMIN });
  expect(res.status).toBe(401);
  const body = JSON.parse(res.body) as { error: string; reason: string };
  expect(body.error).toBe('token_invalid');
  if (reason !== '') expect(body.reason).toBe(reason);
  else expect(['malformed', 'unsupported-algorithm']).toContain(body.reason);
  expect(app.log).toEqual([]);
});

it('the state dir is private, and no answer carries a private key', async () => {
  await create('private-check');
  expect((await fs.stat(stateDir)).mode & 0o777).toBe(0o700);
  const files = await fs.readdir(stateDir);
  expect(files.filter((f) => f.endsWith('.json')).length).toBeGreaterThan(0);
  for (const file of files) {
    if (file.endsWith('.json')) expect((await fs.stat(path.join(stateDir, file))).mode & 0o777).toBe(0o600);
  }
  // oauth2-proxy's fallback location answers the same keys.
  expect((await get('/cookie-bridge/sa/.well-known/jwks.json')).body).toBe(
    (await get('/cookie-bridge/sa/jwks')).body,
  );
  const bodies = [
    (await get('/cookie-bridge/sa/jwks')).body,
    (await get('/cookie-bridge/sa/.well-known/jwks.json')).body,
    (await get('/cookie-bridge/sa/.well-known/openid-configuration')).body,
    (await get('/cookie-bridge/admin/service-accounts', { [IDENTITY]: ADMIN })).body,
    (await send('POST', '/cookie-bridge/admin/keys/rotate', {})).body,
  ];
  for (const body of bodies) {
    expect(body).not.toMatch(/"d"\s*:/);
    expect(body).not.toMatch(/PRIVATE KEY/);
  }
});

it('a corrupt state file: 503 JSON naming no file, the file in the log, nothing reaches the app', async () => {
  const token = await create('before-corruption');
  const file = path.join(stateDir, 'service-accounts.json');
  const saved = await fs.readFile(file);
  await fs.writeFile(file, '{not json');
  try {
    const res = await get('/api/items', bearer(token));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'internal_error' });
    expect(res.body).not.toContain(stateDir);
    const admin = await get('/cookie-bridge/admin/service-accounts', { [IDENTITY]: ADMIN });
    expect(admin.status).toBe(503);
    expect(logger.lines.join('\n')).toContain('service-accounts.json');
    expect(app.log).toEqual([]);
  } finally {
    await fs.writeFile(file, saved);
  }
});
