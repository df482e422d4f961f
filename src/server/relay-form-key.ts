import { randomBytes } from 'node:crypto';
import type { RelayStore } from './relay-store';

/**
 * The key of the relay confirm form's token (relayFormToken in navigation-guard.ts), decided in this one place:
 * the store's formKey() when it has one (shared by every replica of the store, so a form rendered by one
 * replica is accepted by another), else the key the caller gave (`relayFormKey`), else 32 random bytes made
 * once per router (one process). Asked on every use: a shared store may reject with
 * RelayStoreUnavailableError, which the routes answer with 503.
 */
export type RelayFormKey = () => Promise<Buffer>;

export function relayFormKeySource(
  store: RelayStore | undefined,
  fixedKey: Buffer | undefined,
): RelayFormKey {
  if (store?.formKey !== undefined) {
    const shared = store.formKey.bind(store);
    return () => shared();
  }
  const key = fixedKey ?? randomBytes(32);
  return () => Promise.resolve(key);
}
