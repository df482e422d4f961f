/**
 * `api service-account create|list|revoke|rotate-key` and `api users list|set-role` as the built CLI, against
 * an endpoint that speaks the admin API's HTTP contract behind a cookie auth proxy (test/kit/accounts-endpoint.ts: a cookie proxy in front of the real createServeApp with service accounts).
 * The token is on stdout once and nowhere else; refusals are typed errors with their exit codes; bad options
 * are refused before any request.
 */
import * as path from 'node:path';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { startAccountsEndpoint, type AccountsEndpoint } from '../kit/accounts-endpoint';
import { cliEnv, makeTempHome, runCli, type CliResult } from '../kit/cli-runner';

const ALICE = 'alice@example.com'; // serve --admin
const BOB = 'bob@example.com';

describe('the admin commands', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let server: AccountsEndpoint;
  let env: NodeJS.ProcessEnv;
  let store: FileCredentialStore;

  async function signInAs(identity: string, endpoint = server.url): Promise<void> {
    await store.saveLogin(
      { endpoint, auth: { type: 'cookies' }, loggedInAt: '2026-01-01T00:00:00.000Z', identity },
      [{ name: '_oauth2_proxy', value: server.signIn(identity) }],
    );
  }
  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '-e', server.url], env);
  const createToken = async (name: string, ...more: string[]): Promise<string> => {
    const created = await cli('api', 'service-account', 'create', '--name', name, ...more);
    expect(created.code).toBe(0);
    return created.stdout.trim();
  };

  beforeEach(async () => {
    temp = makeTempHome();
    env = cliEnv(temp.home);
    store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
    server = await startAccountsEndpoint({ admins: [ALICE] });
    await signInAs(ALICE);
  });
  afterEach(async () => {
    await server.close();
    temp.cleanup();
  });

  it('create prints the token alone on stdout, once; stderr says to save it; --debug shows it nowhere', async () => {
    const created = await cli('api', 'service-account', 'create', '--name', 'nightly-ci', '--debug');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/); // a compact JWS, alone
    const token = created.stdout.trim();
    expect(created.stderr).toMatch(
      /Created service account nightly-ci \(role user\), expires \d{4}-\d\d-\d\d \(30 days\)\. Save the token now: it will not be shown again\./,
    );
    expect(created.stderr).toContain(`COOKIE_BRIDGE_TOKEN=<token> cookie-bridge request -e ${server.url}`);
    expect(created.stderr).toContain('debug: > POST'); // --debug did log the exchange…
    expect(created.stderr).not.toContain(token); // …but not the token
    // The session cookie is secret too, in --debug.
    const cookie = (await store.listCookies(server.url))[0]?.value ?? 'no cookie';
    expect(created.stderr).not.toContain(cookie);
  });

  it('create --json carries the token; --role and --expires reach the server', async () => {
    const created = await cli(
      'api',
      'service-account',
      'create',
      '--name',
      'deployer',
      '--role',
      'admin',
      '--expires',
      '12h',
      '--json',
    );
    expect(created.code).toBe(0);
    const json = JSON.parse(created.stdout) as {
      ok: boolean;
      token: string;
      serviceAccount: { name: string; role: string; createdAt: string; expiresAt: string; status: string };
    };
    expect(json).toMatchObject({
      ok: true,
      serviceAccount: { name: 'deployer', role: 'admin', status: 'active', createdBy: ALICE },
    });
    // createdAt and exp are whole seconds: the lifetime is exactly the 12 h asked for (so stderr says 12h).
    const lifetimeMs = Date.parse(json.serviceAccount.expiresAt) - Date.parse(json.serviceAccount.createdAt);
    expect(lifetimeMs).toBe(12 * 3600_000);
    expect(json.token.split('.')).toHaveLength(3);
    expect(created.stderr).toContain('(12h)');
    expect(created.stderr).not.toContain(json.token);
  });

  it('list shows a table and --json; revoke marks it revoked; its token is then refused (exit 4)', async () => {
    const token = await createToken('etl');
    await createToken('reports', '--role', 'admin');
    const table = await cli('api', 'service-account', 'list');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +ROLE +STATUS +EXPIRES +CREATED-BY$/);
    expect(lines.slice(1).map((line) => line.split(/ +/).slice(0, 3))).toEqual([
      ['etl', 'user', 'active'],
      ['reports', 'admin', 'active'],
    ]);
    expect(lines[1]).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d +alice@example\.com$/);
    expect(table.stdout).not.toContain(token);

    const revoked = await cli('api', 'service-account', 'revoke', 'etl');
    expect(revoked.code).toBe(0);
    expect(revoked.stderr).toContain('Revoked service account etl');
    const listed = await cli('api', 'service-account', 'list', '--json');
    const { serviceAccounts } = JSON.parse(listed.stdout) as {
      serviceAccounts: Array<{ name: string; status: string; revokedAt?: string }>;
    };
    expect(serviceAccounts.map(({ name, status }) => [name, status])).toEqual([
      ['etl', 'revoked'],
      ['reports', 'active'],
    ]);
    expect(serviceAccounts[0]?.revokedAt).toEqual(expect.any(String));
    expect(listed.stdout).not.toContain(token);

    const withRevoked = await runCli(['api', 'service-account', 'list', '-e', server.url], {
      ...env,
      COOKIE_BRIDGE_TOKEN: token,
    });
    expect(withRevoked.code).toBe(4);
    expect(withRevoked.stderr).toContain(`${server.url} refused the token (revoked)`);
    expect(withRevoked.stderr).toContain(`hint: ask an admin for a new token`);
    expect(withRevoked.stderr).not.toContain(token);
  });

  it('revoke of an unknown name is a clear error (E_NOT_FOUND, exit 22)', async () => {
    const result = await cli('api', 'service-account', 'revoke', 'no-such-robot', '--json');
    expect(result.code).toBe(22);
    expect(result.stderr).toMatch(/no service account "?no-such-robot/);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: 'E_NOT_FOUND', exitCode: 22 },
    });
  });

  it('a name taken is E_EXISTS; rotate-key prints the new key id', async () => {
    await createToken('etl');
    const again = await cli('api', 'service-account', 'create', '--name', 'etl');
    expect(again.code).toBe(22);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('service account etl exists');
    const rotated = await cli('api', 'service-account', 'rotate-key', '--json');
    expect(rotated.code).toBe(0);
    expect(JSON.parse(rotated.stdout)).toEqual({ ok: true, endpoint: server.url, kid: expect.any(String) });
  });

  it('a person who is not an admin gets E_FORBIDDEN (exit 10) naming them and who may', async () => {
    await signInAs(BOB);
    const result = await cli('api', 'service-account', 'create', '--name', 'bobs-robot', '--json');
    expect(result.code).toBe(10);
    expect(result.stderr).toContain(
      `forbidden: ${BOB} is not an admin: only admins may create service accounts (role user)`,
    );
    expect(result.stderr).toContain(`hint: ask an admin: ${ALICE}`);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: 'E_FORBIDDEN', exitCode: 10 },
    });
  });

  it('users list and set-role: a person made admin may then use the admin API', async () => {
    await signInAs(BOB);
    expect((await cli('api', 'users', 'list')).code).toBe(10); // bob is seen, and refused
    await signInAs(ALICE);
    const table = await cli('api', 'users', 'list');
    expect(table.code).toBe(0);
    const rows = table.stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^IDENTITY +ROLE +SOURCE +LAST-SEEN$/);
    expect(rows.slice(1).map((row) => row.split(/ {2,}/).slice(0, 3))).toEqual(
      expect.arrayContaining([
        [ALICE, 'admin', 'serve --admin'],
        [BOB, 'user', 'default role'],
      ]),
    );
    const set = await cli('api', 'users', 'set-role', BOB, 'admin', '--json');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      user: { identity: BOB, role: 'admin', roleSource: 'registry' },
    });
    expect(set.stderr).toContain(`${BOB} has role admin`);
    const listed = JSON.parse((await cli('api', 'users', 'list', '--json')).stdout) as {
      users: Array<{ identity: string; role: string; lastSeenAt?: string }>;
    };
    expect(listed.users).toEqual(
      expect.arrayContaining([expect.objectContaining({ identity: BOB, role: 'admin' })]),
    );
    // set-role of alice to user: serve's --admin list wins; the server refuses it, the CLI says why.
    const demoted = await cli('api', 'users', 'set-role', ALICE, 'user');
    expect(demoted.code).toBe(2);
    expect(demoted.stderr).toContain(`${ALICE} is an admin by serve's --admin list`);
    await signInAs(BOB);
    expect((await cli('api', 'service-account', 'list')).code).toBe(0);
  });

  it('an admin service account token works as COOKIE_BRIDGE_TOKEN and with api login --token-stdin', async () => {
    const token = await createToken('deployer', '--role', 'admin');
    const robotHome = makeTempHome();
    try {
      const robotEnv = cliEnv(robotHome.home, { COOKIE_BRIDGE_TOKEN: token });
      const created = await runCli(
        [
          'api',
          'service-account',
          'create',
          '--name',
          'made-by-robot',
          '--json',
          '--debug',
          '-e',
          server.url,
        ],
        robotEnv,
      );
      expect(created.code).toBe(0);
      expect(JSON.parse(created.stdout)).toMatchObject({
        serviceAccount: { name: 'made-by-robot', createdBy: 'deployer@service-accounts.invalid' },
      });
      // The same token stored with api login --token-stdin (no environment variable).
      const loginEnv = cliEnv(robotHome.home);
      const login = await runCli(['api', 'login', '-e', server.url, '--token-stdin'], loginEnv, token);
      expect(login.code).toBe(0);
      expect(login.stderr).toContain('as deployer@service-accounts.invalid');
      const listed = await runCli(['api', 'service-account', 'list', '--json'], loginEnv);
      expect(listed.code).toBe(0);
      expect((JSON.parse(listed.stdout) as { serviceAccounts: unknown[] }).serviceAccounts).toHaveLength(2);
      for (const run of [created, login, listed]) expect(run.stdout + run.stderr).not.toContain(token);
      const userToken = await createToken('reader');
      const asUser = await runCli(['api', 'users', 'list', '-e', server.url], {
        ...loginEnv,
        COOKIE_BRIDGE_TOKEN: userToken,
      });
      expect(asUser.code).toBe(10);
      expect(asUser.stderr).toContain('forbidden: reader@service-accounts.invalid is not an admin');
    } finally {
      robotHome.cleanup();
    }
  });

  it('refreshed session cookies are saved: the proxy rotates them on every call', async () => {
    const before = (await store.listCookies(server.url))[0]?.value;
    for (let i = 0; i < 3; i++) expect((await cli('api', 'users', 'list')).code).toBe(0);
    const after = (await store.listCookies(server.url))[0]?.value;
    expect(after).toEqual(expect.any(String));
    expect(after).not.toBe(before);
  });

  it('an expired session exits 4 as for every command', async () => {
    server.endSessions();
    const result = await cli('api', 'service-account', 'list');
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`session expired: run cookie-bridge api login -e ${server.url}`);
  });

  it('bad --expires, --role, ROLE or --name are usage errors (exit 2) before any request', async () => {
    const runs = await Promise.all([
      cli('api', 'service-account', 'create', '--name', 'x', '--expires', '30 days'),
      cli('api', 'service-account', 'create', '--name', 'x', '--expires', '0d'),
      cli('api', 'service-account', 'create', '--name', 'x', '--expires', '1.5h'),
      cli('api', 'service-account', 'create', '--name', 'x', '--role', 'root'),
      cli('api', 'service-account', 'create', '--name', 'Not_A_Name'),
      cli('api', 'service-account', 'revoke', '../users'),
      cli('api', 'users', 'set-role', BOB, 'owner'),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
    }
    expect(runs[0]?.stderr).toContain('--expires takes a whole number and a unit: 30d, 12h, 90m or 3600s');
    expect(runs[3]?.stderr).toContain('Allowed choices are admin, user');
    expect(runs[4]?.stderr).toContain('"Not_A_Name" is not a service account name');
    expect(server.requests).toEqual([]);
  });
});

describe('the admin commands against a server without service accounts', () => {
  it('say so clearly', async () => {
    const temp = makeTempHome();
    const server = await startAccountsEndpoint({ admins: [ALICE], serviceAccounts: false });
    try {
      const store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
      await store.saveLogin(
        { endpoint: server.url, auth: { type: 'cookies' }, loggedInAt: '2026-01-01T00:00:00.000Z' },
        [{ name: '_oauth2_proxy', value: server.signIn(ALICE) }],
      );
      const env = cliEnv(temp.home);
      const list = await runCli(['api', 'service-account', 'list', '-e', server.url], env);
      expect(list.code).toBe(22);
      expect(list.stderr).toContain(`${server.url} has no service accounts (serve --service-accounts)`);
      expect(list.stderr).toContain('hint: ask the server');
      const revoke = await runCli(
        ['api', 'service-account', 'revoke', 'etl', '-e', server.url, '--json'],
        env,
      );
      expect(JSON.parse(revoke.stdout)).toMatchObject({ error: { code: 'E_NO_SERVICE_ACCOUNTS' } });
    } finally {
      await server.close();
      temp.cleanup();
    }
  });
});
