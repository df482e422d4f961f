// The page table (fixtures/auth-pages: the app's own pages and errors, each proxy's sign-in and 401 pages,
// IdP login pages) through all three clients: the built CLI's `request` (exit 4 when the session is gone),
// the SDK (SessionExpiredError) and the local forwarding proxy (401 session_expired). Plus the REAL
// oidc-provider's login page, fetched from a running provider by this test.
//
// `npm test` builds dist/ first (run `npx tsc -p tsconfig.build.json` before running this file alone).
import * as path from 'node:path';

import {
  authPageCases,
  startAuthPagesServer,
  type AuthPageCase,
  type AuthPagesServer,
} from '../../fixtures/auth-pages/auth-pages';
import { SessionExpiredError } from '../../src/errors';
import { createForwardingClient } from '../../src/sdk/forwarding-client';
import {
  createLocalForwardingProxy,
  type LocalForwardingProxy,
} from '../../src/local-proxy/local-forwarding-proxy';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { cliEnv, makeTempHome, runCli } from '../kit/cli-runner';
import { REAL_SETUP_TIMEOUT_MS, startOidcProvider, type RunningOidcProvider } from '../kit/real-components';
import { plainGet } from '../kit/plain-get';

/** The real oidc-provider's login (interaction) page, as a browser sent there by a proxy gets it. */
async function fetchOidcProviderLoginPage(provider: RunningOidcProvider): Promise<AuthPageCase> {
  const authorize = new URL(`${provider.issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: 'auth-pages',
    response_type: 'code',
    scope: 'openid email',
    redirect_uri: 'http://127.0.0.1:9/callback',
    state: 'st',
    nonce: 'n',
  }).toString();
  const started = await plainGet(authorize.toString(), { accept: 'text/html' });
  const location = started.headers.location;
  if (location === undefined)
    throw new Error(`oidc-provider did not redirect: ${started.status} ${started.body}`);
  const cookies = (started.headers['set-cookie'] ?? []).map((line) => line.split(';')[0]).join('; ');
  const login = await plainGet(new URL(location, provider.issuer).toString(), {
    accept: 'text/html',
    cookie: cookies,
  });
  if (login.status !== 200 || !/<form/i.test(login.body)) {
    throw new Error(`no login page from oidc-provider: ${login.status} ${login.body.slice(0, 200)}`);
  }
  return {
    name: 'oidc-provider-login',
    status: 200,
    headers: { 'content-type': String(login.headers['content-type'] ?? 'text/html') },
    body: login.body,
    expect: 'expired',
    proxy: 'unknown',
    source: 'the real oidc-provider (npm) interaction page, fetched by this test',
  };
}

describe('the page table through request, the SDK and the local proxy', () => {
  const temp = makeTempHome('cookie-bridge-auth-pages-');
  const configHome = path.join(temp.home, 'cookie-bridge');
  const store = new FileCredentialStore({ home: configHome });
  const env = cliEnv(temp.home);
  let provider: RunningOidcProvider | undefined;
  let pages: AuthPagesServer | undefined;
  let proxy: LocalForwardingProxy | undefined;
  let proxyUrl = '';
  const cases: AuthPageCase[] = authPageCases();
  let endpoint = '';

  beforeAll(async () => {
    provider = await startOidcProvider({
      clients: [
        {
          client_id: 'auth-pages',
          client_secret: 'auth-pages-secret',
          redirect_uris: ['http://127.0.0.1:9/callback'],
        },
      ],
    });
    cases.push(await fetchOidcProviderLoginPage(provider));
    pages = await startAuthPagesServer(cases);
    endpoint = pages.url;
    await store.saveLogin({ endpoint, auth: { type: 'cookies' }, loggedInAt: '2026-01-01T00:00:00.000Z' }, [
      { name: 'app_session', value: 'good-session-value' },
    ]);
    proxy = await createLocalForwardingProxy({ endpoint, store, env: {} });
    proxyUrl = (await proxy.listen(0)).url;
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await proxy?.close();
    await pages?.close();
    await provider?.stop();
    temp.cleanup();
  }, REAL_SETUP_TIMEOUT_MS);

  // The cases are known before the servers start (the provider's page is appended in beforeAll).
  const names = [...authPageCases().map((entry) => entry.name), 'oidc-provider-login'];
  const caseNamed = (name: string): AuthPageCase => {
    const entry = cases.find((candidate) => candidate.name === name);
    if (entry === undefined) throw new Error(`no case ${name}`);
    return entry;
  };

  it("`request` sends curl's Accept: */* unless -H sets another", async () => {
    await runCli(['request', '-e', endpoint, '/pages/app-dashboard'], env);
    expect(pages?.lastRequestHeaders()?.accept).toBe('*/*');
    await runCli(['request', '-e', endpoint, '-H', 'Accept: application/json', '/pages/app-dashboard'], env);
    expect(pages?.lastRequestHeaders()?.accept).toBe('application/json');
  });

  it.each([
    ['pomerium-401', 'pomerium'],
    ['cloudflare-access-redirect', 'cloudflare-access'],
    ['authentik-start', 'authentik'],
    ['mod-auth-openidc-redirect', 'mod_auth_openidc'],
    ['idp-redirect', 'unknown'],
  ])('request --debug names the product only on its own marks: %s → %s', async (name, proxy) => {
    const result = await runCli(['request', '--debug', '-e', endpoint, `/pages/${name}`], env);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(new RegExp(`session check: rule [a-z-]+ fired \\(proxy ${proxy}\\)`));
  });

  it.each(names)('request (built CLI): %s', async (name) => {
    const entry = caseNamed(name);
    const result = await runCli(['request', '-e', endpoint, `/pages/${name}`], env);
    if (entry.expect === 'expired') {
      expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 4, stdout: '' });
      expect(result.stderr).toContain(`session expired: run cookie-bridge api login -e ${endpoint}`);
    } else {
      // The page itself, byte for byte; HTTP ≥ 400 exits 22 as curl -f does, never 4.
      expect({ code: result.code, stdout: result.stdout }).toEqual({
        code: entry.status >= 400 ? 22 : 0,
        stdout: entry.body,
      });
    }
  });

  it.each(names)('SDK: %s', async (name) => {
    const entry = caseNamed(name);
    const client = await createForwardingClient({ endpoint, store, env: {} });
    const answer = client.fetch(`/pages/${name}`);
    if (entry.expect === 'expired') {
      await expect(answer).rejects.toBeInstanceOf(SessionExpiredError);
    } else {
      const response = await answer;
      expect({ status: response.status, body: await response.text() }).toEqual({
        status: entry.status,
        body: entry.body,
      });
    }
  });

  it.each(names)('local proxy: %s', async (name) => {
    const entry = caseNamed(name);
    const reply = await plainGet(`${proxyUrl}/pages/${name}`, { accept: '*/*' });
    if (entry.expect === 'expired') {
      expect({ status: reply.status, error: (JSON.parse(reply.body) as { error?: string }).error }).toEqual({
        status: 401,
        error: 'session_expired',
      });
    } else {
      expect({ status: reply.status, body: reply.body }).toEqual({ status: entry.status, body: entry.body });
    }
  });
});
