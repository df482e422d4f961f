/**
 * Service accounts through REAL nginx `auth_request` (issue 13), all on loopback: the README's recipe routes
 * Bearer requests to serve's check endpoint (/cookie-bridge/auth/check) and cookie sessions to the oauth2-proxy
 * look-alike's /oauth2/auth (`map $http_authorization $auth_backend`), in front of the built CLI's
 * `serve --service-accounts` in front of the kit's recording app. An admin signs in with Chromium, creates a
 * token; the robot's CLI reaches the app as the service account with role user; revoked, nginx answers 401
 * JSON (no sign-in redirect) and the app sees nothing.
 *
 * `npm test` builds dist/ first (`npm run build` before running this file alone).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import { cliEnv, makeTempHome, runCli, type CliResult } from '../kit/cli-runner';
import { loginThroughChromium, withDiagnostics, type LogSource } from '../kit/e2e-diagnostics';
import { plainGet } from '../kit/plain-get';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';
import {
  findFreePort,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_SETUP_TIMEOUT_MS,
  startNginxAuthRequest,
  startServeSidecar,
  type RunningComponent,
  type ServeSidecar,
} from '../kit/real-components';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const ADMIN = 'carol@example.com';
const IDENTITY = 'x-auth-request-email';
const ROLE = 'x-cookie-bridge-role';

describeReal('service accounts through nginx auth_request (bearer → serve, cookies → the proxy)', () => {
  let app: RecordingApp;
  let serve: ServeSidecar | undefined;
  let lookalike: OAuth2ProxyLookalike | undefined;
  let nginx: RunningComponent | undefined;
  let endpoint: string;
  let workDir: string;
  const state = makeTempHome('cookie-bridge-sa-nginx-state-');
  const admin = makeTempHome('cookie-bridge-sa-nginx-admin-');
  let adminEnv: NodeJS.ProcessEnv;

  const sources = (...extra: LogSource[]): LogSource[] => [
    ...extra,
    { name: 'nginx', logs: () => nginx?.logs() ?? '(not started)' },
    { name: 'cookie-bridge serve', logs: () => serve?.logs() ?? '(not started)' },
    {
      name: 'app',
      logs: () => app.log.map((e) => `${e.method} ${e.url} ${e.headers[IDENTITY]}`).join('\n'),
    },
  ];
  const adminCli = (...args: string[]): Promise<CliResult> => runCli([...args, '-e', endpoint], adminEnv);
  const robotCli = async (token: string, ...args: string[]): Promise<CliResult> => {
    const home = makeTempHome('cookie-bridge-sa-nginx-robot-');
    try {
      return await runCli([...args, '-e', endpoint], cliEnv(home.home, { COOKIE_BRIDGE_TOKEN: token }));
    } finally {
      home.cleanup();
    }
  };

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-sa-nginx-'));
    app = await startRecordingApp();
    const port = await findFreePort();
    endpoint = `http://127.0.0.1:${port}`;
    serve = await startServeSidecar(
      app.url,
      // The issuer is a name in the tokens here (nginx does not read the JWKS); it must be https.
      ['--service-accounts', '--sa-issuer', `https://127.0.0.1:${port}/cookie-bridge/sa`, '--admin', ADMIN],
      { COOKIE_BRIDGE_STATE_DIR: join(state.home, 'state') },
    );
    lookalike = await startOAuth2ProxyLookalike({ upstream: serve.url });
    nginx = await startNginxAuthRequest({
      oauth2ProxyUrl: lookalike.url,
      upstream: serve.url,
      port,
      exemptPaths: ['/cookie-bridge/relay/'],
      bearerCheckUrl: serve.url,
    });
    ({ env: adminEnv } = await loginThroughChromium({
      home: admin.home,
      workDir,
      name: 'sa-nginx-admin',
      user: 'carol',
      endpoint,
      expected: { method: 'cookies', proxy: 'oauth2-proxy', identity: ADMIN },
      sources: sources(),
    }));
  }, REAL_SETUP_TIMEOUT_MS + REAL_BROWSER_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await nginx?.stop();
    await lookalike?.close();
    await serve?.stop();
    await app?.close();
    admin.cleanup();
    state.cleanup();
    if (workDir !== undefined && process.env.COOKIE_BRIDGE_KEEP_E2E_TMP === undefined) {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, REAL_SETUP_TIMEOUT_MS);

  it(
    'create, use (the app sees the robot with role user), revoke → 401 JSON from nginx, nothing reaches the app',
    async () => {
      const created = await adminCli('api', 'service-account', 'create', '--name', 'ci');
      withDiagnostics({ cli: created, sources: sources() }, () => expect(created.code).toBe(0));
      const token = created.stdout.trim();

      const robot = await robotCli(token, 'request', '/api/items?by=ci');
      const reached = app.log.filter((entry) => entry.url === '/api/items?by=ci');
      withDiagnostics({ cli: robot, sources: sources() }, () => {
        expect(robot.code).toBe(0);
        expect(JSON.parse(robot.stdout)).toMatchObject({ app: true, url: '/api/items?by=ci' });
        expect(reached.map((entry) => [entry.headers[IDENTITY], entry.headers[ROLE]])).toEqual([
          ['ci@service-accounts.invalid', 'user'],
        ]);
      });
      // The admin's cookie session still goes through the proxy's check, with the admin's role.
      const whoami = await adminCli('request', '/api/items?by=admin');
      const adminReached = app.log.filter((entry) => entry.url === '/api/items?by=admin');
      withDiagnostics({ cli: whoami, sources: sources() }, () => {
        expect(whoami.code).toBe(0);
        expect(adminReached.map((entry) => [entry.headers[IDENTITY], entry.headers[ROLE]])).toEqual([
          [ADMIN, 'admin'],
        ]);
      });

      const revoke = await adminCli('api', 'service-account', 'revoke', 'ci');
      withDiagnostics({ cli: revoke, sources: sources() }, () => expect(revoke.code).toBe(0));
      const seen = app.log.length;
      const refused = await plainGet(`${endpoint}/api/items?after=revoke`, {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
      });
      const refusedCli = await robotCli(token, 'request', '/api/items?after=revoke-cli');
      withDiagnostics({ cli: refusedCli, sources: sources() }, () => {
        // Not the sign-in redirect a browser gets: a 401 the robot can read.
        expect(refused.status).toBe(401);
        expect(refused.headers['www-authenticate']).toMatch(/^Bearer\b.*invalid_token/);
        expect(JSON.parse(refused.body)).toMatchObject({ error: 'token_invalid' });
        expect(refusedCli.code).toBe(4);
        expect(refusedCli.stderr).toContain(`${endpoint} refused the token`);
        expect(refusedCli.stderr).not.toContain(token);
        expect(app.log.length).toBe(seen);
      });
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});
