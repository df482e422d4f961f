/**
 * What the store learnt in this turn of the event loop (a folder found private, a jar's entries), forgotten
 * at the next turn. A short command asks the store about one endpoint several times within one turn (`api
 * info`: checks of the config home, endpoints/ and the endpoint's folder before the profile, the jar for its
 * cookie list, the jar again for the check's Cookie header); nothing else of this process runs in between,
 * and another process could as well change a file between a single check and its use. A process that lives
 * on (the local proxy, serve) reads afresh at every later turn, and forgets at once what it changed itself.
 * Each repeat it spares is an fs.Stats or a file read and parse, ~1.5–5 KB of the young generation of a start
 * (bench/README.md, section 3); the local proxy's jar version is one stat a turn for all the requests read in
 * it (local-proxy/cached-credential.ts).
 */
export class TurnMemo<K, V> {
  private readonly values = new Map<K, V>();

  get(key: K): V | undefined {
    return this.values.get(key);
  }

  set(key: K, value: V): void {
    // unref: a pending clear never keeps the process alive.
    if (this.values.size === 0) setImmediate(() => this.values.clear()).unref();
    this.values.set(key, value);
  }

  /** Forgets `key` now (this process changed what it stood for). */
  delete(key: K): void {
    this.values.delete(key);
  }
}
