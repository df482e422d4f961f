/**
 * FileCredentialStore keeps logins on disk, one folder per endpoint, so endpoints never share a file.
 *
 * Layout under the config home (see resolveConfigHome: `$COOKIE_BRIDGE_HOME`, else
 * `$XDG_CONFIG_HOME/cookie-bridge`, else `~/.config/cookie-bridge`):
 *
 * ```
 * <home>/                              0700
 *   config.json                        0600  {"lastEndpoint": "https://api.example.com"}
 *   config.json.lock/                        present only while a process updates config.json
 *   endpoints/                         0700
 *     https_api.example.com-1a2b3c4d/  0700  one folder per endpoint (see endpointSlug)
 *       profile.json                   0600  the EndpointProfile, including token or basic-auth secrets
 *       cookies.json                   0600  the cookie jar (tough-cookie CookieJar serialisation)
 *     https_api.example.com-1a2b3c4d.lock/   present only while a process updates that endpoint
 * ```
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
import { createHash } from 'node:crypto';
import { promises as fs, type Dirent } from 'node:fs';
import * as path from 'node:path';
import type { Cookie, CookieJar } from 'tough-cookie';
import { silentLogger, systemClock, type Clock, type Logger } from '../context';
import { CredentialFileError, InvalidBundleError, errnoCode } from '../errors';
import { isValidCookieName, isValidCookieValue, type BundleCookie } from '../protocol/bundle-codec';
import type { CredentialStore, EndpointProfile, StoredCookieInfo } from './credential-types';
import { parseEndpoint } from '../protocol/endpoint';
import { redactSetCookie } from '../protocol/redact';
import {
  fingerprint,
  isExpired,
  isStoredCookie,
  newJar,
  pinMaxAge,
  storedExpiryMs,
  toughCookie,
} from './stored-cookie-jar';
import { parseStoredProfile } from './stored-profile';
import {
  preloadSecureFileModules,
  checkPrivateDir,
  ensurePrivateDir,
  readJsonFile,
  withFileLock,
  writeFileSecurely,
  type FileLockOptions,
} from './secure-file';

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

/** Where one endpoint's files live. */
export interface EndpointPaths {
  folder: string;
  profile: string;
  cookies: string;
}

/** Loads what saving a login needs ahead of time (the login command calls it while the browser works). */
export function preloadCredentialStoreModules(): void {
  toughCookie();
  preloadSecureFileModules();
}

const CONFIG_FILE = 'config.json';
const ENDPOINTS_FOLDER = 'endpoints';
const PROFILE_FILE = 'profile.json';
const COOKIES_FILE = 'cookies.json';
const SLUG_READABLE_MAX = 80;

/**
 * The folder name of an endpoint: its URL made filesystem-safe and readable, plus the first 8 hex digits
 * of the SHA-256 of the normalised URL so that two endpoints never share a folder, e.g.
 * `https://api.example.com:8443` → `https_api.example.com_8443-<hash8>`,
 * `http://localhost:8080/team/api` → `http_localhost_8080_team_api-<hash8>`.
 */
export function endpointSlug(endpoint: string): string {
  const normalised = parseEndpoint(endpoint).url;
  const url = new URL(normalised);
  // IPv6 hosts lose their brackets and write ':' as '-' ([::1] → --1).
  const parts = [url.protocol.replace(/:$/, ''), url.hostname.replace(/^\[|\]$/g, '').replace(/:/g, '-')];
  if (url.port !== '') parts.push(url.port);
  if (url.pathname !== '/' && url.pathname !== '') parts.push(url.pathname);
  const readable = parts
    .join('_')
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/_$/, '')
    .slice(0, SLUG_READABLE_MAX);
  const hash = createHash('sha256').update(normalised).digest('hex').slice(0, 8);
  return `${readable}-${hash}`;
}

