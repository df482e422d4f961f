import { createHash } from 'node:crypto';
import { secretsEqual } from './secret-compare';

/**
 * The relay login's shared rules, used by the server (relay routes, /token page) and the CLI alike.
 *
 * The CLI keeps a random `verifier` secret and puts `challenge = base64url(sha256(verifier))` in the /token
 * URL; before it opens the browser it registers the challenge with a random short `code` (POST
 * /cookie-bridge/relay/register). The code is shown only in the terminal: the person types it into the
 * /token page to confirm, so a link someone else sent (or a challenge someone saw) is not enough. The page
 * stores the bundle under the challenge, and only the holder of the verifier can claim it (like OAuth's PKCE).
 */

/** Answered by GET /cookie-bridge/relay/info on servers that offer the relay. */
export const RELAY_INFO = { relay: 1 } as const;
/** The prefix the auth proxy must let through without a cookie. */
export const RELAY_PREFIX = '/cookie-bridge/relay/';
export const RELAY_INFO_PATH = '/cookie-bridge/relay/info';
/** POST {"challenge","code"} before the browser opens: the server keeps time and source address with it. */
export const RELAY_REGISTER_PATH = '/cookie-bridge/relay/register';
export const RELAY_CLAIM_PATH = '/cookie-bridge/relay/claim';
/** Behind the auth proxy: the /token page's confirm form posts here. */
export const RELAY_CONFIRM_PATH = '/token/relay';
/** Wrong codes typed on the page before the server ends the challenge. */
export const RELAY_MAX_WRONG_CODES = 5;
/**
 * The longest lifetime a relay entry may have (`serve --relay-ttl`, seconds); the 503 refusals of register say
 * the server's own as `ttl_seconds`.
 */
export const RELAY_MAX_TTL_SECONDS = 86_400;

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** 43 to 128 base64url characters: at least 256 bits when made by createRelayChallenge. */
const VERIFIER = /^[A-Za-z0-9_-]{43,128}$/;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE = /^[0-9A-HJKMNP-TV-Z]{8}$/;

export function isValidRelayChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

export function isValidRelayVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

/** base64url(sha256(verifier)), 43 characters. */
export function relayChallengeFor(verifier: string): string {
  return createHash('sha256').update(verifier, 'utf8').digest('base64url');
}

/**
 * A human code made from a random secret (never from the challenge, which travels in the URL): 8 Crockford
 * base32 characters of sha256('cookie-bridge-code:' + secret), as XXXX-XXXX (40 bits).
 */
export function relayCode(secret: string): string {
  const digest = createHash('sha256').update(`cookie-bridge-code:${secret}`, 'utf8').digest();
  // The first 40 bits, five at a time.
  let bits = 0n;
  for (let i = 0; i < 5; i += 1) bits = (bits << 8n) | BigInt(digest[i] ?? 0);
  let code = '';
  for (let shift = 35n; shift >= 0n; shift -= 5n) code += CROCKFORD[Number((bits >> shift) & 31n)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * A typed code in canonical form (8 characters, no dash), forgiving as Crockford base32 is: any case,
 * spaces and dashes ignored, O→0, I and L→1. Undefined when it cannot be a code.
 */
export function normalizeRelayCode(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const canonical = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  return CODE.test(canonical) ? canonical : undefined;
}

/** Whether a typed code matches the registered one, in constant time; a malformed one never matches. */
export function relayCodesMatch(typed: string, registered: string): boolean {
  const expected = normalizeRelayCode(registered);
  if (expected === undefined) return false;
  return secretsEqual(normalizeRelayCode(typed) ?? '', expected);
}
