/**
 * What a login is asked to do and what it is given, in a module of their own so that login-flow.ts and
 * receive-bundle.ts both import them without importing each other.
 */
import type { CredentialStore } from '../store/credential-types';
import type { Context } from '../context';
import type { PasteInput } from './paste-reader';
import type { Progress } from './progress';

export interface LoginOptions {
  /** What the user passed to -e (may carry user:pass@). */
  endpoint: string;
  /** Skip detection and go straight to the browser flow. */
  forceCookies?: boolean;
  /** Loopback listener port; 0 or undefined picks a free one. */
  port?: number;
  /** false: only print the URL. */
  openBrowser?: boolean;
  timeoutSeconds?: number;
  /** Service-account token to store and send as Authorization: Bearer. */
  token?: string;
  /**
   * Relay only: no loopback listener; the page leaves the bundle on the server for this CLI to claim
   * (browsers that cannot reach this machine). Without it the relay is used alongside the loopback when the
   * server offers it.
   */
  relay?: boolean;
  /**
   * Take a bundle without state from the loopback listener (the server's /token page is an older one that
   * sends none); any local process could forge such a bundle. Without it one is refused, or taken only after
   * the person confirms it in the terminal (stdin a TTY). Pasted bundles are always taken.
   */
  acceptStateless?: boolean;
}

/** `timers` defaults to the real setTimeout (systemTimers), so library callers of login() need not pass it. */
export interface LoginDeps
  extends Pick<Context, 'logger' | 'now' | 'randomState'>,
    Partial<Pick<Context, 'timers'>> {
  store: CredentialStore;
  /** Opens a URL in the user's browser ($BROWSER honoured); never throws. */
  openBrowser(url: string): Promise<void>;
  /** Where a pasted bundle can arrive (the terminal). */
  stdin: PasteInput;
  progress: Progress;
  requestTimeoutMs?: number;
}
