import { CredentialFileError } from '../errors';
import type { AuthProxyKind, EndpointProfile, StoredAuth } from './credential-types';
import { parseEndpoint } from '../protocol/endpoint';
import { AUTH_PROXY_KINDS } from '../protocol/auth-proxy-signals';

/** Validates profile.json; also checks it sits in its endpoint's folder (not copied from another one). */
export function parseStoredProfile(
  raw: unknown,
  file: string,
  slug: string,
  endpointSlug: (endpoint: string) => string,
  hint: string,
): EndpointProfile {
  const invalid = (detail: string): CredentialFileError =>
    new CredentialFileError('E_CORRUPT_FILE', file, detail, hint);
  if (!isRecord(raw)) throw invalid('is not a valid endpoint profile');
  const { endpoint, loggedInAt, identity, proxy, ca } = raw;
  const auth = parseStoredAuth(raw.auth);
  if (
    typeof endpoint !== 'string' ||
    typeof loggedInAt !== 'string' ||
    auth === undefined ||
    (identity !== undefined && typeof identity !== 'string') ||
    (proxy !== undefined && !AUTH_PROXY_KINDS.includes(proxy as AuthProxyKind)) ||
    (ca !== undefined && (typeof ca !== 'string' || !ca.includes('-----BEGIN CERTIFICATE-----')))
  ) {
    throw invalid('is not a valid endpoint profile');
  }
  let key: string;
  try {
    key = parseEndpoint(endpoint).url;
  } catch {
    throw invalid('is not a valid endpoint profile (bad endpoint URL)');
  }
  if (endpointSlug(key) !== slug) throw invalid(`belongs to ${key}, not to the folder it is in`);
  const profile: EndpointProfile = { endpoint: key, auth, loggedInAt };
  if (identity !== undefined) profile.identity = identity as string;
  if (proxy !== undefined) profile.proxy = proxy as AuthProxyKind;
  if (ca !== undefined) profile.ca = ca as string;
  return profile;
}

function parseStoredAuth(raw: unknown): StoredAuth | undefined {
  if (!isRecord(raw)) return undefined;
  switch (raw.type) {
    case 'cookies':
      return { type: 'cookies' };
    case 'none':
      return { type: 'none' };
    case 'token':
      return typeof raw.token === 'string' ? { type: 'token', token: raw.token } : undefined;
    case 'basic':
      return typeof raw.username === 'string' && typeof raw.password === 'string'
        ? { type: 'basic', username: raw.username, password: raw.password }
        : undefined;
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
