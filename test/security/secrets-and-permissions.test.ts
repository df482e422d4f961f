/**
 * Secrets never reach the terminal, and credential files stay private.
 *
 * Every command runs with --debug (the most talkative mode) through cookie, token and basic-auth logins,
 * requests, errors, `api info` (text and --json) and logout; no cookie value, token, password or
 * Authorization value may appear in stdout or stderr, only their redacted forms (guards src/core/redact.ts
 * and every caller of the logger). Files must be 0600 and folders 0700 even when the CLI runs with umask
 * 000 and when it updates files an earlier tool left world-readable (guards writeFileSecurely's chmod
 * after every write and ensurePrivateDir).
 */
import { chmodSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { cliEnv, makeTempHome, runCli, type CliResult } from '../kit/cli-runner';
import {
  filesUnder,
  leakedSecret,
  runCliUnderShell,
  SCRIPTED_BROWSER,
  startProtectedStack,
  storedSecrets,
  type ProtectedStack,
} from '../kit/hostile-kit';

const TOKEN = 'svc-token-secrets-4e9a0c7d2b61f835';
const PASSWORD = 'pa55-secrets-91b3e0f47a2c';
const BASIC = Buffer.from(`ci:${PASSWORD}`).toString('base64');

function startHeaderAuthApi(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const user =
      auth === `Bearer ${TOKEN}` ? 'robot@example.com' : auth === `Basic ${BASIC}` ? 'ci' : undefined;
    res.setHeader('content-type', 'application/json');
    res.statusCode = user === undefined ? 401 : 200;
    res.end(JSON.stringify(user === undefined ? { error: 'unauthorized' } : { status: 'ok', user }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

describe('no secret in any output, with --debug', () => {
  let stack: ProtectedStack;
  let api: { url: string; server: Server };
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    stack = await startProtectedStack({ rotateOnEveryResponse: true, sessionPadding: 4500 });
    api = await startHeaderAuthApi();
    temp = makeTempHome('cb-secrets-');
  });
  afterAll(async () => {
    await stack.close();
    await new Promise<void>((resolve) => api.server.close(() => resolve()));
    temp.cleanup();
  });

  it('cookie, token and basic-auth logins, requests, info, errors and logout', async () => {
    const env = cliEnv(temp.home, { BROWSER: SCRIPTED_BROWSER });
    const home = path.join(temp.home, 'cookie-bridge');
    const runs: Array<{ args: string[]; result: CliResult }> = [];
    const secrets = new Set<string>([TOKEN, PASSWORD, BASIC]);
    const run = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
      const result = await runCli([...args, '--debug'], { ...env, ...extraEnv });
      runs.push({ args, result });
      for (const secret of storedSecrets(home)) secrets.add(secret); // rotated values too
      return result;
    };
    const userinfo = `http://ci:${PASSWORD}@${api.url.slice('http://'.length)}`;

    expect((await run(['api', 'login', '-e', stack.endpoint, '--timeout', '60'])).code).toBe(0);
    expect((await run(['request', '-i', '/api/whoami'])).code).toBe(0);
    expect(
      (
        await run([
          'request',
          '-X',
          'POST',
          '-d',
          '{"a":1}',
          '-H',
          'Content-Type: application/json',
          '/api/echo',
        ])
      ).code,
    ).toBe(0);
    expect((await run(['api', 'info'])).code).toBe(0);
    expect((await run(['api', 'info', '--json'])).code).toBe(0);
    // `api header` prints the credential on stdout by design (for curl -H "$(…)"): only stderr is checked.
    const header = await run(['api', 'header']);
    expect(header.stdout).toMatch(/^Cookie: _oauth2_proxy_0=/);
    runs.pop();
    runs.push({ args: ['api', 'header'], result: { ...header, stdout: '' } });
    expect((await run(['request', '/api/status/418'])).code).toBe(22);
    expect((await run(['api', 'login', '-e', api.url, '--token', TOKEN, '--json'])).code).toBe(0);
    expect((await run(['request', '-i', '-e', api.url, '/api/x'])).code).toBe(0);
    expect((await run(['api', 'info', '--json', '-e', api.url])).code).toBe(0);
    expect(
      (await run(['api', 'login', '-e', `http://ci:wrong-${PASSWORD}@${api.url.slice(7)}/b`, '--json'])).code,
    ).toBe(6);
    expect((await run(['api', 'login', '-e', `${userinfo}/basic`])).code).toBe(0);
    expect((await run(['request', '-i', '-e', `${api.url}/basic`, '/api/y'])).code).toBe(0);
    expect((await run(['request', '-e', api.url, '/api/z'], { COOKIE_BRIDGE_TOKEN: TOKEN })).code).toBe(0);
    expect((await run(['api', 'info', '--all', '--json'])).code).toBe(0);
    expect((await run(['api', 'info', '--all'])).code).toBe(0);
    // Guards resolveEndpointUrl: credentials never go to another origin.
    const foreign = await run(['request', '-e', stack.endpoint, 'http://127.0.0.1:9/steal']);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain("is not the endpoint's origin");
    expect((await run(['request', '-e', `${api.url}/basic`, `${userinfo}/basic/api/w`])).code).toBe(0);
    stack.proxy.expireAllSessions();
    const expired = await run(['request', '-e', stack.endpoint, '/api/whoami']);
    expect(expired.code).toBe(4);
    expect((await run(['api', 'info', '-e', stack.endpoint, '--json'])).code).toBe(0);
    expect((await run(['api', 'logout', '-e', api.url])).code).toBe(0);

    // The redacted forms did show up (so the check below looks at real debug output).
    const all = runs.map(({ result }) => result.stdout + result.stderr).join('\n');
    expect(all).toMatch(/cookie: _oauth2_proxy_0=<redacted>; _oauth2_proxy_1=<redacted>/i);
    expect(all).toMatch(/set-cookie: _oauth2_proxy_0=<redacted>/i);
    expect(all).toMatch(/authorization: Bearer <redacted>/i);
    expect(all).toMatch(/authorization: Basic <redacted>/i);
    expect(secrets.size).toBeGreaterThan(6);
    for (const { args, result } of runs) {
      expect({ args, leaked: leakedSecret(result.stdout + result.stderr, secrets) }).toEqual({
        args,
        leaked: undefined,
      });
    }
  });
});

describe('files 0600 and folders 0700, whatever the umask and the previous modes', () => {
  let stack: ProtectedStack;
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    stack = await startProtectedStack({ rotateOnEveryResponse: true });
    temp = makeTempHome('cb-modes-');
  });
  afterAll(async () => {
    await stack.close();
    temp.cleanup();
  });

  it('creates private files under umask 000 and tightens loose ones when it updates them', async () => {
    const env = cliEnv(temp.home, { BROWSER: SCRIPTED_BROWSER });
    const home = path.join(temp.home, 'cookie-bridge');
    const login = await runCliUnderShell(
      'umask 000',
      ['api', 'login', '-e', stack.endpoint, '--timeout', '60'],
      env,
    );
    expect(login.code).toBe(0);
    const files = filesUnder(home);
    expect(files.map((file) => path.basename(file)).sort()).toEqual([
      'config.json',
      'cookies.json',
      'profile.json',
    ]);
    const jar = files.find((file) => file.endsWith('cookies.json'))!;
    const profile = files.find((file) => file.endsWith('profile.json'))!;
    const folders = [home, path.join(home, 'endpoints'), path.dirname(jar)];
    for (const file of files) expect([file, modeOf(file)]).toEqual([file, 0o600]);
    for (const folder of folders) expect([folder, modeOf(folder)]).toEqual([folder, 0o700]);

    // Another tool (or an older version) left everything world-readable.
    for (const file of files) chmodSync(file, 0o644);
    for (const folder of folders) chmodSync(folder, 0o755);
    // A request whose response rotates the cookie rewrites the jar: it and its folder are tightened.
    const request = await runCliUnderShell('umask 000', ['request', '-s', '/api/whoami'], env);
    expect(request.code).toBe(0);
    expect(modeOf(jar)).toBe(0o600);
    expect(modeOf(path.dirname(jar))).toBe(0o700);
    // A new login rewrites every file: all are tightened, folders too.
    const again = await runCliUnderShell(
      'umask 000',
      ['api', 'login', '-e', stack.endpoint, '--timeout', '60'],
      env,
    );
    expect(again.code).toBe(0);
    for (const file of [jar, profile]) expect([file, modeOf(file)]).toEqual([file, 0o600]);
    for (const folder of folders) expect([folder, modeOf(folder)]).toEqual([folder, 0o700]);
  });
});
