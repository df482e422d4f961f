/**
 * Where the service accounts' state lives: three documents, each read and changed as a whole.
 * - `keys`: the signing keys (the private ones too), see signing-keys.ts;
 * - `service-accounts`: the registry of service accounts, see account-documents.ts;
 * - `people`: the people serve has seen and the roles admins gave them, see account-documents.ts.
 * A backend (file-account-state-store.ts: the state dir; a Redis one for replicas) stores each document as
 * JSON and makes `update` a read-modify-write that no other writer (another process, another replica) can
 * interleave with. Backends never interpret a document: the codec does, and a document it cannot read is an
 * AccountStateError naming the file (or key), never replaced by an empty one.
 */

export type AccountDocumentName = 'keys' | 'service-accounts' | 'people';

/** How one document is read from and written to its JSON form. */
export interface AccountDocumentCodec<T> {
  readonly name: AccountDocumentName;
  /** The document when none is stored yet. */
  empty(): T;
  /** Checks and converts the stored JSON; throws an Error whose message says what is wrong, never the content. */
  parse(raw: unknown): T;
  /** The JSON form to store. */
  serialize(document: T): unknown;
}

/** What a change decides: the document to store (absent: store nothing) and what `update` returns. */
export interface DocumentChange<T, R> {
  next?: T;
  result: R;
}

export interface AccountStateStore {
  /** The document as stored now (codec.empty() when there is none). */
  read<T>(codec: AccountDocumentCodec<T>): Promise<T>;
  /**
   * Reads the document, calls `change` with it and stores `next` if given, with no other writer in between.
   * `change` may run more than once (a backend that retries on a conflict) and must not have other effects.
   * A document that cannot be read rejects before `change` runs, so nothing is written over it.
   */
  update<T, R>(codec: AccountDocumentCodec<T>, change: (current: T) => DocumentChange<T, R>): Promise<R>;
  /** Where a document lives (a file path, a Redis key), for messages. */
  locationOf(name: AccountDocumentName): string;
}
