/**
 * Secrets never reach the terminal, and credential files stay private.
 *
 * Every command runs with --debug (the most talkative mode) through cookie, token and basic-auth logins,
 * requests, errors, `api info` (text and --json) and logout; no cookie value, token, password or
 * Authorization value may appear in stdout or stderr, only their redacted forms (guards src/protocol/redact.ts
 * and every caller of the logger). Files must be 0600 and folders 0700 even when the CLI runs with umask
 * 000 and when it updates files an earlier tool left world-readable (guards writeFileSecurely's chmod
 * after every write and ensurePrivateDir). Headers added with -H and signed/OAuth query parameters are
 * masked too. Secrets given with --token-stdin, --token-file or --password-stdin are on no process's command
 * line; a config home or credential file that is a symlink, another user's or writable by others is refused.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { cliEnv, makeTempHome, runCli, startCli, type CliResult } from '../kit/cli-runner';
import { argvOf, processesWithSecretInArgv } from '../kit/process-argv';
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

/** Headers a user adds with -H: every name suggests a secret (guards SECRET_HEADER_NAME in redact.ts). */
const HEADER_SECRETS: Record<string, string> = {
  'X-Api-Key': 'hdr-x-api-key-5c1f9e07b2',
  'Private-Token': 'hdr-private-token-a93d2e61c0',
  'Proxy-Authorization': 'Basic hdr-proxy-auth-0b7c4e2d91',
  'X-Upload-Token': 'hdr-upload-token-6e2a8f30d4',
  'X-Client-Secret': 'hdr-client-secret-1f5b9c7a30',
  'X-Hub-Signature-256': 'sha256=hdr-signature-8d3e0a6b2c',
  'X-Session-Id': 'hdr-session-id-4a7e1c9f05',
  'X-Signing-Key': 'hdr-signing-key-2c8f6a0e1d',
};
/** Query parameters of signed URLs and OAuth flows (guards SECRET_PARAM_NAME in redact.ts). */
const QUERY_SECRETS: Record<string, string> = {
  sig: 'q-sig-7e3b0c9a14',
  signature: 'q-signature-5d1f8a2e60',
  'X-Amz-Signature': 'q-amz-signature-9c4e7b1d03',
  token: 'q-token-3a6c0e8f25',
  key: 'q-key-8b2d5f1a97',
  code: 'q-code-0e9a4c7b36',
  state: 'q-state-6f1b3d8e42',
  verifier: 'q-verifier-2d7a9c0f58',
};

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
    // `api header` prints the credential on stdout by design (for curl -H @-): only stderr is checked.
    const header = await run(['api', 'header']);
    expect(header.stdout).toMatch(/^Cookie: _oauth2_proxy_0=/);
    runs.pop();
    runs.push({ args: ['api', 'header'], result: { ...header, stdout: '' } });
    expect((await run(['request', '/api/status/418'])).code).toBe(22);
    expect((await run(['api', 'login', '-e', api.url, '--token', TOKEN, '--json'])).code).toBe(0);
    expect((await run(['request', '-i', '-e', api.url, '/api/x'])).code).toBe(0);
    // Headers added with -H whose names suggest a secret, and signed-URL / OAuth query parameters.
    for (const secret of [...Object.values(HEADER_SECRETS), ...Object.values(QUERY_SECRETS)])
      secrets.add(secret);
    const headerArgs = Object.entries(HEADER_SECRETS).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
    const query = new URLSearchParams({ ...QUERY_SECRETS, page: '2' }).toString();
    expect((await run(['request', '-i', '-e', api.url, ...headerArgs, `/api/q?${query}`])).code).toBe(0);
    expect((await run(['request', '-e', api.url, ...headerArgs, `${api.url}/api/abs?${query}`])).code).toBe(
      0,
    );
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
    for (const name of Object.keys(HEADER_SECRETS))
      expect(all).toContain(
        `${name.toLowerCase()}: ${name === 'Proxy-Authorization' ? 'Basic ' : ''}<redacted>`,
      );
    expect(all).toMatch(
      /GET http:\/\/127\.0\.0\.1:[0-9]+\/api\/q\?sig=redacted&signature=redacted&X-Amz-Signature=redacted/,
    );
    expect(all).toContain('&page=2');
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

