/**
 * Many CLI processes at once on one home folder, against proxies that rotate the session cookie on
 * every response, with logins and logouts of other endpoints in between; and processes killed with
 * SIGKILL while they hold an endpoint's lock or stream a response.
 *
 * What "latest cookies" means here: with rotation, concurrent processes receive different new session
 * values and the order in which their responses were issued is not observable by the store (the proxy's
 * previous values stay valid, like oauth2-proxy's --cookie-refresh with the cookie session store). The
 * store guarantees, and this suite checks, that each jar holds the complete set of session cookies of ONE
 * response the proxy issued after the login (never chunks of two different responses, never another
 * endpoint's cookies, never the login-time value once a rotation was saved), so the proxy accepts it: a
 * follow-up `request` succeeds as the right user.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { cliEnv, makeTempHome, runCli, startCli, REPO_ROOT } from '../kit/cli-runner';
import {
  filesUnder,
  loginThroughBrowser,
  startProtectedStack,
  type ProtectedStack,
} from '../kit/hostile-kit';

const TOKEN = 'svc-token-concurrency-8c1f7a2b9d3e';
const EMAILS = ['alice@example.com', 'bob@example.com', 'carol@example.com'];

function startTokenApi(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.statusCode = 401;
      res.end('{"error":"unauthorized"}');
      return;
    }
    res.end(JSON.stringify({ status: 'ok', user: 'robot@example.com' }));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }),
    ),
  );
}

/** The joined session value (`_oauth2_proxy` or its chunks `_0`, `_1`, … in order) stored in a jar. */
function sessionInJar(jarFile: string): string {
  const jar = JSON.parse(readFileSync(jarFile, 'utf8')) as { cookies: Array<{ key: string; value: string }> };
  const byName = new Map(jar.cookies.map((cookie) => [cookie.key, cookie.value]));
  if (byName.has('_oauth2_proxy')) return byName.get('_oauth2_proxy')!;
  let joined = '';
  for (let index = 0; byName.has(`_oauth2_proxy_${index}`); index++)
    joined += byName.get(`_oauth2_proxy_${index}`)!;
  return joined;
}

describe('20 concurrent CLI processes on 3 rotating endpoints, with logins and logouts in between', () => {
  let stacks: ProtectedStack[];
  let tokenApi: { url: string; server: Server };
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    stacks = await Promise.all(
      EMAILS.map(() => startProtectedStack({ rotateOnEveryResponse: true, sessionPadding: 5000 })),
    );
    tokenApi = await startTokenApi();
    temp = makeTempHome('cb-concurrency-');
  });
  afterAll(async () => {
    await Promise.all(stacks.map((stack) => stack.close()));
    await new Promise<void>((resolve) => tokenApi.server.close(() => resolve()));
    temp.cleanup();
  });

  it('every jar parses, the right endpoints remain, and each holds a session the proxy accepts', async () => {
    const env = cliEnv(temp.home);
    const home = path.join(temp.home, 'cookie-bridge');
    const tokenEndpoint = (n: number): string => `${tokenApi.url}/team${n}`;

    const logins = await Promise.all(
      stacks.map((stack, i) => loginThroughBrowser(stack.endpoint, env, EMAILS[i])),
    );
    for (const login of logins) expect(login.code).toBe(0);
    for (const n of [1, 2, 3]) {
      expect((await runCli(['api', 'login', '-e', tokenEndpoint(n), '--token', TOKEN], env)).code).toBe(0);
    }
    const jarOf = (i: number): string =>
      filesUnder(home).find(
        (file) => file.endsWith('cookies.json') && file.includes(`_${stacks[i]!.proxy.port}-`),
      )!;
    const atLogin = stacks.map((_, i) => sessionInJar(jarOf(i)));

    // The storm: 20 requests (guards: the per-endpoint lock serialises read-apply-write, so no process
    // loses or half-writes another's update), logins of new endpoints and logouts of old ones.
    const requests = Array.from({ length: 20 }, (_, k) =>
      runCli(['request', '-s', '-e', stacks[k % 3]!.endpoint, '/api/whoami'], env).then((result) => ({
        result,
        i: k % 3,
      })),
    );
    const others = [
      runCli(['api', 'login', '-e', tokenEndpoint(4), '--token', TOKEN], env),
      runCli(['api', 'logout', '-e', tokenEndpoint(1)], env),
      runCli(['api', 'login', '-e', tokenEndpoint(5), '--token', TOKEN], env),
      runCli(['api', 'logout', '-e', tokenEndpoint(2)], env),
    ];
    const [done, otherResults] = await Promise.all([Promise.all(requests), Promise.all(others)]);
    for (const { result, i } of done) {
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(result.stdout)).toEqual({ user: EMAILS[i] });
    }
    for (const result of otherResults) expect(result.code).toBe(0);

    // Every credential file parses; no lock or temp file is left.
    for (const file of filesUnder(home)) {
      expect(file).toMatch(/(config|profile|cookies)\.json$/);
      expect(() => JSON.parse(readFileSync(file, 'utf8'))).not.toThrow();
    }
    expect(readdirSync(path.join(home, 'endpoints')).filter((name) => name.endsWith('.lock'))).toEqual([]);
    // Exactly the endpoints that should be there.
    const info = await runCli(['api', 'info', '--all', '--offline', '--json'], env);
    const listed = (JSON.parse(info.stdout) as { endpoints: Array<{ endpoint: string }> }).endpoints
      .map((entry) => entry.endpoint)
      .sort();
    expect(listed).toEqual(
      [...stacks.map((stack) => stack.endpoint), tokenEndpoint(3), tokenEndpoint(4), tokenEndpoint(5)].sort(),
    );

    // Each jar holds a rotated session from one response, which the proxy accepts for the right user.
    for (const [i, stack] of stacks.entries()) {
      expect(sessionInJar(jarOf(i))).not.toBe(atLogin[i]);
      const again = await runCli(['request', '-s', '-e', stack.endpoint, '/api/whoami'], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toEqual({ user: EMAILS[i] });
    }
  });
});

