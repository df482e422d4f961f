/**
 * Service accounts through a REAL Apache mod_auth_openidc (issue 13), all on loopback: Apache with TLS (a
 * certificate of the test's own CA) signs people in at a real OpenID provider and verifies bearer JWTs itself
 * (`AuthType auth-openidc`, `OIDCOAuthVerifyJwksUri https://…/cookie-bridge/sa/jwks`: serve's JWKS through this
 * very Apache, the issuer path exempt), in front of the built CLI's `serve --service-accounts` in front of the
 * kit's recording app (its log is "what reached the app").
 *
 * An admin (serve --admin) signs in with Chromium and creates a token with `api service-account create`; a fresh
 * config home with that token reaches the app as the robot with role user; revoked, serve refuses it (401 JSON,
 * reason revoked) and the app sees nothing; a token of another key and an expired one are refused by Apache
 * itself (serve logs no refusal, the app sees nothing). A person without the admin role gets 403 and the CLI
 * says who may. After `rotate-key` an older token still passes Apache and a newer one carries the new kid.
 *
 * `npm test` builds dist/ first (`npm run build` before running this file alone).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createAccountService } from '../../src/server/accounts/account-service';
import { createFileAccountStateStore } from '../../src/server/accounts/file-account-state-store';
import { cliEnv, makeTempHome, runCli, type CliResult } from '../kit/cli-runner';
import { loginThroughChromium, withDiagnostics, type LogSource } from '../kit/e2e-diagnostics';
import { plainGet } from '../kit/plain-get';
import { pollUntil } from '../kit/poll-until';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';
import {
  apacheOidcRedirectUri,
  createTestCa,
  findFreePort,
  HTTP_REQUEST_TIMEOUT_MS,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_SETUP_TIMEOUT_MS,
  startApacheOidcProxy,
  startOidcProvider,
  startServeSidecar,
  type RunningComponent,
  type RunningOidcProvider,
  type ServeSidecar,
  type TestCa,
} from '../kit/real-components';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const ADMIN = 'alice@example.com';
const IDENTITY = 'x-auth-request-email';
const ROLE = 'x-cookie-bridge-role';
const ISSUER_PATH = '/cookie-bridge/sa';
/** serve's log line for a bearer token it refused itself (src/server/accounts/serve-accounts.ts). */
const SERVE_REFUSAL = /refused a bearer token of ours \(([\w-]+)\)/g;

/** The `kid` in a compact JWS's header. */
function kidOf(token: string): string {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
    kid?: string;
  };
  return header.kid ?? '';
}

