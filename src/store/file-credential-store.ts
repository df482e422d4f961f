/**
 * FileCredentialStore keeps logins on disk, one folder per endpoint, so endpoints never share a file.
 * The layout is in store-layout.ts; config.json in config-file.ts; the cookie jar file in jar-file.ts;
 * the cleanup of temp files left by killed writers in stale-temp-files.ts.
 *
 * - Every file is replaced atomically (temp file, fsync, rename) and chmod'ed 0600 after each write.
 * - Each endpoint's files are written under that endpoint's own lock, so parallel processes working on
 *   different endpoints never wait for or overwrite each other, and concurrent cookie refreshes of one
 *   endpoint are serialised (read, apply, write under the lock) so none is lost. A lock left by a killed
 *   process is taken over after a few seconds.
 * - A missing file means "not logged in". A corrupt file is reported (CredentialFileError E_CORRUPT_FILE,
 *   naming the file) and never deleted or rewritten by the store; other endpoints stay usable.
 * - Deleting an endpoint's folder (or `cookie-bridge api logout -e <endpoint>`) forgets only that login.
 */
import type { Dirent } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { silentLogger, systemClock, type Clock, type Logger } from '../context';
import { CredentialFileError, errnoCode } from '../errors';
import type { BundleCookie } from '../protocol/bundle-codec';
import type { CredentialStore, EndpointProfile, StoredCookieInfo } from './credential-types';
import { parseEndpoint } from '../protocol/endpoint';
import { readConfig, updateConfig } from './config-file';
import * as fs from './fs-calls';
import {
  applyToJar,
  jarFileVersion,
  jarFileVersionSync,
  jarOfEntries,
  readJar,
  forgetJarEntries,
  readJarEntries,
  serialiseLoginJar,
  storedCookieInfos,
  cookieHeaderFromJar,
} from './jar-file';
import { removeStaleTempFiles } from './stale-temp-files';
import { cookieHeaderFromStoredJar } from './stored-cookie-header';
import {
  checkHome,
  configFileOf,
  corruptHint,
  endpointPathsOf,
  endpointsFolderOf,
  endpointSlug,
  ensureEndpointsFolder,
  exists,
  loginLockFileOf,
  PROFILE_FILE,
  removeFile,
  toJsonText,
  type EndpointPaths,
} from './store-layout';
import { toughCookie } from './stored-cookie-jar';
import { parseStoredProfile } from './stored-profile';
import {
  preloadSecureFileModules,
  readJsonFile,
  withFileLock,
  writeFileSecurely,
  type FileLockOptions,
} from './secure-file';

export { endpointSlug, type EndpointPaths } from './store-layout';

export interface FileCredentialStoreOptions {
  /** The config home folder (resolveConfigHome). */
  home: string;
  /** Decides cookie expiry; defaults to the system clock. */
  now?: Clock;
  /** Debug lines (Set-Cookie headers that were ignored, redacted). */
  logger?: Logger;
  /** Lock timing; the defaults suit the CLI. */
  lock?: FileLockOptions;
}

/** Loads what saving a login needs ahead of time (the login command calls it while the browser works). */
export function preloadCredentialStoreModules(): void {
  toughCookie();
  preloadSecureFileModules();
}

/** Stores logins under `home` as documented in store-layout.ts. */
export class FileCredentialStore implements CredentialStore {
  readonly home: string;
  private readonly now: Clock;
  private readonly logger: Logger;
  private readonly lockOptions: FileLockOptions;

  constructor(options: FileCredentialStoreOptions) {
    this.home = resolve(options.home);
    this.now = options.now ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.lockOptions = options.lock ?? {};
  }

  /** The files of `endpoint` (normalised first); nothing is created. */
  pathsFor(endpoint: string): EndpointPaths {
    return endpointPathsOf(this.home, endpoint);
  }

  /** The file that remembers the last endpoint used. */
  get configFile(): string {
    return configFileOf(this.home);
  }

  /** Stats the endpoint's cookies.json: changes whenever any process rewrites the jar. */
  jarVersion(endpoint: string): () => Promise<string> {
    const file = this.pathsFor(endpoint).cookies;
    return () => jarFileVersion(file);
  }