describe('a process killed with SIGKILL leaves nothing that needs manual cleanup', () => {
  let stack: ProtectedStack;
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    stack = await startProtectedStack({ rotateOnEveryResponse: true });
    temp = makeTempHome('cb-sigkill-');
  });
  afterAll(async () => {
    await stack.close();
    temp.cleanup();
  });

  it('a lock held by a killed process (and its half-written temp file) is taken over by the next run', async () => {
    const env = cliEnv(temp.home);
    expect((await loginThroughBrowser(stack.endpoint, env)).code).toBe(0);
    const jar = filesUnder(path.join(temp.home, 'cookie-bridge')).find((f) => f.endsWith('cookies.json'))!;
    const folder = path.dirname(jar);
    // A worker takes the endpoint's lock the way the store does, then dies without releasing it.
    const worker = spawn(
      process.execPath,
      [path.join(REPO_ROOT, 'test', 'kit', 'credential-lock-worker.js'), 'hold', folder],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) => worker.stdout.once('data', () => resolve()));
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGKILL');
    await exited;
    expect(existsSync(`${folder}.lock`)).toBe(true);
    // What a writer killed between its temp write and the rename leaves behind.
    writeFileSync(`${jar}.3141592653`, '{"cookies": [ {"key": "_oauth2');

    // Guards stale-lock takeover: the rotation must be saved (that needs the lock) without manual cleanup.
    const before = readFileSync(jar, 'utf8');
    const request = await runCli(['request', '-s', '/api/whoami'], env);
    expect({ code: request.code, stderr: request.stderr }).toEqual({ code: 0, stderr: '' });
    expect(readFileSync(jar, 'utf8')).not.toBe(before);
    expect(existsSync(`${folder}.lock`)).toBe(false);
    expect((await runCli(['request', '-s', '/api/whoami'], env)).code).toBe(0);
  });

  it('a request killed while a slow response streams leaves a usable jar and no lock', async () => {
    const env = cliEnv(temp.home);
    const cli = startCli(['request', '/api/bytes?size=68719476736'], env);
    await new Promise<void>((resolve) => cli.child.stdout.once('data', () => resolve()));
    cli.child.kill('SIGKILL');
    expect((await cli.result).signal).toBe('SIGKILL');
    const home = path.join(temp.home, 'cookie-bridge');
    for (const file of filesUnder(home).filter((f) => f.endsWith('.json'))) {
      expect(() => JSON.parse(readFileSync(file, 'utf8'))).not.toThrow();
    }
    expect(readdirSync(path.join(home, 'endpoints')).filter((name) => name.endsWith('.lock'))).toEqual([]);
    const next = await runCli(['request', '-s', '/api/whoami'], env);
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout)).toEqual({ user: 'alice@example.com' });
  });
});
