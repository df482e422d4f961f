import { createHash, createHmac } from 'node:crypto';

import { normalizeRelayCode } from '../protocol/relay-protocol';

/**
 * The Redis relay store's data layout and its Lua scripts (docs/serve.md, "Several replicas"). Every key lives
 * under the prefix; challenges, source addresses and identities appear in key names only as SHA-256 hashes.
 *
 *   <prefix>entry:<h(challenge)>    hash: code (HMAC of the code keyed by the challenge), source (JSON),
 *                                   at (registeredAt), wrong (count), state (pending|confirmed|ended),
 *                                   reason, srck (h(source key)), idk (h(identity)), bundle (until claimed)
 *   <prefix>entries                 sorted set of every live entry, scored by its expiry (the bound on total)
 *   <prefix>source:<h(source key)>  sorted set of the source's pending entries, scored by expiry
 *   <prefix>identity:<h(identity)>  sorted set of the identity's confirmed, unclaimed entries, scored by expiry
 *   <prefix>form-key                the confirm form's HMAC key (32 random bytes, base64), no TTL
 *
 * Every script reads the time from Redis (TIME), so replicas with skewed clocks agree, and sets PEXPIRE on
 * every key it writes: an entry key expires with its entry, a set with its newest member.
 */

export interface RelayKeyNames {
  entry(challenge: string): string;
  /** The sorted set of live entries. */
  readonly entries: string;
  /** The sorted set of pending entries from one source key (relaySourceKey). */
  source(sourceKey: string): string;
  /** The sorted set of unclaimed bundles of one identity ('' when the proxy named none). */
  identity(identity: string): string;
  readonly formKey: string;
  /** The zset member and key suffix of a challenge. */
  member(challenge: string): string;
  /** The key suffix of a source key or an identity, as the scripts rebuild key names from a stored hash. */
  hashOf(kind: 'source' | 'identity', value: string): string;
}

const digest = (text: string): string => createHash('sha256').update(text, 'utf8').digest('base64url');

export function relayKeyNames(prefix: string): RelayKeyNames {
  const hashOf = (kind: 'source' | 'identity', value: string): string => digest(`${kind}\0${value}`);
  const member = (challenge: string): string => digest(`challenge\0${challenge}`);
  return {
    entry: (challenge) => `${prefix}entry:${member(challenge)}`,
    entries: `${prefix}entries`,
    source: (sourceKey) => `${prefix}source:${hashOf('source', sourceKey)}`,
    identity: (identity) => `${prefix}identity:${hashOf('identity', identity)}`,
    formKey: `${prefix}form-key`,
    member,
    hashOf,
  };
}

/**
 * What the store keeps of a code: an HMAC of its canonical form keyed by the challenge, which is itself only
 * in key names as a hash. A malformed code gets a value no HMAC can equal, different for a registered and a
 * typed one, so that (as relayCodesMatch) a malformed code never matches anything.
 */
export function relayCodeDigest(challenge: string, code: string, role: 'registered' | 'typed'): string {
  const canonical = normalizeRelayCode(code);
  if (canonical === undefined) return `!malformed-${role}`;
  return createHmac('sha256', challenge).update(canonical, 'utf8').digest('base64url');
}

/** Redis's clock in ms, shared by every script. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: entry, entries, source set. ARGV: member, code digest, source JSON, registeredAt, ttlMs, maxEntries,
 * maxPendingPerSource, source hash. Returns registered | exists | full | source-full.
 */
export const REGISTER_SCRIPT = `${NOW}
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
local ttl = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then return 'full' end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[7]) then return 'source-full' end
redis.call('HSET', KEYS[1], 'code', ARGV[2], 'source', ARGV[3], 'at', ARGV[4], 'wrong', 0, 'state', 'pending',
  'srck', ARGV[8])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[3], ttl)
return 'registered'
`;

/**
 * KEYS: entry, entries, identity set. ARGV: member, typed code digest, bundle, identity hash, ttlMs,
 * maxWrongCodes, maxBundleBytes, maxConfirmedPerIdentity, key prefix. Returns {status, number}.
 */
export const CONFIRM_SCRIPT = `${NOW}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown', 0} end
local f = redis.call('HMGET', KEYS[1], 'state', 'reason', 'code', 'srck')
local state, reason = f[1], f[2]
local ttl = tonumber(ARGV[5])
if state == 'ended' and reason == 'wrong-codes' then return {'ended', 0} end
if f[3] ~= ARGV[2] then
  local wrong = redis.call('HINCRBY', KEYS[1], 'wrong', 1)
  -- Tries count while pending only: a confirmed or claimed challenge keeps its warning.
  if state ~= 'pending' then return {'wrong-code', 0} end
  local max = tonumber(ARGV[6])
  if wrong >= max then
    redis.call('HSET', KEYS[1], 'state', 'ended', 'reason', 'wrong-codes')
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
    redis.call('PEXPIRE', KEYS[2], ttl)
    redis.call('ZREM', ARGV[9] .. 'source:' .. f[4], ARGV[1])
    return {'ended', 0}
  end
  return {'wrong-code', max - wrong}
end
if state ~= 'pending' then return {'already-confirmed', 0} end
if string.len(ARGV[3]) > tonumber(ARGV[7]) then return {'too-large', 0} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) then return {'identity-full', 0} end
redis.call('HSET', KEYS[1], 'state', 'confirmed', 'bundle', ARGV[3], 'idk', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[3], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('ZREM', ARGV[9] .. 'source:' .. f[4], ARGV[1])
return {'confirmed', 0}
`;

/**
 * KEYS: entry, entries. ARGV: member, ttlMs, key prefix. Returns {status, bundle or reason}: the bundle is
 * read and deleted in one step, the entry stays as ended/claimed until its TTL.
 */
export const CLAIM_SCRIPT = `${NOW}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown', ''} end
local f = redis.call('HMGET', KEYS[1], 'state', 'reason', 'bundle', 'idk')
if f[1] == 'ended' then return {'ended', f[2]} end
if not f[3] then return {'pending', ''} end
local ttl = tonumber(ARGV[2])
redis.call('HDEL', KEYS[1], 'bundle')
redis.call('HSET', KEYS[1], 'state', 'ended', 'reason', 'claimed')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZREM', ARGV[3] .. 'identity:' .. f[4], ARGV[1])
return {'ready', f[3]}
`;
