/**
 * Where FileCredentialStore keeps its files, one folder per endpoint, so endpoints never share a file.
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
 *   login-locks/                       0700
 *     https_api.example.com-1a2b3c4d   0600  present only while an `api login` runs: its pid (login-lock-file.ts)
 * ```
 *
 * Also the small file operations every part of the store shares (JSON text, corrupt-file hints, exists, remove).
 */
import { dirname, join } from 'node:path';
import { CredentialFileError, errnoCode } from '../errors';
import { parseEndpoint } from '../protocol/endpoint';
import { sha256Hex } from '../protocol/sha256';
import * as fs from './fs-calls';
import { checkPrivateDir, ensurePrivateDir } from './secure-file';

/** Where one endpoint's files live. */
export interface EndpointPaths {
  readonly folder: string;
  readonly profile: string;
  readonly cookies: string;
}

const CONFIG_FILE = 'config.json';
const ENDPOINTS_FOLDER = 'endpoints';
export const PROFILE_FILE = 'profile.json';
const COOKIES_FILE = 'cookies.json';
const LOGIN_LOCKS_FOLDER = 'login-locks';
const SLUG_READABLE_MAX = 80;

/**
 * The folder name of an endpoint: its URL made filesystem-safe and readable, plus the first 8 hex digits
 * of the SHA-256 of the normalised URL so that two endpoints never share a folder, e.g.
 * `https://api.example.com:8443` → `https_api.example.com_8443-<hash8>`,
 * `http://localhost:8080/team/api` → `http_localhost_8080_team_api-<hash8>`.
 */
export function endpointSlug(endpoint: string): string {
  // A command asks for one endpoint's files several times (profile, cookies, lock): computed once.
  if (lastSlug?.endpoint === endpoint) return lastSlug.slug;
  const slug = computeEndpointSlug(endpoint);
  lastSlug = { endpoint, slug };
  return slug;
}

let lastSlug: { endpoint: string; slug: string } | undefined;

function computeEndpointSlug(endpoint: string): string {
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
  // Plain-JS SHA-256 (the same digest as node:crypto's): every command needs the slug, few need node:crypto.
  const hash = sha256Hex(normalised).slice(0, 8);
  return `${readable}-${hash}`;
}

/** The folder that holds one folder per endpoint. */
export function endpointsFolderOf(home: string): string {
  // Asked for at every store call (checkHome, the paths): joined once per home (a join is ~1.2 KB young).
  if (lastEndpointsFolder?.home !== home) {
    lastEndpointsFolder = { home, folder: join(home, ENDPOINTS_FOLDER) };
  }
  return lastEndpointsFolder.folder;
}

let lastEndpointsFolder: { home: string; folder: string } | undefined;

/** The files of `endpoint` (normalised first); nothing is created. */
export function endpointPathsOf(home: string, endpoint: string): EndpointPaths {
  // Like endpointSlug: the profile, the jar and the lock of one endpoint are asked for several times.
  if (lastPaths?.home === home && lastPaths.endpoint === endpoint) return lastPaths.paths;
  const folder = join(endpointsFolderOf(home), endpointSlug(endpoint));
  const paths: EndpointPaths = Object.freeze({
    folder,
    profile: join(folder, PROFILE_FILE),
    cookies: join(folder, COOKIES_FILE),
  });
  lastPaths = { home, endpoint, paths };
  return paths;
}

let lastPaths: { home: string; endpoint: string; paths: EndpointPaths } | undefined;

/** The file an `api login` of `endpoint` holds while it runs (login-lock-file.ts); nothing is created. */
export function loginLockFileOf(home: string, endpoint: string): string {
  return join(home, LOGIN_LOCKS_FOLDER, endpointSlug(endpoint));
}

/** The file that remembers the last endpoint used. */
export function configFileOf(home: string): string {
  return join(home, CONFIG_FILE);
}

/**
 * Before any read: the config home and endpoints/ must not be links, another user's, or writable by
 * others (CredentialFileError E_UNSAFE_PERMISSIONS), since whoever controls them controls the logins.
 * readJsonFile checks the file and its own folder.
 */
export async function checkHome(home: string): Promise<void> {
  await checkPrivateDir(home);
  await checkPrivateDir(endpointsFolderOf(home));
}

export async function ensureEndpointsFolder(home: string): Promise<void> {
  await ensurePrivateDir(home);
  await ensurePrivateDir(endpointsFolderOf(home));
}

export function corruptHint(file: string, endpoint?: string): string {
  return `fix ${file} or delete it, or run cookie-bridge api logout -e ${endpoint ?? '<endpoint>'}`;
}

export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export async function exists(file: string): Promise<boolean> {
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
      `check the owner and permissions of ${dirname(file)}`,
    );
  }
}

export async function removeFile(file: string): Promise<void> {
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
