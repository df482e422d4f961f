// The built CLI end to end through REAL auth proxies and a REAL browser, all on loopback:
//   - Apache httpd + mod_auth_openidc + an OpenID provider (npm oidc-provider),
//   - nginx auth_request + the oauth2-proxy look-alike,
// with headless Chromium (test/kit/chromium-browser.js) as `$BROWSER` signing in on the real login pages.
// Behind the proxies runs the `cookie-bridge serve` sidecar (the built CLI) in front of the demo API, so the
// /token page and the relay routes are served's, and every other path is the demo API's answer.
//
// `npm test` builds dist/ first (run `npx tsc -p tsconfig.build.json` before running this file alone).
// With CI=true a missing Debian component fails this suite; elsewhere it is skipped with a loud warning.
// COOKIE_BRIDGE_KEEP_E2E_TMP=1 keeps the component folders (configs, logs) for a look after a run.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import { cliEnv, makeTempHome, runCli, startCli, type CliResult } from '../kit/cli-runner';
import {
  browserLogSource,
  chromiumBrowserEnv,
  expectSessionExpired,
  jsonOf,
  plainGet as get,
  readIfExists,
  storedCookies,
  withDiagnostics,
  type LogSource,
} from '../kit/e2e-diagnostics';
import {
  APACHE_OIDC_REDIRECT_PATH,
  apacheOidcRedirectUri,
  findFreePort,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
  REAL_SETUP_TIMEOUT_MS,
  runChromiumBrowser,
  startApacheOidcProxy,
  startNginxAuthRequest,
  startOidcProvider,
  startServeSidecar,
  type ChromiumBrowserResult,
  type RunningComponent,
  type RunningOidcProvider,
  type ServeSidecar,
} from '../kit/real-components';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const SETUP_TIMEOUT_MS = REAL_SETUP_TIMEOUT_MS;
/** One browser login: Chromium start, provider login + consent, hand-off, verification. */
const LOGIN_TEST_TIMEOUT_MS = REAL_BROWSER_TEST_TIMEOUT_MS;
/** What the CLI may wait for the browser (seconds); below the test timeout so the CLI's own error shows. */
const CLI_LOGIN_TIMEOUT_S = REAL_CLI_LOGIN_TIMEOUT_S;

/** Chromium as `$BROWSER`, with this suite's driver deadline (below the CLI's login timeout). */
function browserEnv(home: string, workDir: string, name: string, extra: Record<string, string> = {}) {
  return chromiumBrowserEnv(home, workDir, name, {
    CHROMIUM_BROWSER_TIMEOUT_MS: CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
    ...extra,
  });
}

interface RelayLoginRun {
  /** The /token URL the CLI printed. */
  url: URL;
  /** The confirmation code the CLI printed. */
  code: string;
  browser: ChromiumBrowserResult;
  result: CliResult;
}

/**
 * `api login --relay --no-browser`: the browser is "on another machine", so the test opens Chromium itself
 * once the CLI has printed the URL and the code; Chromium types the code into the page and confirms.
 */
async function relayLogin(
  endpoint: string,
  env: NodeJS.ProcessEnv,
  browserEnv: { login: string; log: string; screenshot?: string },
): Promise<RelayLoginRun> {
  const cli = startCli(
    ['api', 'login', '-e', endpoint, '--relay', '--no-browser', '--json', '--timeout', CLI_LOGIN_TIMEOUT_S],
    env,
  );
  try {
    const [printed] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
    const code = (await cli.waitForStderr(/Confirmation code: (\S+)/))[1] ?? '';
    const url = new URL(printed);
    const browser = await runChromiumBrowser(url.toString(), {
      CHROMIUM_BROWSER_WAIT_FOR: 'relay',
      CHROMIUM_BROWSER_CODE: code,
      CHROMIUM_BROWSER_LOGIN: browserEnv.login,
      CHROMIUM_BROWSER_LOG: browserEnv.log,
      ...(browserEnv.screenshot === undefined ? {} : { CHROMIUM_BROWSER_SCREENSHOT: browserEnv.screenshot }),
      CHROMIUM_BROWSER_TIMEOUT_MS: CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
    });
    if (browser.code !== 0) cli.child.kill('SIGTERM');
    return { url, code, browser, result: await cli.result };
  } catch (error) {
    cli.child.kill('SIGTERM');
    throw error;
  }
}

