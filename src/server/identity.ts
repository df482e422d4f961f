import type { IncomingHttpHeaders } from 'node:http';
import type { Request } from 'express';
import { namesNobody } from '../protocol/named-user';

/** The header oauth2-proxy (`--set-xauthrequest`) and nginx auth_request setups use for the signed-in email. */
export const DEFAULT_IDENTITY_HEADER = 'X-Auth-Request-Email';

/**
 * The header serve passes the caller's role in (issue 13: `admin` or `user`), next to the identity; whatever a
 * client sends under this name is removed.
 */
export const DEFAULT_ROLE_HEADER = 'X-Cookie-Bridge-Role';

const MAX_IDENTITY_LENGTH = 512;

/** The parts of a request (node:http IncomingMessage or express Request) readIdentity looks at. */
export interface IdentitySource {
  headers: IncomingHttpHeaders;
  headersDistinct?: Partial<Record<string, string[]>>;
}

/**
 * Who the auth proxy says is signed in, from the header it sets (case-insensitive name).
 * Returns the trimmed value, or undefined when the header is absent, empty, Apache's `(null)` for an
 * unset variable (mod_headers on a route the proxy exempts), repeated with different
 * values, longer than 512 characters or holds control characters. UTF-8 sent as raw bytes is decoded.
 */
export function readIdentity(
  req: IdentitySource,
  headerName: string = DEFAULT_IDENTITY_HEADER,
): string | undefined {
  const key = headerName.toLowerCase();
  // headersDistinct keeps repeated headers apart (req.headers joins them with ", ").
  const raw = req.headersDistinct?.[key] ?? req.headers[key];
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).map((value) => decodeLatin1AsUtf8(value).trim());
  const [first] = values;
  if (first === undefined || values.some((value) => value !== first)) return undefined;
  return acceptIdentity(first);
}

/**
 * Who the app itself says is signed in, for an app that signs people in itself (express-openid-connect:
 * `req => req.oidc.user?.email`; passport: `req => req.user?.email`). When given, the identity header is
 * never read: without an auth proxy in front, anyone could send it.
 */
export type ResolveIdentity = (req: Request) => string | null | undefined;

export interface IdentityOptions {
  /** The header the auth proxy puts the signed-in identity in (default X-Auth-Request-Email). */
  identityHeader?: string;
  /** The app's own session instead of a header (see ResolveIdentity). */
  resolveIdentity?: ResolveIdentity;
}

/**
 * The one function the routes ask "who is signed in": `resolveIdentity` when given, else the identity
 * header; the answer obeys the same rules either way (trimmed, at most 512 characters, no control
 * characters, not a placeholder like `(null)`), undefined for nobody.
 */
export function identityReader(options: IdentityOptions = {}): (req: Request) => string | undefined {
  const { resolveIdentity } = options;
  if (resolveIdentity !== undefined) {
    return (req) => {
      const value: unknown = resolveIdentity(req);
      return typeof value === 'string' ? acceptIdentity(value.trim()) : undefined;
    };
  }
  const headerName = options.identityHeader ?? DEFAULT_IDENTITY_HEADER;
  return (req) => readIdentity(req, headerName);
}

/** `value` when it names someone, undefined for a placeholder, an over-long value or control characters. */
function acceptIdentity(value: string): string | undefined {
  if (namesNobody(value) || value.length > MAX_IDENTITY_LENGTH || hasControlCharacter(value))
    return undefined;
  return value;
}

/** Node reads header bytes as latin1; a proxy that forwards a UTF-8 name sends its bytes as they are. */
function decodeLatin1AsUtf8(value: string): string {
  const codes = Array.from(value, (char) => char.charCodeAt(0));
  if (!codes.some((code) => code >= 0x80) || codes.some((code) => code > 0xff)) return value;
  const decoded = Buffer.from(value, 'latin1').toString('utf8');
  return decoded.includes('\ufffd') ? value : decoded;
}

/** C0 and C1 control characters and DEL. */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
