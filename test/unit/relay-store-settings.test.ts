import {
  accountsPrefixFor,
  resolveRelayStoreSettings,
  type RelayStoreFlags,
  type RelayStoreReaders,
} from '../../src/cli/relay-store-settings';
import { UsageError } from '../../src/errors';

const SECRET = 'S3cr3t-pa55';
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

/** Files as the settings would read them; anything else is missing. */
const readers: RelayStoreReaders = {
  readPasswordFile: (file) =>
    file === '/run/secrets/redis'
      ? Promise.resolve(`${SECRET}\n`)
      : file === '/run/secrets/empty'
        ? Promise.resolve('\n')
        : Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' })),
  readCaFile: (file, source) =>
    file === '/etc/redis-ca.pem'
      ? Promise.resolve(CA_PEM)
      : Promise.reject(new UsageError(`${source}: cannot read ${file} (ENOENT)`)),
};

const resolve = (flags: RelayStoreFlags, env: NodeJS.ProcessEnv = {}) =>
  resolveRelayStoreSettings(flags, env, readers);

describe('resolveRelayStoreSettings', () => {
  it.each<[string, RelayStoreFlags, NodeJS.ProcessEnv, unknown]>([
    ['nothing given: memory, 5 minutes', {}, {}, { kind: 'memory', ttlMs: 300_000 }],
    ['an empty variable is unset', {}, { COOKIE_BRIDGE_RELAY_STORE: '' }, { kind: 'memory', ttlMs: 300_000 }],
    ['memory with --relay-ttl', { relayStore: 'memory', relayTtl: 2 }, {}, { kind: 'memory', ttlMs: 2_000 }],
    [
      'a redis URL from the flag, default prefix',
      { relayStore: 'redis://redis.internal:6379/0' },
      {},
      { kind: 'redis', url: 'redis://redis.internal:6379/0', prefix: 'cookie-bridge:relay:', ttlMs: 300_000 },
    ],
    [
      'the flag wins over the variable',
      { relayStore: 'redis://a:6379' },
      { COOKIE_BRIDGE_RELAY_STORE: 'redis://b:6379' },
      { kind: 'redis', url: 'redis://a:6379', prefix: 'cookie-bridge:relay:', ttlMs: 300_000 },
    ],
    [
      'a user name stays in the URL; prefix and TTL given',
      { relayStore: 'redis://relay@[::1]:6380/2', relayStorePrefix: 'team-a:relay:', relayTtl: 60 },
      {},
      { kind: 'redis', url: 'redis://relay@[::1]:6380/2', prefix: 'team-a:relay:', ttlMs: 60_000 },
    ],
    [
      "the variable's URL may carry the password: it is taken out of the URL",
      {},
      { COOKIE_BRIDGE_RELAY_STORE: `redis://relay:${encodeURIComponent('p@ss/word')}@redis:6379/0` },
      {
        kind: 'redis',
        url: 'redis://relay@redis:6379/0',
        password: 'p@ss/word',
        prefix: 'cookie-bridge:relay:',
        ttlMs: 300_000,
      },
    ],
    [
      '$COOKIE_BRIDGE_RELAY_STORE_PASSWORD overrides the one in the URL',
      {},
      {
        COOKIE_BRIDGE_RELAY_STORE: 'redis://:old@redis:6379',
        COOKIE_BRIDGE_RELAY_STORE_PASSWORD: SECRET,
      },
      {
        kind: 'redis',
        url: 'redis://redis:6379',
        password: SECRET,
        prefix: 'cookie-bridge:relay:',
        ttlMs: 300_000,
      },
    ],
    [
      'the password file wins over the variable (its trailing newline dropped)',
      { relayStore: 'redis://redis:6379', relayStorePasswordFile: '/run/secrets/redis' },
      { COOKIE_BRIDGE_RELAY_STORE_PASSWORD: 'other' },
      {
        kind: 'redis',
        url: 'redis://redis:6379',
        password: SECRET,
        prefix: 'cookie-bridge:relay:',
        ttlMs: 300_000,
      },
    ],
    [
      'rediss:// with its CA',
      { relayStore: 'rediss://redis:6380', relayStoreCacert: '/etc/redis-ca.pem' },
      {},
      {
        kind: 'redis',
        url: 'rediss://redis:6380',
        ca: CA_PEM,
        prefix: 'cookie-bridge:relay:',
        ttlMs: 300_000,
      },
    ],
  ])('%s', async (_name, flags, env, expected) => {
    expect(await resolve(flags, env)).toEqual(expected);
  });

  it.each<[string, RelayStoreFlags, NodeJS.ProcessEnv, RegExp]>([
    [
      'a password in the argv URL',
      { relayStore: `redis://:${SECRET}@redis:6379` },
      {},
      /must not carry a password/,
    ],
    [
      'a user and password in the argv URL',
      { relayStore: `redis://relay:${SECRET}@redis:6379` },
      {},
      /must not carry a password/,
    ],
    ['another scheme', { relayStore: 'http://redis:6379' }, {}, /not http:/],
    ['not a URL', { relayStore: `${SECRET} redis` }, {}, /neither memory nor a URL/],
    [
      'not a URL in the variable',
      {},
      { COOKIE_BRIDGE_RELAY_STORE: 'redis' },
      /\$COOKIE_BRIDGE_RELAY_STORE is neither/,
    ],
    ['a path that is no database', { relayStore: 'redis://redis:6379/zero' }, {}, /database number/],
    ['a query', { relayStore: 'redis://redis:6379/0?password=x' }, {}, /no query/],
    ['no host', { relayStore: 'redis://' }, {}, /names no host/],
    [
      'a CA for plain redis://',
      { relayStore: 'redis://r:6379', relayStoreCacert: '/etc/redis-ca.pem' },
      {},
      /rediss/,
    ],
    [
      'an unreadable CA',
      { relayStore: 'rediss://r:6379', relayStoreCacert: '/nope.pem' },
      {},
      /cannot read \/nope\.pem/,
    ],
    ['a Redis flag with memory', { relayStorePrefix: 'x:' }, {}, /--relay-store-prefix applies to a redis/],
    [
      'a password file with memory',
      { relayStorePasswordFile: '/run/secrets/redis' },
      {},
      /applies to a redis/,
    ],
    [
      'a missing password file',
      { relayStore: 'redis://r:6379', relayStorePasswordFile: '/missing' },
      {},
      /cannot read \/missing/,
    ],
    [
      'an empty password file',
      { relayStore: 'redis://r:6379', relayStorePasswordFile: '/run/secrets/empty' },
      {},
      /is empty/,
    ],
    [
      'a prefix with a space',
      { relayStore: 'redis://r:6379', relayStorePrefix: 'a b' },
      {},
      /printable characters/,
    ],
    ['an empty prefix', { relayStore: 'redis://r:6379', relayStorePrefix: '' }, {}, /printable characters/],
    ['a TTL of a fraction', { relayTtl: 1.5 }, {}, /whole number of seconds/],
    ['a TTL over a day', { relayTtl: 86_401 }, {}, /whole number of seconds/],
  ])('refuses %s with a usage error that never shows the password', async (_name, flags, env, message) => {
    const error = (await resolve(flags, env).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )) as UsageError | undefined;
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.message).toMatch(message);
    expect(`${error?.message} ${error?.hint}`).not.toContain(SECRET);
  });

  it('says where a password goes instead of the command line', async () => {
    await expect(resolve({ relayStore: `redis://:${SECRET}@redis:6379` })).rejects.toMatchObject({
      code: 'E_USAGE',
      exitCode: 2,
      hint: expect.stringMatching(
        /--relay-store-password-file.*\$COOKIE_BRIDGE_RELAY_STORE_PASSWORD.*\$COOKIE_BRIDGE_RELAY_STORE/,
      ) as unknown,
    });
  });
});

describe('accountsPrefixFor (the service accounts beside a Redis relay store)', () => {
  it.each([
    ['cookie-bridge:relay:', 'cookie-bridge:accounts:'],
    ['team-a:relay:', 'team-a:accounts:'],
    ['relay:', 'accounts:'],
    ['team-a:', 'team-a:accounts:'],
    ['team-a:myrelay:', 'team-a:myrelay:accounts:'],
    ['team-a', 'team-aaccounts:'],
  ])('%s gives %s', (relayPrefix, accountsPrefix) => {
    expect(accountsPrefixFor(relayPrefix)).toBe(accountsPrefix);
  });
});
