import type {
  AccountDocumentCodec,
  AccountDocumentName,
  AccountStateStore,
  DocumentChange,
} from '../../src/server/accounts/account-state-store';
import { AccountStateError } from '../../src/server/accounts/account-types';

/**
 * An AccountStateStore in memory for tests of the routes and the service: each document is kept as the JSON
 * text a real backend would store (so a change that mutates the document in place, or a codec that does not
 * round-trip, shows up as it would on disk). `raw` lets a test plant a corrupt document.
 */
export interface MemoryAccountStateStore extends AccountStateStore {
  raw: Map<AccountDocumentName, string>;
}

export function memoryAccountStateStore(): MemoryAccountStateStore {
  const raw = new Map<AccountDocumentName, string>();
  const read = <T>(codec: AccountDocumentCodec<T>): T => {
    const text = raw.get(codec.name);
    if (text === undefined) return codec.empty();
    try {
      return codec.parse(JSON.parse(text) as unknown);
    } catch (error) {
      // As every backend does: the codec's complaint, with where the document lives, as AccountStateError.
      const where = `memory:${codec.name}`;
      throw new AccountStateError(`${where} ${(error as Error).message}`, where);
    }
  };
  return {
    raw,
    locationOf: (name) => `memory:${name}`,
    read: <T>(codec: AccountDocumentCodec<T>) => Promise.resolve().then(() => read(codec)),
    update: <T, R>(codec: AccountDocumentCodec<T>, change: (current: T) => DocumentChange<T, R>) =>
      Promise.resolve().then(() => {
        const outcome = change(read(codec));
        if (outcome.next !== undefined) raw.set(codec.name, JSON.stringify(codec.serialize(outcome.next)));
        return outcome.result;
      }),
  };
}
