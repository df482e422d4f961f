/**
 * src/sdk/admin-client.ts against scripted answers on 127.0.0.1: each error answer of the admin API (and what a
 * server without it answers) becomes the typed error with its code and exit code; GET /me is asked only to
 * explain a 403 or a 404; state-changing calls carry a JSON body; the token is only in the returned object.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminClient, type AdminClient } from '../../src/sdk/admin-client';
import { createForwardingClient } from '../../src/sdk/forwarding-client';
import { CookieBridgeError } from '../../src/errors';
import { MemoryCredentialStore } from '../kit/memory-credential-store';

interface Answer {
  status: number;
  type?: string;
  body: string;
}

const ME: Answer = {
  status: 200,
  body: JSON.stringify({ identity: 'bob@example.com', role: 'user', kind: 'person' }),
};
const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value) });

describe('the admin client', () => {
  let server: http.Server;
  let url: string;
  /** path → answer; a path not listed answers 500. */
  let answers: Record<string, Answer>;
  const seen: Array<{
    method: string;
    path: string;
    type: string | undefined;
    length: string | undefined;
    body: string;
  }> = [];
  let admin: AdminClient;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        const path = req.url ?? '';
        seen.push({
          method: req.method ?? '',
          path,
          type: req.headers['content-type'],
          length: req.headers['content-length'],
          body,
        });
        const answer =
          answers[`${req.method} ${path}`] ??
          answers[path] ??
          json(500, { error: 'x', message: 'unscripted' });
        res.writeHead(answer.status, { 'content-type': answer.type ?? 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(async () => {
    seen.length = 0;
    answers = {};
    const store = new MemoryCredentialStore(() => Date.UTC(2026, 11, 2));
    await store.saveLogin({ endpoint: url, auth: { type: 'token', token: 'a-token' }, loggedInAt: 'now' });
    admin = createAdminClient(await createForwardingClient({ endpoint: url, store, env: {} }));
  });

  const failure = async (call: Promise<unknown>): Promise<CookieBridgeError> => {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CookieBridgeError);
    return error as CookieBridgeError;
  };

  it('creates: a JSON body with content type, the token in the result', async () => {
    const account = {
      name: 'etl',
      role: 'user',
      createdAt: '2026-12-02T00:00:00.000Z',
      expiresAt: '2027-01-01T00:00:00.000Z',
      createdBy: 'alice@example.com',
      status: 'active',
    };
    answers['POST /cookie-bridge/admin/service-accounts'] = json(201, { ...account, token: 'e.y.j' });
    const created = await admin.createServiceAccount({ name: 'etl', expiresIn: 3600 });
    expect(created).toEqual({ ...account, token: 'e.y.j' });
    expect(seen).toEqual([
      {
        method: 'POST',
        path: '/cookie-bridge/admin/service-accounts',
        type: 'application/json',
        length: String('{"name":"etl","expiresIn":3600}'.length),
        body: '{"name":"etl","expiresIn":3600}',
      },
    ]);
  });

  it('a DELETE and a key rotation carry a framed JSON body too (serve takes state changes only as JSON)', async () => {
    answers['DELETE /cookie-bridge/admin/service-accounts/a%2Fb'] = json(404, {
      error: 'not_found',
      message: 'no service account a/b',
    });
    answers['/cookie-bridge/admin/me'] = ME;
    answers['POST /cookie-bridge/admin/keys/rotate'] = json(200, { kid: 'k1' });
    expect((await failure(admin.revokeServiceAccount('a/b'))).code).toBe('E_NOT_FOUND');
    expect(await admin.rotateKey()).toEqual({ kid: 'k1' });
    expect(seen.filter((s) => s.method !== 'GET').map((s) => [s.method, s.type, s.length, s.body])).toEqual([
      ['DELETE', 'application/json', '2', '{}'],
      ['POST', 'application/json', '2', '{}'],
    ]);
  });

  it.each<[string, Record<string, Answer>, string, number, RegExp]>([
    [
      '403 forbidden: names the caller (from /me) and who may',
      {
        '/cookie-bridge/admin/users': json(403, {
          error: 'forbidden',
          message: 'only admins may list users',
          admins: 'ask an admin: alice@example.com',
        }),
        '/cookie-bridge/admin/me': ME,
      },
      'E_FORBIDDEN',
      10,
      /^forbidden: bob@example\.com \(role user\) was refused: only admins may list users$/,
    ],
    [
      '401 token_invalid: the reason',
      {
        '/cookie-bridge/admin/users': json(401, {
          error: 'token_invalid',
          reason: 'expired',
          message: 'the bearer token has expired',
        }),
      },
      'E_TOKEN_REJECTED',
      4,
      /refused the token \(expired\): the bearer token has expired$/,
    ],
    [
      '401 without an identity: serve named nobody',
      { '/cookie-bridge/admin/users': json(401, { error: 'not_signed_in', message: 'sign in' }) },
      'E_ADMIN_REFUSED',
      22,
      /does not know who you are \(HTTP 401: sign in\)$/,
    ],
    [
      "an app's HTML 404: no admin API",
      {
        '/cookie-bridge/admin/users': { status: 404, type: 'text/html', body: '<h1>Not found</h1>' },
        '/cookie-bridge/admin/me': { status: 404, type: 'text/html', body: '<h1>Not found</h1>' },
      },
      'E_NO_SERVICE_ACCOUNTS',
      22,
      /has no service accounts \(serve --service-accounts\)/,
    ],
    [
      "an app's 200 JSON: no admin API",
      { '/cookie-bridge/admin/users': json(200, { app: true }) },
      'E_NO_SERVICE_ACCOUNTS',
      22,
      /answered HTTP 200, not the admin API$/,
    ],
    [
      '503 from serve: refused with its message',
      {
        '/cookie-bridge/admin/users': json(503, {
          error: 'internal_error',
          message: 'the service-account state is unavailable',
        }),
      },
      'E_ADMIN_REFUSED',
      22,
      /\(HTTP 503: the service-account state is unavailable\)$/,
    ],
    [
      'a message with escape sequences is made inert',
      { '/cookie-bridge/admin/users': json(400, { error: 'bad_request', message: 'bad\u001b[2J\nthing' }) },
      'E_USAGE',
      2,
      /bad\?\[2J\?thing$/,
    ],
  ])('%s', async (_case, scripted, code, exitCode, message) => {
    answers = scripted;
    const error = await failure(admin.listUsers());
    expect({ code: error.code, exitCode: error.exitCode }).toEqual({ code, exitCode });
    expect(error.message).toMatch(message);
    if (code === 'E_FORBIDDEN') expect(error.hint).toBe('ask an admin: alice@example.com');
  });

  it('a 404 of a name is E_NOT_FOUND only when /me shows the admin API is there', async () => {
    answers['DELETE /cookie-bridge/admin/service-accounts/etl'] = json(404, {
      error: 'not_found',
      message: 'no such admin route',
    });
    answers['/cookie-bridge/admin/me'] = { status: 404, type: 'text/html', body: 'nope' };
    expect((await failure(admin.revokeServiceAccount('etl'))).code).toBe('E_NO_SERVICE_ACCOUNTS');
    answers['/cookie-bridge/admin/me'] = ME;
    expect((await failure(admin.revokeServiceAccount('etl'))).code).toBe('E_NOT_FOUND');
  });

  it('asks /me only to explain a refusal', async () => {
    answers['/cookie-bridge/admin/users'] = json(200, { users: [] });
    expect(await admin.listUsers()).toEqual([]);
    expect(seen.map((s) => s.path)).toEqual(['/cookie-bridge/admin/users']);
  });
});
