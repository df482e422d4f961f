import { createMemoryRelayStore, DEFAULT_RELAY_TTL_MS } from '../../src/server/relay-store';
import { A, B, C, CODE, ok, reg, relayStoreContract } from '../kit/relay-store-contract';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('createMemoryRelayStore', () => {
  relayStoreContract((options) => createMemoryRelayStore(options));

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
});
