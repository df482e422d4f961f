import { decodeCookieBundle, type CookieBundle } from '../protocol/bundle-codec';
import { resolveEndpointUrl, type ParsedEndpoint } from '../protocol/endpoint';
import { redactUrl } from '../protocol/redact';
import { systemTimers } from '../context';
import { LoginError, LoginTimeoutError, isCookieBridgeError } from '../errors';
import { hopOptions, type LoginDeps, type LoginOptions } from './login-options';
import { startLoopbackListener } from './loopback-listener';
import { readPastedBundle } from './paste-reader';
import { createStatelessBundleGate, type StatelessBundleGate } from './stateless-bundle-gate';
import {
  checkRelaySupport,
  createRelayChallenge,
  pollRelay,
  registerRelay,
  type RelayChallenge,
} from './relay-client';

/**
 * The waiting part of a cookie login: start the loopback listener (unless --relay), offer the relay when the
 * server has one, print and open the /token URL, then take the first bundle to arrive from the browser, a
 * paste in the terminal or the relay, within the timeout.
 */

export const DEFAULT_LOGIN_TIMEOUT_SECONDS = 300;

export type BundleArrival = { bundle: CookieBundle; via: 'browser' | 'paste' | 'relay' };

export async function receiveBundle(
  parsed: ParsedEndpoint,
  options: LoginOptions,
  deps: LoginDeps,
): Promise<BundleArrival> {
  const state = deps.randomState();
  const relay = await prepareRelay(parsed, options, deps);
  const stateless = createStatelessBundleGate({
    interactive: deps.stdin.isTTY === true,
    logger: deps.logger,
    progress: deps.progress,
    waitingText: waitingText(relay),
  });
  const listener =
    options.relay === true
      ? undefined
      : await startLoopbackListener({
          endpointOrigin: parsed.origin,
          state,
          ...(options.port === undefined ? {} : { port: options.port }),
          logger: deps.logger,
          timers: deps.timers ?? systemTimers,
          acceptStateless: options.acceptStateless === true,
          onStatelessBundle: stateless.offer,
        });
  const tokenUrl = resolveEndpointUrl(parsed.url, '/token');
  if (listener !== undefined) {
    tokenUrl.searchParams.set('local_port', String(listener.port));
    tokenUrl.searchParams.set('state', state);
  }
  if (relay !== undefined) {
    // The relayed bundle echoes the state: the page needs it also without a listener.
    if (listener === undefined) tokenUrl.searchParams.set('state', state);
    tokenUrl.searchParams.set('relay', relay.challenge);
  }
  const url = tokenUrl.toString();
  deps.logger.info(`Sign in with your browser at:\n\n  ${url}\n`);
  if (relay !== undefined) {
    deps.logger.info(
      `Confirmation code: ${relay.code}\n(if the page asks for a code, type this one; never type a code someone else sent you)\n`,
    );
  }
  deps.logger.debug(
    `${listener === undefined ? 'no loopback listener (--relay)' : `loopback listener: ${listener.callbackUrl}`}` +
      `${relay === undefined ? '' : '; relay offered'}; opening ${redactUrl(url)}`,
  );
  if (options.openBrowser !== false) await deps.openBrowser(url);

  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_LOGIN_TIMEOUT_SECONDS;
  const pasteAbort = new AbortController();
  const relayAbort = new AbortController();
  const timers = deps.timers ?? systemTimers;
  let timer: unknown;
  deps.progress.start(waitingText(relay));
  try {
    const arrivals: Promise<BundleArrival>[] = [];
    if (listener !== undefined) {
      arrivals.push(listener.bundle.then((bundle) => ({ bundle, via: 'browser' as const })));
      arrivals.push(stateless.confirmed.then((bundle) => ({ bundle, via: 'browser' as const })));
    }
    arrivals.push(
      waitForPastedBundle(deps, pasteAbort.signal, stateless).then((bundle) =>
        bundle === undefined ? never<BundleArrival>() : { bundle, via: 'paste' as const },
      ),
    );
    if (relay !== undefined) {
      arrivals.push(
        pollRelay(parsed.url, relay.verifier, {
          ...hopOptions(deps),
          signal: relayAbort.signal,
          ...(deps.requestTimeoutMs === undefined ? {} : { timeoutMs: deps.requestTimeoutMs }),
          // A line of its own: the status line stops around it, then goes on.
          notice: (level, line) => {
            deps.progress.stop();
            deps.logger[level](line);
            deps.progress.start(waitingText(relay));
          },
        }).then(
          (bundle) => {
            if (bundle.state === undefined) {
              throw new LoginError('E_RELAY_STATE_MISMATCH', 'the relayed sign-in carries no login state', {
                hint: 'update cookie-bridge serve on the server and run the login again; nothing was saved',
              });
            }
            if (bundle.state !== state) {
              throw new LoginError('E_RELAY_STATE_MISMATCH', 'the relayed sign-in belongs to another login', {
                hint: 'run the login again; nothing was saved',
              });
            }
            return { bundle, via: 'relay' as const };
          },
          (error: unknown) => {
            // Alongside the loopback a broken relay is not fatal: the listener or a paste may still deliver.
            if (options.relay === true || relayAbort.signal.aborted) throw error;
            deps.logger.warn(
              `the relay stopped working (${error instanceof Error ? error.message : String(error)})`,
            );
            return never<BundleArrival>();
          },
        ),
      );
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = timers.setTimeout(() => reject(new LoginTimeoutError(timeoutSeconds)), timeoutSeconds * 1000);
    });
    return await Promise.race([...arrivals, timeout]);
  } finally {
    if (timer !== undefined) timers.clearTimeout(timer);
    pasteAbort.abort();
    relayAbort.abort();
    deps.progress.stop();
    await listener?.close();
  }
}

