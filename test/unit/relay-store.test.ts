import { createMemoryRelayStore, DEFAULT_RELAY_TTL_MS } from '../../src/server/relay-store';

const A = 'a'.repeat(43);
const B = 'b'.repeat(43);
const C = 'c'.repeat(43);

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('createMemoryRelayStore', () => {
  it('pending after register, ready after confirm, claimed once, then unknown', async () => {
    const store = createMemoryRelayStore({ now: clock().now });
    expect(await store.claim(A)).toEqual({ status: 'unknown' });
    expect(await store.register(A)).toBe('registered');
    expect(await store.register(A)).toBe('exists');
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    expect(await store.confirm(A, 'cb1.bundle')).toBe('confirmed');
    expect(await store.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.bundle' });
    expect(await store.claim(A)).toEqual({ status: 'unknown' });
    expect(await store.confirm(A, 'cb1.again')).toBe('unknown');
  });

  it('refuses to confirm an unregistered challenge, and never overwrites a confirmed bundle', async () => {
    const store = createMemoryRelayStore({ now: clock().now });
    expect(await store.confirm(A, 'cb1.x')).toBe('unknown');
    await store.register(A);
    expect(await store.confirm(A, 'cb1.first')).toBe('confirmed');
    expect(await store.confirm(A, 'cb1.second')).toBe('already-confirmed');
    expect(await store.register(A)).toBe('exists');
    expect(await store.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.first' });
  });

  it('forgets a pending challenge after the TTL, by the injected clock', async () => {
    const time = clock();
    const store = createMemoryRelayStore({ now: time.now });
    await store.register(A);
    time.advance(DEFAULT_RELAY_TTL_MS - 1);
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    time.advance(1);
    expect(await store.claim(A)).toEqual({ status: 'unknown' });
    expect(await store.confirm(A, 'cb1.late')).toBe('unknown');
  });

  it('keeps a confirmed bundle for a full TTL after the confirm, then forgets it', async () => {
    const time = clock();
    const store = createMemoryRelayStore({ now: time.now, ttlMs: 1000 });
    await store.register(A);
    time.advance(900);
    await store.confirm(A, 'cb1.x');
    time.advance(999);
    await store.register(B);
    expect(await store.claim(B)).toEqual({ status: 'pending' });
    time.advance(1);
    expect(await store.claim(A)).toEqual({ status: 'unknown' });
  });

  it('refuses new challenges when full, without evicting any live entry; room comes back as entries expire', async () => {
    const time = clock();
    const store = createMemoryRelayStore({ now: time.now, maxEntries: 2, ttlMs: 1000 });
    expect(await store.register(A)).toBe('registered');
    time.advance(500);
    expect(await store.register(B)).toBe('registered');
    await store.confirm(A, 'cb1.a');
    expect(await store.register(C)).toBe('full');
    expect(await store.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.a' });
    // A was claimed: room for C.
    expect(await store.register(C)).toBe('registered');
    expect(await store.register('d'.repeat(43))).toBe('full');
    time.advance(1000); // B and C expire
    expect(await store.register('d'.repeat(43))).toBe('registered');
    expect(await store.claim(B)).toEqual({ status: 'unknown' });
  });

  it('bounds the size of a bundle', async () => {
    const store = createMemoryRelayStore({ now: clock().now, maxBundleBytes: 10 });
    await store.register(A);
    expect(await store.confirm(A, 'x'.repeat(11))).toBe('too-large');
    expect(await store.claim(A)).toEqual({ status: 'pending' });
    expect(await store.confirm(A, 'x'.repeat(10))).toBe('confirmed');
  });
});
