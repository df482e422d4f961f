// Issue 12: 200 relay logins at once across three replicas of the built `cookie-bridge serve`, sharing one real
// redis-server. Each login is driven over HTTP the way the CLI and the auth proxy would, every call to a replica
// chosen at random: register → the /token?relay page (as the proxy sends it: the identity header, from a trusted
// loopback address) → the confirm POST with the typed code and the page's form token → claims racing on all
// three replicas at once.
//
// Bounds: serve allows 10 pending logins per source address and 5 unclaimed bundles per identity. The source is
// the address of the connection the replica accepted (no proxy in between here), so each login's register and
// claims go out from its own loopback address, 127.0.0.2 to 127.0.0.41 (five logins each): the store's bound is
// exercised as deployed rather than bypassed by a forged X-Forwarded-For, which serve believes only from a
// trusted proxy. Each login has its own identity.
import Redis from 'ioredis';

import { withDiagnostics, type LogSource } from '../kit/e2e-diagnostics';
import { pollUntil } from '../kit/poll-until';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';
import {
  realComponentsAvailable,
  REAL_SETUP_TIMEOUT_MS,
  startRedisServer,
  type RunningRedisServer,
  type ServeSidecar,
} from '../kit/real-components';
import {
  claimRelay,
  newRelayHttpLogin,
  openRelayPage,
  postRelayConfirm,
  registerRelay,
  relayConfirmFields,
  askUntilAnswered,
  type AnsweredReply,
  type HttpReply,
  type RelayHttpLogin,
} from '../kit/relay-http-login';
import { startServeReplicas, stopServeReplicas, waitForReplicaLog } from '../kit/serve-replicas';
import {
  CONCURRENT_LOAD_TIMEOUT_MS,
  REDIS_RECOVERY_WAIT_MS,
  scaled,
} from '../../fixtures/real-components/budgets';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const LOGINS = 200;
const SOURCE_ADDRESSES = 40;
const PREFIX = 'replicas-load:relay:';
/** serve's --relay-ttl here: long enough for 200 logins on a busy machine, short enough to wait out. */
const RELAY_TTL_S = Math.round(scaled(30_000) / 1000);
const TEST_TIMEOUT_MS = CONCURRENT_LOAD_TIMEOUT_MS * 2 + RELAY_TTL_S * 1000 + REDIS_RECOVERY_WAIT_MS;

/** A claim, asked again while it answers 503, as the CLI does. */
async function claimUntilAnswered(base: string, login: RelayHttpLogin): Promise<HttpReply> {
  return (await askUntilAnswered('claim', () => claimRelay(base, login))).reply;
}

/** `expected` when the step answered it, or answered 409 after a 503 (Redis ran the first try after all). */
function answeredAs(answer: AnsweredReply, expected: number): number {
  return answer.retried && answer.reply.status === 409 ? expected : answer.reply.status;
}

