import { createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { BundleCookie } from '../protocol/bundle-codec';
import { singleHeader } from '../http/single-header';

/**
 * What keeps a script of the app behind the same proxy away from the sign-in: /token and its relay confirm
 * answer only the browser's own navigations (fetch metadata), and the confirm form carries a token only the
 * /token page itself shows, bound to the cookies and identity that page was made from.
 */

/**
 * Why a request is refused: its fetch metadata say a script or a frame sends it, not a top-level navigation
 * (Sec-Fetch-Mode other than navigate, Sec-Fetch-Dest other than document, when present). Undefined: go on.
 */
export function scriptedFetchReason(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const mode = singleHeader(req, 'sec-fetch-mode');
  if (mode !== undefined && mode !== 'navigate') return `request with Sec-Fetch-Mode ${mode.slice(0, 20)}`;
  const dest = singleHeader(req, 'sec-fetch-dest');
  if (dest !== undefined && dest !== 'document') return `request with Sec-Fetch-Dest ${dest.slice(0, 20)}`;
  return undefined;
}

/**
 * The relay confirm form's token: HMAC-SHA256 (with a key of this server) of the challenge, the identity and
 * the session cookies the page was made from. A script of the app cannot read it from /token, and one that
 * someone else's /token page showed does not match the victim's cookies.
 */
export function relayFormToken(
  key: Buffer,
  challenge: string,
  cookies: readonly BundleCookie[],
  user: string | undefined,
): string {
  const bound = JSON.stringify([
    challenge,
    user ?? null,
    cookies.map((cookie) => [cookie.name, cookie.value]),
  ]);
  return createHmac('sha256', key).update(bound, 'utf8').digest('base64url');
}
