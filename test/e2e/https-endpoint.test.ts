/**
 * An HTTPS endpoint with a private CA, end to end: real nginx with TLS (a certificate made by the test's own
 * CA with openssl) and auth_request to the oauth2-proxy look-alike (Secure session cookies, as oauth2-proxy
 * sets them behind HTTPS), `cookie-bridge serve` behind it, and Debian's Chromium as $BROWSER.
 *
 * `api login --cacert` stores the CA with the endpoint; `request`, `api info`, the SDK and the local proxy
 * then trust it without the flag and replay the Secure cookies. The three TLS failures (no CA, a certificate
 * for another name, an expired one) each end `api login` and `request` with E_TLS, exit 9, naming the
 * endpoint and the fix. NODE_EXTRA_CA_CERTS keeps working beside COOKIE_BRIDGE_CA_BUNDLE.
 */
import { request } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CHROMIUM_BROWSER_COMMAND,
  HTTP_REQUEST_TIMEOUT_MS,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_COMPONENT_PATHS,
  REAL_SETUP_TIMEOUT_MS,
  createTestCa,
  requireComponent,
  startNginxAuthRequest,
  startServeBehindNginx,
  type RunningComponent,
  type ServeBehindNginx,
  type TestCa,
} from '../kit/real-components';
import { cliEnv, makeTempHome, runCli, startCli } from '../kit/cli-runner';
import { createClient } from '../../src/sdk/create-client';
import { FileCredentialStore } from '../../src/store/file-credential-store';

const haveAll =
  requireComponent('nginx', REAL_COMPONENT_PATHS.nginx) &&
  requireComponent('openssl', REAL_COMPONENT_PATHS.openssl) &&
  requireComponent('chromium', REAL_COMPONENT_PATHS.chromium);
const describeWithAll = haveAll ? describe : describe.skip;

const TLS_EXIT = 9;

