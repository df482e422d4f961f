import type { CookieJar } from 'tough-cookie';
import type { BundleCookie } from '../../src/protocol/bundle-codec';
import { parseEndpoint } from '../../src/protocol/endpoint';
import type { CredentialStore, EndpointProfile, StoredCookieInfo } from '../../src/store/credential-types';
import {
  applyToJar,
  cookieHeaderFromJar,
  serialiseLoginJar,
  storedCookieInfos,
} from '../../src/store/jar-file';
import { newJar, toughCookie } from '../../src/store/stored-cookie-jar';

/**
 * A CredentialStore in memory, for the fake Context (fake-context.ts): the same rules as FileCredentialStore
 * (endpoints normalised, a login's jar built and checked by store/jar-file.ts, Set-Cookie only from the
 * endpoint's origin and only into an existing jar, expired cookies never sent) without a disk, a lock or a
 * config home. `now` is the fake clock.
 */
export class MemoryCredentialStore implements CredentialStore {
  readonly home = '(in memory)';
  private readonly profiles = new Map<string, EndpointProfile>();
  /** Each cookie endpoint's jar as FileCredentialStore writes it (cookies.json's text). */
  private readonly jars = new Map<string, string>();
  private lastEndpoint: string | undefined;

  constructor(private readonly now: () => number) {}

  async getProfile(endpoint: string): Promise<EndpointProfile | undefined> {
    return this.profiles.get(parseEndpoint(endpoint).url);
  }

  async listProfiles(): Promise<EndpointProfile[]> {
    return [...this.profiles.values()].sort((a, b) => a.endpoint.localeCompare(b.endpoint));
  }

  async saveLogin(profile: EndpointProfile, cookies: BundleCookie[] = []): Promise<void> {
    const key = parseEndpoint(profile.endpoint).url;
    const jarText =
      profile.auth.type === 'cookies' ? await serialiseLoginJar(key, cookies, this.now()) : undefined;
    if (jarText === undefined) this.jars.delete(key);
    else this.jars.set(key, jarText);
    this.profiles.set(key, { ...profile, endpoint: key });
  }

  async removeEndpoint(endpoint: string): Promise<boolean> {
    const key = parseEndpoint(endpoint).url;
    this.jars.delete(key);
    return this.profiles.delete(key);
  }

  async getCookieHeader(endpoint: string, url: URL): Promise<string | undefined> {
    const key = parseEndpoint(endpoint).url;
    const jar = new URL(key).origin === url.origin ? await this.jar(key) : undefined;
    if (jar === undefined) return undefined;
    return cookieHeaderFromJar(jar, url, this.now());
  }

  async applySetCookies(endpoint: string, url: URL, setCookieHeaders: string[]): Promise<void> {
    const key = parseEndpoint(endpoint).url;
    if (setCookieHeaders.length === 0 || new URL(key).origin !== url.origin) return;
    const jar = await this.jar(key);
    if (jar === undefined || !(await applyToJar(jar, url, setCookieHeaders, this.now(), undefined))) return;
    this.jars.set(key, JSON.stringify(await jar.serialize()));
  }

  async listCookies(endpoint: string): Promise<StoredCookieInfo[]> {
    const text = this.jars.get(parseEndpoint(endpoint).url);
    if (text === undefined) return [];
    const { cookies } = JSON.parse(text) as { cookies: Array<Record<string, unknown>> };
    return storedCookieInfos(cookies, this.now());
  }

  async getLastEndpoint(): Promise<string | undefined> {
    return this.lastEndpoint;
  }

  async setLastEndpoint(endpoint: string): Promise<void> {
    this.lastEndpoint = parseEndpoint(endpoint).url;
  }

  private async jar(key: string): Promise<CookieJar | undefined> {
    const text = this.jars.get(key);
    if (text === undefined) return undefined;
    const jar = newJar();
    for (const entry of (JSON.parse(text) as { cookies: unknown[] }).cookies) {
      const cookie = toughCookie().Cookie.fromJSON(entry);
      if (cookie !== undefined) await jar.store.putCookie(cookie);
    }
    return jar;
  }
}
