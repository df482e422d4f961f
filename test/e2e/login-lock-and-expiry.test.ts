/**
 * Issue 9 §3 with the built CLI against the oauth2-proxy look-alike: two `api login` runs at once open one
 * browser; `api info` shows the expiry and `api info --check` exits with the documented codes; `request`
 * and `proxy` warn when the session is about to end.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { REAL_CLI_LOGIN_TIMEOUT_S } from '../../fixtures/real-components/budgets';
import { cliEnv, makeTempHome, runCli, startCli, REPO_ROOT } from '../kit/cli-runner';
import { startLookalikeStack, type LookalikeStack } from '../kit/lookalike-stack';

const SCRIPTED_BROWSER = `${process.execPath} ${path.join(REPO_ROOT, 'test', 'kit', 'scripted-browser.js')}`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function jarFileUnder(home: string): string {
  const endpoints = path.join(home, 'cookie-bridge', 'endpoints');
  const folder = readdirSync(endpoints).find((name) => !name.endsWith('.lock'));
  return path.join(endpoints, folder!, 'cookies.json');
}

type JarEntry = Record<string, unknown> & { key: string; value: string };

/** Rewrites the stored jar (tough-cookie's serialisation), as time passing or another proxy would leave it. */
function editJar(home: string, edit: (cookies: JarEntry[]) => JarEntry[]): void {
  const file = jarFileUnder(home);
  const jar = JSON.parse(readFileSync(file, 'utf8')) as { cookies: JarEntry[] };
  jar.cookies = edit(jar.cookies);
  writeFileSync(file, JSON.stringify(jar));
  expect(statSync(file).mode & 0o777).toBe(0o600);
}

function expiringAt(ms: number): (cookies: JarEntry[]) => JarEntry[] {
  return (cookies) =>
    cookies.map(({ maxAge: _maxAge, ...cookie }) => ({ ...cookie, expires: new Date(ms).toISOString() }));
}

/** A JWT-shaped value (unsigned: only its exp is read) like Cloudflare Access's CF_Authorization. */
function jwtWithExp(expSeconds: number): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k1' })}.${part({ exp: expSeconds, sub: 'alice' })}.c2ln`;
}

