// The server half mounted inside an app that signs people in itself: fixtures/oidc-app/ (express-openid-connect,
// the real library, with cookie-bridge's /token and /api/health and the identity from the app's own session)
// against the real OpenID provider (npm oidc-provider), with headless Chromium as `$BROWSER` signing in. No auth
// proxy in front: the app's own redirect to the provider is what `api login` detects.
//
// `npm test` builds dist/ first (run `npx tsc -p tsconfig.build.json` before running this file alone).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { oidcAppRedirectUri, startOidcApp } from '../../fixtures/oidc-app/start-oidc-app';
import { makeTempHome, runCli } from '../kit/cli-runner';
import {
  browserLogSource,
  chromiumBrowserEnv,
  expectSessionExpired,
  jsonOf,
  plainGet,
  storedCookies,
  withDiagnostics,
  type LogSource,
} from '../kit/e2e-diagnostics';
import {
  findFreePort,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_SETUP_TIMEOUT_MS,
  startOidcProvider,
  type RunningComponent,
  type RunningOidcProvider,
} from '../kit/real-components';

const describeReal = realComponentsAvailable() ? describe : describe.skip;

describeReal(
  'an express app that signs people in with express-openid-connect, with the server half inside',
  () => {
    const clientId = 'oidc-app-e2e';
    const clientSecret = randomBytes(16).toString('hex');
    let provider: RunningOidcProvider | undefined;
    let app: RunningComponent | undefined;
    let workDir: string;
    const temp = makeTempHome('cookie-bridge-oidc-app-');
    const sources = (...extra: LogSource[]): LogSource[] => [
      ...extra,
      { name: 'oidc-app', logs: () => app?.logs() ?? '(not started)' },
      { name: 'oidc-provider', logs: () => provider?.logs() ?? '(not started)' },
    ];

    beforeAll(async () => {
      workDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-oidc-app-e2e-'));
      const port = await findFreePort();
      provider = await startOidcProvider({
        clients: [
          { client_id: clientId, client_secret: clientSecret, redirect_uris: [oidcAppRedirectUri(port)] },
        ],
      });
      app = await startOidcApp({ issuer: provider.issuer, clientId, clientSecret, port });
    }, REAL_SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await app?.stop();
      await provider?.stop();
      temp.cleanup();
      if (workDir !== undefined && process.env.COOKIE_BRIDGE_KEEP_E2E_TMP === undefined) {
        rmSync(workDir, { recursive: true, force: true });
      }
    }, REAL_SETUP_TIMEOUT_MS);

    it(
      'detects the app\'s sign-in (proxy "unknown"), signs in at the provider with Chromium, replays the ' +
        "app's session on JSON and HTML pages; after a logout at the app `request` exits 4",
      async () => {
        const endpoint = app?.url ?? '';
        const env = chromiumBrowserEnv(temp.home, workDir, 'oidc-app');
        const context = { sources: sources(browserLogSource(workDir, 'oidc-app')) };

        const login = await runCli(
          ['api', 'login', '-e', endpoint, '--json', '--debug', '--timeout', REAL_CLI_LOGIN_TIMEOUT_S],
          env,
        );
        withDiagnostics({ ...context, cli: login }, () => {
          expect(login.code).toBe(0);
          // Who you are comes from the app's own session (req.oidc.user.email), through /api/health.
          expect(login.stderr).toContain(`Logged in to ${endpoint} as alice@example.com`);
          expect(jsonOf(login)).toMatchObject({
            ok: true,
            endpoint,
            method: 'cookies',
            via: 'browser',
            proxy: 'unknown',
            identity: 'alice@example.com',
          });
          expect(login.stderr).not.toContain('mod_auth_openidc');
          // Only the app's session cookie travelled: not express-openid-connect's transient cookie, nor the IdP's.
          expect([...storedCookies(temp.home).keys()]).toEqual(['appSession']);
        });

        const info = await runCli(['api', 'info', '-e', endpoint, '--json'], env);
        withDiagnostics({ ...context, cli: [login, info] }, () => {
          expect(info.code).toBe(0);
          expect(JSON.stringify(jsonOf(info))).not.toContain('mod_auth_openidc');
          expect(jsonOf(info)).toMatchObject({ identity: 'alice@example.com', proxy: 'unknown' });
        });

        const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
        withDiagnostics({ ...context, cli: [login, whoami] }, () => {
          expect(whoami.code).toBe(0);
          expect(jsonOf(whoami)).toMatchObject({ user: 'alice@example.com', sub: 'alice' });
        });

        const page = await runCli(['request', '-e', endpoint, '-H', 'Accept: text/html', '/dashboard'], env);
        withDiagnostics({ ...context, cli: [whoami, page] }, () => {
          expect(page.code).toBe(0);
          expect(page.stdout).toContain('<h1 id="dashboard">Dashboard of alice@example.com</h1>');
        });

        // The person logs out in the browser: the app's /logout, with the session cookie the CLI also holds,
        // destroys the session in the app's server-side store.
        const session = storedCookies(temp.home).get('appSession') ?? '';
        const logout = await plainGet(`${endpoint}/logout`, {
          cookie: `appSession=${session}`,
          accept: '*/*',
        });
        withDiagnostics(context, () => {
          expect(session).not.toBe('');
          expect([200, 302]).toContain(logout.status);
          // The session value reached neither the CLI's output (--debug and --json included) nor the app's log.
          for (const output of [login.stdout, login.stderr, info.stdout, info.stderr, app?.logs() ?? ''])
            expect(output).not.toContain(session);
        });

        const expired = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
        withDiagnostics({ ...context, cli: [whoami, expired] }, () =>
          expectSessionExpired(expired, endpoint),
        );
      },
      REAL_BROWSER_TEST_TIMEOUT_MS,
    );
  },
);