  /** jarVersion, synchronously (one stat syscall). */
  jarVersionSync(endpoint: string): () => string {
    const file = this.pathsFor(endpoint).cookies;
    return () => jarFileVersionSync(file);
  }

  /** `<home>/login-locks/<slug>`: held while an `api login` of the endpoint runs. */
  loginLockFile(endpoint: string): string {
    return loginLockFileOf(this.home, parseEndpoint(endpoint).url);
  }

  async getProfile(endpoint: string): Promise<EndpointProfile | undefined> {
    const key = parseEndpoint(endpoint).url;
    const paths = this.pathsFor(key);
    await checkHome(this.home);
    const raw = await readJsonFile(paths.profile, { hint: corruptHint(paths.profile, key) });
    if (raw === undefined) return undefined;
    return parseStoredProfile(
      raw,
      paths.profile,
      basename(paths.folder),
      endpointSlug,
      corruptHint(paths.profile),
    );
  }

  async listProfiles(): Promise<EndpointProfile[]> {
    return (await this.listProfilesWithProblems()).profiles;
  }

  /**
   * Every stored profile, sorted by endpoint, and separately the endpoints whose profile.json cannot be
   * read, so one corrupt endpoint does not hide the others.
   */
  async listProfilesWithProblems(): Promise<{
    profiles: EndpointProfile[];
    problems: CredentialFileError[];
  }> {
    const folder = endpointsFolderOf(this.home);
    await checkHome(this.home);
    let entries: Dirent[];
    try {
      entries = await fs.readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return { profiles: [], problems: [] };
      throw new CredentialFileError(
        'E_CORRUPT_FILE',
        folder,
        `cannot be read (${errnoCode(error) ?? 'unknown error'})`,
        `check the owner and permissions of ${folder}`,
      );
    }
    const profiles: EndpointProfile[] = [];
    const problems: CredentialFileError[] = [];
    const slugs = entries
      .filter((entry) => entry.isDirectory() && !entry.name.endsWith('.lock'))
      .map((entry) => entry.name)
      .sort();
    for (const slug of slugs) {
      const file = join(folder, slug, PROFILE_FILE);
      try {
        const raw = await readJsonFile(file, { hint: corruptHint(file) });
        if (raw !== undefined)
          profiles.push(parseStoredProfile(raw, file, slug, endpointSlug, corruptHint(file)));
      } catch (error) {
        if (!(error instanceof CredentialFileError)) throw error;
        problems.push(error);
      }
    }
    profiles.sort((a, b) => (a.endpoint < b.endpoint ? -1 : a.endpoint > b.endpoint ? 1 : 0));
    return { profiles, problems };
  }

  async saveLogin(profile: EndpointProfile, cookies: BundleCookie[] = []): Promise<void> {
    const key = parseEndpoint(profile.endpoint).url;
    const stored: EndpointProfile = { ...profile, endpoint: key };
    const paths = this.pathsFor(key);
    // Build the jar before taking the lock: a cookie that cannot be stored fails the login, and nothing is saved.
    const jarText =
      stored.auth.type === 'cookies' ? await serialiseLoginJar(key, cookies, this.now()) : undefined;
    await ensureEndpointsFolder(this.home);
    await withFileLock(
      paths.folder,
      async () => {
        await removeStaleTempFiles(paths.folder);
        try {
          if (jarText !== undefined) await writeFileSecurely(paths.cookies, jarText);
          await writeFileSecurely(paths.profile, toJsonText(stored));
          if (jarText === undefined) await removeFile(paths.cookies);
        } finally {
          forgetJarEntries(paths.cookies);
        }
      },
      this.lockOptions,
    );
  }

