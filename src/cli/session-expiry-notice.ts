import type { Clock, Logger, Timers } from '../context';
import { unrefTimer } from '../context';
import { isCookieBridgeError } from '../errors';
import { formatDuration } from '../protocol/session-expiry';
import type { CredentialStore } from '../store/credential-types';
import { storedSessionExpiry, type StoredSessionExpiry } from '../store/stored-session-expiry';

/** `request` and `proxy` warn when the stored session ends within this. */
export const EXPIRY_WARNING_MS = 10 * 60_000;
/** A timer never waits longer than this before looking again (setTimeout overflows past 2^31 ms). */
const LONGEST_WAIT_MS = 6 * 3600_000;

export interface ExpiryNoticeContext {
  store: CredentialStore;
  env: NodeJS.ProcessEnv;
  now: Clock;
  timers: Timers;
  logger: Logger;
}

/** "expires in 3h 12m (at …)", "expired 4m ago (at …)", "expiry unknown (session cookie)". */
export function describeExpiry(expiry: StoredSessionExpiry, nowMs: number): string {
  if (expiry.liveCookies === 0) return 'expired (every stored cookie has expired)';
  if (expiry.expiresAtMs === undefined) return 'expiry unknown (session cookie)';
  const at = new Date(expiry.expiresAtMs).toISOString();
  const from =
    expiry.source === undefined
      ? ''
      : expiry.source.from === 'jwt-exp'
        ? `, exp of the ${expiry.source.cookie} JWT`
        : `, cookie ${expiry.source.cookie}`;
  const left = expiry.expiresAtMs - nowMs;
  return left > 0
    ? `expires in ${formatDuration(left)} (at ${at}${from})`
    : `expired ${formatDuration(-left)} ago (at ${at}${from})`;
}

/** The stored cookie session's expiry; undefined when it is not a cookie session or nothing is stored. */
async function readExpiry(
  ctx: ExpiryNoticeContext,
  endpoint: string,
): Promise<StoredSessionExpiry | undefined> {
  try {
    return await storedSessionExpiry(ctx.store, endpoint, ctx.env);
  } catch (error) {
    // Not logged in, or an unreadable jar: the command itself reports that.
    if (isCookieBridgeError(error)) return undefined;
    throw error;
  }
}

/** Warns once when the session ends within EXPIRY_WARNING_MS; true when it warned. */
export async function warnIfSessionEndsSoon(ctx: ExpiryNoticeContext, endpoint: string): Promise<boolean> {
  const expiry = await readExpiry(ctx, endpoint);
  if (expiry?.expiresAtMs === undefined || expiry.liveCookies === 0) return false;
  const left = expiry.expiresAtMs - ctx.now();
  if (left > EXPIRY_WARNING_MS) return false;
  ctx.logger.warn(
    left > 0
      ? `session for ${endpoint} expires in ${formatDuration(left)}; run cookie-bridge api login -e ${endpoint} to renew`
      : `session for ${endpoint} expired ${formatDuration(-left)} ago; run cookie-bridge api login -e ${endpoint} to renew`,
  );
  return true;
}

/**
 * For a long-running `proxy`: warns once when the session comes within EXPIRY_WARNING_MS of its end, now or
 * later (a timer on the injected clock; a new login in the meantime moves the time on). stop() cancels it.
 */
export function watchSessionExpiry(ctx: ExpiryNoticeContext, endpoint: string): { stop(): void } {
  let handle: unknown;
  let stopped = false;
  const look = async (): Promise<void> => {
    handle = undefined;
    if (stopped || (await warnIfSessionEndsSoon(ctx, endpoint))) return;
    const expiry = await readExpiry(ctx, endpoint);
    if (stopped || expiry?.expiresAtMs === undefined) return;
    const wait = Math.min(expiry.expiresAtMs - EXPIRY_WARNING_MS - ctx.now(), LONGEST_WAIT_MS);
    handle = ctx.timers.setTimeout(() => void look().catch(() => undefined), Math.max(wait, 1000));
    unrefTimer(handle);
  };
  void look().catch(() => undefined);
  return {
    stop: () => {
      stopped = true;
      if (handle !== undefined) ctx.timers.clearTimeout(handle);
    },
  };
}
