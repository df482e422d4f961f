/**
 * Faults, as the built CLI meets them: corrupt or truncated credential files, writes that fail half-way,
 * and an endpoint that goes down before or while a response streams. Each must be a clear error naming
 * the file (exit 7) or the endpoint (exit 5), never a crash, never a silent reset of other endpoints.
 *
 * Write failures are simulated without read-only folders (root ignores them): `ulimit -f 1` makes every
 * write beyond 1 KiB fail with EFBIG (Node ignores SIGXFSZ), and a regular file where a folder must be
 * gives ENOTDIR.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { cliEnv, makeTempHome, runCli } from '../kit/cli-runner';
import {
  filesUnder,
  loginThroughBrowser,
  runCliUnderShell,
  SCRIPTED_BROWSER,
  startProtectedStack,
  type ProtectedStack,
} from '../kit/hostile-kit';

function snapshot(files: string[]): Map<string, string> {
  return new Map(files.map((file) => [file, readFileSync(file, 'utf8')]));
}

describe('corrupt and truncated credential files', () => {
  let a: ProtectedStack;
  let b: ProtectedStack;
  let temp: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  let home: string;
  const filesOf = (stack: ProtectedStack): { jar: string; profile: string } => {
    const folder = filesUnder(path.join(home, 'endpoints'))
      .map((file) => path.dirname(file))
      .find((dir) => dir.includes(`_${stack.proxy.port}-`))!;
    return { jar: path.join(folder, 'cookies.json'), profile: path.join(folder, 'profile.json') };
  };

  let pristine: Map<string, string>;
  beforeAll(async () => {
    [a, b] = await Promise.all([startProtectedStack(), startProtectedStack()]);
    temp = makeTempHome('cb-corrupt-');
    env = cliEnv(temp.home);
    home = path.join(temp.home, 'cookie-bridge');
    expect((await loginThroughBrowser(a.endpoint, env)).code).toBe(0);
    expect((await loginThroughBrowser(b.endpoint, env, 'bob@example.com')).code).toBe(0);
    pristine = snapshot(filesUnder(home));
  });
  beforeEach(() => {
    // Both logins as they were after signing in (the look-alike still knows the sessions).
    rmSync(home, { recursive: true, force: true });
    for (const [file, text] of pristine) {
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      writeFileSync(file, text, { mode: 0o600 });
    }
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    temp.cleanup();
  });

  const corruptions: Array<[string, (files: { jar: string; profile: string }) => string]> = [
    ['a jar that is not JSON', ({ jar }) => (writeFileSync(jar, '{"cookies": [{"key": "_oauth2_pro'), jar)],
    [
      'a truncated profile',
      ({ profile }) => {
        const text = readFileSync(profile, 'utf8');
        writeFileSync(profile, text.slice(0, text.length >> 1));
        return profile;
      },
    ],
    ['a jar without a cookie list', ({ jar }) => (writeFileSync(jar, '{"cookies": 42}'), jar)],
    [
      'a jar with an entry that is not a cookie',
      ({ jar }) => (writeFileSync(jar, '{"cookies":[{"key":1}]}'), jar),
    ],
    [
      'a profile of another endpoint',
      ({ profile }) => (writeFileSync(profile, readFileSync(filesOf(b).profile)), profile),
    ],
    ['a profile replaced by a folder', ({ profile }) => (rmSync(profile), mkdirSync(profile), profile)],
    ['an empty jar file', ({ jar }) => (writeFileSync(jar, ''), jar)],
  ];

  it.each(corruptions)(
    '%s: exit 7 naming the file, other endpoints untouched and usable',
    async (_name, corrupt) => {
      const bFiles = filesOf(b);
      const bBefore = snapshot([bFiles.jar, bFiles.profile]);
      const file = corrupt(filesOf(a));
      const broken = await runCli(['request', '-e', a.endpoint, '/api/whoami', '--debug'], env);
      // Guards: readJsonFile / parseStoredProfile turn any damage into CredentialFileError E_CORRUPT_FILE.
      expect(broken.code).toBe(7);
      expect(broken.stderr).toContain(`cookie-bridge: error: ${file}:`);
      expect(broken.stderr).toMatch(new RegExp(`hint: fix .*${path.basename(file)} or delete it`));
      expect(broken.stderr).not.toMatch(/unexpected error|at .*\.js:\d+/);
      // The other endpoint works, and the store wiped nothing (guards: no silent reset).
      const other = await runCli(['request', '-s', '-e', b.endpoint, '/api/whoami'], env);
      expect(other.code).toBe(0);
      expect(JSON.parse(other.stdout)).toEqual({ user: 'bob@example.com' });
      expect(snapshot([bFiles.jar, bFiles.profile])).toEqual(bBefore);
      expect(filesUnder(home).some((f) => f === file) || statSync(file).isDirectory()).toBe(true);
      // `api info --all` still lists the healthy endpoint, and names the broken file.
      const all = await runCli(['api', 'info', '--all', '--offline', '--json'], env);
      expect(all.code).toBe(7);
      expect(all.stdout).toContain(b.endpoint);
      expect(all.stderr).toContain(file);
      // What the hint says works: logout, then log in again.
      expect((await runCli(['api', 'logout', '-e', a.endpoint], env)).code).toBe(0);
      expect((await loginThroughBrowser(a.endpoint, env)).code).toBe(0);
      expect((await runCli(['request', '-s', '-e', a.endpoint, '/api/whoami'], env)).code).toBe(0);
    },
  );

  it('a corrupt config.json: exit 7 naming it when it is needed, and explicit endpoints keep working', async () => {
    const config = path.join(home, 'config.json');
    writeFileSync(config, '{"lastEndpoint": ');
    const needed = await runCli(['request', '/api/whoami'], env);
    expect(needed.code).toBe(7);
    expect(needed.stderr).toContain(`${config}:`);
    expect(needed.stderr).toContain('hint: fix');
    const explicit = await runCli(['request', '-s', '-e', b.endpoint, '/api/whoami'], env);
    expect(explicit.code).toBe(0);
    expect(readFileSync(config, 'utf8')).toBe('{"lastEndpoint": ');
  });
});

describe('write failures keep the previous file', () => {
  let stack: ProtectedStack;
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    // Rotation with a padded session: every response rewrites a jar larger than 1 KiB.
    stack = await startProtectedStack({ rotateOnEveryResponse: true, sessionPadding: 3000 });
    temp = makeTempHome('cb-writefail-');
  });
  afterAll(async () => {
    await stack.close();
    temp.cleanup();
  });

  it('a jar update whose write fails half-way (file size limit) leaves the old jar, and the next run works', async () => {
    const env = cliEnv(temp.home);
    expect((await loginThroughBrowser(stack.endpoint, env)).code).toBe(0);
    const home = path.join(temp.home, 'cookie-bridge');
    const before = snapshot(filesUnder(home));

    // Guards writeFileSecurely: temp file + rename, so a write that fails mid-way never touches the real
    // file. Under `ulimit -f` the write gets EFBIG; write-file-atomic's signal-exit hook then re-raises
    // SIGXFSZ, so the process dies mid-write instead of exiting 7: a real crash in the middle of a write.
    const failed = await runCliUnderShell('ulimit -f 1', ['request', '-s', '/api/whoami'], env);
    expect(failed.code === 7 || failed.signal === 'SIGXFSZ').toBe(true);
    if (failed.code === 7) expect(failed.stderr).toMatch(/cookies\.json: cannot be written \(EFBIG\)/);
    expect(snapshot(filesUnder(home))).toEqual(before); // no temp file and no lock left either

    // A new login over the existing one that fails to write leaves the old login in place.
    const relogin = await runCliUnderShell(
      'ulimit -f 1',
      ['api', 'login', '-e', stack.endpoint, '--timeout', '60'],
      { ...env, BROWSER: SCRIPTED_BROWSER, SCRIPTED_BROWSER_EMAIL: 'mallory@example.com' },
    );
    expect(relogin.code === 7 || relogin.signal === 'SIGXFSZ').toBe(true);
    // A login killed mid-write leaves its login lock (login-locks/), which names a pid that is gone: the next
    // login takes it over (test/integration/login-lock.test.ts). Everything else is as it was.
    const outsideLoginLocks = (file: string): boolean => !file.includes(`${path.sep}login-locks${path.sep}`);
    expect(snapshot(filesUnder(home).filter(outsideLoginLocks))).toEqual(before);
    const after = await runCli(['request', '-s', '/api/whoami'], env);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual({ user: 'alice@example.com' });
  });

  it('a regular file where the endpoints folder must be: exit 7 with ENOTDIR and what to do', async () => {
    const isolated = makeTempHome('cb-enotdir-');
    try {
      const env = cliEnv(isolated.home);
      const home = path.join(isolated.home, 'cookie-bridge');
      mkdirSync(home, { recursive: true });
      writeFileSync(path.join(home, 'endpoints'), 'not a folder');
      const login = await loginThroughBrowser(stack.endpoint, env);
      expect(login.code).toBe(7);
      expect(login.stderr).toContain(path.join(home, 'endpoints'));
      expect(login.stderr).toMatch(/ENOTDIR/);
      expect(login.stderr).toMatch(/hint: .*(is a file|COOKIE_BRIDGE_HOME)/);
      expect(readFileSync(path.join(home, 'endpoints'), 'utf8')).toBe('not a folder');
    } finally {
      isolated.cleanup();
    }
  });
});

describe('the endpoint goes down before or during a response', () => {
  let server: Server;
  let endpoint: string;
  let temp: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/api/health') {
        res.setHeader('content-type', 'application/json');
        res.end('{"status":"ok","user":null}');
      } else if (req.url === '/api/big') {
        // Promises 8 MiB, sends 1 MiB, then the server dies.
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 8 << 20 });
        res.write(Buffer.alloc(1 << 20, 7), () => res.socket?.destroy());
      } else if (req.url === '/api/chunked') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(Buffer.alloc(1 << 20, 7), () => res.socket?.destroy());
      } else {
        req.socket.destroy(); // no answer at all
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    temp = makeTempHome('cb-down-');
    env = cliEnv(temp.home);
    expect((await runCli(['api', 'login', '-e', endpoint], env)).code).toBe(0);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    temp.cleanup();
  });

  it.each(['/api/big', '/api/chunked'])('%s cut half-way: exit 5, a clear message', async (route) => {
    // Guards request-command's pipeline error handling (a truncated body must not look like success).
    const result = await runCli(['request', route], env);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      `cannot reach ${endpoint}: the connection broke while the response was streaming`,
    );
    expect(result.stderr).toMatch(/hint: /);
    expect(result.stdoutBytes.length).toBeLessThan(8 << 20);
  });

  it('the connection drops before any answer: exit 5 naming the endpoint', async () => {
    const result = await runCli(['request', '/api/nothing'], env);
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`cannot reach ${endpoint}`);
  });

  it('the endpoint is down: exit 5 naming the endpoint', async () => {
    const down = makeTempHome('cb-down2-');
    try {
      const downEnv = cliEnv(down.home);
      const probe = createServer((_req, res) => res.end('{"status":"ok"}'));
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
      expect((await runCli(['api', 'login', '-e', url], downEnv)).code).toBe(0);
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const result = await runCli(['request', '/api/x'], downEnv);
      expect(result.code).toBe(5);
      expect(result.stderr).toContain(`cannot reach ${url}`);
      expect(result.stderr).toMatch(/ECONNREFUSED|refused/);
    } finally {
      down.cleanup();
    }
  });
});
