// The README's git recipe, end to end and for real: a bare repository served by `git http-backend` (CGI) behind
// Apache httpd + mod_auth_openidc over HTTPS (a private CA made with openssl), signed in to with Chromium at the
// OpenID provider through the built CLI, then `cookie-bridge api cookies -o cookies.txt` and this machine's git
// with `-c http.cookieFile=cookies.txt -c http.sslCAInfo=ca.pem` cloning and pushing. Without the cookie file
// the proxy redirects git to the provider's sign-in, and git fails.
//
// `npm test` builds dist/ first (run `npx tsc -p tsconfig.build.json` before running this file alone).
// With CI=true a missing Debian component fails this suite; elsewhere it is skipped with a loud warning.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { cliEnv, runCli, type CliResult } from '../kit/cli-runner';
import {
  APACHE_GIT_PATH,
  apacheOidcRedirectUri,
  CHROMIUM_BROWSER_COMMAND,
  createTestCa,
  findFreePort,
  CLIENT_TOOL_TIMEOUT_MS,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_COMPONENT_PATHS,
  REAL_SETUP_TIMEOUT_MS,
  startApacheOidcProxy,
  startOidcProvider,
  startServeSidecar,
  tail,
  type RunningComponent,
  type RunningOidcProvider,
  type ServeSidecar,
  type TestCa,
} from '../kit/real-components';

const execFileAsync = promisify(execFile);
const describeReal = realComponentsAvailable() ? describe : describe.skip;

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