describeReal('200 relay logins at once across three serve replicas sharing one Redis', () => {
  let redis: RunningRedisServer | undefined;
  let app: RecordingApp | undefined;
  let client: Redis | undefined;
  const replicas: ServeSidecar[] = [];
  const sources = (): LogSource[] => [
    ...replicas.map((replica, i) => ({ name: `serve replica ${i}`, logs: () => replica.logs() })),
    { name: 'redis-server', logs: () => redis?.logs() ?? '(not started)' },
  ];
  const pick = (): ServeSidecar => replicas[Math.floor(Math.random() * replicas.length)]!;

  beforeAll(async () => {
    redis = await startRedisServer();
    app = await startRecordingApp();
    replicas.push(
      ...(await startServeReplicas(3, app.url, [
        '--relay-store',
        redis.url,
        '--relay-store-prefix',
        PREFIX,
        '--relay-ttl',
        String(RELAY_TTL_S),
      ])),
    );
    for (const replica of replicas) await waitForReplicaLog(replica, /relay store: .*: connected/);
    client = new Redis(redis.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    client?.disconnect();
    await stopServeReplicas(replicas);
    await app?.close();
    await redis?.stop();
  }, REAL_SETUP_TIMEOUT_MS);

  /** Every key under the prefix with its PTTL (-1: no TTL; -2: gone since the scan). */
  async function keysWithTtl(): Promise<Map<string, number>> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client!.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    const pipeline = client!.pipeline();
    for (const key of keys) pipeline.pttl(key);
    const ttls = (await pipeline.exec()) ?? [];
    return new Map(keys.map((key, i) => [key, Number(ttls[i]?.[1])]));
  }

  /** Keys alive without a TTL (the confirm form's key excepted: it is meant to stay, docs/serve.md). */
  async function keysWithoutTtl(): Promise<string[]> {
    const keys = await keysWithTtl();
    return [...keys].filter(([key, ttl]) => key !== `${PREFIX}form-key` && ttl === -1).map(([key]) => key);
  }

  it(
    'each bundle is claimed exactly once, the losers get 410/404, every key has a TTL, and nothing is left after it',
    async () => {
      const logins = Array.from({ length: LOGINS }, (_, i) =>
        newRelayHttpLogin(i, `127.0.0.${2 + (i % SOURCE_ADDRESSES)}`),
      );

      // 1. Register, all at once.
      // Under load a step may answer 503 (the store slower than serve's command timeout): it is sent again, and a
      // register or confirm that Redis ran after all then answers 409, which is accepted only after a 503.
      const registered = await Promise.all(
        logins.map((login) => askUntilAnswered('register', () => registerRelay(pick().url, login))),
      );
      const afterRegister = await keysWithTtl();
      const withoutTtlAfterRegister = await keysWithoutTtl();

      // 2. The /token?relay page, then the confirm form with the typed code, each on a random replica.
      const confirmed = await Promise.all(
        logins.map(async (login) => {
          const page = (await askUntilAnswered('page', () => openRelayPage(pick().url, login))).reply;
          const fields = relayConfirmFields(page.body);
          const confirm = await askUntilAnswered('confirm', () =>
            postRelayConfirm(pick().url, login, page.body),
          );
          return {
            page: page.status,
            fields: Object.keys(fields).sort(),
            confirm: answeredAs(confirm, 200),
          };
        }),
      );
      const withoutTtlAfterConfirm = await keysWithoutTtl();

      // 3. Claims racing on all three replicas at once, then one more try each. A claim answered 503 (the store
      // slower than serve's command timeout on a busy machine) is asked again, as the CLI does.
      const claims = await Promise.all(
        logins.map((login) => Promise.all(replicas.map((replica) => claimUntilAnswered(replica.url, login)))),
      );
      const withoutTtlAfterClaim = await keysWithoutTtl();
      const again = await Promise.all(logins.map((login) => claimUntilAnswered(pick().url, login)));

      withDiagnostics({ sources: sources() }, () => {
        expect(registered.filter((answer) => answeredAs(answer, 201) !== 201)).toEqual([]);
        // Every login left keys behind while pending (entry, source and totals sets), all with a TTL.
        expect(afterRegister.size).toBeGreaterThanOrEqual(LOGINS);
        expect(withoutTtlAfterRegister).toEqual([]);
        expect(confirmed.filter((c) => c.page !== 200 || c.confirm !== 200)).toEqual([]);
        expect(new Set(confirmed.map((c) => c.fields.join(',')))).toEqual(
          new Set(['challenge,form_token,state']),
        );
        expect(withoutTtlAfterConfirm).toEqual([]);
        expect(withoutTtlAfterClaim).toEqual([]);

        logins.forEach((login, i) => {
          const replies = claims[i]!;
          const winners = replies.filter((reply) => reply.status === 200);
          expect({ login: i, winners: winners.length }).toEqual({ login: i, winners: 1 });
          const losers = replies.filter((reply) => reply.status !== 200);
          expect(losers.filter((reply) => reply.status !== 404 && reply.status !== 410)).toEqual([]);
          // The winner got this login's own sign-in: its state, identity and session cookie.
          const bundle = decodeCookieBundle((JSON.parse(winners[0]!.body) as { bundle: string }).bundle);
          expect(bundle.state).toBe(login.state);
          expect(bundle.user).toBe(login.email);
          expect(bundle.cookies).toEqual([{ name: '_oauth2_proxy', value: login.session }]);
          expect({ login: i, again: [404, 410].includes(again[i]!.status) }).toEqual({
            login: i,
            again: true,
          });
        });
        // Every replica took registrations (the picks are random: 200 of them miss one with odds of 3·(2/3)^200).
        for (const replica of replicas)
          expect(replica.logs()).toContain('relay: a sign-in request was registered');
        // The app behind serve never saw a relay path or the /token page.
        expect(app!.log.filter((request) => /relay|token/.test(request.url))).toEqual([]);
      });

      // 4. After the TTL nothing is left but the confirm form's key (kept on purpose, docs/serve.md).
      const left = await pollUntil(
        'relay keys expiring in Redis',
        RELAY_TTL_S * 1000 + REDIS_RECOVERY_WAIT_MS,
        async () => {
          const keys = [...(await keysWithTtl()).keys()];
          return keys.every((key) => key === `${PREFIX}form-key`) ? keys : undefined;
        },
      );
      expect(left).toEqual([`${PREFIX}form-key`]);
    },
    TEST_TIMEOUT_MS,
  );
});
