/**
 * cookies.json, an endpoint's cookie jar: reading it (checked entry by entry, never repaired), building the jar
 * of a new login, and applying Set-Cookie headers. The store takes the lock and writes the text.
 */
import { statSync } from 'node:fs';
import type { Cookie, CookieJar } from 'tough-cookie';
import type { Logger } from '../context';
import { CredentialFileError, InvalidBundleError } from '../errors';
import { isValidCookieName, isValidCookieValue, type BundleCookie } from '../protocol/bundle-codec';
import { redactSetCookie } from '../protocol/redact';
import type { StoredCookieInfo } from './credential-types';
import * as fs from './fs-calls';
import { readJsonFile } from './secure-file';
import { checkHome, corruptHint, endpointPathsOf, isRecord, toJsonText } from './store-layout';
import { TurnMemo } from './turn-memo';
import {
  fingerprint,
  isExpired,
  isStoredCookie,
  newJar,
  pinMaxAge,
  storedExpiryMs,
  toughCookie,
} from './stored-cookie-jar';

/** A jar file's entries as read: shared by the readers of one turn, so never changed. */
export type JarEntries = ReadonlyArray<Readonly<Record<string, unknown>>>;

/** Jar entries read in this turn, by file (turn-memo.ts): `api info` lists the cookies, then builds its header. */
const entriesThisTurn = new TurnMemo<string, JarEntries>();

/**
 * The jar file's cookie entries, each checked to have a cookie's shape; undefined when there is no jar. Read
 * once a turn; the entries are shared, and no caller changes them.
 */
export async function readJarEntries(home: string, key: string): Promise<JarEntries | undefined> {
  const file = endpointPathsOf(home, key).cookies;
  const known = entriesThisTurn.get(file);
  if (known !== undefined) return known;
  const hint = corruptHint(file, key);
  await checkHome(home);
  const raw = await readJsonFile(file, { hint });
  if (raw === undefined) return undefined;
  const entries = isRecord(raw) ? raw.cookies : undefined;
  if (!Array.isArray(entries)) {
    throw new CredentialFileError('E_CORRUPT_FILE', file, 'is not a cookie jar (no "cookies" list)', hint);
  }
  if (!entries.every(isStoredCookie)) {
    throw new CredentialFileError('E_CORRUPT_FILE', file, 'holds an entry that is not a cookie', hint);
  }
  const checked = Object.freeze(entries as Array<Record<string, unknown>>);
  entriesThisTurn.set(file, checked);
  return checked;
}

/** Forgets the entries read in this turn from `file`: this process has just written or removed it. */
export function forgetJarEntries(file: string): void {
  entriesThisTurn.delete(file);
}

/** The endpoint's jar, or undefined when it has none (not logged in, or not with cookies). */
export async function readJar(home: string, key: string): Promise<CookieJar | undefined> {
  const entries = await readJarEntries(home, key);
  return entries === undefined ? undefined : jarOfEntries(home, key, entries);
}

/** The jar of entries read by readJarEntries (loads tough-cookie). */
export async function jarOfEntries(home: string, key: string, entries: JarEntries): Promise<CookieJar> {
  const jar = newJar();
  for (const entry of entries) {
    const cookie = toughCookie().Cookie.fromJSON(entry);
    if (cookie === undefined) {
      const file = endpointPathsOf(home, key).cookies;
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

/** The unexpired cookies of the stored entries, read as they are (no tough-cookie): `api info` stays fast to start. */
export function storedCookieInfos(entries: JarEntries, nowMs: number): StoredCookieInfo[] {
  return entries.flatMap((entry) => {
    const expires = storedExpiryMs(entry);
    if (expires !== undefined && expires <= nowMs) return [];
    const info: StoredCookieInfo = {
      name: entry.key as string,
      value: typeof entry.value === 'string' ? entry.value : '',
      domain: entry.domain as string,
      path: typeof entry.path === 'string' ? entry.path : '/',
      secure: entry.secure === true,
      httpOnly: entry.httpOnly === true,
    };
    if (expires !== undefined && Number.isFinite(expires)) info.expires = new Date(expires);
    if (typeof entry.hostOnly === 'boolean') info.hostOnly = entry.hostOnly;
    if (typeof entry.sameSite === 'string') info.sameSite = entry.sameSite;
    return [info];
  });
}

/** The jar text of a new cookie login for endpoint `key`; a cookie that cannot be stored is InvalidBundleError. */
export async function serialiseLoginJar(
  key: string,
  cookies: BundleCookie[],
  nowMs: number,
): Promise<string> {
  const url = new URL(key);
  const now = new Date(nowMs);
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

/**
 * Applies the headers to `jar` and drops expired cookies; true when the jar's content changed. Ignored
 * headers are logged (redacted) to `logger` when one is given.
 */
export async function applyToJar(
  jar: CookieJar,
  url: URL,
  headers: string[],
  nowMs: number,
  logger: Logger | undefined,
): Promise<boolean> {
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
      logger?.debug(`ignored Set-Cookie: ${redactSetCookie(header)}`);
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

/** What identifies the jar file's current content: its inode, size and times (or why it cannot be read). */
/** The Cookie header a jar sends to `url` at `now` (expired cookies left out), or undefined when none. */
export async function cookieHeaderFromJar(
  jar: CookieJar,
  url: URL,
  now: number,
): Promise<string | undefined> {
  const cookies = (await jar.getCookies(url, { expire: false, sort: true })).filter(
    (cookie) => !isExpired(cookie, now),
  );
  return cookies.length === 0 ? undefined : cookies.map((cookie) => cookie.cookieString()).join('; ');
}

export async function jarFileVersion(file: string): Promise<string> {
  try {
    const stat = await fs.stat(file, { bigint: true });
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  } catch (error) {
    return `missing:${(error as { code?: unknown }).code === 'ENOENT' ? 'ENOENT' : 'error'}`;
  }
}

/** jarFileVersion without a trip through the thread pool (one stat syscall, ~3 µs): for a check per request. */
export function jarFileVersionSync(file: string): string {
  try {
    const stat = statSync(file, { bigint: true, throwIfNoEntry: false });
    if (stat === undefined) return 'missing:ENOENT';
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
  } catch {
    return 'missing:error';
  }
}
