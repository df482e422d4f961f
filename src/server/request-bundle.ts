import { encodeCookieBundle, MAX_BUNDLE_BYTES, type BundleCookie } from '../protocol/bundle-codec';
import { parseCookieHeader } from '../protocol/cookie-header';
import { isCookieBridgeError } from '../errors';
import { Refusal } from '../http/refusal';
import type { IdentitySource } from './identity';
import { selectSessionCookies } from '../protocol/session-cookies';

/** A bundle made from the cookies a request carried. */
export interface RequestBundle {
  bundle: string;
  /** The cookies in the bundle. */
  cookies: BundleCookie[];
  cookieNames: string[];
  allCookies: boolean;
  user?: string;
}

/**
 * Encodes the cookies a browser sent (through the auth proxy) into a cookie bundle, with the identity the
 * caller read (see identityReader) and the login state, the way GET /token does. Only the auth proxy's
 * session cookies travel (known names and `sessionCookies`), or all cookies (allCookies) when none is there. Bad input is not
 * thrown but returned: a Refusal (400 bad_request) whose message is written for the page.
 */
export function encodeRequestBundle(
  req: IdentitySource,
  user: string | undefined,
  state: string | undefined,
  sessionCookies: readonly string[] = [],
): RequestBundle | Refusal {
  const sent = parseCookieHeader(req.headers.cookie);
  if (sent.length === 0) {
    return new Refusal(
      400,
      'bad_request',
      'Your browser sent no cookies with this request, so there is no sign-in to hand over. ' +
        'This page is probably not served behind the auth proxy: open it through the address the proxy protects.',
    );
  }
  const { cookies, allCookies } = selectSessionCookies(sent, sessionCookies);
  let bundle: string;
  try {
    bundle = encodeCookieBundle({
      cookies,
      ...(state === undefined ? {} : { state }),
      ...(user === undefined ? {} : { user }),
    });
  } catch (error) {
    if (!isCookieBridgeError(error)) throw error;
    return new Refusal(400, 'bad_request', 'The cookies your browser sent cannot be handed over.');
  }
  if (bundle.length > MAX_BUNDLE_BYTES) {
    return new Refusal(
      400,
      'bad_request',
      `Your browser sent more cookies than a sign-in bundle can carry (${MAX_BUNDLE_BYTES / 1024} KiB).`,
    );
  }
  const cookieNames = cookies.map((cookie) => cookie.name);
  return user === undefined
    ? { bundle, cookies, cookieNames, allCookies }
    : { bundle, cookies, cookieNames, allCookies, user };
}
