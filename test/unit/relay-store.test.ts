import { createMemoryRelayStore, DEFAULT_RELAY_TTL_MS, type RelaySource } from '../../src/server/relay-store';

const A = 'a'.repeat(43);
const B = 'b'.repeat(43);
const C = 'c'.repeat(43);
const D = 'd'.repeat(43);
const CODE = 'ABCD-EFGH';
const HERE: RelaySource = { address: '127.0.0.1' };
const reg = { code: CODE, source: HERE };
const ok = (bundle: string, identity?: string) => ({
  code: CODE,
  bundle,
  ...(identity === undefined ? {} : { identity }),
});

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('createMemoryRelayStore', () => {
  it('pending after register, ready after confirm with the code, claimed once, then ended', async () => {
    const time = clock();
    const store = createMemoryRelayStore({ now: time.now });
    expect(await store.claim(A)).toEqual({ status: 'unknown' });
    expect(await store.lookup(A)).toBeUndefined();
    expect(
      await store.register(A, { code: CODE, source: { address: '::1', forwardedFor: '10.1.2.3' } }),
    ).toBe('registered');
    expect(await store.register(A, reg)).toBe('exists');
    expect(await store.lookup(A)).toEqual({
      registeredAt: 1_000_000,
      source: { address: '::1', forwardedFor: '10.1.2.3' },
      status: 'pending',
    });
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    expect(await store.confirm(A, ok('cb1.bundle'))).toEqual({ status: 'confirmed' });
    expect((await store.lookup(A))?.status).toBe('confirmed');
    expect(await store.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.bundle' });
    expect(await store.claim(A)).toEqual({ status: 'ended', reason: 'claimed' });
    // A late confirm (someone else, or the person again) is told it was confirmed already.
    expect(await store.confirm(A, ok('cb1.again'))).toEqual({ status: 'already-confirmed' });
  });

  it('accepts the code typed the forgiving way: any case, no dash, O for 0 and I/L for 1', async () => {
    const store = createMemoryRelayStore({ now: clock().now });
    await store.register(A, { code: '0A1B-2C3D', source: HERE });
    expect(await store.confirm(A, { code: ' oalb 2c3d ', bundle: 'cb1.x' })).toEqual({ status: 'confirmed' });
  });

  it('a wrong code does not confirm; the fifth wrong code ends the challenge', async () => {
    const store = createMemoryRelayStore({ now: clock().now });
    await store.register(A, reg);
    for (let left = 4; left >= 1; left -= 1) {
      expect(await store.confirm(A, { code: 'ABCD-EFGJ', bundle: 'cb1.x' })).toEqual({
        status: 'wrong-code',
        triesLeft: left,
      });
    }
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    expect(await store.confirm(A, { code: 'not a code', bundle: 'cb1.x' })).toEqual({
      status: 'ended',
      reason: 'wrong-codes',
    });
    // Even the right code cannot confirm it now, and the CLI's claim learns it ended.
    expect(await store.confirm(A, ok('cb1.x'))).toEqual({ status: 'ended', reason: 'wrong-codes' });
    expect(await store.claim(A)).toEqual({ status: 'ended', reason: 'wrong-codes' });
    expect((await store.lookup(A))?.status).toBe('ended');
  });

  it('refuses to confirm an unregistered challenge, and never overwrites a confirmed bundle', async () => {
    const store = createMemoryRelayStore({ now: clock().now });
    expect(await store.confirm(A, ok('cb1.x'))).toEqual({ status: 'unknown' });
    await store.register(A, reg);
    expect(await store.confirm(A, ok('cb1.first'))).toEqual({ status: 'confirmed' });
    expect(await store.confirm(A, ok('cb1.second'))).toEqual({ status: 'already-confirmed' });
    expect(await store.register(A, reg)).toBe('exists');
    expect(await store.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.first' });
  });

  it('forgets a pending challenge after the TTL, by the injected clock', async () => {
    const time = clock();
    const store = createMemoryRelayStore({ now: time.now });
    await store.register(A, reg);
    time.advance(DEFAULT_RELAY_TTL_MS - 1);
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    time.advance(1);
    expect(await store.claim(A)).toEqual({ status: 'unknown' });
    expect(await store.confirm(A, ok('cb1.late'))).toEqual({ status: 'unknown' });
  });

  it('keeps a confirmed bundle for a full TTL after the confirm, then forgets it', async () => {
    const time = clock();
    const store = createMemoryRelayStore({ now: time.now, ttlMs: 1000 });
    await store.register(A, reg);
    time.advance(900);
    await store.confirm(A, ok('cb1.x'));
    time.advance(999);
    await store.register(B, reg);
    expect(await store.claim(B)).toEqual({ status: 'pending' });
    time.advance(1);
    expect(await store.claim(A)).toEqual({ status: 'unknown' });
  });

  it('refuses new challenges when full, without evicting any live entry; room comes back as entries expire', async () => {
    const time = clock();
    const store = createMemoryRelayStore({ now: time.now, maxEntries: 2, ttlMs: 1000 });
    expect(await store.register(A, reg)).toBe('registered');
    time.advance(500);
    expect(await store.register(B, { code: CODE, source: { address: '127.0.0.2' } })).toBe('registered');
    expect(await store.register(C, { code: CODE, source: { address: '127.0.0.3' } })).toBe('full');
    time.advance(500); // A expires
    expect(await store.register(C, { code: CODE, source: { address: '127.0.0.3' } })).toBe('registered');
    expect(await store.claim(B)).toEqual({ status: 'pending' });
  });

  it('bounds pending registrations per source (the address the proxy reported, else the connection)', async () => {
    const store = createMemoryRelayStore({ now: clock().now, maxPendingPerSource: 2 });
    expect(await store.register(A, reg)).toBe('registered');
    expect(await store.register(B, reg)).toBe('registered');
    expect(await store.register(C, reg)).toBe('source-full');
    const behindProxy = { address: '127.0.0.1', forwardedFor: '192.0.2.7' };
    expect(await store.register(C, { code: CODE, source: behindProxy })).toBe('registered');
    // Once A is confirmed it no longer counts as pending from that source.
    await store.confirm(A, ok('cb1.a'));
    expect(await store.register(D, reg)).toBe('registered');
  });

  it('bounds confirmed, unclaimed bundles per identity', async () => {
    const store = createMemoryRelayStore({ now: clock().now, maxConfirmedPerIdentity: 1 });
    for (const challenge of [A, B, C]) await store.register(challenge, reg);
    expect(await store.confirm(A, ok('cb1.a', 'eve@example.com'))).toEqual({ status: 'confirmed' });
    expect(await store.confirm(B, ok('cb1.b', 'eve@example.com'))).toEqual({ status: 'identity-full' });
    expect(await store.confirm(C, ok('cb1.c', 'bob@example.com'))).toEqual({ status: 'confirmed' });
    await store.claim(A);
    expect(await store.confirm(B, ok('cb1.b', 'eve@example.com'))).toEqual({ status: 'confirmed' });
  });

  it('bounds the size of a bundle', async () => {
    const store = createMemoryRelayStore({ now: clock().now, maxBundleBytes: 10 });
    await store.register(A, reg);
    expect(await store.confirm(A, ok('x'.repeat(11)))).toEqual({ status: 'too-large' });
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    expect(await store.confirm(A, ok('x'.repeat(10)))).toEqual({ status: 'confirmed' });
  });
});