describeReal('service accounts through Apache mod_auth_openidc (bearer JWTs verified by Apache)', () => {
  const clientId = 'cookie-bridge-sa-e2e';
  const clientSecret = randomBytes(16).toString('hex');
  let ca: TestCa;
  let app: RecordingApp;
  let serve: ServeSidecar | undefined;
  let provider: RunningOidcProvider | undefined;
  let apache: RunningComponent | undefined;
  let issuer: string;
  let endpoint: string;
  let workDir: string;
  /** Apache's certificate, which Chromium trusts as a browser whose owner installed the CA would. */
  let certFile: string;
  const state = makeTempHome('cookie-bridge-sa-apache-state-');
  const stateDir = join(state.home, 'state');
  const admin = makeTempHome('cookie-bridge-sa-apache-admin-');
  let adminEnv: NodeJS.ProcessEnv;

  const sources = (...extra: LogSource[]): LogSource[] => [
    ...extra,
    { name: 'apache2', logs: () => apache?.logs() ?? '(not started)' },
    { name: 'oidc-provider', logs: () => provider?.logs() ?? '(not started)' },
    { name: 'cookie-bridge serve', logs: () => serve?.logs() ?? '(not started)' },
    { name: 'app', logs: () => app.log.map((e) => `${e.method} ${e.url} ${e.headers[IDENTITY]}`).join('\n') },
  ];
  const adminCli = (...args: string[]): Promise<CliResult> => runCli([...args, '-e', endpoint], adminEnv);
  /** The robot's CLI: a fresh config home, the token in $COOKIE_BRIDGE_TOKEN, the CA in the environment. */
  const robotCli = async (token: string, ...args: string[]): Promise<CliResult> => {
    const home = makeTempHome('cookie-bridge-sa-apache-robot-');
    try {
      return await runCli([...args, '-e', endpoint], {
        ...cliEnv(home.home, { COOKIE_BRIDGE_TOKEN: token, COOKIE_BRIDGE_CA_BUNDLE: ca.caFile }),
      });
    } finally {
      home.cleanup();
    }
  };
  const getWithToken = (path: string, token: string) =>
    plainGet(
      `${endpoint}${path}`,
      { authorization: `Bearer ${token}`, accept: 'application/json' },
      { ca: ca.caPem },
    );
  const serveRefusals = (): string[] =>
    [...(serve?.logs() ?? '').matchAll(SERVE_REFUSAL)].map((m) => m[1] ?? '');
  const createToken = async (name: string): Promise<string> => {
    const created = await adminCli('api', 'service-account', 'create', '--name', name);
    withDiagnostics({ cli: created, sources: sources() }, () => expect(created.code).toBe(0));
    return created.stdout.trim();
  };

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-sa-apache-'));
    ca = createTestCa('sa-apache-ca');
    const certificate = ca.issue();
    certFile = certificate.certFile;
    app = await startRecordingApp();
    const port = await findFreePort();
    endpoint = `https://127.0.0.1:${port}`;
    issuer = `${endpoint}${ISSUER_PATH}`;
    serve = await startServeSidecar(
      app.url,
      ['--service-accounts', '--sa-issuer', issuer, '--admin', ADMIN],
      {
        COOKIE_BRIDGE_STATE_DIR: stateDir,
      },
    );
    provider = await startOidcProvider({
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [apacheOidcRedirectUri(port, 'https')],
        },
      ],
    });
    apache = await startApacheOidcProxy({
      issuer: provider.issuer,
      clientId,
      clientSecret,
      upstream: serve.url,
      port,
      tls: certificate,
      // The relay routes and serve's issuer path (discovery and JWKS) pass without a session.
      exemptPaths: ['/cookie-bridge/relay/', `${ISSUER_PATH}/`],
      bearerJwksUri: `${issuer}/jwks`,
    });
    ({ env: adminEnv } = await loginThroughChromium({
      home: admin.home,
      workDir,
      name: 'sa-apache-admin',
      user: 'alice',
      endpoint,
      cliArgs: ['--cacert', ca.caFile],
      browserEnv: { CHROMIUM_BROWSER_TRUST_CERTS: certFile },
      expected: { method: 'cookies', via: 'browser', identity: ADMIN },
      sources: sources(),
    }));
  }, REAL_SETUP_TIMEOUT_MS + REAL_BROWSER_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await apache?.stop();
    await provider?.stop();
    await serve?.stop();
    await app?.close();
    ca?.remove();
    admin.cleanup();
    state.cleanup();
    if (workDir !== undefined && process.env.COOKIE_BRIDGE_KEEP_E2E_TMP === undefined) {
      rmSync(workDir, { recursive: true, force: true });
    }
  }, REAL_SETUP_TIMEOUT_MS);

  it(
    "an admin's token reaches the app as the robot (role user); revoked, serve refuses it; " +
      'a foreign-key or expired token is refused by Apache itself',
    async () => {
      const token = await createToken('ci');
      const robot = await robotCli(token, 'request', '/api/items?by=ci');
      const reached = app.log.filter((entry) => entry.url === '/api/items?by=ci');
      withDiagnostics({ cli: robot, sources: sources() }, () => {
        expect(robot.code).toBe(0);
        expect(JSON.parse(robot.stdout)).toMatchObject({ app: true, url: '/api/items?by=ci' });
        expect(reached.map((entry) => [entry.headers[IDENTITY], entry.headers[ROLE]])).toEqual([
          ['ci@service-accounts.invalid', 'user'],
        ]);
      });

      const revoke = await adminCli('api', 'service-account', 'revoke', 'ci');
      expect(revoke.code).toBe(0);
      const seen = app.log.length;
      const revoked = await getWithToken('/api/items?after=revoke', token);
      withDiagnostics({ sources: sources() }, () => {
        // Apache still takes the JWT (it knows nothing of revocation); serve refuses it before the app.
        expect(revoked.status).toBe(401);
        expect(JSON.parse(revoked.body)).toMatchObject({ error: 'token_invalid', reason: 'revoked' });
      });
      // serve's log line may come a moment after its answer.
      await pollUntil('serve logs the refusal', HTTP_REQUEST_TIMEOUT_MS, async () =>
        serveRefusals().length === 1 ? true : undefined,
      );
      expect(serveRefusals()).toEqual(['revoked']);
      const revokedCli = await robotCli(token, 'request', '/api/items?after=revoke-cli');
      withDiagnostics({ cli: revokedCli, sources: sources() }, () => {
        expect(revokedCli.code).toBe(4);
        expect(revokedCli.stderr).toContain(`${endpoint} refused the token (revoked)`);
        expect(revokedCli.stderr).not.toContain(token);
      });

      // A token signed by another serve's key (its own state dir), same issuer and audience.
      const otherDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-sa-other-'));
      try {
        const other = createAccountService({
          issuer,
          store: createFileAccountStateStore({ dir: join(otherDir, 'state') }),
        });
        const foreign = (await other.create({ name: 'ci', role: 'user', createdBy: 'intruder' })).token;
        // An expired token signed by serve's own key: the library on serve's state dir with a clock two days back.
        const past = Date.now() - 2 * 86_400_000;
        const backdated = createAccountService({
          issuer,
          store: createFileAccountStateStore({ dir: stateDir }),
          now: () => past,
        });
        const expired = (
          await backdated.create({ name: 'old', role: 'user', lifetimeMs: 3_600_000, createdBy: ADMIN })
        ).token;
        expect(kidOf(expired)).toBe(kidOf(token));

        for (const [label, bad] of [
          ['foreign key', foreign],
          ['expired', expired],
        ] as const) {
          const refused = await getWithToken(`/api/items?${label.replace(' ', '-')}`, bad);
          withDiagnostics({ sources: sources() }, () => {
            expect({ label, status: refused.status }).toEqual({ label, status: 401 });
            // Apache's own refusal (RFC 6750), not serve's JSON.
            expect(refused.headers['www-authenticate']).toMatch(/^Bearer\b.*invalid_token/);
            expect(refused.body).not.toContain('token_invalid');
          });
        }
      } finally {
        rmSync(otherDir, { recursive: true, force: true });
      }
      // Apache answered the last two without asking serve: serve logged no refusal after the CLI's (the
      // refusals are logged in order, so the CLI's is there once a third one would be).
      await pollUntil("serve logs the CLI run's refusal", HTTP_REQUEST_TIMEOUT_MS, async () =>
        serveRefusals().length >= 2 ? true : undefined,
      );
      withDiagnostics({ sources: sources() }, () => {
        expect(app.log.length).toBe(seen);
        expect(serveRefusals()).toEqual(['revoked', 'revoked']);
      });
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'a person without the admin role gets 403 through Apache: the CLI names them and who may',
    async () => {
      const bob = makeTempHome('cookie-bridge-sa-apache-bob-');
      try {
        const { env } = await loginThroughChromium({
          home: bob.home,
          workDir,
          name: 'sa-apache-bob',
          user: 'bob',
          endpoint,
          cliArgs: ['--cacert', ca.caFile],
          browserEnv: { CHROMIUM_BROWSER_TRUST_CERTS: certFile },
          expected: { identity: 'bob@example.com' },
          sources: sources(),
        });
        const create = await runCli(
          ['api', 'service-account', 'create', '--name', 'bobs-robot', '-e', endpoint],
          env,
        );
        const revoke = await runCli(['api', 'service-account', 'revoke', 'ci', '-e', endpoint], env);
        withDiagnostics({ cli: [create, revoke], sources: sources() }, () => {
          for (const run of [create, revoke]) {
            expect(run.code).toBe(10);
            expect(run.stderr).toContain('forbidden: bob@example.com is not an admin');
            expect(run.stderr).toContain(`hint: ask an admin: ${ADMIN}`);
            expect(run.stdout).toBe('');
          }
        });
        const listed = await adminCli('api', 'service-account', 'list', '--json');
        const names = (
          JSON.parse(listed.stdout) as { serviceAccounts: Array<{ name: string }> }
        ).serviceAccounts.map((account) => account.name);
        expect(names).not.toContain('bobs-robot');
      } finally {
        bob.cleanup();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'after rotate-key a token made before still passes Apache; one made after carries the new kid and passes too',
    async () => {
      const before = await createToken('before-rotation');
      const rotated = await adminCli('api', 'service-account', 'rotate-key', '--json');
      withDiagnostics({ cli: rotated, sources: sources() }, () => expect(rotated.code).toBe(0));
      const newKid = (JSON.parse(rotated.stdout) as { kid: string }).kid;
      const after = await createToken('after-rotation');
      expect(kidOf(before)).not.toBe(newKid);
      expect(kidOf(after)).toBe(newKid);

      // Both keys are published (through Apache, without a session).
      const jwks = await plainGet(`${issuer}/jwks`, { accept: 'application/json' }, { ca: ca.caPem });
      expect(jwks.status).toBe(200);
      const kids = (JSON.parse(jwks.body) as { keys: Array<{ kid: string }> }).keys.map((key) => key.kid);
      expect(kids).toEqual(expect.arrayContaining([kidOf(before), newKid]));

      for (const [name, token] of [
        ['before-rotation', before],
        ['after-rotation', after],
      ] as const) {
        const reply = await getWithToken(`/api/items?by=${name}`, token);
        const reached = app.log.filter((entry) => entry.url === `/api/items?by=${name}`);
        withDiagnostics({ sources: sources() }, () => {
          expect({ name, status: reply.status }).toEqual({ name, status: 200 });
          expect(reached.map((entry) => entry.headers[IDENTITY])).toEqual([
            `${name}@service-accounts.invalid`,
          ]);
        });
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});
