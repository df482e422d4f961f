/**
 * The Redis relay store when Redis fails: down at start, lost and restarted (with persistence), slow (CLIENT
 * PAUSE), a wrong password, an ACL user, TLS with a private CA. No call may hang, no password may show.
 */
import { Redis } from 'ioredis';

import {
  REDIS_CALL_SETTLE_MS,
  REDIS_FAULT_COMMAND_TIMEOUT_MS,
  REDIS_PAUSE_MS,
  REDIS_RECOVERY_WAIT_MS,
} from '../../fixtures/real-components/budgets';
import { createRedisRelayStore, type RedisRelayStoreOptions } from '../../src/server/redis-relay-store';
import { RelayStoreUnavailableError, type RelayStore } from '../../src/server/relay-store';
import { recordingLogger } from '../kit/in-process-login';
import { pollUntil, settleWithin } from '../kit/poll-until';
import {
  createTestCa,
  findFreePort,
  REAL_COMPONENT_PATHS,
  RELAY_STORE_ACL_RULES,
  requireComponent,
  startRedisServer,
  type RunningRedisServer,
  type TestCa,
} from '../kit/real-components';
import { A, B, CODE, ok, reg } from '../kit/relay-store-contract';

const describeWithRedis =
  requireComponent('redis-server', REAL_COMPONENT_PATHS.redisServer) &&
  requireComponent('openssl', REAL_COMPONENT_PATHS.openssl)
    ? describe
    : describe.skip;

const PASSWORD = 'default-s3cret-pw';
const ACL_PASSWORD = 'acl-s3cret-pw';
const WRONG = 'wrong-s3cret-pw';

/** The rejection of a store call that must not hang: settles within the budget, as RelayStoreUnavailableError. */
async function unavailable(call: Promise<unknown>): Promise<RelayStoreUnavailableError> {
  const error = await settleWithin('store call', REDIS_CALL_SETTLE_MS, call).then(
    (value) => new Error(`resolved instead: ${JSON.stringify(value)}`),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RelayStoreUnavailableError);
  return error as RelayStoreUnavailableError;
}

/** Everything a rejection could show: message, cause message, stack. */
const shown = (error: Error): string =>
  [error.message, error.stack, error.cause instanceof Error ? error.cause.message : String(error.cause)].join(
    '\n',
  );

