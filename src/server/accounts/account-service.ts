import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { silentLogger, systemClock, type Clock, type Logger } from '../../context';
import { signJwt, unverifiedKid, verifyJwt } from '../../protocol/jwt';
import { formatDuration } from '../../protocol/session-expiry';
import {
  identityKey,
  isRole,
  peopleCodec,
  serviceAccountsCodec,
  type PeopleRegistry,
  type StoredPerson,
} from './account-documents';
import type { AccountStateStore } from './account-state-store';
import { checkedSettings } from './account-settings';
import { documentCache } from './document-cache';
import {
  AccountRequestError,
  SERVICE_ACCOUNT_NAME,
  type AccountService,
  type AccountServiceOptions,
  type BearerVerdict,
  type Person,
  type ServiceAccount,
  type ServiceAccountStatus,
} from './account-types';
import {
  currentKey,
  publishedKeys,
  rotate,
  rotationDue,
  signingKeysCodec,
  type SigningKey,
  type SigningKeySet,
} from './signing-keys';

/**
 * Service accounts and roles over an AccountStateStore (see docs/service-accounts.md): issues ES256 tokens,
 * checks them completely (signature by a published key, iss, aud, times, the account, revocation), resolves
 * people's roles (--admin list, then the registry, then the default role) and records who was seen.
 *
 * Hot paths (verifyBearer, roleOf) read the documents through a short cache (cacheMs, at most 5 s); this
 * process's own writes update it at once, another replica's writes (a revocation, a role change) are seen
 * within cacheMs. An unknown account (in a token our key signed) re-reads the registry at once, and an unknown
 * kid re-reads the keys (at most once a second), so an account created or a key rotated on another replica
 * works there without waiting.
 */

export interface AccountServiceDeps {
  store: AccountStateStore;
  now?: Clock;
  logger?: Logger;
  /** For token ids; node:crypto's by default. */
  randomBytes?: (size: number) => Buffer;
  /** How long documents are cached for the hot paths; default and maximum 5000 ms. */
  cacheMs?: number;
}

export {
  DEFAULT_AUDIENCE,
  DEFAULT_EMAIL_DOMAIN,
  DEFAULT_KEY_LIFETIME_MS,
  DEFAULT_MAX_TOKEN_LIFETIME_MS,
  DEFAULT_TOKEN_LIFETIME_MS,
} from './account-settings';
export const MAX_CACHE_MS = 5000;
/** An unknown kid re-reads the store at most this often (anyone can send a token naming any kid). */
const MISS_REFRESH_MS = 1000;
/** lastSeenAt is written when it is at least this old, so a busy person is not a write per request. */
const SEEN_RESOLUTION_MS = 60_000;
/** Expired accounts are kept (listed as expired) this long, then dropped at the next create. */
const EXPIRED_RETENTION_MS = 30 * 86_400_000;
const MAX_IDENTITY_LENGTH = 320;

