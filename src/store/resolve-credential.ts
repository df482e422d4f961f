import type { CredentialStore, EndpointProfile } from './credential-types';
import { NotLoggedInError } from '../errors';
import { basicHeader, bearer } from '../protocol/credential-headers';

/** Where the credential for a request comes from, in the order they are tried. */
export type CredentialSource = 'environment-token' | 'stored-token' | 'basic-auth' | 'cookie-jar' | 'none';

export interface ResolvedCredential {
  source: CredentialSource;
  profile: EndpointProfile | undefined;
  /** The headers to add to a request for `url` (Authorization or Cookie); empty when none apply. */
  headersFor(url: URL): Promise<Record<string, string>>;
}

export const TOKEN_ENV_VAR = 'COOKIE_BRIDGE_TOKEN';

/**
 * $COOKIE_BRIDGE_TOKEN overrides whatever is stored; then the stored login (token, basic or cookies).
 * An endpoint with no stored login and no token is NotLoggedInError.
 */
export async function resolveCredential(
  endpoint: string,
  store: CredentialStore,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedCredential> {
  const envToken = env[TOKEN_ENV_VAR];
  const profile = await store.getProfile(endpoint);
  if (envToken !== undefined && envToken !== '') {
    return { source: 'environment-token', profile, headersFor: async () => bearer(envToken) };
  }
  if (profile === undefined) throw new NotLoggedInError(endpoint);
  const auth = profile.auth;
  switch (auth.type) {
    case 'token':
      return { source: 'stored-token', profile, headersFor: async () => bearer(auth.token) };
    case 'basic':
      return {
        source: 'basic-auth',
        profile,
        headersFor: async () => basicHeader(auth.username, auth.password),
      };
    case 'cookies':
      return {
        source: 'cookie-jar',
        profile,
        headersFor: async (url) => {
          const cookie = await store.getCookieHeader(endpoint, url);
          return cookie === undefined ? {} : { cookie };
        },
      };
    case 'none':
      return { source: 'none', profile, headersFor: async () => ({}) };
  }
}