describeReal('the CLI through real auth proxies with a real browser', () => {
  let demoApi: RunningDemoApi | undefined;
  /** What the proxies protect: the serve sidecar in front of the demo API. */
  let upstream: ServeSidecar | undefined;
  let workDir: string;
  const serveLogs: LogSource = {
    name: 'cookie-bridge serve',
    logs: () => upstream?.logs() ?? '(not started)',
  };

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-real-login-'));
    demoApi = await startDemoApi();
    upstream = await startServeSidecar(demoApi.url);
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await upstream?.stop();
    await demoApi?.close();
    if (workDir !== undefined && process.env.COOKIE_BRIDGE_KEEP_E2E_TMP === undefined) {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, SETUP_TIMEOUT_MS);

  describe('Apache mod_auth_openidc + oidc-provider', () => {
    const clientId = 'cookie-bridge-e2e';
    const clientSecret = randomBytes(16).toString('hex');
    let provider: RunningOidcProvider | undefined;
    /**
     * Protects everything but the relay routes (as docs/serve.md asks): detection must see mod_auth_openidc, and
     * serve offers relay login, so the /token page hands off to the loopback with fetch (relay as fallback).
     */
    let apache: RunningComponent | undefined;
    /** Exempts /api/health only (detection sees no proxy); no relay, so the page hands off by form POST. */
    let apacheExempt: RunningComponent | undefined;
    /**
     * The naive identity recipe (`RequestHeader set X-Auth-Request-Email "%{OIDC_CLAIM_email}e"`, no
     * condition) with /api/health and /api/echo exempt: there the app gets mod_headers' literal `(null)`.
     */
    let apacheNullIdentity: RunningComponent | undefined;
    const temp = makeTempHome('cookie-bridge-real-apache-');

    const sources = (...extra: LogSource[]): LogSource[] => [
      ...extra,
      { name: 'apache2 (relay exempt)', logs: () => apache?.logs() ?? '(not started)' },
      { name: 'apache2 (/api/health exempt)', logs: () => apacheExempt?.logs() ?? '(not started)' },
      { name: 'apache2 ((null) identity)', logs: () => apacheNullIdentity?.logs() ?? '(not started)' },
      { name: 'oidc-provider', logs: () => provider?.logs() ?? '(not started)' },
      serveLogs,
    ];

    beforeAll(async () => {
      const port = await findFreePort();
      const exemptPort = await findFreePort();
      const nullIdentityPort = await findFreePort();
      provider = await startOidcProvider({
        clients: [
          {
            client_id: clientId,
            client_secret: clientSecret,
            redirect_uris: [
              apacheOidcRedirectUri(port),
              apacheOidcRedirectUri(exemptPort),
              apacheOidcRedirectUri(nullIdentityPort),
            ],
          },
        ],
      });
      const common = { issuer: provider.issuer, clientId, clientSecret, upstream: upstream?.url ?? '' };
      // Started one after the other: a 2-core CI machine gains nothing from starting them at once.
      apache = await startApacheOidcProxy({ ...common, port, exemptPaths: ['/cookie-bridge/relay/'] });
      apacheExempt = await startApacheOidcProxy({
        ...common,
        port: exemptPort,
        exemptPaths: ['/api/health'],
      });
      apacheNullIdentity = await startApacheOidcProxy({
        ...common,
        port: nullIdentityPort,
        exemptPaths: ['/api/health', '/api/echo'],
        identityHeaderAlways: true,
      });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await apacheNullIdentity?.stop();
      await apacheExempt?.stop();
      await apache?.stop();
      await provider?.stop();
      temp.cleanup();
    }, SETUP_TIMEOUT_MS);

    it(
      'detects mod_auth_openidc, signs in at the provider with Chromium, and replays the session; ' +
        'a logout at the proxy then makes `request` exit 4',
      async () => {
        const endpoint = apache?.url ?? '';
        const env = browserEnv(temp.home, workDir, 'apache-detect');
        const context = { sources: sources(browserLogSource(workDir, 'apache-detect')) };

        const login = await runCli(
          ['api', 'login', '-e', endpoint, '--json', '--debug', '--timeout', CLI_LOGIN_TIMEOUT_S],
          env,
        );
        withDiagnostics({ ...context, cli: login }, () => {
          expect(login.code).toBe(0);
          expect(login.stderr).toContain(`Logged in to ${endpoint} as alice@example.com`);
          expect(jsonOf(login)).toMatchObject({
            ok: true,
            endpoint,
            method: 'cookies',
            via: 'browser',
            proxy: 'mod_auth_openidc',
            identity: 'alice@example.com',
          });
          // serve offered relay login (its prefix passes Apache), so the page tried the loopback with fetch first.
          expect(login.stderr).toMatch(/\/token\?\S*local_port=\d+\S*&relay=/);
          // The sign-in really went through the provider: mod_auth_openidc's session cookie is what is stored.
          expect([...storedCookies(temp.home).keys()]).toContain('mod_auth_openidc_session');
        });

        const whoami = await runCli(['request', '-e', endpoint, '/api/echo?from=cli'], env);
        withDiagnostics({ ...context, cli: [login, whoami] }, () => {
          expect(whoami.code).toBe(0);
          // The upstream's own answer, with the identity Apache took from the ID token.
          expect(jsonOf(whoami)).toMatchObject({
            path: '/api/echo',
            query: { from: 'cli' },
            user: 'alice@example.com',
          });
          expect((jsonOf(whoami).cookieNames as string[] | undefined) ?? []).toContain(
            'mod_auth_openidc_session',
          );
        });

        // The person logs out in the browser: mod_auth_openidc's logout URL, with the session cookie the CLI
        // also holds, removes the session from Apache's cache (then redirects to the provider's logout).
        const session = storedCookies(temp.home).get('mod_auth_openidc_session') ?? '';
        const logoutUrl =
          `${endpoint}${APACHE_OIDC_REDIRECT_PATH}?logout=` + encodeURIComponent(`${endpoint}/`);
        const logout = await get(logoutUrl, { cookie: `mod_auth_openidc_session=${session}`, accept: '*/*' });
        withDiagnostics(context, () => {
          expect(session).not.toBe('');
          expect([200, 302, 303]).toContain(logout.status);
        });

        const expired = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
        withDiagnostics({ ...context, cli: [whoami, expired] }, () =>
          expectSessionExpired(expired, endpoint),
        );
      },
      LOGIN_TEST_TIMEOUT_MS,
    );

    it(
      'with /api/health exempted, detection sees no proxy; --cookies forces the browser sign-in and the API answers',
      async () => {
        const endpoint = apacheExempt?.url ?? '';
        const home = makeTempHome('cookie-bridge-real-apache-exempt-');
        try {
          const env = browserEnv(home.home, workDir, 'apache-cookies');
          const context = { sources: sources(browserLogSource(workDir, 'apache-cookies')) };

          const detected = await runCli(['api', 'login', '-e', endpoint, '--json'], env);
          withDiagnostics({ ...context, cli: detected }, () => {
            expect(detected.code).toBe(0);
            expect(jsonOf(detected)).toMatchObject({ method: 'none' });
          });
          const refused = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: refused }, () => expectSessionExpired(refused, endpoint));

          const forced = await runCli(
            ['api', 'login', '-e', endpoint, '--cookies', '--json', '--timeout', CLI_LOGIN_TIMEOUT_S],
            env,
          );
          withDiagnostics({ ...context, cli: forced }, () => {
            expect(forced.code).toBe(0);
            // /api/health is exempt, so the server names nobody there; the bundle's own `user` (the /token
            // page is protected and knows alice) is never taken for who we are.
            expect(forced.stderr).toContain(`Logged in to ${endpoint} (identity unknown)`);
            expect(jsonOf(forced)).toMatchObject({
              method: 'cookies',
              reason: 'forced',
              via: 'browser',
              identity: null,
            });
          });

          const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [forced, whoami] }, () => {
            expect(whoami.code).toBe(0);
            expect(jsonOf(whoami)).toEqual({ user: 'alice@example.com' });
          });
        } finally {
          home.cleanup();
        }
      },
      LOGIN_TEST_TIMEOUT_MS,
    );

    it(
      "with the naive header recipe an exempt /api/health hands the app Apache's (null): the CLI says identity unknown",
      async () => {
        const endpoint = apacheNullIdentity?.url ?? '';
        const home = makeTempHome('cookie-bridge-real-apache-null-');
        try {
          const env = browserEnv(home.home, workDir, 'apache-null');
          const context = { sources: sources(browserLogSource(workDir, 'apache-null')) };

          // The app's own view of an exempt route: the header arrives as the literal "(null)".
          const echo = await get(`${endpoint}/api/echo`, { accept: 'application/json' });
          const health = await get(`${endpoint}/api/health`, { accept: 'application/json' });
          withDiagnostics(context, () => {
            expect(echo.status).toBe(200);
            const echoed = JSON.parse(echo.body) as { headers: Record<string, string>; user: unknown };
            expect(echoed.headers['x-auth-request-email']).toBe('(null)');
            expect(echoed.user).toBeNull();
            // serve's /api/health (and the demo app's readIdentity) names nobody, not "(null)".
            expect(JSON.parse(health.body)).toEqual({ status: 'ok', user: null });
          });

          const detected = await runCli(['api', 'login', '-e', endpoint, '--json'], env);
          withDiagnostics({ ...context, cli: detected }, () => {
            expect(detected.code).toBe(0);
            expect(jsonOf(detected)).toMatchObject({ method: 'none', identity: null });
            expect(detected.stderr).toContain(`Logged in to ${endpoint} (identity unknown)`);
          });

          const forced = await runCli(
            ['api', 'login', '-e', endpoint, '--cookies', '--json', '--timeout', CLI_LOGIN_TIMEOUT_S],
            env,
          );
          withDiagnostics({ ...context, cli: forced }, () => {
            expect(forced.code).toBe(0);
            expect(forced.stderr).toContain(`Logged in to ${endpoint} (identity unknown)`);
            expect(forced.stderr).not.toMatch(/as \(null\)|as alice/);
            expect(jsonOf(forced)).toMatchObject({ method: 'cookies', via: 'browser', identity: null });
          });
          // The session itself is good: a protected route names alice.
          const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [forced, whoami] }, () => {
            expect(jsonOf(whoami)).toEqual({ user: 'alice@example.com' });
          });
        } finally {
          home.cleanup();
        }
      },
      LOGIN_TEST_TIMEOUT_MS,
    );

    it(
      "relay login (--relay): Chromium types the terminal's code into the /token page and confirms; the CLI picks the sign-in up through the proxy",
      async () => {
        const endpoint = apache?.url ?? '';
        const home = makeTempHome('cookie-bridge-real-relay-');
        const browserLog = join(workDir, 'apache-relay.browser.log');
        const context = {
          sources: sources({ name: 'chromium-browser (relay)', logs: () => readIfExists(browserLog) }),
        };
        try {
          const env = cliEnv(home.home);
          const run = await relayLogin(endpoint, env, {
            login: 'alice',
            log: browserLog,
            screenshot: join(workDir, 'apache-relay.failure.png'),
          });
          withDiagnostics({ ...context, cli: run.result }, () => {
            // No loopback listener with --relay: the URL carries the relay challenge, not local_port.
            expect(run.url.searchParams.get('local_port')).toBeNull();
            expect(run.url.searchParams.get('relay')).not.toBeNull();
            expect(run.code).not.toBe('');
            expect({
              code: run.browser.code,
              stderr: run.browser.code === 0 ? '' : run.browser.stderr,
            }).toEqual({
              code: 0,
              stderr: '',
            });
            expect(run.result.code).toBe(0);
            expect(run.result.stderr).toContain(`Logged in to ${endpoint} as alice@example.com`);
            expect(jsonOf(run.result)).toMatchObject({
              method: 'cookies',
              via: 'relay',
              identity: 'alice@example.com',
            });
          });
          const result = run.result;

          const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [result, whoami] }, () => {
            expect(whoami.code).toBe(0);
            expect(jsonOf(whoami)).toEqual({ user: 'alice@example.com' });
          });
        } finally {
          home.cleanup();
        }
      },
      LOGIN_TEST_TIMEOUT_MS,
    );
  });

  describe('nginx auth_request + the oauth2-proxy look-alike', () => {
    let lookalike: OAuth2ProxyLookalike | undefined;
    let nginx: RunningComponent | undefined;
    /** Exempts /api/health (detection sees no proxy) and the relay routes (relay login works). */
    let nginxExempt: RunningComponent | undefined;

    const sources = (...extra: LogSource[]): LogSource[] => [
      ...extra,
      { name: 'nginx', logs: () => nginx?.logs() ?? '(not started)' },
      {
        name: 'oauth2-proxy look-alike',
        logs: () => (lookalike === undefined ? '(not started)' : JSON.stringify(lookalike.stats)),
      },
      serveLogs,
    ];

    beforeAll(async () => {
      lookalike = await startOAuth2ProxyLookalike({ upstream: upstream?.url ?? '' });
      nginx = await startNginxAuthRequest({ oauth2ProxyUrl: lookalike.url, upstream: upstream?.url ?? '' });
      nginxExempt = await startNginxAuthRequest({
        oauth2ProxyUrl: lookalike.url,
        upstream: upstream?.url ?? '',
        exemptPaths: ['/api/health', '/cookie-bridge/relay/'],
      });
    }, SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await nginxExempt?.stop();
      await nginx?.stop();
      await lookalike?.close();
    }, SETUP_TIMEOUT_MS);

    it(
      'detects the proxy, signs in with Chromium, replays the session, and reports the expired session with exit 4',
      async () => {
        const endpoint = nginx?.url ?? '';
        const home = makeTempHome('cookie-bridge-real-nginx-');
        try {
          const env = browserEnv(home.home, workDir, 'nginx-detect', { CHROMIUM_BROWSER_LOGIN: 'carol' });
          const context = { sources: sources(browserLogSource(workDir, 'nginx-detect')) };

          const login = await runCli(
            ['api', 'login', '-e', endpoint, '--json', '--timeout', CLI_LOGIN_TIMEOUT_S],
            env,
          );
          withDiagnostics({ ...context, cli: login }, () => {
            expect(login.code).toBe(0);
            expect(login.stderr).toContain(`Logged in to ${endpoint} as carol@example.com`);
            expect(jsonOf(login)).toMatchObject({
              method: 'cookies',
              via: 'browser',
              proxy: 'oauth2-proxy',
              identity: 'carol@example.com',
            });
          });

          const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [login, whoami] }, () => {
            expect(whoami.code).toBe(0);
            expect(jsonOf(whoami)).toEqual({ user: 'carol@example.com' });
          });

          lookalike?.expireAllSessions();
          const expired = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [whoami, expired] }, () =>
            expectSessionExpired(expired, endpoint),
          );
        } finally {
          home.cleanup();
        }
      },
      LOGIN_TEST_TIMEOUT_MS,
    );

    it(
      'takes the bundle pasted into the terminal (--no-browser) from the /token page Chromium signed in to',
      async () => {
        const endpoint = nginx?.url ?? '';
        const home = makeTempHome('cookie-bridge-real-paste-');
        const bundleFile = join(workDir, 'pasted-bundle.txt');
        const browserLog = join(workDir, 'nginx-paste.browser.log');
        const context = {
          sources: sources({ name: 'chromium-browser (paste)', logs: () => readIfExists(browserLog) }),
        };
        try {
          const env = cliEnv(home.home);
          const cli = startCli(
            ['api', 'login', '-e', endpoint, '--no-browser', '--json', '--timeout', CLI_LOGIN_TIMEOUT_S],
            env,
            { stdin: 'pipe' },
          );
          try {
            const [printed] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
            // Someone on another machine (over SSH): the browser cannot reach this loopback listener, so the
            // page gets no local_port and only shows the bundle to copy.
            const url = new URL(printed);
            url.searchParams.delete('local_port');
            const browser = await runChromiumBrowser(url.toString(), {
              CHROMIUM_BROWSER_WAIT_FOR: 'token-page',
              CHROMIUM_BROWSER_OUT: bundleFile,
              CHROMIUM_BROWSER_LOGIN: 'bob',
              CHROMIUM_BROWSER_LOG: browserLog,
              CHROMIUM_BROWSER_SCREENSHOT: join(workDir, 'nginx-paste.failure.png'),
              CHROMIUM_BROWSER_TIMEOUT_MS: CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
            });
            withDiagnostics(context, () => {
              expect({ code: browser.code, stderr: browser.code === 0 ? '' : browser.stderr }).toEqual({
                code: 0,
                stderr: '',
              });
            });
            const bundle = readFileSync(bundleFile, 'utf8').trim();
            expect(bundle).toMatch(/^cb1\.[A-Za-z0-9_-]+$/);
            cli.child.stdin.write(`${bundle}\n`);
          } catch (error) {
            // Do not leave the CLI waiting for a paste until its own timeout.
            cli.child.kill('SIGTERM');
            throw error;
          } finally {
            cli.child.stdin.end();
          }

          const result = await cli.result;
          withDiagnostics({ ...context, cli: result }, () => {
            expect(result.code).toBe(0);
            expect(result.stderr).toContain(`Logged in to ${endpoint} as bob@example.com`);
            expect(jsonOf(result)).toMatchObject({ method: 'cookies', via: 'paste', proxy: 'oauth2-proxy' });
          });

          const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [result, whoami] }, () => {
            expect(whoami.code).toBe(0);
            expect(jsonOf(whoami)).toEqual({ user: 'bob@example.com' });
          });
        } finally {
          home.cleanup();
        }
      },
      LOGIN_TEST_TIMEOUT_MS,
    );

    it(
      'with /api/health exempted: detection sees no proxy, --cookies signs in anyway, and so does --relay',
      async () => {
        const endpoint = nginxExempt?.url ?? '';
        const home = makeTempHome('cookie-bridge-real-nginx-exempt-');
        const relayLog = join(workDir, 'nginx-relay.browser.log');
        const context = {
          sources: sources(browserLogSource(workDir, 'nginx-cookies'), {
            name: 'chromium-browser (nginx relay)',
            logs: () => readIfExists(relayLog),
          }),
        };
        try {
          const env = browserEnv(home.home, workDir, 'nginx-cookies', { CHROMIUM_BROWSER_LOGIN: 'erin' });
          const detected = await runCli(['api', 'login', '-e', endpoint, '--json'], env);
          withDiagnostics({ ...context, cli: detected }, () => {
            expect(detected.code).toBe(0);
            expect(jsonOf(detected)).toMatchObject({ method: 'none' });
          });

          const forced = await runCli(
            ['api', 'login', '-e', endpoint, '--cookies', '--json', '--timeout', CLI_LOGIN_TIMEOUT_S],
            env,
          );
          withDiagnostics({ ...context, cli: forced }, () => {
            expect(forced.code).toBe(0);
            // /api/health is exempt: the server names nobody there, and the bundle's own `user` is never
            // taken for who we are; the session itself names erin (below).
            expect(jsonOf(forced)).toMatchObject({
              method: 'cookies',
              reason: 'forced',
              identity: null,
            });
            expect(forced.stderr).toContain(`Logged in to ${endpoint} (identity unknown)`);
          });
          const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [forced, whoami] }, () => {
            expect(whoami.code).toBe(0);
            expect(jsonOf(whoami)).toEqual({ user: 'erin@example.com' });
          });

          // Relay login through the same nginx: the browser "elsewhere" confirms the code shown by the CLI.
          await runCli(['api', 'logout', '-e', endpoint], env);
          const run = await relayLogin(endpoint, cliEnv(home.home), { login: 'frank', log: relayLog });
          const relayed = run.result;
          withDiagnostics({ ...context, cli: relayed }, () => {
            expect(run.browser.code).toBe(0);
            expect(relayed.code).toBe(0);
            expect(jsonOf(relayed)).toMatchObject({
              method: 'cookies',
              via: 'relay',
              identity: null,
            });
          });
          const again = await runCli(['request', '-e', endpoint, '/api/whoami'], env);
          withDiagnostics({ ...context, cli: [relayed, again] }, () => {
            expect(jsonOf(again)).toEqual({ user: 'frank@example.com' });
          });
        } finally {
          home.cleanup();
        }
      },
      LOGIN_TEST_TIMEOUT_MS,
    );
  });
});