/**
 * The relay secrets when the relay is to be used: forced by --relay (then required), else when offered.
 * The challenge is registered with the server before the browser opens.
 */
async function prepareRelay(
  parsed: ParsedEndpoint,
  options: LoginOptions,
  deps: LoginDeps,
): Promise<RelayChallenge | undefined> {
  const offered = await checkRelaySupport(parsed.url, hopOptions(deps));
  if (!offered) {
    if (options.relay === true) {
      throw new LoginError('E_RELAY_UNAVAILABLE', `${parsed.url} does not offer relay login`, {
        hint:
          'run cookie-bridge serve in front of the app and let /cookie-bridge/relay/ pass the auth proxy ' +
          '(docs/serve.md), or log in without --relay (--no-browser and paste the bundle)',
      });
    }
    return undefined;
  }
  const relay = createRelayChallenge(deps.randomState);
  try {
    await registerRelay(parsed.url, relay, hopOptions(deps));
  } catch (error) {
    // Alongside the loopback a relay that refuses is not fatal: log in without it.
    if (options.relay === true || !isCookieBridgeError(error)) throw error;
    deps.logger.warn(`relay login not offered: ${error.message}`);
    return undefined;
  }
  return relay;
}

function waitingText(relay: RelayChallenge | undefined): string {
  return relay === undefined
    ? 'Waiting for the browser sign-in (or paste the bundle from the page and press Enter)'
    : `Waiting for the browser sign-in (code ${relay.code}; or paste the bundle from the page and press Enter)`;
}

/**
 * Reads pasted lines until one decodes; a bad paste is reported and the wait goes on. A pasted bundle is
 * the person's by that act: taken in every format, with or without state. While a bundle without state
 * waits for a y/n, the next short line is that answer.
 */
async function waitForPastedBundle(
  deps: LoginDeps,
  signal: AbortSignal,
  stateless: StatelessBundleGate,
): Promise<CookieBundle | undefined> {
  for (;;) {
    const text = await readPastedBundle({
      input: deps.stdin,
      signal,
      onProgress: (bytes) => {
        if (!stateless.asking) deps.progress.update(`Reading pasted bundle (${bytes} bytes)`);
      },
    });
    if (text === undefined || signal.aborted) return undefined;
    if (stateless.answer(text)) continue;
    try {
      return decodeCookieBundle(text);
    } catch (error) {
      if (!isCookieBridgeError(error)) throw error;
      deps.logger.warn(
        `${error.message}${error.hint === undefined ? '' : ` (${error.hint})`}; paste it again`,
      );
    }
  }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}
