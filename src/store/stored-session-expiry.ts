import { sessionExpiry, type SessionExpiry } from '../protocol/session-expiry';
import type { CredentialStore } from './credential-types';
import { resolveCredential } from './resolve-credential';

/** When the stored cookie session of an endpoint ends, as far as its jar tells (protocol/session-expiry.ts). */
export interface StoredSessionExpiry extends SessionExpiry {
  /** How many cookies the jar still holds (expired ones are gone): 0 means the whole session has expired. */
  liveCookies: number;
}

/**
 * The stored session's expiry, for a credential that is a cookie jar (the one requests would use: not when
 * $COOKIE_BRIDGE_TOKEN overrides it); undefined for tokens, basic auth and endpoints that need nothing.
 * Throws NotLoggedInError when nothing is stored.
 */
export async function storedSessionExpiry(
  store: CredentialStore,
  endpoint: string,
  env: NodeJS.ProcessEnv,
): Promise<StoredSessionExpiry | undefined> {
  const credential = await resolveCredential(endpoint, store, env);
  if (credential.source !== 'cookie-jar') return undefined;
  const cookies = await store.listCookies(endpoint);
  return { ...sessionExpiry(cookies), liveCookies: cookies.length };
}
