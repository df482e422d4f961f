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
import { startServeSidecar, type ServeSidecar } from '../kit/real-components';
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
