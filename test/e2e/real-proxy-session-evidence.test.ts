// "Session expired" only on the proxy's evidence, end to end through REAL Apache httpd + mod_auth_openidc and a
// REAL OpenID provider, with headless Chromium signing in: after the login, an HTML page the app itself serves
// (the demo API's /app/dashboard, behind the `cookie-bridge serve` sidecar) is delivered by `request` (built
// CLI), the SDK and the local proxy. Then Apache restarts with the same configuration (same crypto
// passphrase): its session cache lived in shared memory and is gone, so the stored session cookie names
// nothing, and `request` exits 4, the SDK throws SessionExpiredError and the local proxy answers 401.
//
// `npm test` builds dist/ first (run `npx tsc -p tsconfig.build.json` before running this file alone).
// With CI=true a missing Debian component fails this suite; elsewhere it is skipped with a loud warning.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readAuthPage } from '../../fixtures/auth-pages/auth-pages';
import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { SessionExpiredError } from '../../src/errors';
import { createClient } from '../../src/sdk/create-client';
import { createLocalForwardingProxy } from '../../src/local-proxy/local-forwarding-proxy';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { cliEnv, makeTempHome, runCli, type CliResult } from '../kit/cli-runner';
import {
  apacheOidcRedirectUri,
  CHROMIUM_BROWSER_COMMAND,
  findFreePort,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_SETUP_TIMEOUT_MS,
  startApacheOidcProxy,
  startOidcProvider,
  startServeSidecar,
  tail,
  type RunningComponent,
  type RunningOidcProvider,
  type ServeSidecar,
  type StartApacheOidcProxyOptions,
} from '../kit/real-components';
import { plainGet } from '../kit/plain-get';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const DASHBOARD = readAuthPage('app-dashboard.html');
const SDK_DEFAULT_ACCEPT = undefined; // the SDK's own default: application/json, */*;q=0.8

/** The CLI run and the component logs, for a failure message. */
function explain(runs: CliResult[], logs: Array<[string, () => string]>): string {
  const cli = runs.map((run) => `exit ${String(run.code)}\nstderr:\n${tail(run.stderr, 40)}`).join('\n');
  return `${cli}\n${logs.map(([name, read]) => `===== ${name} =====\n${tail(read(), 30)}`).join('\n')}`;
}