/**
 * Secrets that stay off the command line: --token-stdin, --token-file and --password-stdin log in, and while
 * the CLI is verifying (the API is answering its request) neither its own /proc/<pid>/cmdline nor any other
 * process's holds the secret. --token and a password in -e still work, with a warning naming the safer flag
 * (guards src/cli/read-login-secret.ts).
 */
describe('secrets off the command line', () => {
  const SECRET_TOKEN = `svc-token-argv-${randomBytes(8).toString('hex')}`;
  const SECRET_PASSWORD = `pa55-argv-${randomBytes(8).toString('hex')}`;
  let server: Server;
  let url: string;
  let temp: ReturnType<typeof makeTempHome>;
  let watchedPid: number | undefined;
  const seen: Array<{ cliArgv: string[] | undefined; exposed: number }> = [];
  beforeAll(async () => {
    temp = makeTempHome('cb-argv-');
    server = createServer((req, res) => {
      // The CLI is alive, waiting for this answer: look at what `ps` shows.
      seen.push({
        cliArgv: watchedPid === undefined ? undefined : argvOf(watchedPid),
        exposed:
          processesWithSecretInArgv(SECRET_TOKEN).length + processesWithSecretInArgv(SECRET_PASSWORD).length,
      });
      const auth = req.headers.authorization ?? '';
      const basic = `Basic ${Buffer.from(`ci:${SECRET_PASSWORD}`).toString('base64')}`;
      const ok = auth === `Bearer ${SECRET_TOKEN}` || auth === basic;
      res.setHeader('content-type', 'application/json');
      res.statusCode = ok ? 200 : 401;
      res.end(JSON.stringify(ok ? { status: 'ok' } : { error: 'unauthorized' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    temp.cleanup();
  });

  async function login(args: string[], stdin?: string): Promise<CliResult & { inArgv: boolean }> {
    seen.length = 0;
    const running = startCli([...args, '--debug'], cliEnv(temp.home), {
      stdin: stdin === undefined ? 'close' : 'pipe',
    });
    watchedPid = running.child.pid;
    if (stdin !== undefined) running.child.stdin.end(stdin);
    const result = await running.result;
    watchedPid = undefined;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every(({ cliArgv }) => cliArgv !== undefined)).toBe(true);
    return { ...result, inArgv: seen.some(({ exposed }) => exposed > 0) };
  }

  it('--token-stdin, --token-file and --password-stdin log in with the secret on no command line', async () => {
    const tokenFile = path.join(temp.home, 'api-token');
    writeFileSync(tokenFile, `${SECRET_TOKEN}\n`, { mode: 0o600 });
    const secrets = [SECRET_TOKEN, SECRET_PASSWORD];

    const fromStdin = await login(['api', 'login', '-e', url, '--token-stdin'], `${SECRET_TOKEN}\n`);
    const fromFile = await login(['api', 'login', '-e', `${url}/f`, '--token-file', tokenFile]);
    const password = await login(
      ['api', 'login', '-e', `http://ci@${url.slice('http://'.length)}/b`, '--password-stdin'],
      `${SECRET_PASSWORD}\n`,
    );
    for (const result of [fromStdin, fromFile, password]) {
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(result.inArgv).toBe(false);
      expect(leakedSecret(result.stdout + result.stderr, secrets)).toBeUndefined();
      expect(result.stderr).not.toContain('warning:');
    }
    // Stored as given, one trailing newline dropped: the API accepts the stored credential.
    const store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
    expect((await store.getProfile(url))?.auth).toEqual({ type: 'token', token: SECRET_TOKEN });
    expect((await store.getProfile(`${url}/f`))?.auth).toEqual({ type: 'token', token: SECRET_TOKEN });
    expect((await store.getProfile(`${url}/b`))?.auth).toEqual({
      type: 'basic',
      username: 'ci',
      password: SECRET_PASSWORD,
    });
  });

  it('--token and a password in -e work, are visible in ps, and say so with the safer flag', async () => {
    const token = await login(['api', 'login', '-e', url, '--token', SECRET_TOKEN]);
    expect(token.code).toBe(0);
    expect(token.inArgv).toBe(true); // what the warning is about
    expect(token.stderr).toMatch(/warning: --token .*other users .*\(ps\).*--token-stdin or --token-file/);
    const basic = await login(['api', 'login', '-e', `http://ci:${SECRET_PASSWORD}@${url.slice(7)}/b`]);
    expect(basic.code).toBe(0);
    expect(basic.stderr).toMatch(/warning: the password in -e .*other users .*\(ps\).*--password-stdin/);
    expect(leakedSecret(token.stderr + basic.stderr, [SECRET_TOKEN, SECRET_PASSWORD])).toBeUndefined();
  });

  it.each([
    [['--token-stdin'], '', /the token read from stdin is empty/],
    [['--token-stdin'], '\n', /the token read from stdin is empty/],
    [['--token-stdin'], 'two\nlines\n', /line break/],
    [['--password-stdin'], 'pw\n', /--password-stdin needs a user name in the endpoint/],
  ])('refuses %j with stdin %j (exit 2, nothing stored)', async (flags, stdin, message) => {
    const home = makeTempHome('cb-argv-bad-');
    try {
      const result = await runCli(['api', 'login', '-e', url, ...flags], cliEnv(home.home), stdin);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/hint: /);
      expect(filesUnder(path.join(home.home, 'cookie-bridge'))).toEqual([]);
    } finally {
      home.cleanup();
    }
  });

  it('warns about a --token-file other users can read, naming chmod 600', async () => {
    const loose = path.join(temp.home, 'loose-token');
    writeFileSync(loose, SECRET_TOKEN);
    chmodSync(loose, 0o644);
    const result = await runCli(['api', 'login', '-e', url, '--token-file', loose], cliEnv(temp.home));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `warning: --token-file ${loose} can be read by other users (mode 644): chmod 600`,
    );
  });
});

/**
 * The config home and credential files must be the user's own: a home or file that is a symlink, that another
 * user owns, or that others can write to (group-writable, or world-writable even with the sticky bit, like
 * /tmp) is refused with exit 7 by writes (login) and reads (request), with an error naming it, saying why and
 * what to do; nothing is written through a symlink (guards assertPrivate in src/store/secure-file.ts).
 */
describe('a config home or credential file that is not private', () => {
  const TOKEN_OK = `svc-token-home-${randomBytes(8).toString('hex')}`;
  const isRoot = process.getuid?.() === 0;
  /** A uid that is not ours: nobody (65534) when root can chown; else root owns what we test with. */
  const FOREIGN_UID = 65534;
  let api: Server;
  let url: string;
  let temp: ReturnType<typeof makeTempHome>;
  beforeAll(async () => {
    api = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.statusCode = req.headers.authorization === `Bearer ${TOKEN_OK}` ? 200 : 401;
      res.end(JSON.stringify({ status: 'ok' }));
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    temp = makeTempHome('cb-home-');
  });
  afterEach(() => temp.cleanup());
  afterAll(async () => {
    await new Promise<void>((resolve) => api.close(() => resolve()));
  });

  const loginArgs = (): string[] => ['api', 'login', '-e', url, '--token-stdin'];
  const runWithHome = (args: string[], home: string, stdin?: string): Promise<CliResult> =>
    runCli(args, cliEnv(temp.home, { COOKIE_BRIDGE_HOME: home }), stdin);

  function expectRefused(result: CliResult, target: string, reason: RegExp): void {
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 7,
      stderr: expect.stringContaining(`${target}: `),
    });
    expect(result.stderr).toMatch(reason);
    expect(result.stderr).toMatch(/hint: .*(chmod|COOKIE_BRIDGE_HOME|delete|link)/);
    expect(result.stderr).not.toContain(TOKEN_OK);
  }

  /** A folder another user owns: chown'ed to nobody when we are root, else the root-owned `/`. */
  function foreignFolder(): string {
    if (!isRoot) return '/';
    const folder = path.join(temp.home, 'foreign');
    mkdirSync(folder, { mode: 0o700 });
    chownSync(folder, FOREIGN_UID, FOREIGN_UID);
    return folder;
  }

  it.each([
    ['a symbolic link', 'symlink', /is a symbolic link/],
    ['owned by another user', 'foreign', /is owned by uid [0-9]+, not by you/],
    ['group-writable (0770)', 0o770, /is writable by other users \(mode 770\)/],
    ['world-writable and sticky (1777, like /tmp)', 0o1777, /is writable by other users \(mode 1777\)/],
  ] as const)(
    'refuses a config home that is %s (exit 7), on login and on request',
    async (_label, kind, reason) => {
      let home = path.join(temp.home, 'home');
      const linkTarget = path.join(temp.home, 'real-home');
      if (kind === 'symlink') {
        mkdirSync(linkTarget, { mode: 0o700 });
        symlinkSync(linkTarget, home);
      } else if (kind === 'foreign') {
        home = foreignFolder();
      } else {
        mkdirSync(home);
        chmodSync(home, kind);
      }
      const before = lstatSync(home);
      expectRefused(await runWithHome(loginArgs(), home, TOKEN_OK), home, reason);
      expectRefused(await runWithHome(['request', '-e', url, '/api/x'], home), home, reason);
      // Nothing was written, and the folder was not "fixed" behind the user's back.
      const after = lstatSync(home);
      expect([after.mode, after.uid]).toEqual([before.mode, before.uid]);
      if (kind === 'symlink') expect(readdirSync(linkTarget)).toEqual([]);
      else if (home !== '/') expect(readdirSync(home)).toEqual([]);
    },
  );

  it.each([
    ['a symbolic link', 'symlink', /is a symbolic link/],
    ['owned by another user', 'foreign', /is owned by uid 65534, not by you/],
    ['group-writable (0660)', 0o660, /is writable by other users \(mode 660\)/],
    ['world-writable (0606)', 0o606, /is writable by other users \(mode 606\)/],
  ] as const)(
    'refuses a credential file that is %s (exit 7); a link target is never written',
    async (_label, kind, reason) => {
      if (kind === 'foreign' && !isRoot) {
        // Without root no file can be given away; the foreign-owned config home case above covers ownership.
        expect(process.getuid?.()).not.toBe(0);
        return;
      }
      const home = path.join(temp.home, 'cookie-bridge');
      expect((await runWithHome(loginArgs(), home, TOKEN_OK)).code).toBe(0);
      const profile = new FileCredentialStore({ home }).pathsFor(url).profile;
      const target = path.join(temp.home, 'elsewhere.json');
      const planted = `{"endpoint":"${url}","auth":{"type":"token","token":"planted"},"loggedInAt":"x"}\n`;
      if (kind === 'symlink') {
        writeFileSync(target, planted, { mode: 0o600 });
        rmSync(profile);
        symlinkSync(target, profile);
      } else if (kind === 'foreign') {
        chownSync(profile, FOREIGN_UID, FOREIGN_UID);
      } else {
        chmodSync(profile, kind);
      }
      expectRefused(await runWithHome(['request', '-e', url, '/api/x'], home), profile, reason);
      expectRefused(await runWithHome(loginArgs(), home, TOKEN_OK), profile, reason);
      if (kind === 'symlink') {
        expect(readFileSync(target, 'utf8')).toBe(planted);
        expect(lstatSync(profile).isSymbolicLink()).toBe(true);
      }
    },
  );
});
