/**
 * THE TEST KIT'S AccountService (issue 13), in memory: not the product's (src/server/accounts/account-service.ts
 * on the core's branch). Honest: real ES256 keys from node:crypto, real signatures (IEEE P1363), and every check
 * verifyBearer promises (algorithm, kid, signature, iss, aud, exp/nbf, account, jti, revocation), so a test
 * that sends a forged, expired or revoked token is refused for the real reason. `signWith` lets a test mint
 * tokens the service never issued (a foreign key, another audience, alg none).
 */
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import {
  AccountRequestError,
  SERVICE_ACCOUNT_NAME,
  type AccountService,
  type AccountServiceOptions,
  type BearerVerdict,
  type CreateServiceAccountRequest,
  type Person,
  type PublicJwk,
  type Role,
  type ServiceAccount,
  type ServiceAccountStatus,
} from '../../src/server/accounts/account-types';
import { ecJwkThumbprint } from '../../src/protocol/jwt';

const DAY_MS = 86_400_000;

export interface KitKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

/** A fresh P-256 key with its RFC 7638 thumbprint as kid. */
export function makeKitKey(): KitKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' }) as { kty: string; crv: string; x: string; y: string };
  const thumbprint = ecJwkThumbprint(jwk);
  return {
    kid: thumbprint,
    privateKey,
    publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: thumbprint, alg: 'ES256', use: 'sig' },
  };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS signed with `key` (ES256 unless `header` says otherwise: the signature stays ES256's). */
export function signWith(
  key: KitKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: key.kid, ...header })}.${b64(claims)}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

export interface MemoryAccountService extends AccountService {
  /** The key that signs now (tests sign foreign-looking tokens with makeKitKey() instead). */
  currentKey(): KitKey;
  /** The claims the service would put in a token for `name` (to forge variants). */
  claimsFor(name: string): Record<string, unknown>;
  /** Calls of roleOf, in order (proves serve asked). */
  roleLookups: string[];
}

