/**
 * `cookie-bridge api cookies` over a real FileCredentialStore in a temp folder: the formats, the terminal
 * refusal, `-o FILE` (0600, atomic, no links, an unrelated file kept without --force) and the logins that
 * have no cookies. The formats themselves: test/unit/cookie-export.test.ts; the real tools reading the
 * files: test/e2e/cookie-export-tools.test.ts and test/e2e/git-over-https.test.ts.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cookiesCommand, type CookiesCommandOptions } from '../../src/cli/commands/cookies-command';
import type { CookieBridgeError } from '../../src/errors';
import type { EndpointProfile } from '../../src/store/credential-types';
import { FileCredentialStore } from '../../src/store/file-credential-store';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const ENDPOINT = 'https://127.0.0.1:8443';
let dir: string;
let time: number;
let store: FileCredentialStore;

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write: (chunk: string) => ((stream.text += chunk), true) };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

function profile(auth: EndpointProfile['auth'], endpoint = ENDPOINT): EndpointProfile {
  return { endpoint, auth, loggedInAt: '2030-01-01T00:00:00Z' };
}

async function run(
  options: CookiesCommandOptions,
  { tty = false, env = {} }: { tty?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | CookieBridgeError; stdout: string; stderr: string }> {
  const stdout = fakeStream(tty);
  const stderr = fakeStream(false);
  const code = await cookiesCommand({ env, store, stdout, stderr }, { endpoint: ENDPOINT, ...options }).catch(
    (error: CookieBridgeError) => error,
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function logInWithCookies(): Promise<void> {
  await store.saveLogin(profile({ type: 'cookies' }), [
    { name: 'mod_auth_openidc_session', value: 'sess-1' },
    { name: 'second', value: 'v2' },
  ]);
  await store.applySetCookies(ENDPOINT, new URL(`${ENDPOINT}/api`), [
    'refreshed=r; Path=/api; Max-Age=3600; SameSite=Strict',
  ]);
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cookie-bridge-cookies-'));
  time = T0;
  store = new FileCredentialStore({ home: path.join(dir, 'home'), now: () => time, lock: { retries: 0 } });
});
afterEach(async () => fs.rm(dir, { recursive: true, force: true }));

describe('api cookies', () => {
  it('prints a Netscape cookies.txt of the jar on a pipe: Secure over https, exact for the IP host', async () => {
    await logInWithCookies();
    const { code, stdout, stderr } = await run({});
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const lines = stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(stdout.startsWith('# Netscape HTTP Cookie File\n')).toBe(true);
    expect(lines).toEqual([
      '127.0.0.1\tFALSE\t/\tTRUE\t0\tmod_auth_openidc_session\tsess-1',
      '127.0.0.1\tFALSE\t/\tTRUE\t0\tsecond\tv2',
      `127.0.0.1\tFALSE\t/api\tFALSE\t${(T0 + 3600_000) / 1000}\trefreshed\tr`,
    ]);
  });

  it('prints JSON cookie objects with --format json', async () => {
    await logInWithCookies();
    const { code, stdout } = await run({ format: 'json' });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([
      expect.objectContaining({ name: 'mod_auth_openidc_session', value: 'sess-1', domain: '127.0.0.1' }),
      expect.objectContaining({ name: 'second', secure: true, httpOnly: true, expires: -1 }),
      expect.objectContaining({ name: 'refreshed', path: '/api', sameSite: 'Strict', httpOnly: false }),
    ]);
  });

  it('prints the Cookie header line with --format header, as api header does', async () => {
    await logInWithCookies();
    const { code, stdout } = await run({ format: 'header' });
    expect(code).toBe(0);
    expect(stdout).toBe('Cookie: mod_auth_openidc_session=sess-1; second=v2\n');
  });

  it('refuses a terminal (exit 2, says -o and --force) and prints nothing; --force prints', async () => {
    await logInWithCookies();
    const refused = await run({}, { tty: true });
    expect(refused.code).toMatchObject({
      code: 'E_USAGE',
      exitCode: 2,
      message: 'refusing to print cookies to the terminal',
      hint: expect.stringMatching(/-o cookies\.txt.*--force/),
    });
    expect(refused.stdout).toBe('');
    const forced = await run({ force: true }, { tty: true });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('sess-1');
  });

  it('writes -o FILE with mode 600 even under a loose umask, and says so on stderr', async () => {
    await logInWithCookies();
    const file = path.join(dir, 'cookies.txt');
    const previous = process.umask(0o000);
    try {
      const { code, stdout, stderr } = await run({ output: file }, { tty: true });
      expect(code).toBe(0);
      expect(stdout).toBe('');
      expect(stderr).toBe(`Wrote 3 cookies of ${ENDPOINT} to ${file} (mode 600)\n`);
    } finally {
      process.umask(previous);
    }
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(file, 'utf8')).toBe((await run({})).stdout);
    // No temp file is left beside it.
    expect(await fs.readdir(dir)).toEqual(['cookies.txt', 'home'].sort());
  });

  it('replaces an earlier export, and tightens its mode', async () => {
    await logInWithCookies();
    const file = path.join(dir, 'cookies.txt');
    await fs.writeFile(file, '# Netscape HTTP Cookie File\nold\n', { mode: 0o644 });
    expect((await run({ output: file, format: 'json' })).code).toBe(0);
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toHaveLength(3);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
  });

  it('keeps a file that is not an export (exit 2, nothing written) unless --force', async () => {
    await logInWithCookies();
    const file = path.join(dir, 'notes.txt');
    await fs.writeFile(file, 'my notes\n');
    const kept = await run({ output: file });
    expect(kept.code).toMatchObject({ exitCode: 2, hint: expect.stringContaining('--force') });
    expect(await fs.readFile(file, 'utf8')).toBe('my notes\n');
    expect((await run({ output: file, force: true })).code).toBe(0);
    expect(await fs.readFile(file, 'utf8')).toContain('sess-1');
  });

  it('refuses a symbolic link at -o (exit 7) and leaves its target alone', async () => {
    await logInWithCookies();
    const target = path.join(dir, 'target.txt');
    await fs.writeFile(target, '# Netscape HTTP Cookie File\n');
    const link = path.join(dir, 'cookies.txt');
    await fs.symlink(target, link);
    const result = await run({ output: link, force: true });
    expect(result.code).toMatchObject({ code: 'E_UNSAFE_PERMISSIONS', exitCode: 7 });
    expect(await fs.readFile(target, 'utf8')).toBe('# Netscape HTTP Cookie File\n');
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
  });

  it('says which folder is missing for -o into a folder that does not exist (exit 7)', async () => {
    await logInWithCookies();
    const result = await run({ output: path.join(dir, 'nope', 'cookies.txt') });
    expect(result.code).toMatchObject({ code: 'E_WRITE_FAILED', exitCode: 7 });
    expect((result.code as CookieBridgeError).hint).toContain(path.join(dir, 'nope'));
  });

  it.each([
    ['a stored token', { type: 'token', token: 'tok-secret' } as const, {}, 'Bearer tok-secret'],
    [
      'basic auth',
      { type: 'basic', username: 'ci', password: 'pw' } as const,
      {},
      `Basic ${Buffer.from('ci:pw').toString('base64')}`,
    ],
    [
      '$COOKIE_BRIDGE_TOKEN',
      { type: 'cookies' } as const,
      { COOKIE_BRIDGE_TOKEN: 'env-tok' },
      'Bearer env-tok',
    ],
  ])(
    'has no cookies to export for %s (exit 2, E_NO_COOKIES) but prints its header',
    async (_n, auth, env, value) => {
      await store.saveLogin(profile(auth), auth.type === 'cookies' ? [{ name: 's', value: 'v' }] : []);
      const netscape = await run({}, { env });
      expect(netscape.code).toMatchObject({
        code: 'E_NO_COOKIES',
        exitCode: 2,
        message: expect.stringContaining('has no cookies to export'),
        hint: expect.stringContaining('--format header'),
      });
      expect(netscape.stdout).toBe('');
      expect(JSON.stringify(netscape.code)).not.toContain(value.split(' ')[1]);
      const header = await run({ format: 'header' }, { env });
      expect(header.stdout).toBe(`Authorization: ${value}\n`);
    },
  );

  it('exports an empty jar, with a note, for an endpoint that needs no credential', async () => {
    await store.saveLogin(profile({ type: 'none' }));
    const { code, stdout, stderr } = await run({});
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((line) => line !== '' && !line.startsWith('#'))).toEqual([]);
    expect(stderr).toContain('needs no credential');
  });

  it('is an expired session (exit 4) when every cookie has expired, and not logged in (exit 3) without a login', async () => {
    await store.saveLogin(profile({ type: 'cookies' }), [{ name: 's', value: 'v' }]);
    await store.applySetCookies(ENDPOINT, new URL(ENDPOINT), ['s=gone; Max-Age=0']);
    expect((await run({})).code).toMatchObject({ code: 'E_SESSION_EXPIRED', exitCode: 4 });
    expect((await run({ endpoint: 'https://other.example.com' })).code).toMatchObject({ exitCode: 3 });
  });
});
