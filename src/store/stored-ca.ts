import type { CredentialStore } from './credential-types';

/**
 * The CA (PEM text) stored at login for the endpoints on `origin` (an endpoint may have a path: several can
 * share an origin), for the HTTP client's TLS trust (src/http/tls-options.ts). An unreadable profile of another
 * endpoint is skipped: it must not break this one's connections (commands report it where they read it).
 */
export async function storedCaForOrigin(store: CredentialStore, origin: string): Promise<string | undefined> {
  let profiles;
  try {
    profiles = store.listProfilesWithProblems
      ? (await store.listProfilesWithProblems()).profiles
      : await store.listProfiles();
  } catch {
    return undefined;
  }
  const cas = profiles.flatMap((profile) =>
    profile.ca !== undefined && new URL(profile.endpoint).origin === origin ? [profile.ca] : [],
  );
  return cas.length === 0 ? undefined : [...new Set(cas)].join('\n');
}