export function createAccountService(options: AccountServiceOptions & AccountServiceDeps): AccountService {
  const settings = checkedSettings(options);
  const { store } = options;
  const now = options.now ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const randomBytes = options.randomBytes ?? cryptoRandomBytes;
  const cacheMs = Math.min(Math.max(options.cacheMs ?? MAX_CACHE_MS, 0), MAX_CACHE_MS);
  const keysCache = documentCache(store, signingKeysCodec, now, cacheMs);
  const accountsCache = documentCache(store, serviceAccountsCodec, now, cacheMs);
  const peopleCache = documentCache(store, peopleCodec, now, cacheMs);
  const admins = new Set(settings.admins.map(identityKey));
  const keyTimes = () => ({
    now: now(),
    keyLifetimeMs: settings.keyLifetimeMs,
    maxLifetimeMs: settings.maxLifetimeMs,
  });

  /** The key set with a current key that is not due for rotation (rotating it under the store's lock if due). */
  async function usableKeySet(): Promise<SigningKeySet> {
    const cached = await keysCache.get();
    if (!rotationDue(cached, keyTimes())) return cached;
    const { set, rotated } = await store.update(signingKeysCodec, (current) => {
      if (!rotationDue(current, keyTimes())) return { result: { set: current, rotated: false } };
      const next = rotate(current, keyTimes());
      return { next, result: { set: next, rotated: true } };
    });
    keysCache.set(set);
    if (rotated) logger.info(`service accounts: new signing key ${currentKey(set)!.kid}`);
    return set;
  }

  async function publicKeyFor(kid: string): Promise<SigningKey | undefined> {
    const find = (set: SigningKeySet) => publishedKeys(set, keyTimes()).find((key) => key.kid === kid);
    return find(await keysCache.get()) ?? find(await keysCache.reloadIfOlderThan(MISS_REFRESH_MS));
  }

  function emailOf(name: string): string {
    return `${name}@${settings.emailDomain}`;
  }

  function personOf(key: string, stored: StoredPerson | undefined, identity: string): Person {
    const seen = stored?.lastSeenAt === undefined ? {} : { lastSeenAt: stored.lastSeenAt };
    const shown = stored?.identity ?? identity;
    if (admins.has(key)) return { identity: shown, role: 'admin', roleSource: 'admin-flag', ...seen };
    if (stored?.role !== undefined)
      return { identity: shown, role: stored.role, roleSource: 'registry', ...seen };
    return { identity: shown, role: settings.defaultRole, roleSource: 'default', ...seen };
  }

  return {
    issuer: settings.issuer,
    audience: settings.audience,

    async create(request) {
      const name = String(request.name);
      if (!SERVICE_ACCOUNT_NAME.test(name)) {
        throw new AccountRequestError(
          400,
          'bad_request',
          'a service account name is 1-63 lower-case letters, digits and "-", starting with a letter or digit',
        );
      }
      if (!isRole(request.role))
        throw new AccountRequestError(400, 'bad_request', 'role must be admin or user');
      checkIdentity(request.createdBy, 'createdBy');
      const lifetimeMs = request.lifetimeMs ?? settings.defaultLifetimeMs;
      if (!Number.isSafeInteger(lifetimeMs) || lifetimeMs < 1000) {
        throw new AccountRequestError(
          400,
          'bad_request',
          'the lifetime must be a whole number of seconds, at least 1',
        );
      }
      if (lifetimeMs > settings.maxLifetimeMs) {
        throw new AccountRequestError(
          400,
          'bad_request',
          `a lifetime of ${formatDuration(lifetimeMs)} is longer than this server allows (${formatDuration(settings.maxLifetimeMs)})`,
        );
      }
      const key = currentKey(await usableKeySet())!;
      // Whole seconds, as the token's iat and exp are: expiresAt - createdAt is then exactly the lifetime asked for.
      const issuedAt = Math.floor(now() / 1000) * 1000;
      const exp = Math.floor((issuedAt + lifetimeMs) / 1000);
      const account: ServiceAccount = {
        name,
        role: request.role,
        jti: randomBytes(16).toString('base64url'),
        createdAt: issuedAt,
        expiresAt: exp * 1000,
        createdBy: request.createdBy,
      };
      const registry = await store.update(serviceAccountsCodec, (current) => {
        const existing = current.accounts.get(name);
        if (existing !== undefined && statusOf(existing, issuedAt) === 'active') {
          throw new AccountRequestError(
            409,
            'exists',
            `service account ${name} exists and is active: revoke it first to create it again`,
          );
        }
        const accounts = new Map(
          [...current.accounts].filter(([, kept]) => issuedAt - kept.expiresAt < EXPIRED_RETENTION_MS),
        );
        accounts.set(name, account);
        const next = { accounts };
        return { next, result: next };
      });
      accountsCache.set(registry);
      const token = signJwt(
        {
          iss: settings.issuer,
          aud: settings.audience,
          sub: `sa:${name}`,
          email: emailOf(name),
          role: account.role,
          jti: account.jti,
          iat: Math.floor(issuedAt / 1000),
          exp,
        },
        key.signingKey(),
      );
      logger.info(
        `service accounts: ${request.createdBy} created ${name} (role ${account.role}, expires ${new Date(account.expiresAt).toISOString()})`,
      );
      return { account, token };
    },

    async list() {
      const registry = await accountsCache.reload();
      const at = now();
      return [...registry.accounts.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((account) => ({ ...account, status: statusOf(account, at) }));
    },

    async revoke(name, revokedBy) {
      checkIdentity(revokedBy, 'revokedBy');
      const at = now();
      const { registry, account } = await store.update(serviceAccountsCodec, (current) => {
        const existing = current.accounts.get(name);
        if (existing === undefined) {
          throw new AccountRequestError(
            404,
            'not_found',
            `there is no service account ${JSON.stringify(name)}`,
          );
        }
        if (existing.revokedAt !== undefined) return { result: { registry: current, account: existing } };
        const revoked: ServiceAccount = { ...existing, revokedAt: at, revokedBy };
        const next = { accounts: new Map(current.accounts).set(name, revoked) };
        return { next, result: { registry: next, account: revoked } };
      });
      accountsCache.set(registry);
      logger.info(`service accounts: ${revokedBy} revoked ${name}`);
      return account;
    },

    async verifyBearer(token): Promise<BearerVerdict> {
      const keys = new Map<string, SigningKey | undefined>();
      // verifyJwt is synchronous: look the kid up first (re-reading the store on a miss), then verify.
      const kid = unverifiedKid(token);
      if (kid !== undefined) keys.set(kid, await publicKeyFor(kid));
      const verdict = verifyJwt(token, {
        keyFor: (wanted) => keys.get(wanted)?.publicKey,
        issuer: settings.issuer,
        audience: settings.audience,
        now: now(),
      });
      if (!verdict.ok) return verdict;
      const { sub, jti } = verdict.claims;
      const name = typeof sub === 'string' && sub.startsWith('sa:') ? sub.slice(3) : undefined;
      if (name === undefined || !SERVICE_ACCOUNT_NAME.test(name) || typeof jti !== 'string') {
        return { ok: false, reason: 'malformed' };
      }
      let account = (await accountsCache.get()).accounts.get(name);
      if (account === undefined || account.jti !== jti) {
        // Only a token signed by our key gets here, so this re-read cannot be forced by forged tokens.
        account = (await accountsCache.reload()).accounts.get(name);
      }
      if (account === undefined) return { ok: false, reason: 'unknown-account' };
      // A token of an earlier account of the same name (revoked, then created again) is revoked too.
      if (account.jti !== jti || account.revokedAt !== undefined) return { ok: false, reason: 'revoked' };
      return { ok: true, account, identity: emailOf(name), role: account.role };
    },

    async roleOf(identity) {
      checkIdentity(identity, 'identity');
      const key = identityKey(identity);
      let registry = await peopleCache.get();
      const at = now();
      const seen = registry.people.get(key)?.lastSeenAt;
      if (seen === undefined || at - seen >= SEEN_RESOLUTION_MS) {
        registry = await store.update(peopleCodec, (current) => {
          const stored = current.people.get(key);
          if (stored?.lastSeenAt !== undefined && at - stored.lastSeenAt < SEEN_RESOLUTION_MS) {
            return { result: current };
          }
          const next = withPerson(current, key, { ...(stored ?? { identity }), lastSeenAt: at });
          return { next, result: next };
        });
        peopleCache.set(registry);
      }
      return personOf(key, registry.people.get(key), identity).role;
    },

    async listPeople() {
      const registry = await peopleCache.reload();
      const keys = new Set([...registry.people.keys(), ...admins]);
      return [...keys].sort().map((key) => personOf(key, registry.people.get(key), key));
    },

    async setRole(identity, role, changedBy) {
      checkIdentity(identity, 'identity');
      checkIdentity(changedBy, 'changedBy');
      if (!isRole(role)) throw new AccountRequestError(400, 'bad_request', 'role must be admin or user');
      const key = identityKey(identity);
      if (admins.has(key) && role !== 'admin') {
        throw new AccountRequestError(
          400,
          'bad_request',
          `${identity} is an admin by serve's --admin list: remove it there to change the role`,
        );
      }
      const at = now();
      const registry = await store.update(peopleCodec, (current) => {
        const stored = current.people.get(key) ?? { identity: identity.trim() };
        const next = withPerson(current, key, {
          ...stored,
          role,
          roleChangedBy: changedBy,
          roleChangedAt: at,
        });
        return { next, result: next };
      });
      peopleCache.set(registry);
      logger.info(`service accounts: ${changedBy} set the role of ${identity} to ${role}`);
      return personOf(key, registry.people.get(key), identity);
    },

    async publicJwks() {
      const set = await usableKeySet();
      return { keys: publishedKeys(set, keyTimes()).map((key) => key.publicJwk) };
    },

    async rotateKey() {
      const set = await store.update(signingKeysCodec, (current) => {
        const next = rotate(current, keyTimes());
        return { next, result: next };
      });
      keysCache.set(set);
      const kid = currentKey(set)!.kid;
      logger.info(`service accounts: signing key rotated, new kid ${kid}`);
      return { kid };
    },
  };
}

/** The current status of an account at `at`. */
export function statusOf(account: ServiceAccount, at: number): ServiceAccountStatus {
  if (account.revokedAt !== undefined) return 'revoked';
  return at >= account.expiresAt ? 'expired' : 'active';
}

function withPerson(current: PeopleRegistry, key: string, person: StoredPerson): PeopleRegistry {
  return { people: new Map(current.people).set(key, person) };
}

function checkIdentity(identity: unknown, what: string): void {
  if (
    typeof identity !== 'string' ||
    identity.trim() === '' ||
    identity.length > MAX_IDENTITY_LENGTH ||
    /[\u0000-\u001f\u007f]/.test(identity)
  ) {
    throw new AccountRequestError(
      400,
      'bad_request',
      `${what} must be a non-empty identity without control characters`,
    );
  }
}
