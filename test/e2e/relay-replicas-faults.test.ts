// Issue 12, the shared relay store under faults, with replicas of the built `cookie-bridge serve` and a real
// redis-server (appendonly, so a restart keeps pending logins) in front of a recording app:
//   (a) Redis stopped while logins are pending: the relay routes answer 503 relay_store_unavailable, proxying
//       and the plain /token page go on, a waiting `api login --relay` says so and keeps waiting; Redis restarted
//       on the same port → a login confirmed before the fault is claimed, without restarting serve;
//   (b) Redis unreachable when serve starts: serve starts and says so, relay routes 503; Redis comes up on that
//       port → relay logins work without a restart;
//   (c) a slow Redis (CLIENT PAUSE): relay calls answer 503 while it is paused (had they waited for it, they
//       would have succeeded), proxying goes on.
// The app's own log shows no relay path and no /token ever reached it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { cliEnv, makeTempHome, startCli } from '../kit/cli-runner';
import { jsonOf, withDiagnostics, type LogSource } from '../kit/e2e-diagnostics';
import { settleWithin } from '../kit/poll-until';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';
import {
  findFreePort,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_SETUP_TIMEOUT_MS,
  REDIS_PAUSE_MS,
  REDIS_RECOVERY_WAIT_MS,
  startRedisServer,
  type RunningRedisServer,
  type ServeSidecar,
} from '../kit/real-components';
import {
  askUntilAnswered,
  claimRelay,
  newRelayHttpLogin,
  openRelayPage,
  postRelayConfirm,
  registerRelay,
  sendRequest,
  type HttpReply,
  type RelayHttpLogin,
} from '../kit/relay-http-login';
import { startServeReplicas, stopServeReplicas, waitForReplicaLog } from '../kit/serve-replicas';
import { CLIENT_TOOL_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { RELAY_STORE_OUTAGE_NOTICE } from '../../src/login/relay-client';
import { RELAY_STORE_UNAVAILABLE_PAGE_MESSAGE } from '../../src/server/relay-store-unavailable';

const execFileAsync = promisify(execFile);
const describeReal = realComponentsAvailable() ? describe : describe.skip;
const PREFIX = 'replicas-faults:relay:';
const CONNECTED = /relay store: redis:\/\/127\.0\.0\.1:\d+\/? \(prefix [^)]+\): connected/;
const UNREACHABLE =
  /relay store: redis:\/\/127\.0\.0\.1:\d+\/? \(prefix [^)]+\): unreachable: relay sign-ins answer 503 until it is back; proxying and \/token work/;
/** A fault test: start, a fault, a recovery bounded by REDIS_RECOVERY_WAIT_MS, a login. */
const FAULT_TEST_TIMEOUT_MS = REAL_SETUP_TIMEOUT_MS + REDIS_RECOVERY_WAIT_MS;

/** A replica's line once its store answers again (after a loss, or after it could not connect at start). */
const RECONNECTED = /^(?:debug: )?relay store redis:\/\/\S+: connected(?: again)?$/m;

const storeArgs = (redisUrl: string): string[] => ['--relay-store', redisUrl, '--relay-store-prefix', PREFIX];

/** 503 relay_store_unavailable as JSON, with Retry-After: the answer of register and claim to the CLI. */
function expectStoreUnavailableJson(reply: HttpReply): void {
  expect({ status: reply.status, retryAfter: reply.headers['retry-after'] }).toEqual({
    status: 503,
    retryAfter: expect.stringMatching(/^\d+$/) as unknown,
  });
  expect(JSON.parse(reply.body)).toMatchObject({ error: 'relay_store_unavailable' });
}

/** 503 with the "reload in a few seconds" page: the answer of the /token?relay page and its confirm. */
function expectStoreUnavailablePage(reply: HttpReply): void {
  expect(reply.status).toBe(503);
  expect(reply.body).toContain(RELAY_STORE_UNAVAILABLE_PAGE_MESSAGE.split(' (')[0]);
  expect(reply.body).not.toContain('relay-confirm-form');
}

/** A plain request through serve to the app, and the plain /token page: both must go on during a fault. */
async function expectProxyingAndTokenWork(base: string, login: RelayHttpLogin): Promise<void> {
  const proxied = await sendRequest(`${base}/api/items`);
  expect(proxied.status).toBe(200);
  expect(JSON.parse(proxied.body)).toMatchObject({ app: true });
  const token = await sendRequest(`${base}/token`, {
    headers: {
      accept: 'text/html',
      cookie: `_oauth2_proxy=${login.session}`,
      'x-auth-request-email': login.email,
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
    },
  });
  expect(token.status).toBe(200);
  expect(token.body).toContain('<textarea id="bundle"');
}

