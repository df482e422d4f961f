/**
 * The Redis relay store against a real redis-server on loopback: the RelayStore contract (the same cases as the
 * memory store), atomicity across three connections (three replicas), Redis's own TTLs and the key layout.
 */
import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import {
  REDIS_RECOVERY_WAIT_MS,
  REDIS_STORE_COMMAND_TIMEOUT_MS,
  scaled,
} from '../../fixtures/real-components/budgets';
import {
  createRedisRelayStore,
  DEFAULT_RELAY_STORE_PREFIX,
  type RedisRelayStore,
  type RedisRelayStoreOptions,
} from '../../src/server/redis-relay-store';
import { REDIS_CONNECTION_NAME } from '../../src/server/redis-connection-options';
import { pollUntil } from '../kit/poll-until';
import {
  REAL_COMPONENT_PATHS,
  requireComponent,
  startRedisServer,
  type RunningRedisServer,
} from '../kit/real-components';
import { CODE, HERE, ok, reg, relayStoreContract } from '../kit/relay-store-contract';

const describeWithRedis = requireComponent('redis-server', REAL_COMPONENT_PATHS.redisServer)
  ? describe
  : describe.skip;

/** Every key under a prefix (SCAN, not KEYS). */
async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

describeWithRedis('createRedisRelayStore (real redis-server)', () => {
  let redis: RunningRedisServer;
  let admin: Redis;
  const stores: RedisRelayStore[] = [];
  /** A store on its own prefix (as a separate deployment), closed after the suite. */
  const open = (options: Partial<RedisRelayStoreOptions> = {}): RedisRelayStore => {
    const store = createRedisRelayStore({
      url: redis.url,
      prefix: `test:${randomBytes(6).toString('hex')}:`,
      commandTimeoutMs: REDIS_STORE_COMMAND_TIMEOUT_MS,
      ...options,
    });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    admin?.disconnect();
    await redis?.stop();
  });

  relayStoreContract(async (options) => {
    const store = open(options);
    expect(await store.ready()).toBe(true);
    return store;
  });

  it('keeps every key under its prefix, with no challenge, code, address or identity in key names or values', async () => {
    const prefix = 'leak-check:';
    const store = open({ prefix });
    const challenge = `x${randomBytes(30).toString('base64url')}`;
    await store.register(challenge, { code: CODE, source: { address: '198.51.100.23' } });
    await store.confirm(challenge, ok('cb1.bundle', 'alice@example.com'));
    const pending = `y${randomBytes(30).toString('base64url')}`;
    await store.register(pending, { code: CODE, source: { address: '198.51.100.23' } });
    const keys = await keysUnder(admin, prefix);
    expect(keys.sort()).toEqual([
      `${prefix}entries`,
      expect.stringMatching(/^leak-check:entry:[\w-]{43}$/),
      expect.stringMatching(/^leak-check:entry:[\w-]{43}$/),
      expect.stringMatching(/^leak-check:identity:[\w-]{43}$/),
      expect.stringMatching(/^leak-check:source:[\w-]{43}$/),
    ]);
    const everything = keys.join('\n');
    for (const secret of [challenge, pending, 'alice', '198.51.100.23', 'ABCD', 'EFGH']) {
      expect(everything).not.toContain(secret);
    }
    for (const entry of keys.filter((key) => key.includes(':entry:'))) {
      const fields = await admin.hgetall(entry);
      expect(fields.code).toMatch(/^[\w-]{43}$/); // an HMAC, not the code
      expect(JSON.stringify(fields)).not.toContain('EFGH');
      expect(JSON.stringify(fields)).not.toContain('alice');
    }
    expect(await keysUnder(admin, DEFAULT_RELAY_STORE_PREFIX)).toEqual([]);
  });

  it('sets a TTL on every key while alive, and Redis removes them all after it (the form key has none, by design)', async () => {
    const prefix = `ttl:${randomBytes(4).toString('hex')}:`;
    // Short, but long enough (scaled for slow machines) that the keys are still there when looked at.
    const ttlMs = scaled(3_000);
    const store = open({ prefix, ttlMs });
    await store.formKey();
    const challenges = ['p', 'c', 'x', 'w'].map((letter) => letter.repeat(43));
    for (const challenge of challenges) await store.register(challenge, reg);
    await store.confirm('c'.repeat(43), ok('cb1.c', 'bob@example.com'));
    await store.confirm('x'.repeat(43), ok('cb1.x'));
    await store.claim('x'.repeat(43));
    for (let i = 0; i < 5; i += 1)
      await store.confirm('w'.repeat(43), { code: 'ZZZZ-ZZZZ', bundle: 'cb1.w' });
    expect((await store.lookup('w'.repeat(43)))?.status).toBe('ended');

    const alive = await keysUnder(admin, prefix);
    expect(alive.length).toBeGreaterThanOrEqual(5);
    for (const key of alive) {
      const pttl = await admin.pttl(key);
      if (key === `${prefix}form-key`) expect(pttl).toBe(-1);
      // -2: expired already (fine); -1 would be a key without a TTL.
      else expect([key, pttl === -2 || (pttl > 0 && pttl <= ttlMs)]).toEqual([key, true]);
    }
    const left = await pollUntil('keys under the prefix expired', REDIS_RECOVERY_WAIT_MS, async () => {
      const keys = await keysUnder(admin, prefix);
      return keys.length === 1 ? keys : undefined;
    });
    expect(left).toEqual([`${prefix}form-key`]);
    for (const challenge of challenges) expect(await store.claim(challenge)).toEqual({ status: 'unknown' });
  });

  it('gives every replica the same form key, created once (SET NX) and cached', async () => {
    const prefix = `form:${randomBytes(4).toString('hex')}:`;
    const [one, two, three] = [open({ prefix }), open({ prefix }), open({ prefix })];
    const keys = await Promise.all([one.formKey(), two.formKey(), three.formKey()]);
    expect(keys[0]).toHaveLength(32);
    expect(keys[1]).toEqual(keys[0]);
    expect(keys[2]).toEqual(keys[0]);
    // Another deployment (prefix) has its own.
    expect(await open().formKey()).not.toEqual(keys[0]);
    // Cached: a replica keeps its key even when the stored one goes (rotation is a restart, docs/serve.md).
    await admin.del(`${prefix}form-key`);
    expect(await one.formKey()).toEqual(keys[0]);
  });

  it('200 logins through three replicas: each bundle claimed exactly once, racing confirms never overwrite', async () => {
    const prefix = `race:${randomBytes(4).toString('hex')}:`;
    const limits = { maxEntries: 1000, maxPendingPerSource: 1000, maxConfirmedPerIdentity: 1000 };
    const replicas = [0, 1, 2].map(() => open({ prefix, ...limits }));
    const challenges = Array.from(
      { length: 200 },
      (_, i) => `${String(i).padStart(3, '0')}${'r'.repeat(40)}`,
    );
    const replica = (i: number) => replicas[i % 3] as RedisRelayStore;

    const registered = await Promise.all(
      challenges.map((challenge, i) => replica(i).register(challenge, reg)),
    );
    expect(registered.every((outcome) => outcome === 'registered')).toBe(true);

    // Three replicas confirm each challenge at once, each with its own bundle: exactly one wins.
    const confirms = await Promise.all(
      challenges.flatMap((challenge) =>
        [0, 1, 2].map(async (r) => ({
          challenge,
          bundle: `cb1.${challenge}.${r}`,
          outcome: await replica(r).confirm(challenge, ok(`cb1.${challenge}.${r}`, `user${r}@example.com`)),
        })),
      ),
    );
    const winners = new Map<string, string>();
    for (const { challenge, bundle, outcome } of confirms) {
      if (outcome.status === 'confirmed') {
        expect(winners.has(challenge)).toBe(false);
        winners.set(challenge, bundle);
      } else expect(outcome).toEqual({ status: 'already-confirmed' });
    }
    expect(winners.size).toBe(200);

    // Every replica claims every challenge at once (twice each): one claim gets the winning bundle.
    const claims = await Promise.all(
      challenges.flatMap((challenge) =>
        [0, 1, 2, 0, 1, 2].map(async (r) => ({ challenge, claim: await replica(r).claim(challenge) })),
      ),
    );
    const taken = new Map<string, number>();
    for (const { challenge, claim } of claims) {
      if (claim.status === 'ready') {
        expect(claim.bundle).toBe(winners.get(challenge));
        taken.set(challenge, (taken.get(challenge) ?? 0) + 1);
      } else expect(claim).toEqual({ status: 'ended', reason: 'claimed' });
    }
    expect(taken.size).toBe(200);
    expect([...taken.values()].every((count) => count === 1)).toBe(true);
    // And the bundles are gone from Redis: nothing but ended entries is left.
    for (const key of await keysUnder(admin, `${prefix}entry:`)) {
      expect(await admin.hexists(key, 'bundle')).toBe(0);
      expect(await admin.hget(key, 'state')).toBe('ended');
    }
    expect(await keysUnder(admin, `${prefix}identity:`)).toEqual([]);
  });

  it('bounds hold across replicas: per source, per identity and in total', async () => {
    const prefix = `bounds:${randomBytes(4).toString('hex')}:`;
    const limits = { maxEntries: 30, maxPendingPerSource: 10, maxConfirmedPerIdentity: 4 };
    const replicas = [0, 1, 2].map(() => open({ prefix, ...limits }));
    const challenge = (i: number) => `${String(i).padStart(3, '0')}${'b'.repeat(40)}`;
    // 30 registrations from one source through three replicas at once: exactly 10 get in.
    const fromOne = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (replicas[i % 3] as RedisRelayStore).register(challenge(i), reg)),
    );
    expect(fromOne.filter((outcome) => outcome === 'registered')).toHaveLength(10);
    expect(fromOne.filter((outcome) => outcome === 'source-full')).toHaveLength(20);
    // 10 confirms by one identity at once: 4 get in.
    const mine = fromOne.flatMap((outcome, i) => (outcome === 'registered' ? [challenge(i)] : []));
    const confirmed = await Promise.all(
      mine.map((c, i) => (replicas[i % 3] as RedisRelayStore).confirm(c, ok('cb1.x', 'eve@example.com'))),
    );
    expect(confirmed.filter((outcome) => outcome.status === 'confirmed')).toHaveLength(4);
    expect(confirmed.filter((outcome) => outcome.status === 'identity-full')).toHaveLength(6);
    // 40 more from other sources at once: 20 fit beside the 10.
    const others = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (replicas[i % 3] as RedisRelayStore).register(challenge(100 + i), {
          code: CODE,
          source: { ...HERE, forwardedFor: `192.0.2.${i}` },
        }),
      ),
    );
    expect(others.filter((outcome) => outcome === 'registered')).toHaveLength(20);
    expect(others.filter((outcome) => outcome === 'full')).toHaveLength(20);
  });

  it('close() quits: its connection leaves the server, and it can be called again', async () => {
    const named = async (): Promise<number> =>
      String(await admin.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((line) => line.includes(` name=${REDIS_CONNECTION_NAME} `)).length;
    const store = createRedisRelayStore({ url: redis.url, commandTimeoutMs: REDIS_STORE_COMMAND_TIMEOUT_MS });
    expect(await store.ready()).toBe(true);
    const before = await named();
    expect(before).toBeGreaterThanOrEqual(1);
    await store.close();
    await store.close();
    expect(
      await pollUntil('the connection gone', REDIS_RECOVERY_WAIT_MS, async () => {
        const now = await named();
        return now === before - 1 ? now : undefined;
      }),
    ).toBe(before - 1);
  });
});
