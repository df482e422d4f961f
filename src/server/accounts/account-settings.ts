import { isRole } from './account-documents';
import type { AccountServiceOptions, Role } from './account-types';

/** AccountServiceOptions with their defaults, checked once when the service is made. */

const DAY_MS = 86_400_000;
export const DEFAULT_TOKEN_LIFETIME_MS = 30 * DAY_MS;
export const DEFAULT_MAX_TOKEN_LIFETIME_MS = 365 * DAY_MS;
export const DEFAULT_KEY_LIFETIME_MS = 90 * DAY_MS;
export const DEFAULT_AUDIENCE = 'cookie-bridge';
export const DEFAULT_EMAIL_DOMAIN = 'service-accounts.invalid';

export interface AccountSettings {
  issuer: string;
  audience: string;
  defaultLifetimeMs: number;
  maxLifetimeMs: number;
  keyLifetimeMs: number;
  admins: readonly string[];
  defaultRole: Role;
  emailDomain: string;
}

/** The options with their defaults; a wrong one is a programming or configuration error (TypeError/RangeError). */
export function checkedSettings(options: AccountServiceOptions): AccountSettings {
  let url: URL;
  try {
    url = new URL(options.issuer);
  } catch {
    throw new TypeError(`the issuer must be an absolute http(s) URL, got ${JSON.stringify(options.issuer)}`);
  }
  if (!['https:', 'http:'].includes(url.protocol) || options.issuer.endsWith('/') || url.search || url.hash) {
    throw new TypeError(`the issuer must be an http(s) URL without a trailing slash, query or fragment`);
  }
  const settings: AccountSettings = {
    issuer: options.issuer,
    audience: options.audience ?? DEFAULT_AUDIENCE,
    defaultLifetimeMs: options.defaultLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS,
    maxLifetimeMs: options.maxLifetimeMs ?? DEFAULT_MAX_TOKEN_LIFETIME_MS,
    keyLifetimeMs: options.keyLifetimeMs ?? DEFAULT_KEY_LIFETIME_MS,
    admins: options.admins ?? [],
    defaultRole: options.defaultRole ?? 'user',
    emailDomain: options.emailDomain ?? DEFAULT_EMAIL_DOMAIN,
  };
  for (const [name, value] of Object.entries({
    defaultLifetimeMs: settings.defaultLifetimeMs,
    maxLifetimeMs: settings.maxLifetimeMs,
    keyLifetimeMs: settings.keyLifetimeMs,
  })) {
    if (!Number.isSafeInteger(value) || value < 1000)
      throw new RangeError(`${name} must be at least 1000 ms`);
  }
  if (settings.defaultLifetimeMs > settings.maxLifetimeMs) {
    throw new RangeError('the default token lifetime is longer than the maximum');
  }
  if (!isRole(settings.defaultRole)) throw new TypeError('defaultRole must be admin or user');
  if (settings.audience === '' || settings.emailDomain === '')
    throw new TypeError('audience and emailDomain must not be empty');
  return settings;
}