/** register → page → confirm; returns the confirm's status. */
async function registerAndConfirm(register: string, page: string, login: RelayHttpLogin): Promise<number[]> {
  const registered = await registerRelay(register, login);
  const shown = await openRelayPage(page, login);
  const confirmed = await postRelayConfirm(page, login, shown.body);
  return [registered.status, shown.status, confirmed.status];
}

/** `redis-cli -p PORT …` against the test's own redis-server. */
function redisCli(redis: RunningRedisServer, ...args: string[]): Promise<{ stdout: string }> {
  return execFileAsync('redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), ...args], {
    timeout: CLIENT_TOOL_TIMEOUT_MS,
  });
}

describeReal('serve replicas and their shared Redis relay store under faults', () => {
  let app: RecordingApp | undefined;
  let redis: RunningRedisServer | undefined;
  const replicas: ServeSidecar[] = [];
  const sources = (): LogSource[] => [
    ...replicas.map((replica, i) => ({ name: `serve replica ${i}`, logs: () => replica.logs() })),
    { name: 'redis-server', logs: () => redis?.logs() ?? '(not started)' },
  ];

  beforeAll(async () => {
    app = await startRecordingApp();
  });
  afterEach(async () => {
    await stopServeReplicas(replicas);
    await redis?.stop();
    redis = undefined;
  }, REAL_SETUP_TIMEOUT_MS);
  afterEach(() => {
    // No relay request and no /token page ever reached the app, whatever the fault.
    expect(app?.log.filter((request) => /relay|token/i.test(request.url))).toEqual([]);
  });
  afterAll(async () => {
    await app?.close();
  });

  it(
    '(a) Redis stopped while logins wait: 503 relay_store_unavailable, proxying goes on, the CLI keeps waiting; ' +
      'after a restart a login confirmed before the fault is claimed, serve never restarted',
    async () => {
      redis = await startRedisServer();
      replicas.push(...(await startServeReplicas(2, app!.url, storeArgs(redis.url))));
      const [a, b] = [replicas[0]!, replicas[1]!];
      for (const replica of replicas) await waitForReplicaLog(replica, CONNECTED);
      const pids = replicas.map((replica) => replica.pid);

      // A waiting `api login --relay` on replica A; the test confirms its code on replica B's page while the CLI
      // is stopped (SIGSTOP), so the claim is still to come when Redis goes away.
      const home = makeTempHome('cookie-bridge-faults-cli-');
      const cli = startCli(
        [
          'api',
          'login',
          '-e',
          a.url,
          '--relay',
          '--no-browser',
          '--json',
          '--timeout',
          REAL_CLI_LOGIN_TIMEOUT_S,
        ],
        cliEnv(home.home),
      );
      try {
        const [printed] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
        const code = (await cli.waitForStderr(/Confirmation code: (\S+)/))[1] ?? '';
        cli.child.kill('SIGSTOP');
        const url = new URL(printed);
        const cliLogin: RelayHttpLogin = {
          ...newRelayHttpLogin(1),
          challenge: url.searchParams.get('relay') ?? '',
          state: url.searchParams.get('state') ?? '',
          code,
        };
        const shown = await openRelayPage(b.url, cliLogin);
        const cliConfirm = await postRelayConfirm(b.url, cliLogin, shown.body);
        // A second login, driven over HTTP: confirmed before the fault, claimed after it.
        const early = newRelayHttpLogin(2);
        const earlySteps = await registerAndConfirm(a.url, b.url, early);
        // One more that only registered: pending through the fault.
        const pending = newRelayHttpLogin(3);
        const pendingRegister = await registerRelay(b.url, pending);

        await redis.halt();
        cli.child.kill('SIGCONT');
        const fresh = newRelayHttpLogin(4);
        const duringRegister = await registerRelay(a.url, fresh);
        const duringClaim = await claimRelay(b.url, early);
        const duringPage = await openRelayPage(a.url, pending);
        const duringConfirm = await postRelayConfirm(a.url, pending, shown.body);
        await cli.waitForStderr(new RegExp(RELAY_STORE_OUTAGE_NOTICE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

        withDiagnostics({ sources: sources(), cli: [] }, () => {
          expect(shown.status).toBe(200);
          expect(cliConfirm.status).toBe(200);
          expect(earlySteps).toEqual([201, 200, 200]);
          expect(pendingRegister.status).toBe(201);
          expectStoreUnavailableJson(duringRegister);
          expectStoreUnavailableJson(duringClaim);
          expectStoreUnavailablePage(duringPage);
          expectStoreUnavailablePage(duringConfirm);
        });
        await expectProxyingAndTokenWork(a.url, fresh);
        await expectProxyingAndTokenWork(b.url, fresh);
        expect(cli.child.exitCode).toBeNull();

        await redis.restart();
        const result = await cli.result;
        const claimedAfter = (
          await askUntilAnswered('the early login claimed after the restart', () => claimRelay(a.url, early))
        ).reply;
        await waitForReplicaLog(b, /connected again/);
        const pageAfter = await openRelayPage(b.url, pending);
        withDiagnostics({ sources: sources(), cli: result }, () => {
          expect(result.code).toBe(0);
          expect(jsonOf(result)).toMatchObject({ ok: true, via: 'relay' });
          expect(result.stderr.split(RELAY_STORE_OUTAGE_NOTICE).length - 1).toBe(1);
          expect(claimedAfter.status).toBe(200);
          expect(JSON.parse(claimedAfter.body)).toHaveProperty('bundle');
          // The pending one survived the restart too: its page still offers the confirm form.
          expect(pageAfter.status).toBe(200);
          expect(pageAfter.body).toContain('relay-confirm-form');
          // The same serve processes throughout, and each said the store was lost and back.
          expect(replicas.map((replica) => replica.pid)).toEqual(pids);
          expect(replicas.every((replica) => replica.running())).toBe(true);
        });
      } finally {
        cli.child.kill('SIGCONT');
        if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
        await cli.result;
        home.cleanup();
      }
    },
    FAULT_TEST_TIMEOUT_MS + REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    '(b) Redis unreachable when serve starts: serve starts and says so, relay routes 503; Redis comes up → relay works, no restart',
    async () => {
      const port = await findFreePort();
      replicas.push(...(await startServeReplicas(2, app!.url, storeArgs(`redis://127.0.0.1:${port}`))));
      const [a, b] = [replicas[0]!, replicas[1]!];
      for (const replica of replicas) await waitForReplicaLog(replica, UNREACHABLE);
      const pids = replicas.map((replica) => replica.pid);
      const login = newRelayHttpLogin(5);
      const before = await registerRelay(a.url, login);
      const claimBefore = await claimRelay(b.url, login);
      withDiagnostics({ sources: sources() }, () => {
        expectStoreUnavailableJson(before);
        expectStoreUnavailableJson(claimBefore);
      });
      await expectProxyingAndTokenWork(a.url, login);

      redis = await startRedisServer({ port });
      for (const replica of replicas) await waitForReplicaLog(replica, RECONNECTED);
      const registered = (
        await askUntilAnswered('register answered once Redis is up', () => registerRelay(a.url, login))
      ).reply;
      const shown = await openRelayPage(b.url, login);
      const confirmed = await postRelayConfirm(b.url, login, shown.body);
      const claimed = (await askUntilAnswered('claim answered on replica B', () => claimRelay(b.url, login)))
        .reply;
      withDiagnostics({ sources: sources() }, () => {
        expect(registered.status).toBe(201);
        expect([shown.status, confirmed.status]).toEqual([200, 200]);
        expect(claimed.status).toBe(200);
        expect(replicas.map((replica) => replica.pid)).toEqual(pids);
      });
    },
    FAULT_TEST_TIMEOUT_MS,
  );

  it(
    '(c) a slow Redis (CLIENT PAUSE): relay calls answer 503 while it is paused instead of hanging; proxying goes on',
    async () => {
      redis = await startRedisServer();
      replicas.push(...(await startServeReplicas(2, app!.url, storeArgs(redis.url))));
      const [a, b] = [replicas[0]!, replicas[1]!];
      for (const replica of replicas) await waitForReplicaLog(replica, CONNECTED);
      const confirmedEarly = newRelayHttpLogin(6);
      expect(await registerAndConfirm(a.url, b.url, confirmedEarly)).toEqual([201, 200, 200]);

      await redisCli(redis, 'CLIENT', 'PAUSE', String(REDIS_PAUSE_MS), 'ALL');
      const paused = newRelayHttpLogin(7);
      // Each answer must come while Redis is still paused: one that waited for the pause would be a 201/200.
      const [register, claim, page] = await settleWithin(
        'relay calls while Redis is paused',
        REDIS_PAUSE_MS,
        Promise.all([
          registerRelay(a.url, paused),
          claimRelay(b.url, confirmedEarly),
          openRelayPage(a.url, paused),
        ]),
      );
      const proxied = await sendRequest(`${b.url}/api/items`);
      await redisCli(redis, 'CLIENT', 'UNPAUSE');

      withDiagnostics({ sources: sources() }, () => {
        expectStoreUnavailableJson(register);
        expectStoreUnavailableJson(claim);
        expectStoreUnavailablePage(page);
        expect(proxied.status).toBe(200);
      });
      // Once Redis answers again, the login confirmed before the pause is claimed, once.
      const claimed = (
        await askUntilAnswered('claim after the pause', () => claimRelay(a.url, confirmedEarly))
      ).reply;
      expect(claimed.status).toBe(200);
      expect([404, 410]).toContain((await claimRelay(b.url, confirmedEarly)).status);
    },
    FAULT_TEST_TIMEOUT_MS,
  );
});
