/**
 * What a login is asked to do and what it is given, in a module of their own so that login-flow.ts and
 * receive-bundle.ts both import them without importing each other.
 */
import type { CredentialStore } from '../store/credential-types';
import { systemHttpClient, type HttpClient, type HttpRequest } from '../http/http-request';
import { systemTimers, type AppContext, type Logger, type Timers } from '../context';
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
  /**
   * The private CA (PEM) the endpoint's certificate was trusted with (--cacert), stored in its profile so later
   * commands trust it without the flag. Without it a CA stored by an earlier login is kept.
   */
  ca?: string;
}

/**
 * The part of the one dependency object (AppContext, src/context.ts) a login uses: `stdin` is where a pasted
 * bundle can arrive, `openBrowser` honours $BROWSER. `timers` defaults to the real setTimeout (systemTimers)
 * and `http` to the process-wide client (systemHttpClient), so library callers of login() need not pass them.
 */
export interface LoginDeps
  extends Pick<
      AppContext<CredentialStore, HttpClient>,
      'logger' | 'now' | 'randomState' | 'store' | 'openBrowser' | 'stdin'
    >,
    Partial<Pick<AppContext<CredentialStore, HttpClient>, 'timers' | 'http'>> {
  progress: Progress;
  requestTimeoutMs?: number;
}

/** What every outbound hop of a login is given: its logger, the HTTP client's request and the timers. */
export function hopOptions(deps: LoginDeps): { logger: Logger; request: HttpRequest; timers: Timers } {
  return {
    logger: deps.logger,
    request: (deps.http ?? systemHttpClient).request,
    timers: deps.timers ?? systemTimers,
  };
}
