import { createHash, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';

/**
 * ES256 JSON Web Tokens in compact form (RFC 7515/7519), signed and checked strictly, for serve's service
 * accounts. Only ES256 (ECDSA P-256, SHA-256, the signature as the 64-byte r‖s of IEEE P1363) is signed or
 * accepted: `none`, HS*, RS* and every other `alg` are refused before any key is touched, so a public key can
 * never be used as an HMAC secret. The header must name its key (`kid`), looked up in the caller's key set.
 * Every part is base64url without padding, in its one canonical form; a token is at most 8 KiB. `iss` and `aud`
 * (a string or an array of strings) must match exactly; `exp` is required; `exp`, `nbf` and `iat` are read
 * against the caller's clock with at most 60 s of leeway. verifyJwt returns a verdict and never throws on bad
 * input. Nothing here logs or quotes a token.
 */

/** Why a token is refused: the part of the service accounts' TokenRefusalReason that the JWT alone decides. */
export type JwtRefusalReason =
  | 'malformed'
  | 'unsupported-algorithm'
  | 'unknown-key'
  | 'bad-signature'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'expired'
  | 'not-yet-valid';

export type JwtClaims = Record<string, unknown>;

export type JwtVerdict =
  | { ok: true; kid: string; claims: JwtClaims }
  | { ok: false; reason: JwtRefusalReason };

/** The key that signs: its private half and its `kid`. */
export interface JwtSigningKey {
  kid: string;
  privateKey: KeyObject;
}

export interface VerifyJwtOptions {
  /** The public key of a `kid`, or undefined when it is not (or no longer) published. */
  keyFor(kid: string): KeyObject | undefined;
  issuer: string;
  audience: string;
  /** ms since the epoch. */
  now: number;
  /** Clock skew allowed on exp/nbf/iat, in seconds; default and maximum 60. */
  leewaySeconds?: number;
}

/** Longest token accepted (and signed), in characters. */
export const MAX_JWT_LENGTH = 8192;
export const MAX_LEEWAY_SECONDS = 60;
const SIGNATURE_BYTES = 64;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Signs `claims` with ES256 under `key.kid`. */
export function signJwt(claims: JwtClaims, key: JwtSigningKey): string {
  const header = { alg: 'ES256', typ: 'JWT', kid: key.kid };
  const input = `${encodeJson(header)}.${encodeJson(claims)}`;
  const signature = cryptoSign('sha256', Buffer.from(input, 'ascii'), {
    key: key.privateKey,
    dsaEncoding: 'ieee-p1363',
  });
  const token = `${input}.${signature.toString('base64url')}`;
  if (token.length > MAX_JWT_LENGTH) throw new RangeError(`a JWT longer than ${MAX_JWT_LENGTH} characters`);
  return token;
}

/** Checks a compact JWS: shape, algorithm, key, signature, then iss, aud, exp, nbf and iat. */
export function verifyJwt(token: string, options: VerifyJwtOptions): JwtVerdict {
  const parts = splitToken(token);
  if (parts === undefined) return refuse('malformed');
  const header = decodeJsonObject(parts[0]);
  const claims = decodeJsonObject(parts[1]);
  const signature = decodeBase64url(parts[2]);
  if (header === undefined || claims === undefined || signature === undefined) return refuse('malformed');
  if (header.alg !== 'ES256')
    return refuse(typeof header.alg === 'string' ? 'unsupported-algorithm' : 'malformed');
  // A critical extension we do not know must make the token invalid (RFC 7515 §4.1.11): we know none.
  if (header.crit !== undefined) return refuse('malformed');
  if (typeof header.kid !== 'string' || header.kid === '') return refuse('unknown-key');
  const key = options.keyFor(header.kid);
  if (key === undefined) return refuse('unknown-key');
  if (signature.length !== SIGNATURE_BYTES) return refuse('bad-signature');
  let valid: boolean;
  try {
    valid = cryptoVerify(
      'sha256',
      Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii'),
      { key, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch {
    valid = false;
  }
  if (!valid) return refuse('bad-signature');
  const claimsProblem = checkClaims(claims, options);
  return claimsProblem === undefined ? { ok: true, kid: header.kid, claims } : refuse(claimsProblem);
}

/**
 * The `iss` of a JWT-shaped string, read WITHOUT verifying anything: only to choose who checks it (serve
 * checks its own issuer's tokens and leaves others to the proxy). Undefined when there is none.
 */
export function unverifiedIssuer(token: string): string | undefined {
  const parts = splitToken(token);
  if (parts === undefined) return undefined;
  const claims = decodeJsonObject(parts[1]);
  return typeof claims?.iss === 'string' ? claims.iss : undefined;
}

/** The `kid` of a JWT-shaped string's header, read WITHOUT verifying anything: to find the key to verify with. */
export function unverifiedKid(token: string): string | undefined {
  const parts = splitToken(token);
  if (parts === undefined) return undefined;
  const header = decodeJsonObject(parts[0]);
  return typeof header?.kid === 'string' ? header.kid : undefined;
}

/** The RFC 7638 JWK thumbprint (SHA-256, base64url) of an EC public key: the `kid` of a signing key. */
export function ecJwkThumbprint(jwk: { crv?: string; kty?: string; x?: string; y?: string }): string {
  if (jwk.kty !== 'EC' || jwk.crv === undefined || jwk.x === undefined || jwk.y === undefined) {
    throw new TypeError('an EC public key (kty, crv, x, y) is needed for a thumbprint');
  }
  // The required members only, in lexicographic order, no whitespace.
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

function checkClaims(claims: JwtClaims, options: VerifyJwtOptions): JwtRefusalReason | undefined {
  const leeway = Math.min(Math.max(options.leewaySeconds ?? MAX_LEEWAY_SECONDS, 0), MAX_LEEWAY_SECONDS);
  const nowSeconds = options.now / 1000;
  if (claims.iss !== options.issuer) return typeof claims.iss === 'string' ? 'wrong-issuer' : 'malformed';
  const aud = claims.aud;
  if (typeof aud === 'string') {
    if (aud !== options.audience) return 'wrong-audience';
  } else if (Array.isArray(aud) && aud.length > 0 && aud.every((entry) => typeof entry === 'string')) {
    if (!aud.includes(options.audience)) return 'wrong-audience';
  } else {
    return 'malformed';
  }
  const exp = numericDate(claims.exp);
  const nbf = numericDate(claims.nbf);
  const iat = numericDate(claims.iat);
  if (exp === undefined || exp === null || nbf === null || iat === null) return 'malformed';
  if (nowSeconds >= exp + leeway) return 'expired';
  if (nbf !== undefined && nowSeconds < nbf - leeway) return 'not-yet-valid';
  if (iat !== undefined && nowSeconds < iat - leeway) return 'not-yet-valid';
  return undefined;
}

/** undefined when absent, null when present but not a NumericDate. */
function numericDate(value: unknown): number | undefined | null {
  if (value === undefined) return undefined;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null;
}

function splitToken(token: unknown): [string, string, string] | undefined {
  if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] === '' || parts[1] === '' || parts[2] === '') return undefined;
  return [parts[0]!, parts[1]!, parts[2]!];
}

/** base64url without padding, in its canonical form only (no `=`, no stray bits, no other alphabet). */
function decodeBase64url(text: string): Buffer | undefined {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function decodeJsonObject(text: string): JwtClaims | undefined {
  const bytes = decodeBase64url(text);
  if (bytes === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as JwtClaims)
    : undefined;
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function refuse(reason: JwtRefusalReason): JwtVerdict {
  return { ok: false, reason };
}
