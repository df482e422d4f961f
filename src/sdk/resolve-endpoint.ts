import type { CredentialStore } from '../store/credential-types';
import { parseEndpoint } from '../protocol/endpoint';
import { NotLoggedInError } from '../errors';

export type EndpointSource = 'argument' | 'environment' | 'last-login';

export interface ResolvedEndpoint {
  endpoint: string;
  source: EndpointSource;
}

/** -e wins, then $COOKIE_BRIDGE_ENDPOINT, then the endpoint logged in to last. */
export async function resolveEndpoint(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  store: CredentialStore,
): Promise<ResolvedEndpoint> {
  if (explicit !== undefined && explicit !== '')
    return { endpoint: parseEndpoint(explicit).url, source: 'argument' };
  const fromEnv = env.COOKIE_BRIDGE_ENDPOINT;
  if (fromEnv !== undefined && fromEnv !== '')
    return { endpoint: parseEndpoint(fromEnv).url, source: 'environment' };
  const last = await store.getLastEndpoint();
  if (last !== undefined) return { endpoint: last, source: 'last-login' };
  throw new NotLoggedInError(undefined);
}