describeReal('git over HTTPS behind mod_auth_openidc with an exported cookies.txt', () => {
  let work: string;
  let ca: TestCa | undefined;
  let demoApi: RunningDemoApi | undefined;
  let upstream: ServeSidecar | undefined;
  let provider: RunningOidcProvider | undefined;
  let apache: RunningComponent | undefined;
  let projectRoot: string;
  /** Apache's server certificate: the one Chromium is told to accept. */
  let serverCertFile = '';

  /**
   * git with a clean environment: a private HOME (no ~/.gitconfig), no system config, no prompts, and none of
   * the sandbox's GIT_SSL_CAINFO / CURL_CA_BUNDLE / proxy variables: GIT_SSL_CAINFO would win over the
   * recipe's `-c http.sslCAInfo`, which is what this test proves.
   */
  async function git(args: string[], cwd = work): Promise<GitResult> {
    try {
      const { stdout, stderr } = await execFileAsync(REAL_COMPONENT_PATHS.git, args, {
        cwd,
        timeout: CLIENT_TOOL_TIMEOUT_MS,
        env: {
          PATH: process.env.PATH,
          HOME: join(work, 'git-home'),
          LANG: 'C',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_TERMINAL_PROMPT: '0',
          GIT_AUTHOR_NAME: 'Alice',
          GIT_AUTHOR_EMAIL: 'alice@example.com',
          GIT_COMMITTER_NAME: 'Alice',
          GIT_COMMITTER_EMAIL: 'alice@example.com',
        },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  /** Runs `assertions`, adding the CLI's and the components' output to a failure. */
  function explain(runs: Array<CliResult | GitResult>, assertions: () => void): void {
    try {
      assertions();
    } catch (error) {
      const out = runs.map(
        (run) => `--- exit ${String(run.code)}\n${tail(run.stdout, 20)}\n${tail(run.stderr, 40)}`,
      );
      const logs = [
        `=== apache2 ===\n${tail(apache?.logs() ?? '', 40)}`,
        `=== oidc-provider ===\n${tail(provider?.logs() ?? '', 20)}`,
        `=== chromium-browser ===\n${tail(readOr(join(work, 'browser.log')), 30)}`,
      ];
      throw new Error(`${(error as Error).message}\n${out.join('\n')}\n${logs.join('\n')}`);
    }
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cookie-bridge-git-https-'));
    // Apache's CGI worker (www-data when the tests run as root) must reach the repositories inside.
    chmodSync(work, 0o755);
    mkdirSync(join(work, 'git-home'));
    ca = createTestCa('git-https-ca');
    const certificate = ca.issue();
    serverCertFile = certificate.certFile;

    // A bare repository with one commit, made before Apache starts (it then belongs to Apache's worker).
    projectRoot = join(work, 'repos');
    mkdirSync(projectRoot);
    const seed = join(work, 'seed');
    mkdirSync(seed);
    for (const args of [
      ['init', '--bare', '--initial-branch=main', join(projectRoot, 'team.git')],
      ['init', '--initial-branch=main', seed],
    ]) {
      expect(await git(args)).toMatchObject({ code: 0 });
    }
    writeFileSync(join(seed, 'README'), 'the team repository\n');
    for (const args of [
      ['add', 'README'],
      ['commit', '-m', 'first'],
      ['push', join(projectRoot, 'team.git'), 'main'],
    ]) {
      expect(await git(args, seed)).toMatchObject({ code: 0 });
    }

    demoApi = await startDemoApi();
    upstream = await startServeSidecar(demoApi.url);
    const port = await findFreePort();
    const clientId = 'cookie-bridge-git-e2e';
    const clientSecret = randomBytes(16).toString('hex');
    provider = await startOidcProvider({
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [apacheOidcRedirectUri(port, 'https')],
        },
      ],
    });
    apache = await startApacheOidcProxy({
      issuer: provider.issuer,
      clientId,
      clientSecret,
      upstream: upstream.url,
      port,
      tls: certificate,
      gitHttpBackend: { projectRoot },
    });
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await apache?.stop();
    await provider?.stop();
    await upstream?.stop();
    await demoApi?.close();
    ca?.remove();
    if (work !== undefined && process.env.COOKIE_BRIDGE_KEEP_E2E_TMP === undefined) {
      rmSync(work, { recursive: true, force: true });
    }
  }, REAL_SETUP_TIMEOUT_MS);

  it(
    'signs in with Chromium over HTTPS, exports cookies.txt, and git clones and pushes with it',
    async () => {
      const endpoint = apache?.url ?? '';
      const caFile = ca?.caFile ?? '';
      const repo = `${endpoint}${APACHE_GIT_PATH}team.git`;
      expect(endpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const env = cliEnv(join(work, 'cli-home'), {
        BROWSER: CHROMIUM_BROWSER_COMMAND,
        CHROMIUM_BROWSER_TRUST_CERTS: serverCertFile,
        CHROMIUM_BROWSER_LOG: join(work, 'browser.log'),
        CHROMIUM_BROWSER_SCREENSHOT: join(work, 'browser-failure.png'),
        // The CLI trusts the private CA the way Node does (part B adds --cacert).
        NODE_EXTRA_CA_CERTS: caFile,
      });
      mkdirSync(join(work, 'cli-home'), { recursive: true });

      const login = await runCli(
        ['api', 'login', '-e', endpoint, '--json', '--timeout', REAL_CLI_LOGIN_TIMEOUT_S],
        env,
      );
      explain([login], () => {
        expect(login.code).toBe(0);
        expect(JSON.parse(login.stdout)).toMatchObject({
          ok: true,
          method: 'cookies',
          identity: 'alice@example.com',
        });
      });

      const cookies = join(work, 'cookies.txt');
      const exported = await runCli(
        ['api', 'cookies', '-e', endpoint, '--format', 'netscape', '-o', cookies],
        env,
      );
      const text = readFileSync(cookies, 'utf8');
      explain([exported], () => {
        expect(exported.code).toBe(0);
        // mod_auth_openidc's session cookie over HTTPS: Secure, and exact for the IP host (curl matches IPs exactly).
        expect(text).toMatch(/^127\.0\.0\.1\tFALSE\t\/\tTRUE\t\d+\tmod_auth_openidc_session\t\S+$/m);
      });

      const recipe = ['-c', `http.cookieFile=${cookies}`, '-c', `http.sslCAInfo=${caFile}`];
      const clone = await git([...recipe, 'clone', repo, 'clone']);
      explain([clone], () => {
        expect(clone.code).toBe(0);
        expect(readFileSync(join(work, 'clone', 'README'), 'utf8')).toBe('the team repository\n');
      });

      writeFileSync(join(work, 'clone', 'CHANGES'), 'pushed through the proxy\n');
      expect(await git(['add', 'CHANGES'], join(work, 'clone'))).toMatchObject({ code: 0 });
      expect(await git(['commit', '-m', 'second'], join(work, 'clone'))).toMatchObject({ code: 0 });
      const head = (await git(['rev-parse', 'HEAD'], join(work, 'clone'))).stdout.trim();
      // The README's once-per-repository form: per-URL settings, then a plain git push.
      for (const [key, value] of [
        [`http.${endpoint}/.cookieFile`, cookies],
        [`http.${endpoint}/.sslCAInfo`, caFile],
      ] as const) {
        expect(await git(['config', key, value], join(work, 'clone'))).toMatchObject({ code: 0 });
      }
      const push = await git(['push', 'origin', 'main'], join(work, 'clone'));
      const remote = await git([...recipe, 'ls-remote', repo, 'refs/heads/main']);
      explain([push, remote], () => {
        expect(push.code).toBe(0);
        // The server has the pushed commit (read back over HTTPS through the proxy).
        expect(remote.stdout).toBe(`${head}\trefs/heads/main\n`);
      });

      // Without the cookie file the proxy sends git to the provider's sign-in, and git fails.
      const refused = await git(['-c', `http.sslCAInfo=${caFile}`, 'clone', repo, 'refused']);
      explain([refused], () => {
        expect(refused.code).not.toBe(0);
        expect(apache?.logs()).toMatch(
          /"GET \/git\/team\.git\/info\/refs\?service=git-upload-pack HTTP\/1\.1" 302 /,
        );
      });
      // And without the CA, git does not trust the server: the TLS in this test is real.
      const untrusted = await git(['-c', `http.cookieFile=${cookies}`, 'ls-remote', repo]);
      explain([untrusted], () => {
        expect(untrusted.code).not.toBe(0);
        expect(untrusted.stderr).toMatch(/certificate|SSL/i);
      });
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '(none)';
  }
}
