import type { Logger } from '../context';
import { redactSetCookie } from '../protocol/redact';
import { isCookieBridgeError } from '../errors';

/** The part of a credential store the save-back needs. */
export interface SetCookieSink {
  applySetCookies(endpoint: string, url: URL, setCookies: string[]): Promise<void>;
}

/**
 * Saves the Set-Cookie headers of an answer from the endpoint into its jar (proxies rotate sessions), for
 * the SDK and the local proxy alike. Never fatal: the server has acted on the request already, so its answer
 * goes to the caller whatever happens here; a failure is a warning naming the cookies (values redacted),
 * the reason and, for our own errors, what to do. Resolves true when the jar was updated.
 */
export async function saveSetCookies(
  store: SetCookieSink,
  context: { endpoint: string; url: URL; setCookies: readonly string[] | undefined; logger: Logger },
): Promise<boolean> {
  const { endpoint, url, logger } = context;
  const setCookies = context.setCookies ?? [];
  if (setCookies.length === 0) return false;
  try {
    await store.applySetCookies(endpoint, url, [...setCookies]);
    logger.debug(`saved ${setCookies.length} refreshed cookie(s) to the jar`);
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const hint = isCookieBridgeError(error) && error.hint !== undefined ? ` (${error.hint})` : '';
    logger.warn(
      `the refreshed session could not be saved (${setCookies.map(redactSetCookie).join(', ')}): ${message}${hint}`,
    );
    return false;
  }
}
