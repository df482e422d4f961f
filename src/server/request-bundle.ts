import { encodeCookieBundle, MAX_BUNDLE_BYTES, type BundleCookie } from '../protocol/bundle-codec';
import { parseCookieHeader } from '../protocol/cookie-header';
import { isCookieBridgeError } from '../errors';
import { readIdentity, type IdentitySource } from './identity';
import { selectSessionCookies } from '../protocol/session-cookies';

/** A bundle made from the cookies a request carried, or why there is none (a message for the page). */
export type RequestBundle =
  | {
      ok: true;
      bundle: string;
      /** The cookies in the bundle. */
      cookies: BundleCookie[];
      cookieNames: string[];
      allCookies: boolean;
      user?: string;
    }
  | { ok: false; message: string };

/**
 * Encodes the cookies a browser sent (through the auth proxy) into a cookie bundle, with the identity the
 * proxy set and the login state, the way GET /token does. Only the auth proxy's session cookies travel
 * (known names and `sessionCookies`), or all cookies (allCookies) when none is there. Never throws for bad
 * input.
 */
export function encodeRequestBundle(
  req: IdentitySource,
  identityHeader: string,
  state: string | undefined,
  sessionCookies: readonly string[] = [],
): RequestBundle {
  const sent = parseCookieHeader(req.headers.cookie);
  if (sent.length === 0) {
    return {
      ok: false,
      message:
        'Your browser sent no cookies with this request, so there is no sign-in to hand over. ' +
        'This page is probably not served behind the auth proxy: open it through the address the proxy protects.',
    };
  }
  const { cookies, allCookies } = selectSessionCookies(sent, sessionCookies);
  const user = readIdentity(req, identityHeader);
  let bundle: string;
  try {
    bundle = encodeCookieBundle({
      cookies,
      ...(state === undefined ? {} : { state }),
      ...(user === undefined ? {} : { user }),
    });
  } catch (error) {
    if (!isCookieBridgeError(error)) throw error;
    return { ok: false, message: 'The cookies your browser sent cannot be handed over.' };
  }
  if (bundle.length > MAX_BUNDLE_BYTES) {
    return {
      ok: false,
      message: `Your browser sent more cookies than a sign-in bundle can carry (${MAX_BUNDLE_BYTES / 1024} KiB).`,
    };
  }
  const cookieNames = cookies.map((cookie) => cookie.name);
  return user === undefined
    ? { ok: true, bundle, cookies, cookieNames, allCookies }
    : { ok: true, bundle, cookies, cookieNames, allCookies, user };
}
