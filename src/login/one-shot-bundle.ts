import type { CookieBundle } from '../protocol/bundle-codec';

/**
 * The loopback listener's outcome, settled once: the first valid bundle claims the login (every later
 * request is refused as too late) and is delivered once its answer is out; close() before that abandons
 * the login and rejects `bundle`.
 */
export class OneShotBundle {
  /** Resolves with the delivered bundle, or rejects when the login is abandoned first. */
  readonly bundle: Promise<CookieBundle>;
  private claimed = false;
  private resolve: (bundle: CookieBundle) => void = () => undefined;
  private reject: (error: Error) => void = () => undefined;

  constructor() {
    this.bundle = new Promise<CookieBundle>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Callers that only race `bundle` against something else must not see an unhandled rejection.
    this.bundle.catch(() => undefined);
  }

  /** A bundle was taken or the login was abandoned: nothing more is accepted. */
  get finished(): boolean {
    return this.claimed;
  }

  /** Takes the login for a bundle that arrived; deliver() hands it over once its answer is out. */
  claim(): void {
    this.claimed = true;
  }

  deliver(bundle: CookieBundle): void {
    this.resolve(bundle);
  }

  /** Ends a login no bundle claimed with `error`; does nothing once one did. */
  abandon(error: Error): void {
    if (this.claimed) return;
    this.claimed = true;
    this.reject(error);
  }
}
