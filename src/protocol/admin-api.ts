/**
 * The admin API's contract (issue 13; docs in README "Service accounts for robots"): roles, the service
 * account name rule, the paths under /cookie-bridge/admin/ and the JSON each answers. Pure: serve's routes
 * answer in these shapes, the SDK's admin client (src/sdk/admin-client.ts) reads them.
 * src/server/accounts/account-types.ts re-exports the role and name rule from here.
 */

export type Role = 'admin' | 'user';
export const ROLES: readonly Role[] = ['admin', 'user'];

export function isRole(value: unknown): value is Role {
  return value === 'admin' || value === 'user';
}

/** A service account name: lower-case letters, digits and '-', 1-63 characters, starting with a letter or digit. */
export const SERVICE_ACCOUNT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Where the admin API lives on the endpoint (behind the auth proxy). */
export const ADMIN_API_PREFIX = '/cookie-bridge/admin';

export const ADMIN_API_PATHS = {
  me: `${ADMIN_API_PREFIX}/me`,
  serviceAccounts: `${ADMIN_API_PREFIX}/service-accounts`,
  serviceAccount: (name: string) => `${ADMIN_API_PREFIX}/service-accounts/${encodeURIComponent(name)}`,
  users: `${ADMIN_API_PREFIX}/users`,
  userRole: (identity: string) => `${ADMIN_API_PREFIX}/users/${encodeURIComponent(identity)}/role`,
  rotateKey: `${ADMIN_API_PREFIX}/keys/rotate`,
} as const;

/** GET /me: who the server takes the caller for (any caller). */
export interface AdminMeJson {
  identity: string;
  role: Role;
  kind: 'person' | 'service-account';
}

export type ServiceAccountStatusJson = 'active' | 'revoked' | 'expired';

/** One service account as the admin API lists it (times ISO 8601); never its token. */
export interface ServiceAccountJson {
  name: string;
  role: Role;
  createdAt: string;
  expiresAt: string;
  createdBy: string;
  status: ServiceAccountStatusJson;
  revokedAt?: string;
}

/** POST /service-accounts: the account and its token, which is shown this once. */
export interface CreatedServiceAccountJson extends ServiceAccountJson {
  token: string;
}

/** POST /service-accounts's body; `expiresIn` in seconds (the server's default when absent). */
export interface CreateServiceAccountBody {
  name: string;
  role?: Role;
  expiresIn?: number;
}

export interface UserJson {
  identity: string;
  role: Role;
  roleSource: 'admin-flag' | 'registry' | 'default';
  lastSeenAt?: string;
}

/** 403 from the admin API: the caller is not an admin; `admins` says who is. */
export interface ForbiddenJson {
  error: 'forbidden';
  message: string;
  admins?: string;
}

/** 401 from serve: a bearer token with serve's issuer that does not verify; `reason` is a TokenRefusalReason. */
export interface TokenInvalidJson {
  error: 'token_invalid';
  reason: string;
  message: string;
}

/** Every error answer of serve: `{"error", "message"}` plus fields of its own (src/http/refusal.ts). */
export interface AdminErrorJson {
  error: string;
  message: string;
  [field: string]: unknown;
}

/** The `{"error", "message"}` shape, or undefined when `value` is something else (an app's page, `{}`). */
export function asAdminError(value: unknown): AdminErrorJson | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { error, message } = value as Record<string, unknown>;
  if (typeof error !== 'string' || typeof message !== 'string') return undefined;
  return value as AdminErrorJson;
}

export function isServiceAccountJson(value: unknown): value is ServiceAccountJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === 'string' &&
    isRole(v.role) &&
    typeof v.createdAt === 'string' &&
    typeof v.expiresAt === 'string' &&
    typeof v.createdBy === 'string' &&
    (v.status === 'active' || v.status === 'revoked' || v.status === 'expired')
  );
}

export function isUserJson(value: unknown): value is UserJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.identity === 'string' &&
    isRole(v.role) &&
    (v.roleSource === 'admin-flag' || v.roleSource === 'registry' || v.roleSource === 'default')
  );
}

export function isAdminMeJson(value: unknown): value is AdminMeJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.identity === 'string' && isRole(v.role) && (v.kind === 'person' || v.kind === 'service-account')
  );
}

/**
 * A text a server sent (an error's `message`, `admins`), made fit for a terminal line: control characters
 * (escape sequences, line breaks) become '?', and it is cut at `max` characters.
 */
export function serverText(value: string, max = 300): string {
  const short = value.length > max ? `${value.slice(0, max)}…` : value;
  return short.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}