describeReal('session evidence through real Apache mod_auth_openidc', () => {
  const clientId = 'cookie-bridge-evidence';
  const clientSecret = randomBytes(16).toString('hex');
  const passphrase = randomBytes(24).toString('hex');
  const temp = makeTempHome('cookie-bridge-evidence-');
  const configHome = join(temp.home, 'cookie-bridge');
  let workDir = '';
  let demoApi: RunningDemoApi | undefined;
  let upstream: ServeSidecar | undefined;
  let provider: RunningOidcProvider | undefined;
  let apache: RunningComponent | undefined;
  let apacheOptions: StartApacheOidcProxyOptions | undefined;
  let endpoint = '';
  const logs: Array<[string, () => string]> = [
    ['apache2', () => apache?.logs() ?? '(not started)'],
    ['oidc-provider', () => provider?.logs() ?? '(not started)'],
    ['chromium-browser', () => readIfExists(join(workDir, 'evidence.browser.log'))],
  ];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-evidence-work-'));
    demoApi = await startDemoApi();
    upstream = await startServeSidecar(demoApi.url);
    const port = await findFreePort();
    provider = await startOidcProvider({
      clients: [
        { client_id: clientId, client_secret: clientSecret, redirect_uris: [apacheOidcRedirectUri(port)] },
      ],
    });
    apacheOptions = {
      issuer: provider.issuer,
      clientId,
      clientSecret,
      upstream: upstream.url,
      port,
      exemptPaths: ['/cookie-bridge/relay/'],
      cryptoPassphrase: passphrase,
    };
    apache = await startApacheOidcProxy(apacheOptions);
    endpoint = apache.url;
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await apache?.stop();
    await provider?.stop();
    await upstream?.stop();
    await demoApi?.close();
    temp.cleanup();
    if (workDir !== '' && process.env.COOKIE_BRIDGE_KEEP_E2E_TMP === undefined) {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, REAL_SETUP_TIMEOUT_MS);

  it(
    "delivers the app's HTML page while the session is good; after Apache forgot it: exit 4, SessionExpiredError, 401",
    async () => {
      const env = cliEnv(temp.home, {
        BROWSER: CHROMIUM_BROWSER_COMMAND,
        CHROMIUM_BROWSER_LOG: join(workDir, 'evidence.browser.log'),
        CHROMIUM_BROWSER_SCREENSHOT: join(workDir, 'evidence.failure.png'),
      });
      const login = await runCli(
        ['api', 'login', '-e', endpoint, '--json', '--timeout', REAL_CLI_LOGIN_TIMEOUT_S],
        env,
      );
      expect({ code: login.code, log: login.code === 0 ? '' : explain([login], logs) }).toEqual({
        code: 0,
        log: '',
      });
      expect(JSON.parse(login.stdout)).toMatchObject({ method: 'cookies', proxy: 'mod_auth_openidc' });

      // --- the session is good: the app's own HTML page, whatever Accept the client sends
      const page = await runCli(['request', '-e', endpoint, '/app/dashboard'], env);
      expect({
        code: page.code,
        stdout: page.stdout,
        log: page.code === 0 ? '' : explain([page], logs),
      }).toEqual({
        code: 0,
        stdout: DASHBOARD,
        log: '',
      });
      const sdkEnv = { COOKIE_BRIDGE_HOME: configHome };
      for (const accept of [SDK_DEFAULT_ACCEPT, 'text/html', 'application/json']) {
        const client = await createClient({ endpoint, env: sdkEnv });
        const response = await client.fetch('/app/dashboard', {
          ...(accept === undefined ? {} : { headers: { accept } }),
        });
        expect({ accept, status: response.status, body: await response.text() }).toEqual({
          accept,
          status: 200,
          body: DASHBOARD,
        });
      }
      const store = new FileCredentialStore({ home: configHome });
      const proxy = await createLocalForwardingProxy({ endpoint, store, env: {} });
      try {
        const { url: proxyUrl } = await proxy.listen(0);
        for (const accept of ['*/*', 'text/html,application/xhtml+xml', 'application/json']) {
          const reply = await plainGet(`${proxyUrl}/app/dashboard`, { accept });
          expect({ accept, status: reply.status, body: reply.body }).toEqual({
            accept,
            status: 200,
            body: DASHBOARD,
          });
        }

        // --- Apache restarts (same config, same passphrase): its shared-memory session cache is gone
        await apache?.stop();
        apache = await startApacheOidcProxy(apacheOptions as StartApacheOidcProxyOptions);
        expect(apache.url).toBe(endpoint);

        // What mod_auth_openidc answers the stored cookie now: a browser-like request (Accept: */*) is sent to
        // the IdP with a state cookie; a JSON one gets Apache's own 401 page (the fixture's copy is exact).
        const cookie = `mod_auth_openidc_session=${storedSession(configHome)}`;
        const browserLike = await plainGet(`${endpoint}/app/dashboard`, { accept: '*/*', cookie });
        const jsonLike = await plainGet(`${endpoint}/app/dashboard`, { accept: 'application/json', cookie });
        expect({
          browserLike: browserLike.status,
          toIdp: (browserLike.headers.location ?? '').startsWith(provider?.issuer ?? '?'),
          stateCookie: (browserLike.headers['set-cookie'] ?? []).some((c) =>
            c.startsWith('mod_auth_openidc_state_'),
          ),
          jsonLike: jsonLike.status,
          jsonBody: jsonLike.body.trim(),
        }).toEqual({
          browserLike: 302,
          toIdp: true,
          stateCookie: true,
          jsonLike: 401,
          jsonBody: readAuthPage('apache-401.html').trim(),
        });

        const expired = await runCli(['request', '-e', endpoint, '/app/dashboard'], env);
        expect({
          code: expired.code,
          stdout: expired.stdout,
          log: expired.code === 4 ? '' : explain([expired], logs),
        }).toEqual({
          code: 4,
          stdout: '',
          log: '',
        });
        expect(expired.stderr).toContain(`session expired: run cookie-bridge api login -e ${endpoint}`);

        for (const accept of [SDK_DEFAULT_ACCEPT, 'text/html', 'application/json']) {
          const client = await createClient({ endpoint, env: sdkEnv });
          await expect(
            client.fetch('/app/dashboard', { ...(accept === undefined ? {} : { headers: { accept } }) }),
          ).rejects.toBeInstanceOf(SessionExpiredError);
        }

        for (const accept of ['*/*', 'text/html,application/xhtml+xml', 'application/json']) {
          const reply = await plainGet(`${proxyUrl}/app/dashboard`, { accept });
          expect({ accept, status: reply.status, error: errorOf(reply.body) }).toEqual({
            accept,
            status: 401,
            error: 'session_expired',
          });
        }
      } finally {
        await proxy.close();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});

function errorOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: string }).error;
  } catch {
    return `not JSON: ${body.slice(0, 80)}`;
  }
}

function readIfExists(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '(none)';
}

/** The stored mod_auth_openidc session cookie's value, from the jar on disk. */
function storedSession(configHome: string): string {
  const endpoints = join(configHome, 'endpoints');
  for (const slug of readdirSync(endpoints)) {
    const file = join(endpoints, slug, 'cookies.json');
    if (!existsSync(file)) continue;
    const jar = JSON.parse(readFileSync(file, 'utf8')) as { cookies?: Array<{ key: string; value: string }> };
    const session = jar.cookies?.find((cookie) => cookie.key === 'mod_auth_openidc_session');
    if (session !== undefined) return session.value;
  }
  throw new Error('no mod_auth_openidc_session in the jar');
}
