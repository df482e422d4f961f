import { isSessionCookieName } from './session-cookies';

/**
 * When a stored session ends, where it can be known: a cookie's own expiry (`Expires`/`Max-Age`, which the
 * jar keeps as an absolute time) and the `exp` claim of a session cookie whose value is a JWT (Cloudflare
 * Access's `CF_Authorization`, Pomerium's `_pomerium`, any cookie holding a JWT). The JWT is read, never
 * verified: it only tells the time, it is never trusted for anything else. Chunked cookies (`name_0`,
 * `name_1`…, `name_1of2`…) are joined in order before the JWT is read. Cookie values never leave here.
 */

/** What is read of a stored cookie (StoredCookieInfo fits). */
export interface ExpiryCookie {
  name: string;
  value: string;
  /** undefined for a session cookie (no Expires/Max-Age). */
  expires?: Date | undefined;
}

export interface SessionExpiry {
  /** When the session ends, ms since the epoch; undefined when no cookie says. */
  expiresAtMs: number | undefined;
  /** The cookie the time comes from (its base name for chunked cookies), and from what. */
  source?: { cookie: string; from: 'cookie-expiry' | 'jwt-exp' };
}

interface CookieGroup {
  name: string;
  chunks: Array<{ index: number; cookie: ExpiryCookie }>;
}

const CHUNK_SUFFIX = /^(.+)_(?:(\d+)|(\d+)of\d+|chunks)$/;
/** Three base64url parts (JWS compact form); the signature part may be empty (alg none). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;
/** exp beyond this (year 275760) is not a time. */
const MAX_DATE_MS = 8.64e15;

/**
 * The earliest known end among the session cookies (the auth proxies' own cookie names when any is present,
 * else every cookie): each cookie's expiry and, for JWT values, `exp`. No known time: `expiresAtMs` undefined.
 */
export function sessionExpiry(cookies: readonly ExpiryCookie[]): SessionExpiry {
  const known = cookies.filter((cookie) => isSessionCookieName(cookie.name));
  const groups = groupChunks(known.length > 0 ? known : cookies);
  let best: SessionExpiry = { expiresAtMs: undefined };
  for (const group of groups) {
    for (const candidate of groupExpiries(group)) {
      if (best.expiresAtMs === undefined || candidate.expiresAtMs! < best.expiresAtMs) best = candidate;
    }
  }
  return best;
}

/** The `exp` of a JWT-shaped value in ms, read without verifying; undefined for anything else. */
export function jwtExpiryMs(value: string): number | undefined {
  const match = JWT_SHAPE.exec(unquote(value));
  if (match === null) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(match[1]!, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const exp = (payload as Record<string, unknown>).exp;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= 0) return undefined;
  const ms = exp * 1000;
  return ms < MAX_DATE_MS ? ms : undefined;
}

/** "3h 12m", "7m", "45s", "2d 4h": a short, rounded-down duration for people. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return hours > 0 ? `${days}d ${hours}h` : `${days}d`;
  if (hours > 0) return minutes > 0 ? `${hours}h ${minutes}m` : `${hours}h`;
  if (minutes > 0) return `${minutes}m`;
  return `${seconds}s`;
}

function groupExpiries(group: CookieGroup): SessionExpiry[] {
  const out: SessionExpiry[] = [];
  const expiries = group.chunks.flatMap(({ cookie }) =>
    cookie.expires === undefined || Number.isNaN(cookie.expires.getTime()) ? [] : [cookie.expires.getTime()],
  );
  if (expiries.length > 0) {
    out.push({ expiresAtMs: Math.min(...expiries), source: { cookie: group.name, from: 'cookie-expiry' } });
  }
  const joined = group.chunks.map(({ cookie }) => unquote(cookie.value)).join('');
  const exp = jwtExpiryMs(joined);
  if (exp !== undefined) out.push({ expiresAtMs: exp, source: { cookie: group.name, from: 'jwt-exp' } });
  return out;
}

/** Chunks of one cookie (`base_0`, `base_1`… or `base_1of2`…) together, in order; `base_chunks` (a count) left out. */
function groupChunks(cookies: readonly ExpiryCookie[]): CookieGroup[] {
  const names = new Set(cookies.map((cookie) => cookie.name));
  const groups = new Map<string, CookieGroup>();
  for (const cookie of cookies) {
    const match = CHUNK_SUFFIX.exec(cookie.name);
    const base = match?.[1];
    // A suffix makes a chunk only when a sibling shares the base (or a _chunks count names it).
    const chunked =
      base !== undefined &&
      cookies.some((other) => other !== cookie && CHUNK_SUFFIX.exec(other.name)?.[1] === base) &&
      !names.has(base);
    if (chunked && cookie.name === `${base}_chunks`) continue;
    const key = chunked ? base : cookie.name;
    const index = chunked ? Number(match?.[2] ?? match?.[3] ?? 0) : 0;
    const group = groups.get(key) ?? { name: key, chunks: [] };
    group.chunks.push({ index, cookie });
    groups.set(key, group);
  }
  for (const group of groups.values()) group.chunks.sort((a, b) => a.index - b.index);
  return [...groups.values()];
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}