  async removeEndpoint(endpoint: string): Promise<boolean> {
    const key = parseEndpoint(endpoint).url;
    const paths = this.pathsFor(key);
    let removed = false;
    if (await exists(paths.folder)) {
      removed = await withFileLock(
        paths.folder,
        async () => {
          if (!(await exists(paths.folder))) return false;
          try {
            await fs.rm(paths.folder, { recursive: true, force: true });
          } catch (error) {
            throw new CredentialFileError(
              'E_WRITE_FAILED',
              paths.folder,
              `cannot be removed (${errnoCode(error) ?? 'unknown error'})`,
              `check the owner and permissions of ${dirname(paths.folder)}, or delete the folder by hand`,
            );
          } finally {
            forgetJarEntries(paths.cookies);
          }
          return true;
        },
        this.lockOptions,
      );
    }
    try {
      await updateConfig(
        this.home,
        (config) => {
          if (config.lastEndpoint !== key) return undefined;
          const { lastEndpoint: _dropped, ...rest } = config;
          return rest;
        },
        this.lockOptions,
      );
    } catch (error) {
      // The login is gone, which is what was asked; a config.json problem shows up on its next use.
      if (!(error instanceof CredentialFileError)) throw error;
      this.logger.warn(`${error.message} (${error.hint ?? ''})`);
    }
    return removed;
  }

  async getCookieHeader(endpoint: string, url: URL): Promise<string | undefined> {
    const key = parseEndpoint(endpoint).url;
    if (!sameOrigin(key, url)) return undefined;
    const entries = await readJarEntries(this.home, key);
    if (entries === undefined) return undefined;
    const now = this.now();
    // From the file's entries without tough-cookie (~20 ms to load) when the rules can be applied exactly
    // without the public suffix list; tough-cookie decides the rest (a parent-domain cookie).
    const stored = cookieHeaderFromStoredJar(entries, url, now);
    if (stored !== undefined) return stored.header;
    return cookieHeaderFromJar(await jarOfEntries(this.home, key, entries), url, now);
  }

  /**
   * Applies Set-Cookie headers of a response from `url` to the endpoint's jar. Only responses from the
   * endpoint's origin are applied, and only to an endpoint logged in with cookies (a jar exists), so a
   * late response never brings back a login that was removed. Unparseable headers and cookies for other
   * domains are ignored. When nothing changes nothing is written and no lock is taken.
   */
  async applySetCookies(endpoint: string, url: URL, setCookieHeaders: string[]): Promise<void> {
    if (setCookieHeaders.length === 0) return;
    const key = parseEndpoint(endpoint).url;
    if (!sameOrigin(key, url)) {
      this.logger.debug(`ignored ${setCookieHeaders.length} Set-Cookie header(s) from another origin`);
      return;
    }
    // Cheap check without the lock: most responses repeat what the jar holds already.
    const current = await readJar(this.home, key);
    if (current === undefined || !(await applyToJar(current, url, setCookieHeaders, this.now(), this.logger)))
      return;
    const paths = this.pathsFor(key);
    await withFileLock(
      paths.folder,
      async () => {
        await removeStaleTempFiles(paths.folder);
        // Under the lock, the jar as it is now, not as read earlier in this turn (jar-file.ts).
        forgetJarEntries(paths.cookies);
        const jar = await readJar(this.home, key);
        if (jar === undefined || !(await applyToJar(jar, url, setCookieHeaders, this.now(), undefined)))
          return;
        try {
          await writeFileSecurely(paths.cookies, toJsonText(await jar.serialize()));
        } finally {
          forgetJarEntries(paths.cookies);
        }
      },
      this.lockOptions,
    );
  }

  /** Read from the stored JSON as it is (no tough-cookie): `api info` stays fast to start. */
  async listCookies(endpoint: string): Promise<StoredCookieInfo[]> {
    const key = parseEndpoint(endpoint).url;
    const entries = await readJarEntries(this.home, key);
    if (entries === undefined) return [];
    return storedCookieInfos(entries, this.now());
  }

  async getLastEndpoint(): Promise<string | undefined> {
    return (await readConfig(this.home)).lastEndpoint;
  }

  async setLastEndpoint(endpoint: string): Promise<void> {
    const key = parseEndpoint(endpoint).url;
    await updateConfig(
      this.home,
      (config) => (config.lastEndpoint === key ? undefined : { ...config, lastEndpoint: key }),
      this.lockOptions,
    );
  }
}

function sameOrigin(endpoint: string, url: URL): boolean {
  return new URL(endpoint).origin === url.origin;
}
