import {
  REDIS_MAX_BACKOFF_MS,
  redisConnectionOptions,
  redisDisplayUrl,
} from '../../src/server/redis-connection-options';
import { relayCodeDigest, relayKeyNames } from '../../src/server/redis-relay-scripts';

const base = { commandTimeoutMs: 2_000 };

describe('redisConnectionOptions', () => {
  it('reads host, port, user, password and database from the URL; the password option wins', () => {
    expect(
      redisConnectionOptions({ ...base, url: 'redis://relay:in%40url@cache.internal:6380/3' }),
    ).toMatchObject({
      host: 'cache.internal',
      port: 6380,
      username: 'relay',
      password: 'in@url',
      db: 3,
    });
    const both = redisConnectionOptions({ ...base, url: 'redis://:in-url@127.0.0.1', password: 'from-file' });
    expect(both).toMatchObject({ host: '127.0.0.1', port: 6379, password: 'from-file' });
    expect(both).not.toHaveProperty('username');
    expect(both).not.toHaveProperty('tls');
    expect(redisConnectionOptions({ ...base, url: 'redis://[::1]:7000' })).toMatchObject({
      host: '::1',
      port: 7000,
    });
  });

  it('fails fast while down and reconnects with a capped backoff', () => {
    const options = redisConnectionOptions({
      ...base,
      url: 'redis://127.0.0.1:6379',
      commandTimeoutMs: 1234,
    });
    expect(options).toMatchObject({
      enableOfflineQueue: false,
      commandTimeout: 1234,
      maxRetriesPerRequest: 0,
    });
    const delays = [1, 2, 3, 10, 100, 10_000].map((attempt) => options.retryStrategy?.(attempt));
    expect(delays.slice(0, 3)).toEqual([50, 100, 200]);
    expect(delays.slice(3)).toEqual([REDIS_MAX_BACKOFF_MS, REDIS_MAX_BACKOFF_MS, REDIS_MAX_BACKOFF_MS]);
  });

  it('rediss:// turns TLS on, with the private CA and SNI for a host name (not for an IP address)', () => {
    expect(redisConnectionOptions({ ...base, url: 'rediss://cache.internal', ca: 'PEM' }).tls).toEqual({
      servername: 'cache.internal',
      ca: 'PEM',
    });
    expect(redisConnectionOptions({ ...base, url: 'rediss://127.0.0.1:6380' }).tls).toEqual({});
  });

  it('refuses other schemes and malformed URLs without echoing them (they may hold a password)', () => {
    expect(() => redisConnectionOptions({ ...base, url: 'http://h:1' })).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisConnectionOptions({ ...base, url: 'redis://:s3cret@' })).toThrow(
      /cannot be parsed|no host/,
    );
    expect(() => redisConnectionOptions({ ...base, url: 'not a url s3cret' })).toThrow(/^(?!.*s3cret)/);
    expect(() => redisConnectionOptions({ ...base, url: 'redis://h/db0' })).toThrow(
      /database must be a number/,
    );
  });
});

describe('redisDisplayUrl', () => {
  it('drops the password and keeps the user, host, port and database', () => {
    expect(redisDisplayUrl('redis://relay:s3cret@cache.internal:6380/2')).toBe(
      'redis://relay@cache.internal:6380/2',
    );
    expect(redisDisplayUrl('rediss://:s3cret@127.0.0.1:6380')).toBe('rediss://127.0.0.1:6380');
    expect(redisDisplayUrl('redis://s3cret garbage')).not.toContain('s3cret');
  });
});

describe('the Redis relay key layout', () => {
  it('names keys under the prefix by hashes only, distinct per kind', () => {
    const keys = relayKeyNames('p:');
    expect(keys.entry('a'.repeat(43))).toMatch(/^p:entry:[\w-]{43}$/);
    expect(keys.source('192.0.2.1')).toMatch(/^p:source:[\w-]{43}$/);
    expect(keys.identity('eve@example.com')).toMatch(/^p:identity:[\w-]{43}$/);
    expect(keys.source('x').slice('p:source:'.length)).not.toBe(
      keys.identity('x').slice('p:identity:'.length),
    );
    expect(keys.entries).toBe('p:entries');
    expect(keys.formKey).toBe('p:form-key');
  });

  it('keeps codes as an HMAC keyed by the challenge, equal for every spelling relayCodesMatch accepts', () => {
    const challenge = 'c'.repeat(43);
    const digest = relayCodeDigest(challenge, '0A1B-2C3D', 'typed');
    expect(digest).toMatch(/^[\w-]{43}$/);
    expect(relayCodeDigest(challenge, ' oalb 2c3d ', 'typed')).toBe(digest);
    expect(relayCodeDigest('d'.repeat(43), '0A1B-2C3D', 'typed')).not.toBe(digest);
    expect(relayCodeDigest(challenge, '0A1B-2C3E', 'typed')).not.toBe(digest);
    // A malformed code (registered or typed) gets a value no HMAC can equal: it never matches.
    expect(relayCodeDigest(challenge, 'ABCD-EFG!', 'typed')).not.toMatch(/^[\w-]{43}$/);
    expect(relayCodeDigest(challenge, 'ABCD-EFG!', 'typed')).not.toBe(
      relayCodeDigest(challenge, 'ABCD-EFG!', 'registered'),
    );
  });
});
