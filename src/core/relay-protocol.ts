import { createHash } from 'node:crypto';

/**
 * The relay login's shared rules, used by the server (relay routes, /token page) and the CLI alike.
 *
 * The CLI keeps a random `verifier` secret and puts `challenge = base64url(sha256(verifier))` in the /token
 * URL; the page stores the bundle under the challenge, and only the holder of the verifier can claim it
 * (like OAuth's PKCE). Both sides show the same short `code`, derived from the challenge, so the person
 * can check that the page belongs to the login their terminal started.
 */

/** Answered by GET /cookie-bridge/relay/info on servers that offer the relay. */
export const RELAY_INFO = { relay: 1 } as const;
/** The prefix the auth proxy must let through without a cookie. */
export const RELAY_PREFIX = '/cookie-bridge/relay/';
export const RELAY_INFO_PATH = '/cookie-bridge/relay/info';
export const RELAY_CLAIM_PATH = '/cookie-bridge/relay/claim';
/** Behind the auth proxy: the /token page's confirm form posts here. */
export const RELAY_CONFIRM_PATH = '/token/relay';

const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** 43 to 128 base64url characters: at least 256 bits when made by createRelayChallenge. */
const VERIFIER = /^[A-Za-z0-9_-]{43,128}$/;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

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

/** The human code for a challenge: 8 Crockford base32 characters of sha256('cookie-bridge-code:' + challenge), as XXXX-XXXX. */
export function relayCode(challenge: string): string {
  const digest = createHash('sha256').update(`cookie-bridge-code:${challenge}`, 'utf8').digest();
  // The first 40 bits, five at a time.
  let bits = 0n;
  for (let i = 0; i < 5; i += 1) bits = (bits << 8n) | BigInt(digest[i] ?? 0);
  let code = '';
  for (let shift = 35n; shift >= 0n; shift -= 5n) code += CROCKFORD[Number((bits >> shift) & 31n)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}
