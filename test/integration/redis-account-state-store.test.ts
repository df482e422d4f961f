/**
 * The service accounts on the Redis state store against a real redis-server on loopback: the core cases of
 * account-service.test.ts (create, revoke, rotation, two replicas, concurrent writers, a corrupt document, the
 * private key never shown) and a Redis that is not there.
 */
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';

import { Redis } from 'ioredis';

import { REDIS_STORE_COMMAND_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { createAccountService, type AccountServiceDeps } from '../../src/server/accounts/account-service';
import { AccountStateError, type AccountService } from '../../src/server/accounts/account-types';
import {
  createRedisAccountStateStore,
  DEFAULT_ACCOUNT_STATE_PREFIX,
  type RedisAccountStateStore,
} from '../../src/server/accounts/redis-account-state-store';
import { FAKE_NOW } from '../kit/fake-context';
import {
  REAL_COMPONENT_PATHS,
  requireComponent,
  startRedisServer,
  type RunningRedisServer,
} from '../kit/real-components';

const describeWithRedis = requireComponent('redis-server', REAL_COMPONENT_PATHS.redisServer)
  ? describe
  : describe.skip;

const ISSUER = 'https://api.example.test/cookie-bridge/sa';
const BY = 'root@example.test';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error('expected a rejection');
  return outcome;
}

describeWithRedis('service accounts on the Redis state store (real redis-server)', () => {
  let redis: RunningRedisServer;
  let admin: Redis;
  const stores: RedisAccountStateStore[] = [];
  let prefix: string;
  let clock: number;

  const open = (overrides: { url?: string; prefix?: string } = {}): RedisAccountStateStore => {
    const store = createRedisAccountStateStore({
      url: overrides.url ?? redis.url,
      prefix: overrides.prefix ?? prefix,
      commandTimeoutMs: REDIS_STORE_COMMAND_TIMEOUT_MS,
    });
    stores.push(store);
    return store;
  };
  const service = (deps: Partial<AccountServiceDeps> = {}): AccountService =>
    createAccountService({ issuer: ISSUER, admins: [BY], store: open(), now: () => clock, ...deps });

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
  beforeEach(() => {
    prefix = `test:${randomBytes(6).toString('hex')}:`;
    clock = FAKE_NOW;
  });

  it('uses cookie-bridge:accounts: by default and one key per document under the prefix', async () => {
    expect(DEFAULT_ACCOUNT_STATE_PREFIX).toBe('cookie-bridge:accounts:');
    const accounts = service();
    await accounts.create({ name: 'ci', role: 'user', createdBy: BY });
    await accounts.roleOf('alice@example.test');
    expect((await admin.keys(`${prefix}*`)).sort()).toEqual([
      `${prefix}keys`,
      `${prefix}people`,
      `${prefix}service-accounts`,
    ]);
  });

  it('create, verify, revoke, rotation: as on the state dir', async () => {
    const accounts = service();
    const { account, token } = await accounts.create({ name: 'ci', role: 'admin', createdBy: BY });
    expect(await accounts.verifyBearer(token)).toEqual({
      ok: true,
      account,
      identity: 'ci@service-accounts.invalid',
      role: 'admin',
    });
    const { kid } = await accounts.rotateKey();
    expect((await accounts.publicJwks()).keys.map((key) => key.kid)).toHaveLength(2);
    expect((await accounts.publicJwks()).keys.map((key) => key.kid)).toContain(kid);
    expect((await accounts.verifyBearer(token)).ok).toBe(true);
    await accounts.revoke('ci', BY);
    expect(await accounts.verifyBearer(token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('two replicas agree: a token from one verifies on the other, a revocation is seen within the cache time', async () => {
    const a = service({ cacheMs: 5000 });
    const b = service({ cacheMs: 5000 });
    const { token } = await a.create({ name: 'ci', role: 'user', createdBy: BY });
    expect((await b.verifyBearer(token)).ok).toBe(true);
    await a.revoke('ci', BY);
    expect((await b.verifyBearer(token)).ok).toBe(true);
    clock += 5000;
    expect(await b.verifyBearer(token)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('concurrent writers on three connections keep every account and one signing key (compare-and-set)', async () => {
    const replicas = [service(), service(), service()];
    const names = Array.from({ length: 15 }, (_, index) => `robot-${index}`);
    await Promise.all(
      names.map((name, index) => replicas[index % 3]!.create({ name, role: 'user', createdBy: BY })),
    );
    expect((await replicas[0]!.list()).map((account) => account.name).sort()).toEqual([...names].sort());
    expect((await replicas[1]!.publicJwks()).keys).toHaveLength(1);
  });

  it('a corrupt keys document is an AccountStateError naming the key, and is left as it is', async () => {
    const garbage = '{"version":1,"keys":[{"kid"';
    await admin.set(`${prefix}keys`, garbage);
    const accounts = service();
    for (const call of [() => accounts.publicJwks(), () => accounts.rotateKey()]) {
      const error = await rejection(call());
      expect(error).toBeInstanceOf(AccountStateError);
      expect(error.message).toContain(`${prefix}keys`);
    }
    expect(await admin.get(`${prefix}keys`)).toBe(garbage);
  });

  it('the private key never appears in the store object, errors or the JWKS', async () => {
    const store = open();
    const accounts = service({ store });
    await accounts.create({ name: 'ci', role: 'user', createdBy: BY });
    const raw = JSON.parse((await admin.get(`${prefix}keys`))!) as {
      keys: Array<{ privateJwk: { d: string } }>;
    };
    const secret = raw.keys[0]!.privateJwk.d;
    await admin.set(`${prefix}keys`, JSON.stringify({ ...raw, keys: [{ ...raw.keys[0], kid: 'changed' }] }));
    const error = await rejection(service().publicJwks());
    for (const text of [
      inspect(store, { depth: 5 }),
      inspect(accounts, { depth: 5 }),
      JSON.stringify(await accounts.publicJwks()),
      error.message,
      inspect(error),
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('a Redis that is not there is AccountStateError naming it', async () => {
    const store = createRedisAccountStateStore({
      url: 'redis://127.0.0.1:1',
      commandTimeoutMs: REDIS_STORE_COMMAND_TIMEOUT_MS,
    });
    stores.push(store);
    const accounts = createAccountService({ issuer: ISSUER, store, now: () => clock });
    const error = await rejection(accounts.publicJwks());
    expect(error).toBeInstanceOf(AccountStateError);
    expect(error.message).toContain('redis://127.0.0.1:1');
  });
});