describeWithAll('HTTPS endpoint with a private CA (nginx + TLS, the look-alike, serve)', () => {
  let ca: TestCa;
  let otherCa: TestCa;
  let stack: ServeBehindNginx;
  let wrongName: RunningComponent;
  let expired: RunningComponent;
  let temp: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  let serverCertFile: string;

  beforeAll(async () => {
    ca = createTestCa('https-e2e-ca');
    otherCa = createTestCa('https-e2e-other-ca');
    const good = ca.issue();
    serverCertFile = good.certFile;
    stack = await startServeBehindNginx({ tls: { ...good, caPem: ca.caPem } });
    // Same CA, wrong certificates: one for another host name, one that has expired.
    wrongName = await startNginxAuthRequest({
      oauth2ProxyUrl: stack.lookalike.url,
      upstream: stack.app.url,
      tls: ca.issue({ names: ['other.example'] }),
    });
    expired = await startNginxAuthRequest({
      oauth2ProxyUrl: stack.lookalike.url,
      upstream: stack.app.url,
      tls: ca.issue({ expired: true }),
    });
    temp = makeTempHome();
    env = cliEnv(temp.home, {
      BROWSER: CHROMIUM_BROWSER_COMMAND,
      CHROMIUM_BROWSER_LOGIN: 'alice',
      // The browser trusts the server as one whose owner installed the CA would.
      CHROMIUM_BROWSER_TRUST_CERTS: good.certFile,
    });
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await expired?.stop();
    await wrongName?.stop();
    await stack?.close();
    otherCa?.remove();
    ca?.remove();
    temp?.cleanup();
  }, REAL_SETUP_TIMEOUT_MS);

  const home = (): string => path.join(temp.home, 'cookie-bridge');

  it(
    'api login --cacert stores the CA; request, api info, the SDK and the local proxy then need no flag',
    async () => {
      const endpoint = stack.endpoint;
      expect(endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

      const login = await runCli(
        [
          'api',
          'login',
          '-e',
          endpoint,
          '--cacert',
          ca.caFile,
          '--timeout',
          REAL_CLI_LOGIN_TIMEOUT_S,
          '--json',
        ],
        env,
      );
      expect({ code: login.code, stderr: login.stderr }).toMatchObject({ code: 0 });
      expect(JSON.parse(login.stdout)).toMatchObject({ method: 'cookies', identity: 'alice@example.com' });

      // The CA's PEM itself is in the endpoint's 0600 profile (not a path that may move); the session cookies
      // are Secure, as the proxy set them.
      const store = new FileCredentialStore({ home: home() });
      const profile = await store.getProfile(endpoint);
      expect(profile?.ca?.trim()).toBe(ca.caPem.trim());
      const folder = path.join(home(), 'endpoints');
      const profileFile = (readdirSync(folder, { recursive: true }) as string[])
        .map((file) => path.join(folder, file))
        .find((file) => file.endsWith('profile.json'));
      expect(profileFile).toBeDefined();
      expect(statSync(profileFile!).mode & 0o777).toBe(0o600);
      const cookies = await store.listCookies(endpoint);
      expect(cookies.length).toBeGreaterThan(0);
      expect(cookies.every((cookie) => cookie.secure)).toBe(true);

      // request: no --cacert; the app behind nginx sees the signed-in user over https.
      const seenBefore = stack.app.log.length;
      const page = await runCli(['request', '/reports/today'], env);
      expect({ code: page.code, stderr: page.stderr }).toMatchObject({ code: 0 });
      expect(JSON.parse(page.stdout)).toMatchObject({ app: true, url: '/reports/today' });
      const reached = stack.app.log.slice(seenBefore).find((entry) => entry.url === '/reports/today');
      expect(reached?.headers['x-auth-request-email']).toBe('alice@example.com');
      // nginx says https (serve appends its own hop's http).
      expect(reached?.headers['x-forwarded-proto']).toMatch(/^https\b/);

      // api info names the stored CA by subject and fingerprint, never its PEM.
      const info = await runCli(['api', 'info', '--json'], env);
      expect(info.code).toBe(0);
      const json = JSON.parse(info.stdout) as { ca?: Array<{ subject: string; fingerprint256: string }> };
      expect(json.ca).toEqual([
        expect.objectContaining({
          subject: 'CN=cookie-bridge https-e2e-ca',
          fingerprint256: fingerprintOf(ca),
        }),
      ]);
      expect(info.stdout).not.toContain('BEGIN CERTIFICATE');
      expect(json).toMatchObject({ server: { state: 'ok' } });
      const text = await runCli(['api', 'info'], env);
      expect(text.stdout).toContain(
        `trusted CA  CN=cookie-bridge https-e2e-ca (SHA-256 ${fingerprintOf(ca)})`,
      );

      // The SDK, in this process: the stored CA is used (this process's own NODE_EXTRA_CA_CERTS is not ours).
      const client = await createClient({ endpoint, env: cliEnv(temp.home) });
      const fromSdk = await client.fetch('/api/items?sdk=1');
      expect(fromSdk.status).toBe(200);
      expect(await fromSdk.json()).toMatchObject({ app: true, url: '/api/items?sdk=1' });

      // The local proxy listens on http://127.0.0.1 and forwards to the https upstream with the Secure cookies.
      const proxy = startCli(['proxy'], env);
      try {
        const [, url] = await proxy.waitForStderr(/cookie-bridge proxy: (http:\/\/127\.0\.0\.1:\d+)/);
        const viaProxy = await httpGet(`${url!}/api/items?proxy=1`);
        expect(viaProxy.status).toBe(200);
        expect(JSON.parse(viaProxy.body)).toMatchObject({ app: true, url: '/api/items?proxy=1' });
        const forwarded = stack.app.log.find((entry) => entry.url === '/api/items?proxy=1');
        expect(forwarded?.headers['x-auth-request-email']).toBe('alice@example.com');
      } finally {
        proxy.child.kill('SIGTERM');
        await proxy.result;
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it('without the CA: api login and request stop with E_TLS (exit 9), naming the endpoint and --cacert', async () => {
    const fresh = makeTempHome();
    try {
      const freshEnv = cliEnv(fresh.home, { BROWSER: '/bin/false' });
      const login = await runCli(['api', 'login', '-e', stack.endpoint], freshEnv);
      expectTlsError(login, stack.endpoint, /not trust/, /--cacert FILE/);

      const store = new FileCredentialStore({ home: path.join(fresh.home, 'cookie-bridge') });
      await store.saveLogin({ endpoint: stack.endpoint, auth: { type: 'cookies' }, loggedInAt: 'now' }, [
        { name: '_oauth2_proxy', value: 'not-used' },
      ]);
      await store.setLastEndpoint(stack.endpoint);
      const plain = await runCli(['request', '/api/items'], freshEnv);
      expectTlsError(plain, stack.endpoint, /not trust/, /COOKIE_BRIDGE_CA_BUNDLE/);

      // The local proxy answers 502 JSON with the same words.
      const proxy = startCli(['proxy'], freshEnv);
      try {
        const [, url] = await proxy.waitForStderr(/cookie-bridge proxy: (http:\/\/127\.0\.0\.1:\d+)/);
        const answer = await httpGet(`${url!}/api/items`);
        expect(answer.status).toBe(502);
        expect(JSON.parse(answer.body)).toMatchObject({
          error: 'bad_gateway',
          message: expect.stringMatching(/TLS: .*not trust.*--cacert FILE/) as unknown,
        });
      } finally {
        proxy.child.kill('SIGTERM');
        await proxy.result;
      }
    } finally {
      fresh.cleanup();
    }
  });

  it('a certificate for another name, and an expired one: E_TLS with the fix for each', async () => {
    const fresh = makeTempHome();
    try {
      const freshEnv = cliEnv(fresh.home, { BROWSER: '/bin/false' });
      const store = new FileCredentialStore({ home: path.join(fresh.home, 'cookie-bridge') });
      for (const [server, reason, fix] of [
        [wrongName, /another host name/, /host name the certificate was issued for.*other\.example/],
        [expired, /expired/, /renewed/],
      ] as const) {
        const login = await runCli(['api', 'login', '-e', server.url, '--cacert', ca.caFile], freshEnv);
        expectTlsError(login, server.url, reason, fix);
        await store.saveLogin(
          { endpoint: server.url, auth: { type: 'cookies' }, loggedInAt: 'now', ca: ca.caPem },
          [{ name: '_oauth2_proxy', value: 'not-used' }],
        );
        const sent = await runCli(['request', '-e', server.url, '/api/items'], freshEnv);
        expectTlsError(sent, server.url, reason, fix);
      }
    } finally {
      fresh.cleanup();
    }
  });

  it('NODE_EXTRA_CA_CERTS keeps working beside COOKIE_BRIDGE_CA_BUNDLE (the union is trusted)', async () => {
    const fresh = makeTempHome();
    try {
      const store = new FileCredentialStore({ home: path.join(fresh.home, 'cookie-bridge') });
      await store.saveLogin({ endpoint: stack.endpoint, auth: { type: 'none' }, loggedInAt: 'now' });
      const otherBundle = path.join(fresh.home, 'other-ca.pem');
      writeFileSync(otherBundle, otherCa.caPem);
      const info = (extra: Record<string, string>): Promise<{ server: { state: string } }> =>
        runCli(['api', 'info', '-e', stack.endpoint, '--json'], cliEnv(fresh.home, extra)).then(
          (result) => JSON.parse(result.stdout) as { server: { state: string } },
        );
      // Node's own variable alone, our bundle alone (another CA: refused), then both: the connection trusts
      // the union, though passing `ca` to TLS replaces Node's defaults.
      expect((await info({ NODE_EXTRA_CA_CERTS: ca.caFile })).server.state).not.toBe('unreachable');
      expect(await info({ COOKIE_BRIDGE_CA_BUNDLE: otherBundle })).toMatchObject({
        server: { state: 'unreachable', code: 'E_TLS' },
      });
      const both = await info({ NODE_EXTRA_CA_CERTS: ca.caFile, COOKIE_BRIDGE_CA_BUNDLE: otherBundle });
      expect(both.server.state).not.toBe('unreachable');
    } finally {
      fresh.cleanup();
    }
  });

  it('a --cacert file that holds no certificate is a usage error naming the file; every --help lists --cacert', async () => {
    const fresh = makeTempHome();
    try {
      const bad = path.join(fresh.home, 'not-a-ca.pem');
      writeFileSync(bad, 'hello\n');
      const result = await runCli(
        ['api', 'login', '-e', stack.endpoint, '--cacert', bad],
        cliEnv(fresh.home),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--cacert: ${bad} holds no PEM certificate`);
      expect(readFileSync(serverCertFile, 'utf8')).toContain('BEGIN CERTIFICATE');
      for (const command of [['request'], ['proxy'], ['api', 'info'], ['api', 'login']]) {
        const help = await runCli([...command, '--help'], cliEnv(fresh.home));
        expect(help.stdout).toMatch(/Global Options:[\s\S]*--cacert <file>/);
      }
    } finally {
      fresh.cleanup();
    }
  });
});

function expectTlsError(
  result: { code: number | null; stderr: string },
  endpoint: string,
  reason: RegExp,
  fix: RegExp,
): void {
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code: TLS_EXIT });
  expect(result.stderr).toContain(`cannot reach ${endpoint}: TLS: `);
  expect(result.stderr).toMatch(reason);
  expect(result.stderr).toMatch(fix);
}

function fingerprintOf(ca: TestCa): string {
  return new X509Certificate(ca.caPem).fingerprint256;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: HTTP_REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.once('error', reject);
    req.end();
  });
}