describeWithRedis('the Redis relay store under faults (real redis-server)', () => {
  const servers: RunningRedisServer[] = [];
  const stores: RelayStore[] = [];
  let ca: TestCa | undefined;
  const open = (options: RedisRelayStoreOptions) => {
    const store = createRedisRelayStore({ commandTimeoutMs: REDIS_FAULT_COMMAND_TIMEOUT_MS, ...options });
    stores.push(store);
    return store;
  };
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close?.()));
    await Promise.all(servers.map((server) => server.stop()));
    ca?.remove();
  });

  it('down at start: ready() is false, calls reject at once; redis-server started later is used without a new store', async () => {
    const port = await findFreePort();
    const logger = recordingLogger();
    const store = open({ url: `redis://127.0.0.1:${port}`, logger });
    expect(await settleWithin('ready()', REDIS_CALL_SETTLE_MS, store.ready())).toBe(false);
    const error = await unavailable(store.register(A, reg));
    expect(error.message).toContain(`redis://127.0.0.1:${port}`);
    expect(error.code).toBe('E_RELAY_STORE_UNAVAILABLE');
    await unavailable(store.lookup(A));
    await unavailable(store.confirm(A, ok('cb1.a')));
    await unavailable(store.claim(A));
    await unavailable(store.formKey?.() ?? Promise.resolve());

    const redis = await startRedisServer({ port });
    servers.push(redis);
    expect(
      await pollUntil('the store reconnected', REDIS_RECOVERY_WAIT_MS, async () => store.register(A, reg)),
    ).toBe('registered');
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    expect(logger.lines.filter((line) => line.startsWith('warn:'))).toEqual([
      expect.stringMatching(/^warn: relay store redis:\/\/127\.0\.0\.1:\d+: cannot connect/),
    ]);
    expect(logger.lines.filter((line) => line.startsWith('info:'))).toEqual([
      expect.stringMatching(/^info: relay store redis:\/\/127\.0\.0\.1:\d+: connected again/),
    ]);
  });

  it('lost mid-way: calls reject while down; after a restart a confirmed login is still claimable (appendonly)', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const logger = recordingLogger();
    const store = open({ url: redis.url, logger });
    expect(await store.ready()).toBe(true);
    await store.register(A, reg);
    expect(await store.confirm(A, ok('cb1.survives'))).toEqual({ status: 'confirmed' });
    await store.register(B, reg);

    await redis.halt();
    await unavailable(store.claim(A));
    await unavailable(store.register(B, reg));
    await redis.restart();

    const claim = await pollUntil('claim after the restart', REDIS_RECOVERY_WAIT_MS, () => store.claim(A));
    expect(claim).toEqual({ status: 'ready', bundle: 'cb1.survives' });
    expect(await store.claim(A)).toEqual({ status: 'ended', reason: 'claimed' });
    expect(await store.lookup(B)).toMatchObject({ status: 'pending' });
    expect(logger.lines.filter((line) => line.startsWith('warn:'))).toEqual([
      expect.stringMatching(/^warn: relay store .*: connection lost/),
    ]);
    expect(logger.lines.filter((line) => line.startsWith('info:'))).toEqual([
      expect.stringMatching(/^info: relay store .*: connected again/),
    ]);
  });

  it('slow Redis (CLIENT PAUSE from another connection): a call rejects after the command timeout', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const store = open({ url: redis.url });
    expect(await store.ready()).toBe(true);
    await store.register(A, reg);
    const admin = new Redis(redis.url, { lazyConnect: true });
    try {
      await admin.connect();
      await admin.call('CLIENT', 'PAUSE', String(REDIS_PAUSE_MS), 'ALL');
      // Were the call waiting for Redis, it would answer 'pending' once the pause ends, not reject.
      const error = await unavailable(store.claim(A));
      expect(error.message).toMatch(/timed out|no answer within/i);
      // After the pause the same store answers again.
      expect(
        await pollUntil('answers after the pause', REDIS_RECOVERY_WAIT_MS, () => store.claim(A)),
      ).toEqual({
        status: 'pending',
      });
    } finally {
      admin.disconnect();
    }
  });

  it('a claim that timed out on a paused Redis does not run later: the bundle is still there for the next claim', async () => {
    const redis = await startRedisServer();
    servers.push(redis);
    const store = open({ url: redis.url });
    expect(await store.ready()).toBe(true);
    await store.register(A, reg);
    expect(await store.confirm(A, ok('cb1.kept'))).toEqual({ status: 'confirmed' });
    const admin = new Redis(redis.url, { lazyConnect: true });
    try {
      await admin.connect();
      await admin.call('CLIENT', 'PAUSE', String(REDIS_PAUSE_MS), 'ALL');
      // serve answers this claim 503 and the CLI asks again: had the timed-out command stayed queued on the
      // connection, Redis would run it when the pause ends and the bundle would be gone, unseen.
      await unavailable(store.claim(A));
      await admin.call('CLIENT', 'UNPAUSE');
      expect(
        await pollUntil('answers after the pause', REDIS_RECOVERY_WAIT_MS, () => store.claim(A)),
      ).toEqual({ status: 'ready', bundle: 'cb1.kept' });
      expect(await store.claim(A)).toEqual({ status: 'ended', reason: 'claimed' });
    } finally {
      admin.disconnect();
    }
  });

  it('passwords: a wrong one fails without showing it; the option or an ACL user works; no log line holds one', async () => {
    const redis = await startRedisServer({
      password: PASSWORD,
      // The least rights docs/serve.md tells operators to grant.
      aclUser: { name: 'relay', password: ACL_PASSWORD, rules: RELAY_STORE_ACL_RULES },
    });
    servers.push(redis);
    const logger = recordingLogger();
    const hostPort = `127.0.0.1:${redis.port}`;

    const wrong = open({ url: redis.url, password: WRONG, logger });
    expect(await settleWithin('ready()', REDIS_CALL_SETTLE_MS, wrong.ready())).toBe(false);
    const wrongError = await unavailable(wrong.register(A, reg));
    expect(shown(wrongError)).toMatch(/WRONGPASS|NOAUTH|invalid/i);
    const none = open({ url: redis.url, logger });
    await unavailable(none.register(A, reg));
    // A wrong password in the URL, too: it never shows.
    const inUrl = open({ url: `redis://:${WRONG}@${hostPort}`, logger });
    const inUrlError = await unavailable(inUrl.register(A, reg));
    expect((inUrl as ReturnType<typeof createRedisRelayStore>).displayUrl).toBe(`redis://${hostPort}`);

    const right = open({ url: `redis://:${WRONG}@${hostPort}`, password: PASSWORD, logger });
    expect(await right.ready?.()).toBe(true);
    expect(await right.register(A, reg)).toBe('registered');
    const acl = open({ url: `redis://relay@${hostPort}/2`, password: ACL_PASSWORD, logger });
    expect(await acl.register(B, { code: CODE, source: { address: '::1' } })).toBe('registered');
    expect(await acl.claim(B)).toEqual({ status: 'pending' });
    expect(await acl.confirm(B, ok('cb1.acl', 'eve@example.com'))).toEqual({ status: 'confirmed' });
    expect(await acl.lookup(B)).toMatchObject({ status: 'confirmed' });
    expect(await acl.formKey?.()).toHaveLength(32);
    // The rules are that narrow: the same user on another prefix is refused.
    const elsewhere = open({ url: `redis://relay@${hostPort}/2`, password: ACL_PASSWORD, prefix: 'other:' });
    expect(shown(await unavailable(elsewhere.register(A, reg)))).toMatch(/NOPERM/);
    const aclInUrl = open({ url: `redis://relay:${ACL_PASSWORD}@${hostPort}/2`, logger });
    expect(await aclInUrl.claim(B)).toEqual({ status: 'ready', bundle: 'cb1.acl' });

    expect(logger.lines.some((line) => line.startsWith('warn:'))).toBe(true);
    const everything = [shown(wrongError), shown(inUrlError), ...logger.lines].join('\n');
    for (const secret of [PASSWORD, ACL_PASSWORD, WRONG]) expect(everything).not.toContain(secret);
  });

  it('rediss:// with a private CA (`ca`); without it the certificate is refused', async () => {
    ca = createTestCa('redis-ca');
    const certificate = ca.issue();
    const redis = await startRedisServer({ tls: { certificate, caFile: ca.caFile, caPem: ca.caPem } });
    servers.push(redis);
    expect(redis.url).toMatch(/^rediss:\/\//);
    const trusted = open({ url: redis.url, ca: ca.caPem });
    expect(await trusted.register(A, reg)).toBe('registered');
    expect(await trusted.confirm(A, ok('cb1.tls'))).toEqual({ status: 'confirmed' });
    expect(await trusted.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.tls' });

    const untrusted = open({ url: redis.url });
    const error = await unavailable(untrusted.register(B, reg));
    expect(shown(error)).toMatch(/certificate|self.signed|issuer/i);
  });

  it('close() quits cleanly and never throws, also when never connected or called twice; later calls reject', async () => {
    const port = await findFreePort();
    const never = open({ url: `redis://127.0.0.1:${port}` });
    await expect(never.close?.()).resolves.toBeUndefined();
    await expect(never.close?.()).resolves.toBeUndefined();
    await unavailable(never.claim(A));
  });
});
