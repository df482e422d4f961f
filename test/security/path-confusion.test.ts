/**
 * Issue 8 items 1 and 5 through REAL proxies, with the README's recipes, all on loopback:
 *
 *   client ─▶ real nginx auth_request (+ the oauth2-proxy look-alike) ─┐
 *   client ─▶ real Apache + mod_auth_openidc (+ an OpenID provider) ───┼─▶ cookie-bridge serve (built CLI) ─▶ app
 *   client ─────────────────────────────────────────────────────────────┘   (direct: what a raw-forwarding proxy sends)
 *
 * The relay prefix is exempt from sign-in at both proxies. Every attack spelling of test/kit/path-confusion-cases.ts
 * goes through each proxy (and straight to serve) with a forged identity header, signed in and not, as HTTP and as
 * a WebSocket upgrade; the app's own request log (test/kit/recording-app.ts) must stay empty. Plain paths must still
 * arrive, unchanged. serve runs with `--trusted-proxy 10.0.0.0/8` (configured, never contacted: it excludes
 * 127.0.0.1) and `--proxy-secret-file`, which the proxies send: so a direct request's identity is removed, and the
 * proxies' identity passes only thanks to the secret.
 *
 * `npm test` builds dist/ first (run `npx tsc -p tsconfig.build.json` before running this file alone).
 * With CI=true a missing Debian component fails this suite; elsewhere it is skipped with a loud warning.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import { rawRequest, signInToLookalike, upgradeRequest, type RawResponse } from '../kit/hostile-kit';
import { PATH_CONFUSION_ATTACKS, PLAIN_PATHS, RELAY_SPELLINGS } from '../kit/path-confusion-cases';
import {
  apacheOidcRedirectUri,
  findFreePort,
  realComponentsAvailable,
  REAL_SETUP_TIMEOUT_MS,
  startApacheOidcProxy,
  startNginxAuthRequest,
  startOidcProvider,
  startServeSidecar,
  tail,
  type RunningComponent,
  type RunningOidcProvider,
  type ServeSidecar,
} from '../kit/real-components';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';

const describeReal = realComponentsAvailable() ? describe : describe.skip;

const IDENTITY = 'x-auth-request-email';
const FORGED = 'ceo@corp.example';
const USER = 'carol@example.com';
const SECRET_HEADER = 'X-Cookie-Bridge-Proxy-Secret';
const RELAY_PREFIX = '/cookie-bridge/relay/';
/** Exempt at Apache too, so plain paths can be shown to arrive without a browser sign-in at the provider. */
const PUBLIC_PREFIX = '/public/';

type Answer = RawResponse | { error: string; status?: undefined };

