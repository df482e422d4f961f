/**
 * Service accounts and roles (issue 13): the types every part shares. The signing keys, the registry of
 * service accounts and people, and the token rules live behind AccountService (account-service.ts); the
 * routes (issuer, admin API and page, the auth check for nginx) and serve's own bearer check use only this.
 */

import type { JwtRefusalReason } from '../../protocol/jwt';
import type { Role } from '../../protocol/admin-api';

/**
 * The roles and the service account name rule are the admin API's contract too (the CLI's client checks them
 * before sending): defined once in src/protocol/admin-api.ts, re-exported here under the same names.
 */
export { ROLES, SERVICE_ACCOUNT_NAME, type Role } from '../../protocol/admin-api';

export interface ServiceAccount {
  name: string;
  role: Role;
  /** The token's `jti` (one live token per account; a new token means a new account or a re-create). */
  jti: string;
  /** ms since the epoch. */
  createdAt: number;
  expiresAt: number;
  /** Identity of the admin who created it. */
  createdBy: string;
  /** ms since the epoch; absent while not revoked. */
  revokedAt?: number;
  revokedBy?: string;
}

export type ServiceAccountStatus = 'active' | 'revoked' | 'expired';

/** A person the auth proxy named to serve at least once, and their role. */
export interface Person {
  identity: string;
  role: Role;
  /** Where the role comes from: serve's --admin list, the registry (set by an admin), or --default-role. */
  roleSource: 'admin-flag' | 'registry' | 'default';
  /** ms since the epoch; absent for a role set before the person was seen. */
  lastSeenAt?: number;
}

/** Why a bearer token is refused (serve's 401 JSON `reason`, the CLI's message). */
export type TokenRefusalReason = JwtRefusalReason | 'revoked' | 'unknown-account';

export type BearerVerdict =
  | { ok: true; account: ServiceAccount; identity: string; role: Role }
  | { ok: false; reason: TokenRefusalReason };

export interface CreateServiceAccountRequest {
  name: string;
  role: Role;
  /** Lifetime in ms; default the service's default (30 days), at most its maximum. */
  lifetimeMs?: number;
  createdBy: string;
}

/** A public key as JWKS publishes it (EC P-256 for ES256). */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid: string;
  alg: string;
  use: 'sig';
}

export interface AccountServiceOptions {
  /** The `iss` of every token, e.g. https://api.example.com/cookie-bridge/sa (no trailing slash). */
  issuer: string;
  /** The `aud`; default 'cookie-bridge'. */
  audience?: string;
  /** Default token lifetime; default 30 days. */
  defaultLifetimeMs?: number;
  /** Longest lifetime an admin may ask for; default 365 days. */
  maxLifetimeMs?: number;
  /** How long a signing key signs before a new one takes over; default 90 days. */
  keyLifetimeMs?: number;
  /** Identities that are admins whatever the registry says (serve --admin). */
  admins?: readonly string[];
  /** The role of anyone else; default 'user'. */
  defaultRole?: Role;
  /** The domain of the `email` claim: `<name>@<domain>`; default 'service-accounts.invalid'. */
  emailDomain?: string;
}

/** Thrown by AccountService for requests that are wrong (the admin API's 400/404/409). */
export class AccountRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    readonly code: 'bad_request' | 'not_found' | 'exists',
    message: string,
  ) {
    super(message);
    this.name = 'AccountRequestError';
  }
}

/**
 * Everything serve asks about service accounts and roles. Every method may reject with
 * AccountStateError (a corrupt state file or an unreachable shared store: never a silent new key).
 */
export interface AccountService {
  readonly issuer: string;
  readonly audience: string;
  /** Creates an account and its token; the token is returned once and never stored. */
  create(request: CreateServiceAccountRequest): Promise<{ account: ServiceAccount; token: string }>;
  list(): Promise<Array<ServiceAccount & { status: ServiceAccountStatus }>>;
  /** Marks it revoked (kept until its token expires, so serve keeps refusing it). 404 when unknown. */
  revoke(name: string, revokedBy: string): Promise<ServiceAccount>;
  /** Checks a bearer token completely: signature (a published key), iss, aud, exp/nbf, account, revocation. */
  verifyBearer(token: string): Promise<BearerVerdict>;
  /** The role of a person the proxy named; records them as seen. */
  roleOf(identity: string): Promise<Role>;
  listPeople(): Promise<Person[]>;
  setRole(identity: string, role: Role, changedBy: string): Promise<Person>;
  /** The public keys to publish: the current one and every retired one whose tokens may still be valid. */
  publicJwks(): Promise<{ keys: PublicJwk[] }>;
  /** Starts a new signing key now (the old one stays published until its last token expires). */
  rotateKey(): Promise<{ kid: string }>;
}

/** A state file that cannot be read or trusted, or a shared store that is down: names the file, never a secret. */
export class AccountStateError extends Error {
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AccountStateError';
  }
}
