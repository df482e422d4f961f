/**
 * `cookie-bridge api header` as the built CLI: one header line on stdout (stdout is a pipe here, not a
 * terminal), for the stored cookies or token; exit 3 when not logged in.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { CLI_PATH, cliEnv, makeTempHome, runCli } from '../kit/cli-runner';
import { processesWithSecretInArgv } from '../kit/process-argv';

const execFileAsync = promisify(execFile);
const ENDPOINT = 'http://127.0.0.1:9/team';
const TOKEN = 'svc-token-0f9e8d7c6b5a';

describe('cookie-bridge api header', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let store: FileCredentialStore;
  beforeEach(() => {
    temp = makeTempHome();
    store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
  });
  afterEach(() => temp.cleanup());

  it('prints exactly one Cookie header line for a cookie login', async () => {
    await store.saveLogin(
      { endpoint: ENDPOINT, auth: { type: 'cookies' }, loggedInAt: '2026-01-01T00:00:00Z' },
      [
        { name: '_oauth2_proxy_0', value: 'part-one' },
        { name: '_oauth2_proxy_1', value: 'part-two' },
      ],
    );
    const result = await runCli(['api', 'header', '-e', ENDPOINT], cliEnv(temp.home));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('Cookie: _oauth2_proxy_0=part-one; _oauth2_proxy_1=part-two\n');
    expect(result.stderr).toBe('');
  });

  it('prints the Authorization header for a stored token, and $COOKIE_BRIDGE_TOKEN wins', async () => {
    await store.saveLogin({ endpoint: ENDPOINT, auth: { type: 'token', token: TOKEN }, loggedInAt: 'now' });
    await store.setLastEndpoint(ENDPOINT);
    const stored = await runCli(['api', 'header'], cliEnv(temp.home));
    expect(stored.code).toBe(0);
    expect(stored.stdout).toBe(`Authorization: Bearer ${TOKEN}\n`);
    const fromEnv = await runCli(
      ['api', 'header'],
      cliEnv(temp.home, { COOKIE_BRIDGE_TOKEN: 'env-token-1' }),
    );
    expect(fromEnv.stdout).toBe('Authorization: Bearer env-token-1\n');
  });

  it('exits 3 with a hint and prints nothing on stdout when not logged in', async () => {
    const result = await runCli(['api', 'header', '-e', ENDPOINT], cliEnv(temp.home));
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`run cookie-bridge api login -e ${ENDPOINT}`);
  });

  // Guards the advice in `api header --help`, its terminal hint and the README: the documented pipe into
  // curl -H @- works with this machine's curl, and while curl's request is in flight no process on the
  // machine has the cookie on its command line (what `ps` shows every user). The old advice,
  // curl -H "$(cookie-bridge api header)", is run too: it does put the secret there.
  it('works as cookie-bridge api header | curl -H @-, with the credential on no command line', async () => {
    const secret = `sess-${randomBytes(12).toString('hex')}`;
    let seen: string | undefined;
    let exposedBy: Array<{ pid: number; argv: string[] }> = [];
    const server: Server = createServer((req, res) => {
      seen = req.headers.cookie;
      exposedBy = processesWithSecretInArgv(secret); // curl is alive, waiting for this answer
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await store.saveLogin({ endpoint: url, auth: { type: 'cookies' }, loggedInAt: 'now' }, [
        { name: 'session', value: secret },
      ]);
      const header = `"${process.execPath}" "${CLI_PATH}" api header -e "${url}"`;
      const piped = await execFileAsync('sh', ['-c', `${header} | curl -sS -H @- "${url}/x"`], {
        env: cliEnv(temp.home),
      });
      expect(piped.stdout).toBe('ok');
      expect(seen).toBe(`session=${secret}`);
      expect(exposedBy).toEqual([]);

      seen = undefined;
      const substituted = await execFileAsync('sh', ['-c', `curl -sS -H "$(${header})" "${url}/x"`], {
        env: cliEnv(temp.home),
      });
      expect(substituted.stdout).toBe('ok');
      expect(seen).toBe(`session=${secret}`);
      expect(exposedBy.map(({ argv }) => argv[0])).toEqual(['curl']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
