import { InvalidBundleError } from '../errors';

/**
 * The cookie bundle the /token page hands to the CLI.
 *
 * cookie-bridge's own format (v1): the text `cb1.` followed by base64url (no padding) of the JSON
 *   {"v":1,"state":"<login state>","user":"<identity, optional>","cookies":[{"name":"…","value":"…"}]}
 *
 * Also accepted, for servers that speak SkyPilot's older protocol (these carry no state):
 *   - standard base64 of {"v":1,"user":"…","cookies":{"name":"value"}}
 *   - standard base64 of a bare {"name":"value"} object
 */

export const BUNDLE_PREFIX = 'cb1.';
export const MAX_BUNDLE_BYTES = 64 * 1024;
export const MAX_BUNDLE_COOKIES = 200;

export interface BundleCookie {
  name: string;
  value: string;
}

export type BundleFormat = 'cookie-bridge-v1' | 'skypilot-v1' | 'skypilot-cookies';

export interface CookieBundle {
  format: BundleFormat;
  cookies: BundleCookie[];
  /** The login state echoed by the /token page; absent in the SkyPilot formats. */
  state?: string;
  user?: string;
}

export interface EncodeBundleInput {
  cookies: BundleCookie[];
  state?: string;
  user?: string;
}

/** RFC 6265 cookie-name: an RFC 7230 token. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6265 cookie-value: cookie-octets, optionally in double quotes. */
const COOKIE_VALUE =
  /^(?:"[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*"|[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*)$/;
const STATE = /^[A-Za-z0-9_-]{1,256}$/;

export function isValidCookieName(name: string): boolean {
  return name.length <= 256 && COOKIE_NAME.test(name);
}

export function isValidCookieValue(value: string): boolean {
  return value.length <= 16 * 1024 && COOKIE_VALUE.test(value);
}

export function isValidState(state: string): boolean {
  return STATE.test(state);
}

export function encodeCookieBundle(input: EncodeBundleInput): string {
  const cookies = validateCookies(input.cookies);
  const payload: Record<string, unknown> = { v: 1 };
  if (input.state !== undefined) payload.state = input.state;
  if (input.user !== undefined) payload.user = input.user;
  payload.cookies = cookies;
  return BUNDLE_PREFIX + Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** Decodes any accepted bundle format; throws InvalidBundleError (never anything else) on bad input. */
export function decodeCookieBundle(text: string): CookieBundle {
  if (typeof text !== 'string') throw new InvalidBundleError('not text');
  if (Buffer.byteLength(text, 'utf8') > MAX_BUNDLE_BYTES) {
    throw new InvalidBundleError(`larger than ${MAX_BUNDLE_BYTES / 1024} KiB`);
  }
  const compact = text.replace(/\s+/g, '');
  if (compact === '') throw new InvalidBundleError('empty');
  if (compact.startsWith(BUNDLE_PREFIX)) return decodeOwnFormat(compact.slice(BUNDLE_PREFIX.length));
  return decodeSkyPilotFormat(compact);
}

function decodeOwnFormat(body: string): CookieBundle {
  if (!/^[A-Za-z0-9_-]+$/.test(body)) throw new InvalidBundleError('not base64url after the cb1. prefix');
  const payload = parseJsonObject(Buffer.from(body, 'base64url').toString('utf8'));
  if (payload.v !== 1) throw new InvalidBundleError(`unsupported version ${JSON.stringify(payload.v)}`);
  if (!Array.isArray(payload.cookies)) throw new InvalidBundleError('"cookies" must be a list');
  const cookies = validateCookies(
    payload.cookies.map((entry: unknown) => {
      if (typeof entry !== 'object' || entry === null)
        throw new InvalidBundleError('a cookie entry is not an object');
      const { name, value } = entry as Record<string, unknown>;
      if (typeof name !== 'string' || typeof value !== 'string') {
        throw new InvalidBundleError('a cookie entry needs a string name and value');
      }
      return { name, value };
    }),
  );
  const bundle: CookieBundle = { format: 'cookie-bridge-v1', cookies };
  if (payload.state !== undefined) {
    if (typeof payload.state !== 'string' || !isValidState(payload.state))
      throw new InvalidBundleError('bad state');
    bundle.state = payload.state;
  }
  const user = optionalUser(payload.user);
  if (user !== undefined) bundle.user = user;
  return bundle;
}

function decodeSkyPilotFormat(text: string): CookieBundle {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text))
    throw new InvalidBundleError('not a cb1. bundle and not base64');
  const payload = parseJsonObject(
    Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8'),
  );
  if (payload.v === 1 && typeof payload.cookies === 'object' && payload.cookies !== null) {
    const bundle: CookieBundle = { format: 'skypilot-v1', cookies: cookiesFromMap(payload.cookies) };
    const user = optionalUser(payload.user);
    if (user !== undefined) bundle.user = user;
    return bundle;
  }
  return { format: 'skypilot-cookies', cookies: cookiesFromMap(payload) };
}

function cookiesFromMap(map: unknown): BundleCookie[] {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new InvalidBundleError('"cookies" must map names to values');
  }
  return validateCookies(
    Object.entries(map as Record<string, unknown>).map(([name, value]) => {
      if (typeof value !== 'string')
        throw new InvalidBundleError(`the value of cookie ${safeName(name)} is not a string`);
      return { name, value };
    }),
  );
}

function validateCookies(cookies: BundleCookie[]): BundleCookie[] {
  if (cookies.length === 0) {
    throw new InvalidBundleError('it holds no cookies', {
      hint: 'the browser sent no cookies to /token: is the page served behind the auth proxy?',
    });
  }
  if (cookies.length > MAX_BUNDLE_COOKIES)
    throw new InvalidBundleError(`more than ${MAX_BUNDLE_COOKIES} cookies`);
  for (const { name, value } of cookies) {
    if (!isValidCookieName(name)) throw new InvalidBundleError(`bad cookie name ${safeName(name)}`);
    if (!isValidCookieValue(value)) throw new InvalidBundleError(`bad value for cookie ${safeName(name)}`);
  }
  return cookies.map(({ name, value }) => ({ name, value }));
}

function parseJsonObject(json: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidBundleError('not valid JSON inside');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidBundleError('not a JSON object inside');
  }
  return value as Record<string, unknown>;
}

function optionalUser(user: unknown): string | undefined {
  if (user === undefined || user === null) return undefined;
  if (typeof user !== 'string' || user.length > 512 || /[\x00-\x1f\x7f]/.test(user)) {
    throw new InvalidBundleError('bad "user"');
  }
  return user;
}

/** Names are not secret, but keep what is echoed short and printable. */
function safeName(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name).replace(/[\x00-\x1f\x7f]/g, '?');
}