describeReal(
  'path confusion and the identity header, through real nginx and Apache (issue 8 items 1 and 5)',
  () => {
    let app: RecordingApp | undefined;
    let serve: ServeSidecar | undefined;
    let lookalike: OAuth2ProxyLookalike | undefined;
    let nginx: RunningComponent | undefined;
    let provider: RunningOidcProvider | undefined;
    let apache: RunningComponent | undefined;
    let secretDir: string | undefined;
    const secret = `s3cret-${process.pid}-${'x'.repeat(24)}`;

    /** Component logs, for a failure message. */
    const diagnostics = (): string =>
      [
        `app log: ${JSON.stringify(app?.log ?? [])}`,
        `--- serve ---\n${tail(serve?.logs() ?? '(not started)', 40)}`,
        `--- nginx ---\n${tail(nginx?.logs() ?? '(not started)', 30)}`,
        `--- apache2 ---\n${tail(apache?.logs() ?? '(not started)', 30)}`,
      ].join('\n');

    /** Asserts that nothing reached the app; on failure names what did and shows the answers and logs. */
    const expectNothingReachedApp = (answers: Array<[string, Answer | number]>): void => {
      const reached = app?.log ?? [];
      if (reached.length > 0) {
        const summary = answers
          .map(
            ([what, answer]) =>
              `${what} → ${typeof answer === 'number' ? answer : (answer.status ?? answer.error)}`,
          )
          .join('\n');
        throw new Error(
          `${reached.length} request(s) reached the app: ${reached.map((r) => `${r.method} ${r.url}`).join(', ')}\n` +
            `${summary}\n${diagnostics()}`,
        );
      }
      expect(reached).toEqual([]);
    };

    beforeAll(async () => {
      app = await startRecordingApp();
      secretDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-proxy-secret-'));
      const secretFile = join(secretDir, 'proxy-secret');
      writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
      serve = await startServeSidecar(app.url, [
        '--trusted-proxy',
        '10.0.0.0/8',
        '--proxy-secret-file',
        secretFile,
      ]);
      const proxySecret = { header: SECRET_HEADER, value: secret };
      lookalike = await startOAuth2ProxyLookalike({ upstream: serve.url });
      nginx = await startNginxAuthRequest({
        oauth2ProxyUrl: lookalike.url,
        upstream: serve.url,
        exemptPaths: [RELAY_PREFIX],
        proxySecret,
      });
      const apachePort = await findFreePort();
      const client = { client_id: 'path-confusion', client_secret: 'path-confusion-secret-0123456789' };
      provider = await startOidcProvider({
        clients: [{ ...client, redirect_uris: [apacheOidcRedirectUri(apachePort)] }],
      });
      apache = await startApacheOidcProxy({
        issuer: provider.issuer,
        clientId: client.client_id,
        clientSecret: client.client_secret,
        upstream: serve.url,
        port: apachePort,
        exemptPaths: [RELAY_PREFIX, PUBLIC_PREFIX],
        proxySecret,
      });
    }, REAL_SETUP_TIMEOUT_MS);

    afterAll(async () => {
      await apache?.stop();
      await provider?.stop();
      await nginx?.stop();
      await lookalike?.close();
      await serve?.stop();
      await app?.close();
      if (secretDir !== undefined) rmSync(secretDir, { recursive: true, force: true });
    }, REAL_SETUP_TIMEOUT_MS);

    beforeEach(() => {
      if (app !== undefined) app.log.length = 0;
    });

    const portOf = (component: { url: string } | undefined): number =>
      Number(new URL(component?.url ?? '').port);

    it('nginx: no attack spelling reaches the app, signed in or not, as HTTP or WebSocket', async () => {
      const session = await signInToLookalike(portOf(nginx), USER);
      const answers: Array<[string, Answer | number]> = [];
      for (const { path } of [...PATH_CONFUSION_ATTACKS, ...RELAY_SPELLINGS]) {
        for (const cookie of [undefined, session]) {
          const headers = { [IDENTITY]: FORGED, ...(cookie === undefined ? {} : { cookie }) };
          for (const method of ['GET', 'POST']) {
            answers.push([
              `${method} ${path} (session: ${cookie !== undefined})`,
              await rawRequest(portOf(nginx), { method, path, headers }),
            ]);
          }
          answers.push([`upgrade ${path}`, await upgradeRequest(portOf(nginx), path, headers)]);
        }
      }
      expectNothingReachedApp(answers);
      // Signed in, the proxy forwards the raw path and serve refuses it (400), rather than nginx stopping it.
      expect(answers.some(([, answer]) => typeof answer !== 'number' && answer.status === 400)).toBe(true);
    });

    it("nginx's relay location (proxy_pass with a URI part) forwards the normalised path, not the raw one", async () => {
      // nginx matches /graphql/%2e%2e/cookie-bridge/relay/info as the relay location: serve must get
      // /cookie-bridge/relay/info (its own {"relay":1}), not the raw spelling the app would read as /graphql.
      const answer = await rawRequest(portOf(nginx), {
        path: '/graphql/%2e%2e/cookie-bridge/relay/info',
        headers: { [IDENTITY]: FORGED },
      });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.status === 200 ? answer.body : '{}')).toEqual({ relay: 1 });
      expectNothingReachedApp([['GET /graphql/%2e%2e/cookie-bridge/relay/info', answer]]);
    });

    it('Apache: no attack spelling reaches the app, as HTTP or WebSocket', async () => {
      const answers: Array<[string, Answer | number]> = [];
      for (const { path } of [...PATH_CONFUSION_ATTACKS, ...RELAY_SPELLINGS]) {
        const headers = { [IDENTITY]: FORGED };
        for (const method of ['GET', 'POST']) {
          answers.push([`${method} ${path}`, await rawRequest(portOf(apache), { method, path, headers })]);
        }
        answers.push([`upgrade ${path}`, await upgradeRequest(portOf(apache), path, headers)]);
      }
      expectNothingReachedApp(answers);
    });

    it('serve on its own (what a raw-forwarding proxy such as oauth2-proxy hands it): 400 or its own answer', async () => {
      const answers: Array<[string, Answer | number]> = [];
      for (const { path } of PATH_CONFUSION_ATTACKS) {
        const answer = await rawRequest(portOf(serve), {
          method: 'POST',
          path,
          headers: { [IDENTITY]: FORGED },
        });
        answers.push([`POST ${path}`, answer]);
        expect([path, answer.status]).toEqual([path, 400]);
        answers.push([`upgrade ${path}`, await upgradeRequest(portOf(serve), path, { [IDENTITY]: FORGED })]);
      }
      for (const { path } of RELAY_SPELLINGS) {
        answers.push([
          `GET ${path}`,
          await rawRequest(portOf(serve), { path, headers: { [IDENTITY]: FORGED } }),
        ]);
      }
      expectNothingReachedApp(answers);
    });

    it('nginx: plain paths still arrive unchanged, with the signed-in identity and without the secret', async () => {
      const session = await signInToLookalike(portOf(nginx), USER);
      for (const { path } of PLAIN_PATHS) {
        const answer = await rawRequest(portOf(nginx), {
          path,
          headers: { cookie: session, [IDENTITY]: FORGED },
        });
        expect([path, answer.status]).toEqual([path, 200]);
      }
      expect(app?.log.map((entry) => entry.url)).toEqual(PLAIN_PATHS.map((c) => c.path));
      for (const entry of app?.log ?? []) {
        expect(entry.headers[IDENTITY]).toBe(USER);
        expect(entry.headers[SECRET_HEADER.toLowerCase()]).toBeUndefined();
      }
    });

    it('Apache: plain paths under an exempt prefix still arrive, without an identity or the secret', async () => {
      const paths = [
        '/public/graphql',
        '/public/files/v1.2.3/..hidden/archive..tar',
        '/public/q?query=%7Bme%7D',
      ];
      for (const path of paths) {
        const answer = await rawRequest(portOf(apache), { path, headers: { [IDENTITY]: FORGED } });
        expect([path, answer.status]).toEqual([path, 200]);
      }
      expect(app?.log.map((entry) => entry.url)).toEqual(paths);
      for (const entry of app?.log ?? []) {
        expect(entry.headers[IDENTITY]).toBeUndefined();
        expect(entry.headers[SECRET_HEADER.toLowerCase()]).toBeUndefined();
      }
    });

    it('a direct request (untrusted address, no secret) carries no identity to the app or to /api/health', async () => {
      const wrong = { [SECRET_HEADER]: `${secret}x` };
      const whoami = await rawRequest(portOf(serve), { path: '/graphql', headers: { [IDENTITY]: FORGED } });
      const withWrongSecret = await rawRequest(portOf(serve), {
        path: '/graphql',
        headers: { [IDENTITY]: FORGED, ...wrong },
      });
      const health = await rawRequest(portOf(serve), {
        path: '/api/health',
        headers: { [IDENTITY]: FORGED },
      });
      expect([whoami.status, withWrongSecret.status, health.status]).toEqual([200, 200, 200]);
      expect(JSON.parse(health.status === 200 ? health.body : '{}')).toEqual({ status: 'ok', user: null });
      expect(app?.log.map((entry) => [entry.url, entry.headers[IDENTITY]])).toEqual([
        ['/graphql', undefined],
        ['/graphql', undefined],
        ['/api/health', undefined],
      ]);
      for (const entry of app?.log ?? []) expect(entry.headers[SECRET_HEADER.toLowerCase()]).toBeUndefined();

      // Through nginx (which adds the secret) the signed-in identity is believed, also by /api/health.
      const session = await signInToLookalike(portOf(nginx), USER);
      const viaProxy = await rawRequest(portOf(nginx), {
        path: '/api/health',
        headers: { cookie: session, [IDENTITY]: FORGED },
      });
      expect(JSON.parse(viaProxy.status === 200 ? viaProxy.body : '{}')).toEqual({
        status: 'ok',
        user: USER,
      });
    });
  },
);
