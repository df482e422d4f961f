import type { AuthProxyKind } from '../protocol/auth-proxy-signals';
import type { BundleCookie } from '../protocol/bundle-codec';
import type { CredentialFileError } from '../errors';

/** How an endpoint is authenticated. Secrets live only in the 0600 files of the credential store. */
export type StoredAuth =
  | { type: 'cookies' }
  | { type: 'token'; token: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'none' };

export type { AuthProxyKind };

export interface EndpointProfile {
  /** Normalised endpoint URL (see parseEndpoint); the key. */
  endpoint: string;
  auth: StoredAuth;
  /** Who the server said we are, when it said. */
  identity?: string;
  /** The auth proxy detected at login, if any. */
  proxy?: AuthProxyKind;
  /** ISO time of the login. */
  loggedInAt: string;
  /**
   * The private CA certificate(s), PEM text, the endpoint's TLS certificate is trusted with (--cacert at
   * login): the PEM itself, not a path that may move. Public, but kept in the 0600 profile like the rest.
   */
  ca?: string;
}

export interface StoredCookieInfo {
  name: string;
  value: string;
  domain: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  /** undefined for a session cookie (no expiry known). */
  expires?: Date;
  /** true: sent to `domain` only, not its subdomains (for cookies.txt exports). */
  hostOnly?: boolean;
  /** strict, lax or none, when the cookie said (for JSON exports). */
  sameSite?: string;
}

/**
 * Where logins live. Every endpoint is stored on its own, so a corrupt or concurrent write of one
 * never touches another. Implemented on disk by FileCredentialStore.
 */
export interface CredentialStore {
  /** The config home folder (for messages). */
  readonly home: string;
  getProfile(endpoint: string): Promise<EndpointProfile | undefined>;
  listProfiles(): Promise<EndpointProfile[]>;
  /** Replaces the endpoint's profile and, for cookie auth, its jar with exactly these cookies. */
  saveLogin(profile: EndpointProfile, cookies?: BundleCookie[]): Promise<void>;
  /** Forgets one endpoint's credentials; false when there were none. */
  removeEndpoint(endpoint: string): Promise<boolean>;
  /** The Cookie header value the jar holds for `url` (undefined when none apply). */
  getCookieHeader(endpoint: string, url: URL): Promise<string | undefined>;
  /** Saves the Set-Cookie headers of a response to `url` into the endpoint's jar, under its lock. */
  applySetCookies(endpoint: string, url: URL, setCookieHeaders: string[]): Promise<void>;
  listCookies(endpoint: string): Promise<StoredCookieInfo[]>;
  getLastEndpoint(): Promise<string | undefined>;
  setLastEndpoint(endpoint: string): Promise<void>;
  /**
   * Optional: every stored profile and, apart, the endpoints whose profile cannot be read, so one corrupt
   * endpoint neither hides the others nor is hidden itself (`api info --all`). A store without it is listed
   * with listProfiles and reports no problems.
   */
  listProfilesWithProblems?(): Promise<{ profiles: EndpointProfile[]; problems: CredentialFileError[] }>;
  /**
   * Optional change signal for caches: a function whose result changes whenever the endpoint's jar changes
   * (FileCredentialStore: the cookie file's inode, size and times). A store without it (or that returns
   * undefined) cannot tell, and a cache relies on its maximum age alone.
   */
  jarVersion?(endpoint: string): (() => Promise<string>) | undefined;
  /** jarVersion's synchronous twin (the same values), for a check on every request without an await. */
  jarVersionSync?(endpoint: string): (() => string) | undefined;
  /**
   * Optional: the file an `api login` of `endpoint` holds while it runs (store/login-lock-file.ts), so two
   * logins of one endpoint never run at once. A store without it (in memory) does not serialise logins.
   */
  loginLockFile?(endpoint: string): string;
}
