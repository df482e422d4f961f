/**
 * The RelayStore contract: the cases every implementation must pass, run against the memory store
 * (test/unit/relay-store.test.ts) and the Redis store (test/integration/redis-relay-store.test.ts). Cases that
 * move time stay with each store (the memory store's injected clock, Redis's own TTLs).
 */
import {
  DEFAULT_RELAY_TTL_MS,
  type MemoryRelayStoreOptions,
  type RelaySource,
  type RelayStore,
} from '../../src/server/relay-store';

export const A = 'a'.repeat(43);
export const B = 'b'.repeat(43);
export const C = 'c'.repeat(43);
export const D = 'd'.repeat(43);
export const CODE = 'ABCD-EFGH';
export const HERE: RelaySource = { address: '127.0.0.1' };
export const reg = { code: CODE, source: HERE };
export const ok = (bundle: string, identity?: string) => ({
  code: CODE,
  bundle,
  ...(identity === undefined ? {} : { identity }),
});

/** Makes a fresh, empty store with these options (the same meaning for every implementation). */
export type MakeRelayStore = (options: MemoryRelayStoreOptions) => Promise<RelayStore> | RelayStore;

/** Declares the contract's cases (inside the caller's describe). */
export function relayStoreContract(make: MakeRelayStore): void {
  describe('the RelayStore contract', () => {
    it("says how long it keeps entries (what the relay's pages and refusals state): its ttlMs, else the default", async () => {
      expect((await make({ now: () => 1_000_000, ttlMs: 90_000 })).ttlMs).toBe(90_000);
      expect((await make({ now: () => 1_000_000 })).ttlMs).toBe(DEFAULT_RELAY_TTL_MS);
    });

    it('pending after register, ready after confirm with the code, claimed once, then ended', async () => {
      const store = await make({ now: () => 1_000_000 });
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
      const store = await make({ now: () => 1_000_000 });
      await store.register(A, { code: '0A1B-2C3D', source: HERE });
      expect(await store.confirm(A, { code: ' oalb 2c3d ', bundle: 'cb1.x' })).toEqual({
        status: 'confirmed',
      });
    });

    it('a wrong code does not confirm; the fifth wrong code ends the challenge', async () => {
      const store = await make({ now: () => 1_000_000 });
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
      const store = await make({ now: () => 1_000_000 });
      expect(await store.confirm(A, ok('cb1.x'))).toEqual({ status: 'unknown' });
      await store.register(A, reg);
      expect(await store.confirm(A, ok('cb1.first'))).toEqual({ status: 'confirmed' });
      expect(await store.confirm(A, ok('cb1.second'))).toEqual({ status: 'already-confirmed' });
      expect(await store.register(A, reg)).toBe('exists');
      expect(await store.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.first' });
    });

    it('bounds pending registrations per source (the address the proxy reported, else the connection)', async () => {
      const store = await make({ now: () => 1_000_000, maxPendingPerSource: 2 });
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
      const store = await make({ now: () => 1_000_000, maxConfirmedPerIdentity: 1 });
      for (const challenge of [A, B, C]) await store.register(challenge, reg);
      expect(await store.confirm(A, ok('cb1.a', 'eve@example.com'))).toEqual({ status: 'confirmed' });
      expect(await store.confirm(B, ok('cb1.b', 'eve@example.com'))).toEqual({ status: 'identity-full' });
      expect(await store.confirm(C, ok('cb1.c', 'bob@example.com'))).toEqual({ status: 'confirmed' });
      await store.claim(A);
      expect(await store.confirm(B, ok('cb1.b', 'eve@example.com'))).toEqual({ status: 'confirmed' });
    });

    it('bounds the size of a bundle', async () => {
      const store = await make({ now: () => 1_000_000, maxBundleBytes: 10 });
      await store.register(A, reg);
      expect(await store.confirm(A, ok('x'.repeat(11)))).toEqual({ status: 'too-large' });
      expect(await store.claim(A)).toEqual({ status: 'pending' });
      expect(await store.confirm(A, ok('x'.repeat(10)))).toEqual({ status: 'confirmed' });
    });

    it('refuses new challenges when full, without evicting any live entry', async () => {
      const store = await make({ now: () => 1_000_000, maxEntries: 2 });
      expect(await store.register(A, reg)).toBe('registered');
      expect(await store.register(B, { code: CODE, source: { address: '127.0.0.2' } })).toBe('registered');
      expect(await store.register(C, { code: CODE, source: { address: '127.0.0.3' } })).toBe('full');
      // Ended entries still count until their TTL: a claim does not make room.
      await store.confirm(A, ok('cb1.a'));
      await store.claim(A);
      expect(await store.register(C, { code: CODE, source: { address: '127.0.0.3' } })).toBe('full');
      expect(await store.claim(B)).toEqual({ status: 'pending' });
      expect(await store.lookup(A)).toEqual({
        registeredAt: 1_000_000,
        source: HERE,
        status: 'ended',
        endReason: 'claimed',
      });
    });

    it('a wrong code after the confirm or the claim keeps the warning and takes nothing', async () => {
      const store = await make({ now: () => 1_000_000 });
      await store.register(A, reg);
      expect(await store.confirm(A, ok('cb1.a'))).toEqual({ status: 'confirmed' });
      expect(await store.confirm(A, { code: 'ABCD-EFGJ', bundle: 'cb1.evil' })).toEqual({
        status: 'wrong-code',
        triesLeft: 0,
      });
      expect(await store.claim(A)).toEqual({ status: 'ready', bundle: 'cb1.a' });
      expect(await store.confirm(A, { code: 'ABCD-EFGJ', bundle: 'cb1.evil' })).toEqual({
        status: 'wrong-code',
        triesLeft: 0,
      });
      expect(await store.claim(A)).toEqual({ status: 'ended', reason: 'claimed' });
    });

    it('a challenge registered with a malformed code is never confirmed, not even by the same text', async () => {
      const store = await make({ now: () => 1_000_000 });
      expect(await store.register(A, { code: 'not-a-code!', source: HERE })).toBe('registered');
      expect(await store.confirm(A, { code: 'not-a-code!', bundle: 'cb1.x' })).toEqual({
        status: 'wrong-code',
        triesLeft: 4,
      });
      expect(await store.claim(A)).toEqual({ status: 'pending' });
    });
  });
}