describe('one login at a time, and expiry you can see', () => {
  let stack: LookalikeStack;
  let temp: ReturnType<typeof makeTempHome>;
  let endpoint: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    temp = makeTempHome();
    stack = await startLookalikeStack();
    endpoint = stack.url;
    env = cliEnv(temp.home, { BROWSER: SCRIPTED_BROWSER, SCRIPTED_BROWSER_EMAIL: 'alice@example.com' });
  });
  afterEach(async () => {
    await stack.close().catch(() => undefined);
    temp.cleanup();
  });

  async function logIn(): Promise<void> {
    const run = await runCli(['api', 'login', '-e', endpoint, '--timeout', REAL_CLI_LOGIN_TIMEOUT_S], env);
    expect(run.stderr).toContain(`Logged in to ${endpoint} as alice@example.com`);
    expect(run.code).toBe(0);
  }

  it('two api login runs at once: one browser launch; the second waits for the first (naming its pid) and reuses it', async () => {
    const signals = path.join(temp.home, 'signals');
    mkdirSync(signals);
    const launches = path.join(signals, 'launches.txt');
    const gate = path.join(signals, 'go');
    const both = { ...env, SCRIPTED_BROWSER_LAUNCHES: launches, SCRIPTED_BROWSER_GATE: gate };
    const args = ['api', 'login', '-e', endpoint, '--timeout', REAL_CLI_LOGIN_TIMEOUT_S];

    const first = startCli(args, both);
    // The first holds the lock and has launched the browser, which waits at the gate.
    await first.waitForStderr(/\/token\?local_port=\d+&state=/);
    const second = startCli([...args, '--json'], both);
    await second.waitForStderr(
      new RegExp(
        `another login for ${escapeRegExp(endpoint)} is in progress \\(pid ${first.child.pid}\\); waiting for it…`,
      ),
    );
    writeFileSync(gate, '');

    const [a, b] = await Promise.all([first.result, second.result]);
    expect(a.stderr).toContain(`Logged in to ${endpoint} as alice@example.com\n`);
    expect(a.code).toBe(0);
    expect(b.stderr).toContain(
      `Logged in to ${endpoint} as alice@example.com (reused the session another cookie-bridge api login just saved)`,
    );
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout)).toEqual({
      ok: true,
      endpoint,
      method: 'cookies',
      identity: 'alice@example.com',
      proxy: 'oauth2-proxy',
      reused: true,
    });
    // Exactly one browser launch, and the second never printed a sign-in URL of its own.
    expect(readFileSync(launches, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(b.stderr).not.toMatch(/\/token\?local_port=/);
    // The reused session works.
    const whoami = await runCli(['request', '/api/whoami', '-e', endpoint], env);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ user: 'alice@example.com' });
  });

  it('api info --check: 3 when not logged in, 0 when the session works, 4 when rejected or expired (the latter without the network)', async () => {
    const missing = await runCli(['api', 'info', '--check', '-e', endpoint], env);
    expect({ code: missing.code, stdout: missing.stdout, stderr: missing.stderr }).toEqual({
      code: 3,
      stdout: '',
      stderr: `not logged in to ${endpoint}: run cookie-bridge api login -e ${endpoint}\n`,
    });
    const missingJson = await runCli(['api', 'info', '--check', '--json', '-e', endpoint], env);
    expect(JSON.parse(missingJson.stdout)).toMatchObject({
      ok: false,
      state: 'not-logged-in',
      code: 'E_NOT_LOGGED_IN',
      exitCode: 3,
    });

    await logIn();
    const ok = await runCli(['api', 'info', '--check', '-e', endpoint], env);
    expect({ code: ok.code, stdout: ok.stdout, stderr: ok.stderr }).toEqual({
      code: 0,
      stdout: '',
      stderr: `session for ${endpoint} works (as alice@example.com); expiry unknown (session cookie)\n`,
    });
    const okJson = await runCli(['api', 'info', '--check', '--json', '-e', endpoint], env);
    expect(okJson.code).toBe(0);
    expect(JSON.parse(okJson.stdout)).toEqual({
      endpoint,
      ok: true,
      state: 'ok',
      exitCode: 0,
      identity: 'alice@example.com',
      expiresAt: null,
      expirySource: null,
    });

    // The proxy forgets the session: the live check says so.
    stack.proxy.expireAllSessions();
    const rejected = await runCli(['api', 'info', '--check', '--json', '-e', endpoint], env);
    expect(rejected.code).toBe(4);
    expect(JSON.parse(rejected.stdout)).toMatchObject({
      ok: false,
      state: 'rejected',
      code: 'E_SESSION_EXPIRED',
      exitCode: 4,
    });
    expect(rejected.stderr).toMatch(
      new RegExp(
        `^session for ${escapeRegExp(endpoint)} was rejected by the auth proxy \\(.+\\): run cookie-bridge api login -e ${escapeRegExp(endpoint)}\\n$`,
      ),
    );

    // Every stored cookie has expired: known without the network (the server is gone, and it still says 4).
    editJar(temp.home, expiringAt(Date.now() - 60_000));
    await stack.close();
    const expired = await runCli(['api', 'info', '--check', '-e', endpoint], env);
    expect(expired.code).toBe(4);
    expect(expired.stderr).toBe(
      `session for ${endpoint} expired (every stored cookie has expired): run cookie-bridge api login -e ${endpoint}\n`,
    );
    // An unreachable server with a session not known to be expired: 5.
    editJar(temp.home, expiringAt(Date.now() + 3_600_000));
    const unreachable = await runCli(['api', 'info', '--check', '--json', '-e', endpoint], env);
    expect(unreachable.code).toBe(5);
    expect(JSON.parse(unreachable.stdout)).toMatchObject({
      state: 'unreachable',
      code: 'E_ENDPOINT_UNREACHABLE',
    });
  });

  it("api info shows when the session expires: a cookie's Expires, or the exp of a JWT session cookie", async () => {
    await logIn();
    const unknown = await runCli(['api', 'info', '-e', endpoint, '--offline'], env);
    expect(unknown.stdout).toMatch(/^session +expiry unknown \(session cookie\)$/m);

    const at = Date.now() + 3 * 3_600_000 + 12 * 60_000 + 30_000;
    editJar(temp.home, expiringAt(at));
    const text = await runCli(['api', 'info', '-e', endpoint, '--offline'], env);
    expect(text.stdout).toMatch(
      new RegExp(
        `^session +expires in 3h 1[12]m \\(at ${escapeRegExp(new Date(at).toISOString())}, cookie _oauth2_proxy\\)$`,
        'm',
      ),
    );
    const json = JSON.parse(
      (await runCli(['api', 'info', '-e', endpoint, '--offline', '--json'], env)).stdout,
    );
    expect(json).toMatchObject({
      expiresAt: new Date(at).toISOString(),
      expirySource: { cookie: '_oauth2_proxy', from: 'cookie-expiry' },
    });

    // A Cloudflare Access style JWT session cookie that ends sooner decides.
    const exp = Math.floor(Date.now() / 1000) + 45 * 60;
    const jwt = jwtWithExp(exp);
    editJar(temp.home, (cookies) => [...cookies, { ...cookies[0]!, key: 'CF_Authorization', value: jwt }]);
    const withJwt = await runCli(['api', 'info', '-e', endpoint, '--offline', '--json'], env);
    expect(JSON.parse(withJwt.stdout)).toMatchObject({
      expiresAt: new Date(exp * 1000).toISOString(),
      expirySource: { cookie: 'CF_Authorization', from: 'jwt-exp' },
    });
    // Never a cookie value.
    expect(withJwt.stdout).not.toContain(jwt.split('.')[1]!);
    const human = await runCli(['api', 'info', '-e', endpoint, '--offline'], env);
    expect(human.stdout).toMatch(/^session +expires in 4[45]m \(at .+, exp of the CF_Authorization JWT\)$/m);
    expect(human.stdout).not.toContain(jwt.split('.')[1]!);
  });

  it('request, proxy and exec warn once on stderr when the session expires within 10 minutes', async () => {
    await logIn();
    const quiet = await runCli(['request', '/api/whoami', '-e', endpoint], env);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).not.toContain('expires in');

    editJar(temp.home, expiringAt(Date.now() + 5 * 60_000));
    const warned = await runCli(['request', '/api/whoami', '-e', endpoint], env);
    expect(warned.code).toBe(0);
    expect(JSON.parse(warned.stdout)).toMatchObject({ user: 'alice@example.com' });
    const warning = new RegExp(
      `warning: session for ${escapeRegExp(endpoint)} expires in [45]m; run cookie-bridge api login -e ${escapeRegExp(endpoint)} to renew\\n`,
      'g',
    );
    expect(warned.stderr.match(warning)).toHaveLength(1);

    const proxy = startCli(['proxy', '-e', endpoint], env);
    await proxy.waitForStderr(warning);
    proxy.child.kill('SIGTERM');
    const stopped = await proxy.result;
    expect(stopped.code).toBe(0);
    expect(stopped.stderr.match(warning)).toHaveLength(1);

    const exec = await runCli(['exec', '-e', endpoint, '--', process.execPath, '-e', 'process.exit(7)'], env);
    expect(exec.code).toBe(7);
    expect(exec.stderr.match(warning)).toHaveLength(1);
  });
});
