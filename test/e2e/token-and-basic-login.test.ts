/**
 * The other login paths of the same API servers: basic auth in the endpoint URL and service-account tokens,
 * plus api info / api logout, as the built CLI. Secrets must never appear in any output.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { cliEnv, makeTempHome, runCli } from '../kit/cli-runner';

const TOKEN = 'svc-token-5d41402abc4b2a76b9719d911017c592';
const PASSWORD = 'pa55-w0rd-7c6a180b36896a0a';

function startApiRequiringAuth(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    let user: string | undefined;
    if (auth === `Bearer ${TOKEN}`) user = 'robot@example.com';
    if (auth === `Basic ${Buffer.from(`ci:${PASSWORD}`).toString('base64')}`) user = 'ci';
    res.setHeader('content-type', 'application/json');
    if (user === undefined) {
      res.statusCode = 401;
      res.end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    res.end(JSON.stringify({ status: 'ok', user, path: req.url }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

function allFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? allFiles(path.join(folder, entry.name)) : [path.join(folder, entry.name)],
  );
}

describe('token and basic-auth logins', () => {
  let api: { url: string; server: Server };
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    api = await startApiRequiringAuth();
  });
  afterAll(() => new Promise<void>((resolve) => api.server.close(() => resolve())));
  beforeEach(() => {
    temp = makeTempHome();
  });
  afterEach(() => temp.cleanup());

  it('stores a --token, sends it as Bearer, and never prints it', async () => {
    const env = cliEnv(temp.home);
    const login = await runCli(['api', 'login', '-e', api.url, '--token', TOKEN, '--debug'], env);
    expect(login.stderr).toContain(`Logged in to ${api.url} as robot@example.com`);
    expect(login.code).toBe(0);
    const request = await runCli(['request', '/api/things', '--debug'], env);
    expect(request.code).toBe(0);
    expect(JSON.parse(request.stdout)).toMatchObject({ user: 'robot@example.com', path: '/api/things' });
    const info = await runCli(['api', 'info', '--json', '--debug'], env);
    expect(JSON.parse(info.stdout)).toMatchObject({
      endpoint: api.url,
      credential: 'stored-token',
      server: { state: 'ok' },
    });
    for (const run of [login, request, info]) expect(run.stdout + run.stderr).not.toContain(TOKEN);
    const profile = allFiles(path.join(temp.home, 'cookie-bridge')).find((f) => f.endsWith('profile.json'))!;
    expect(statSync(profile).mode & 0o777).toBe(0o600);
  });

  it('$COOKIE_BRIDGE_TOKEN overrides what is stored', async () => {
    const env = cliEnv(temp.home);
    await runCli(['api', 'login', '-e', `http://ci:${PASSWORD}@${api.url.slice('http://'.length)}`], env);
    const withEnv = { ...env, COOKIE_BRIDGE_TOKEN: TOKEN };
    const request = await runCli(['request', '/api/x'], withEnv);
    expect(JSON.parse(request.stdout)).toMatchObject({ user: 'robot@example.com' });
    const info = await runCli(['api', 'info', '--json'], withEnv);
    expect(JSON.parse(info.stdout)).toMatchObject({ credential: 'environment-token' });
    expect(info.stdout).not.toContain(TOKEN);
  });

  it('basic auth: the endpoint is stored without userinfo, the password never appears', async () => {
    const env = cliEnv(temp.home);
    const withUserinfo = `http://ci:${PASSWORD}@${api.url.slice('http://'.length)}`;
    const login = await runCli(['api', 'login', '-e', withUserinfo, '--debug'], env);
    expect(login.code).toBe(0);
    expect(login.stderr).toContain(`Logged in to ${api.url} as ci`);
    const info = await runCli(['api', 'info', '--all', '--json', '--debug'], env);
    const listed = JSON.parse(info.stdout) as { endpoints: Array<{ endpoint: string; credential: string }> };
    expect(listed.endpoints).toEqual([
      expect.objectContaining({ endpoint: api.url, credential: 'basic-auth' }),
    ]);
    const request = await runCli(['request', '/api/y', '-i'], env);
    expect(JSON.parse(request.stdout)).toMatchObject({ user: 'ci' });
    for (const run of [login, info, request]) expect(run.stdout + run.stderr).not.toContain(PASSWORD);
  });

  it('a wrong password is refused and nothing is stored; logout forgets one endpoint only', async () => {
    const env = cliEnv(temp.home);
    const bad = await runCli(['api', 'login', '-e', `http://ci:wrong-${PASSWORD}@${api.url.slice(7)}`], env);
    expect(bad.code).toBe(6);
    expect(bad.stderr).not.toContain(PASSWORD);
    const none = await runCli(['api', 'info', '-e', api.url, '--json', '--offline'], env);
    expect(JSON.parse(none.stdout)).toMatchObject({ credential: 'not-logged-in' });

    const other = 'http://127.0.0.1:9/other';
    await runCli(['api', 'login', '-e', api.url, '--token', TOKEN], env);
    const home = path.join(temp.home, 'cookie-bridge');
    const before = allFiles(home).filter((f) => f.includes('endpoints')).length;
    const logoutOther = await runCli(['api', 'logout', '-e', other], env);
    expect(logoutOther.code).toBe(0);
    expect(logoutOther.stderr).toContain('Not logged in');
    const logout = await runCli(['api', 'logout', '-e', api.url], env);
    expect(logout.stderr).toContain(`Logged out of ${api.url}`);
    expect(allFiles(home).filter((f) => f.includes('endpoints')).length).toBeLessThan(before);
    const after = await runCli(['request', '/api/z', '-e', api.url], env);
    expect(after.code).toBe(3);
    expect(after.stderr).toContain(`run cookie-bridge api login -e ${api.url}`);
  });

  it('an endpoint that is down is a clear error naming it', async () => {
    const env = cliEnv(temp.home);
    const result = await runCli(['api', 'login', '-e', 'http://127.0.0.1:9', '--timeout', '5'], env);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('cannot reach http://127.0.0.1:9');
    expect(result.stderr).toMatch(/hint: /);
  });
});