/** Stores logins under `home` as documented at the top of this module. */
export class FileCredentialStore implements CredentialStore {
  readonly home: string;
  private readonly now: Clock;
  private readonly logger: Logger;
  private readonly lockOptions: FileLockOptions;

  constructor(options: FileCredentialStoreOptions) {
    this.home = path.resolve(options.home);
    this.now = options.now ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.lockOptions = options.lock ?? {};
  }

  /** The files of `endpoint` (normalised first); nothing is created. */
  pathsFor(endpoint: string): EndpointPaths {
    const folder = path.join(this.endpointsFolder(), endpointSlug(endpoint));
    return { folder, profile: path.join(folder, PROFILE_FILE), cookies: path.join(folder, COOKIES_FILE) };
  }

  /** The file that remembers the last endpoint used. */
  get configFile(): string {
    return path.join(this.home, CONFIG_FILE);
  }

  async getProfile(endpoint: string): Promise<EndpointProfile | undefined> {
    const key = parseEndpoint(endpoint).url;
    const paths = this.pathsFor(key);
    await this.checkHome();
    const raw = await readJsonFile(paths.profile, { hint: corruptHint(paths.profile, key) });
    if (raw === undefined) return undefined;
    return parseStoredProfile(
      raw,
      paths.profile,
      path.basename(paths.folder),
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
    const folder = this.endpointsFolder();
    await this.checkHome();
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
      const file = path.join(folder, slug, PROFILE_FILE);
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
    const jarText = stored.auth.type === 'cookies' ? await this.serialiseLoginJar(key, cookies) : undefined;
    await this.ensureEndpointsFolder();
    await withFileLock(
      paths.folder,
      async () => {
        await removeStaleTempFiles(paths.folder);
        if (jarText !== undefined) await writeFileSecurely(paths.cookies, jarText);
        await writeFileSecurely(paths.profile, toJsonText(stored));
        if (jarText === undefined) await removeFile(paths.cookies);
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
              `check the owner and permissions of ${path.dirname(paths.folder)}, or delete the folder by hand`,
            );
          }
          return true;
        },
        this.lockOptions,
      );
    }
    try {
      await this.updateConfig((config) => {
        if (config.lastEndpoint !== key) return undefined;
        const { lastEndpoint: _dropped, ...rest } = config;
        return rest;
      });
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
    const jar = await this.readJar(key);
    if (jar === undefined) return undefined;
    const now = this.now();
    const cookies = (await jar.getCookies(url, { expire: false, sort: true })).filter(
      (cookie) => !isExpired(cookie, now),
    );
    return cookies.length === 0 ? undefined : cookies.map((cookie) => cookie.cookieString()).join('; ');
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
    const current = await this.readJar(key);
    if (current === undefined || !(await this.applyToJar(current, url, setCookieHeaders, true))) return;
    const paths = this.pathsFor(key);
    await withFileLock(
      paths.folder,
      async () => {
        await removeStaleTempFiles(paths.folder);
        const jar = await this.readJar(key);
        if (jar === undefined || !(await this.applyToJar(jar, url, setCookieHeaders, false))) return;
        await writeFileSecurely(paths.cookies, toJsonText(await jar.serialize()));
      },
      this.lockOptions,
    );
  }

  /** Read from the stored JSON as it is (no tough-cookie): `api info` stays fast to start. */
  async listCookies(endpoint: string): Promise<StoredCookieInfo[]> {
    const key = parseEndpoint(endpoint).url;
    const entries = await this.readJarEntries(key);
    if (entries === undefined) return [];
    const now = this.now();
    return entries.flatMap((entry) => {
      const expires = storedExpiryMs(entry);
      if (expires !== undefined && expires <= now) return [];
      const info: StoredCookieInfo = {
        name: entry.key as string,
        value: typeof entry.value === 'string' ? entry.value : '',
        domain: entry.domain as string,
        path: typeof entry.path === 'string' ? entry.path : '/',
        secure: entry.secure === true,
        httpOnly: entry.httpOnly === true,
      };
      if (expires !== undefined && Number.isFinite(expires)) info.expires = new Date(expires);
      return [info];
    });
  }

  async getLastEndpoint(): Promise<string | undefined> {
    return (await this.readConfig()).lastEndpoint;
  }

  async setLastEndpoint(endpoint: string): Promise<void> {
    const key = parseEndpoint(endpoint).url;
    await this.updateConfig((config) =>
      config.lastEndpoint === key ? undefined : { ...config, lastEndpoint: key },
    );
  }

  // --- config.json ---

  private async readConfig(): Promise<StoredConfig> {
    const file = this.configFile;
    const hint = `fix ${file} or delete it (it only remembers the last endpoint used)`;
    await this.checkHome();
    const raw = await readJsonFile(file, { hint });
    if (raw === undefined) return {};
    if (!isRecord(raw) || (raw.lastEndpoint !== undefined && typeof raw.lastEndpoint !== 'string')) {
      throw new CredentialFileError('E_CORRUPT_FILE', file, 'is not a valid cookie-bridge config', hint);
    }
    return raw as StoredConfig;
  }

  /** Read-modify-write of config.json under its lock; `change` returns undefined for "no change". */
  private async updateConfig(change: (config: StoredConfig) => StoredConfig | undefined): Promise<void> {
    // Checked once without the lock, so a no-op neither creates the home nor waits for the lock.
    if (change(await this.readConfig()) === undefined) return;
    await ensurePrivateDir(this.home);
    await withFileLock(
      this.configFile,
      async () => {
        const next = change(await this.readConfig());
        if (next !== undefined) await writeFileSecurely(this.configFile, toJsonText(next));
      },
      this.lockOptions,
    );
  }

  // --- cookies.json ---

  private endpointsFolder(): string {
    return path.join(this.home, ENDPOINTS_FOLDER);
  }

  /**
   * Before any read: the config home and endpoints/ must not be links, another user's, or writable by
   * others (CredentialFileError E_UNSAFE_PERMISSIONS), since whoever controls them controls the logins.
   * readJsonFile checks the file and its own folder.
   */
  private async checkHome(): Promise<void> {
    await checkPrivateDir(this.home);
    await checkPrivateDir(this.endpointsFolder());
  }

  private async ensureEndpointsFolder(): Promise<void> {
    await ensurePrivateDir(this.home);
    await ensurePrivateDir(this.endpointsFolder());
  }

  /** The endpoint's jar, or undefined when it has none (not logged in, or not with cookies). */
  /** The jar file's cookie entries, each checked to have a cookie's shape; undefined when there is no jar. */
  private async readJarEntries(key: string): Promise<Array<Record<string, unknown>> | undefined> {
    const file = this.pathsFor(key).cookies;
    const hint = corruptHint(file, key);
    await this.checkHome();
    const raw = await readJsonFile(file, { hint });
    if (raw === undefined) return undefined;
    const entries = isRecord(raw) ? raw.cookies : undefined;
    if (!Array.isArray(entries)) {
      throw new CredentialFileError('E_CORRUPT_FILE', file, 'is not a cookie jar (no "cookies" list)', hint);
    }
    if (!entries.every(isStoredCookie)) {
      throw new CredentialFileError('E_CORRUPT_FILE', file, 'holds an entry that is not a cookie', hint);
    }
    return entries as Array<Record<string, unknown>>;
  }

  private async readJar(key: string): Promise<CookieJar | undefined> {
    const entries = await this.readJarEntries(key);
    if (entries === undefined) return undefined;
    const jar = newJar();
    for (const entry of entries) {
      const cookie = toughCookie().Cookie.fromJSON(entry);
      if (cookie === undefined) {
        const file = this.pathsFor(key).cookies;
        throw new CredentialFileError(
          'E_CORRUPT_FILE',
          file,
          'holds an entry that is not a cookie',
          corruptHint(file, key),
        );
      }
      await jar.store.putCookie(cookie);
    }
    return jar;
  }

  private async serialiseLoginJar(key: string, cookies: BundleCookie[]): Promise<string> {
    const url = new URL(key);
    const now = new Date(this.now());
    const jar = newJar();
    for (const { name, value } of cookies) {
      if (!isValidCookieName(name)) throw new InvalidBundleError('a cookie has an invalid name');
      if (!isValidCookieValue(value)) throw new InvalidBundleError(`cookie ${name} has an invalid value`);
      // Host-only (no Domain), for the whole site, Secure only over https; kept in the order given,
      // so chunked sessions (_oauth2_proxy_0, _oauth2_proxy_1, …) are replayed in order.
      const cookie = new (toughCookie().Cookie)({
        key: name,
        value,
        path: '/',
        secure: url.protocol === 'https:',
        httpOnly: true,
      });
      let stored: Cookie | undefined;
      try {
        stored = await jar.setCookie(cookie, url, { now });
      } catch (error) {
        throw new InvalidBundleError(`cookie ${name} cannot be stored for ${key}`, { cause: error });
      }
      if (stored === undefined) throw new InvalidBundleError(`cookie ${name} cannot be stored for ${key}`);
    }
    return toJsonText(await jar.serialize());
  }

  /** Applies the headers to `jar` and drops expired cookies; true when the jar's content changed. */
  private async applyToJar(jar: CookieJar, url: URL, headers: string[], log: boolean): Promise<boolean> {
    const nowMs = this.now();
    const now = new Date(nowMs);
    const before = await fingerprint(jar);
    for (const header of headers) {
      let cookie: Cookie | undefined;
      try {
        cookie = await jar.setCookie(header, url, { now, ignoreError: true });
      } catch {
        cookie = undefined;
      }
      if (cookie === undefined) {
        if (log) this.logger.debug(`ignored Set-Cookie: ${redactSetCookie(header)}`);
        continue;
      }
      pinMaxAge(cookie, nowMs);
    }
    for (const cookie of await jar.store.getAllCookies()) {
      if (isExpired(cookie, nowMs) && cookie.domain !== null && cookie.path !== null) {
        await jar.store.removeCookie(cookie.domain, cookie.path, cookie.key);
      }
    }
    return (await fingerprint(jar)) !== before;
  }
}

