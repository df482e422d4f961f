/**
 * The expiry warning of `request` and `proxy` (src/cli/session-expiry-notice.ts) on the fake context: the
 * clock and the timers are the test's, so "later, while the proxy runs" needs no waiting.
 */
import {
  EXPIRY_WARNING_MS,
  warnIfSessionEndsSoon,
  watchSessionExpiry,
} from '../../src/cli/session-expiry-notice';
import { fakeContext, FAKE_NOW, type FakeContext } from '../kit/fake-context';

const ENDPOINT = 'https://api.example.com';

/** A cookie login whose session cookie ends `maxAgeSeconds` from the fake now. */
async function loggedIn(ctx: FakeContext, maxAgeSeconds?: number): Promise<void> {
  await ctx.store.saveLogin(
    { endpoint: ENDPOINT, auth: { type: 'cookies' }, loggedInAt: new Date(FAKE_NOW).toISOString() },
    [{ name: '_oauth2_proxy', value: 'opaque' }],
  );
  if (maxAgeSeconds !== undefined)
    await ctx.store.applySetCookies(ENDPOINT, new URL(`${ENDPOINT}/api/health`), [
      `_oauth2_proxy=renewed; Path=/; Secure; HttpOnly; Max-Age=${maxAgeSeconds}`,
    ]);
}

const warnings = (ctx: FakeContext): string[] => ctx.logger.lines.filter((line) => line.startsWith('warn: '));

/** Lets the watcher's pending store reads settle. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('session expiry warning', () => {
  it('request: warns within 10 minutes of the end, not before, not for sessions without a known end', async () => {
    const ctx = fakeContext();
    await loggedIn(ctx);
    expect(await warnIfSessionEndsSoon(ctx, ENDPOINT)).toBe(false);

    await loggedIn(ctx, 11 * 60);
    expect(await warnIfSessionEndsSoon(ctx, ENDPOINT)).toBe(false);
    ctx.advance(2 * 60_000 + 1000);
    expect(await warnIfSessionEndsSoon(ctx, ENDPOINT)).toBe(true);
    expect(warnings(ctx)).toEqual([
      `warn: session for ${ENDPOINT} expires in 8m; run cookie-bridge api login -e ${ENDPOINT} to renew`,
    ]);
  });

  it('request: a token from $COOKIE_BRIDGE_TOKEN overrides the jar: no warning about the jar', async () => {
    const ctx = fakeContext({ env: { COOKIE_BRIDGE_TOKEN: 't' } });
    await loggedIn(ctx, 60);
    expect(await warnIfSessionEndsSoon(ctx, ENDPOINT)).toBe(false);
  });

  it('request: not logged in is left to the request itself', async () => {
    const ctx = fakeContext();
    expect(await warnIfSessionEndsSoon(ctx, ENDPOINT)).toBe(false);
    expect(warnings(ctx)).toEqual([]);
  });

  it('proxy: warns once, when the time comes, on the injected timers and clock', async () => {
    const ctx = fakeContext();
    await loggedIn(ctx, 3600);
    const watch = watchSessionExpiry(ctx, ENDPOINT);
    const timer = await ctx.timers.next();
    expect(timer.ms).toBe(3_600_000 - EXPIRY_WARNING_MS);
    expect(warnings(ctx)).toEqual([]);
    ctx.advance(timer.ms);
    timer.fire();
    await settle();
    await settle();
    expect(warnings(ctx)).toEqual([
      `warn: session for ${ENDPOINT} expires in 10m; run cookie-bridge api login -e ${ENDPOINT} to renew`,
    ]);
    // Once: nothing more is scheduled.
    let more = false;
    void ctx.timers.next().then(() => (more = true));
    await settle();
    expect(more).toBe(false);
    watch.stop();
  });

  it('proxy: a login in the meantime moves the end on: no warning then, a new timer instead', async () => {
    const ctx = fakeContext();
    await loggedIn(ctx, 3600);
    const watch = watchSessionExpiry(ctx, ENDPOINT);
    const first = await ctx.timers.next();
    ctx.advance(first.ms);
    await loggedIn(ctx, 7200);
    first.fire();
    const second = await ctx.timers.next();
    expect(second.ms).toBe(7_200_000 - EXPIRY_WARNING_MS);
    expect(warnings(ctx)).toEqual([]);
    watch.stop();
    expect(second.cancelled).toBe(true);
  });
});
