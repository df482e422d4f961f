/**
 * The README's `api cookies` recipes with the real tools: after a login through the oauth2-proxy look-alike
 * (a session big enough to be split into _oauth2_proxy_0/_1 chunks), the exported cookies.txt takes this
 * machine's curl (`-b`) and wget (`--load-cookies`) past the proxy to the API, the header file takes
 * `curl -H @file`, and the JSON goes straight into Playwright's addCookies for a real Chromium. Without the
 * file, the proxy turns each tool away. Git over HTTPS: git-over-https.test.ts.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

import { cliEnv, makeTempHome, REPO_ROOT, runCli, startCli } from '../kit/cli-runner';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';
import {
  CLIENT_TOOL_TIMEOUT_MS,
  launchChromium,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_COMPONENT_PATHS,
  requireComponent,
} from '../kit/real-components';

const execFileAsync = promisify(execFile);
const SCRIPTED_BROWSER = `${process.execPath} ${path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js')}`;
const haveTools = ['curl', 'wget', 'chromium'] as const;
const describeTools = haveTools
  .map((name) => requireComponent(name, REAL_COMPONENT_PATHS[name]))
  .every(Boolean)
  ? describe
  : describe.skip;

/** Runs a tool with a clean environment: no proxy variables, no curlrc/wgetrc of the developer's. */
async function tool(
  command: string,
  args: string[],
  home: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      env: { PATH: process.env.PATH, HOME: home, LANG: 'C' },
      cwd: home,
      timeout: CLIENT_TOOL_TIMEOUT_MS,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describeTools('api cookies with curl, wget and Playwright', () => {
  let stack: LookalikeStack | undefined;
  let temp: ReturnType<typeof makeTempHome>;
  let endpoint: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    temp = makeTempHome('cookie-bridge-export-tools-');
    stack = await startLookalikeStack({ sessionPadding: 6000 });
    endpoint = stack.url;
    env = cliEnv(temp.home, { BROWSER: SCRIPTED_BROWSER, SCRIPTED_BROWSER_EMAIL: 'alice@example.com' });
    const login = await runCli(['api', 'login', '-e', endpoint, '--timeout', '30'], env);
    expect(login.stderr).toContain(`Logged in to ${endpoint} as alice@example.com`);
  }, REAL_BROWSER_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await stack?.close();
    temp.cleanup();
  });

  it('curl -b cookies.txt and wget --load-cookies cookies.txt get past the proxy; without it they do not', async () => {
    const file = path.join(temp.home, 'cookies.txt');
    const exported = await runCli(['api', 'cookies', '-e', endpoint, '-o', file], env);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toBe('');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    // The chunks, in order, exact for the IP host.
    expect(text).toMatch(
      /^127\.0\.0\.1\tFALSE\t\/\tFALSE\t0\t_oauth2_proxy_0\t[^\n]+\n127\.0\.0\.1\tFALSE\t\/\tFALSE\t0\t_oauth2_proxy_1\t/m,
    );

    const url = `${endpoint}/api/whoami`;
    const curl = await tool('curl', ['-sS', '-b', file, url], temp.home);
    expect(curl).toMatchObject({ code: 0 });
    expect(JSON.parse(curl.stdout)).toEqual({ user: 'alice@example.com' });
    const wget = await tool('wget', ['-q', '-O', '-', '--load-cookies', file, url], temp.home);
    expect(wget).toMatchObject({ code: 0 });
    expect(JSON.parse(wget.stdout)).toEqual({ user: 'alice@example.com' });

    // The same tools without the file: the proxy answers, not the API.
    const bare = await tool('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url], temp.home);
    expect(['302', '401']).toContain(bare.stdout);
    const bareWget = await tool('wget', ['-q', '-O', '-', '--max-redirect=0', url], temp.home);
    expect(bareWget.code).not.toBe(0);
    expect(bareWget.stdout).not.toContain('alice@example.com');
  });

  it('refuses to print the cookies in a real terminal without --force, and shows no cookie value', async () => {
    const session = (await runCli(['api', 'cookies', '-e', endpoint, '--format', 'json'], env)).stdout;
    const values = (JSON.parse(session) as Array<{ value: string }>).map((cookie) => cookie.value);
    expect(values.length).toBeGreaterThan(1);
    const refused = await startCli(['api', 'cookies', '-e', endpoint], env, { terminal: true }).result;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('refusing to print cookies to the terminal');
    expect(refused.stderr).toContain('-o cookies.txt');
    for (const value of values) expect(refused.stderr).not.toContain(value.slice(0, 40));
    const forced = await startCli(['api', 'cookies', '-e', endpoint, '--force'], env, { terminal: true })
      .result;
    expect(forced.code).toBe(0);
    expect(forced.stderr).toContain('_oauth2_proxy_0');
  });

  it('curl -H @file takes the exported header file', async () => {
    const file = path.join(temp.home, 'cookie.header');
    expect(
      (await runCli(['api', 'cookies', '-e', endpoint, '--format', 'header', '-o', file], env)).code,
    ).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const curl = await tool('curl', ['-sS', '-H', `@${file}`, `${endpoint}/api/whoami`], temp.home);
    expect(JSON.parse(curl.stdout)).toEqual({ user: 'alice@example.com' });
  });

  it(
    "--format json is what Playwright's addCookies takes: a real Chromium reaches the API with it",
    async () => {
      const json = await runCli(['api', 'cookies', '-e', endpoint, '--format', 'json'], env);
      expect(json.code).toBe(0);
      const chromium = await launchChromium();
      try {
        await chromium.context.addCookies(JSON.parse(json.stdout) as never);
        const page = await chromium.context.newPage();
        const response = await page.goto(`${endpoint}/api/whoami`);
        expect(response?.status()).toBe(200);
        expect(JSON.parse(await page.innerText('body'))).toEqual({ user: 'alice@example.com' });
      } finally {
        await chromium.close();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});