interface StoredConfig {
  lastEndpoint?: string;
  [key: string]: unknown;
}

function corruptHint(file: string, endpoint?: string): string {
  return `fix ${file} or delete it, or run cookie-bridge api logout -e ${endpoint ?? '<endpoint>'}`;
}

function sameOrigin(endpoint: string, url: URL): boolean {
  return new URL(endpoint).origin === url.origin;
}

function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new CredentialFileError(
      'E_CORRUPT_FILE',
      file,
      `cannot be read (${code ?? 'unknown error'})`,
      `check the owner and permissions of ${path.dirname(file)}`,
    );
  }
}

/**
 * Temp files (`cookies.json.<n>`, `profile.json.<n>`) that write-file-atomic left behind when a writer was
 * killed mid-write. Every write of an endpoint happens under its lock, so while we hold it, any such file is
 * stale. Best effort: a file that cannot be removed is left for the next writer.
 */
async function removeStaleTempFiles(folder: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch {
    return;
  }
  const stale = names.filter((name) => /^(?:profile|cookies)\.json\.\d+$/.test(name));
  await Promise.all(
    stale.map((name) => fs.rm(path.join(folder, name), { force: true }).catch(() => undefined)),
  );
}

async function removeFile(file: string): Promise<void> {
  try {
    await fs.rm(file, { force: true });
  } catch (error) {
    throw new CredentialFileError(
      'E_WRITE_FAILED',
      file,
      `cannot be removed (${errnoCode(error) ?? 'unknown error'})`,
      `delete ${file} by hand`,
    );
  }
}