export function createMemoryAccountService(
  options: AccountServiceOptions & { now: () => number },
): MemoryAccountService {
  const audience = options.audience ?? 'cookie-bridge';
  const domain = options.emailDomain ?? 'service-accounts.invalid';
  const defaultLifetime = options.defaultLifetimeMs ?? 30 * DAY_MS;
  const maxLifetime = options.maxLifetimeMs ?? 365 * DAY_MS;
  const admins = new Set(options.admins ?? []);
  const keys: KitKey[] = [makeKitKey()];
  const accounts = new Map<string, ServiceAccount>();
  const people = new Map<string, Person>();
  const roleLookups: string[] = [];
  const { now } = options;

  const statusOf = (account: ServiceAccount): ServiceAccountStatus =>
    account.revokedAt !== undefined ? 'revoked' : account.expiresAt <= now() ? 'expired' : 'active';
  const emailOf = (name: string): string => `${name}@${domain}`;
  const current = (): KitKey => keys[keys.length - 1]!;
  const claimsFor = (name: string): Record<string, unknown> => {
    const account = accounts.get(name);
    const iat = Math.floor(now() / 1000);
    return {
      iss: options.issuer,
      aud: audience,
      sub: `sa:${name}`,
      email: emailOf(name),
      role: account?.role ?? 'user',
      jti: account?.jti ?? 'unknown',
      iat,
      exp: Math.floor((account?.expiresAt ?? now() + defaultLifetime) / 1000),
    };
  };
  const personRole = (identity: string): Person => {
    if (admins.has(identity)) {
      return { ...people.get(identity), identity, role: 'admin', roleSource: 'admin-flag' };
    }
    const known = people.get(identity);
    if (known?.roleSource === 'registry') return known;
    return { ...known, identity, role: options.defaultRole ?? 'user', roleSource: 'default' };
  };

  const service: MemoryAccountService = {
    issuer: options.issuer,
    audience,
    roleLookups,
    currentKey: current,
    claimsFor,
    async create(request: CreateServiceAccountRequest) {
      if (!SERVICE_ACCOUNT_NAME.test(request.name)) {
        throw new AccountRequestError(400, 'bad_request', `not a service account name: ${request.name}`);
      }
      const lifetime = request.lifetimeMs ?? defaultLifetime;
      if (lifetime <= 0 || lifetime > maxLifetime) {
        throw new AccountRequestError(400, 'bad_request', 'the lifetime is longer than the maximum');
      }
      const existing = accounts.get(request.name);
      if (existing !== undefined && statusOf(existing) === 'active') {
        throw new AccountRequestError(409, 'exists', `service account ${request.name} exists`);
      }
      const account: ServiceAccount = {
        name: request.name,
        role: request.role,
        jti: randomBytes(16).toString('base64url'),
        createdAt: now(),
        expiresAt: now() + lifetime,
        createdBy: request.createdBy,
      };
      accounts.set(account.name, account);
      return { account: { ...account }, token: signWith(current(), claimsFor(account.name)) };
    },
    async list() {
      return [...accounts.values()].map((account) => ({ ...account, status: statusOf(account) }));
    },
    async revoke(name, revokedBy) {
      const account = accounts.get(name);
      if (account === undefined)
        throw new AccountRequestError(404, 'not_found', `no service account ${name}`);
      account.revokedAt ??= now();
      account.revokedBy ??= revokedBy;
      return { ...account };
    },
    async verifyBearer(token): Promise<BearerVerdict> {
      const parts = token.split('.');
      if (token.length > 8192 || parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
        return { ok: false, reason: 'malformed' };
      }
      let header: Record<string, unknown>;
      let claims: Record<string, unknown>;
      try {
        header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
        claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      } catch {
        return { ok: false, reason: 'malformed' };
      }
      if (header.alg !== 'ES256') return { ok: false, reason: 'unsupported-algorithm' };
      const key = keys.find((k) => k.kid === header.kid);
      if (key === undefined) return { ok: false, reason: 'unknown-key' };
      const good = verify(
        'sha256',
        Buffer.from(`${parts[0]}.${parts[1]}`),
        { key: createPublicKey({ key: key.publicJwk as never, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
        Buffer.from(parts[2]!, 'base64url'),
      );
      if (!good) return { ok: false, reason: 'bad-signature' };
      if (claims.iss !== options.issuer) return { ok: false, reason: 'wrong-issuer' };
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.includes(audience)) return { ok: false, reason: 'wrong-audience' };
      const seconds = now() / 1000;
      if (typeof claims.exp !== 'number' || claims.exp <= seconds) return { ok: false, reason: 'expired' };
      if (typeof claims.nbf === 'number' && claims.nbf > seconds + 60)
        return { ok: false, reason: 'not-yet-valid' };
      const sub = typeof claims.sub === 'string' ? claims.sub : '';
      const account = sub.startsWith('sa:') ? accounts.get(sub.slice(3)) : undefined;
      if (account === undefined) return { ok: false, reason: 'unknown-account' };
      if (account.revokedAt !== undefined || claims.jti !== account.jti)
        return { ok: false, reason: 'revoked' };
      return { ok: true, account: { ...account }, identity: emailOf(account.name), role: account.role };
    },
    async roleOf(identity) {
      roleLookups.push(identity);
      const person = personRole(identity);
      const seen: Person = { ...person, lastSeenAt: now() };
      people.set(identity, seen);
      return seen.role;
    },
    async listPeople() {
      const all = new Set([...admins, ...people.keys()]);
      return [...all].map((identity) => personRole(identity));
    },
    async setRole(identity, role: Role) {
      if (admins.has(identity)) return personRole(identity);
      const person: Person = { ...people.get(identity), identity, role, roleSource: 'registry' };
      people.set(identity, person);
      return { ...person };
    },
    async publicJwks() {
      return { keys: keys.map((k) => ({ ...k.publicJwk })) };
    },
    async rotateKey() {
      keys.push(makeKitKey());
      return { kid: current().kid };
    },
  };
  return service;
}
