import { silentLogger, type Logger } from '../context';
import { decodeCookieBundle, type CookieBundle } from '../core/bundle-codec';
import { resolveEndpointUrl } from '../core/endpoint';
import { httpRequest, readText } from '../core/http-request';
import {
  isValidRelayVerifier,
  RELAY_CLAIM_PATH,
  RELAY_INFO_PATH,
  relayChallengeFor,
  relayCode,
} from '../core/relay-protocol';
import { isCookieBridgeError, LoginError } from '../errors';

/**
 * The CLI's half of relay login: for browsers that cannot reach the terminal's loopback listener, the
 * /token page leaves the bundle on the server (POST /token/relay) and the CLI claims it with a secret only it
 * holds. See core/relay-protocol.ts and docs/serve.md.
 */

export interface RelayChallenge {
  /** Secret: sent only in the claim's body. */
  verifier: string;
  /** base64url(sha256(verifier)): goes into the /token URL. */
  challenge: string;
  /** XXXX-XXXX, shown in the terminal and on the page. */
  code: string;
}

/** Makes a relay login's secrets from ≥256 bits of URL-safe randomness (the CLI's randomState). */
export function createRelayChallenge(random: () => string): RelayChallenge {
  const verifier = random();
  if (!isValidRelayVerifier(verifier)) {
    throw new TypeError('createRelayChallenge: random() must return 43 to 128 base64url characters');
  }
  const challenge = relayChallengeFor(verifier);
  return { verifier, challenge, code: relayCode(challenge) };
}

export interface RelayRequestOptions {
  logger?: Logger;
  /** Per request; default 5 s for the support check, 15 s for a claim. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** For tests. */
  request?: typeof httpRequest;
}

/** Whether the endpoint offers the relay: GET /cookie-bridge/relay/info answers exactly {"relay":1}. Never throws. */
export async function checkRelaySupport(
  endpoint: string,
  options: RelayRequestOptions = {},
): Promise<boolean> {
  const logger = options.logger ?? silentLogger;
  const url = resolveEndpointUrl(endpoint, RELAY_INFO_PATH);
  try {
    const response = await (options.request ?? httpRequest)(url, {
      headers: { accept: 'application/json' },
      timeoutMs: options.timeoutMs ?? 5_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const body = await readText(response, 1024);
    const supported = response.status === 200 && isRelayInfo(body);
    logger.debug(`relay: GET ${url.pathname} → ${response.status}: ${supported ? 'offered' : 'not offered'}`);
    return supported;
  } catch (error) {
    logger.debug(`relay: GET ${url.pathname} failed: ${describe(error)}; no relay`);
    return false;
  }
}

export interface PollRelayOptions extends RelayRequestOptions {
  signal: AbortSignal;
  /** Pause between claims; default 1 s. */
  intervalMs?: number;
  /** Network errors and unexpected answers (5xx, 429…) in a row before giving up; default 10. */
  maxConsecutiveErrors?: number;
  /** Waits `ms`, or rejects when `signal` aborts; injected by tests. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const DEFAULT_RELAY_POLL_INTERVAL_MS = 1_000;

/**
 * Claims the relay until the bundle arrives: 200 → the bundle; 202 (page seen, not confirmed yet) and 404
 * (page not opened yet, or not registered on this replica) → ask again. Rejects with the signal's reason when
 * aborted, with E_RELAY_FAILED after too many errors in a row, and with E_INVALID_BUNDLE for a bad bundle.
 */
export async function pollRelay(
  endpoint: string,
  verifier: string,
  options: PollRelayOptions,
): Promise<CookieBundle> {
  const logger = options.logger ?? silentLogger;
  const { signal } = options;
  const sleep = options.sleep ?? abortableSleep;
  const intervalMs = options.intervalMs ?? DEFAULT_RELAY_POLL_INTERVAL_MS;
  const maxErrors = options.maxConsecutiveErrors ?? 10;
  const url = resolveEndpointUrl(endpoint, RELAY_CLAIM_PATH);
  const body = JSON.stringify({ verifier });
  let errors = 0;
  let lastStatus: string | undefined;
  for (;;) {
    signal.throwIfAborted();
    let outcome: string;
    try {
      const response = await (options.request ?? httpRequest)(url, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
        body,
        timeoutMs: options.timeoutMs ?? 15_000,
        signal,
      });
      const text = await readText(response, 128 * 1024);
      if (response.status === 200) {
        const bundle = bundleFromClaim(text);
        logger.debug(`relay: claimed a ${bundle.format} bundle with ${bundle.cookies.length} cookie(s)`);
        return bundle;
      }
      outcome = String(response.status);
      if (response.status === 202 || response.status === 404) errors = 0;
      else errors += 1;
    } catch (error) {
      signal.throwIfAborted();
      if (isCookieBridgeError(error) && error.code === 'E_INVALID_BUNDLE') throw error;
      errors += 1;
      outcome = describe(error);
    }
    if (outcome !== lastStatus) {
      logger.debug(
        `relay: claim → ${outcome}${outcome === '202' ? ' (page seen, waiting for the confirm)' : ''}`,
      );
      lastStatus = outcome;
    }
    if (errors >= maxErrors) {
      throw new LoginError(
        'E_RELAY_FAILED',
        `the relay of ${new URL(endpoint).origin} failed ${errors} times in a row (${outcome})`,
        {
          hint: 'check the connection and run the login again, or paste the bundle shown on the /token page',
        },
      );
    }
    await sleep(intervalMs, signal);
  }
}

function bundleFromClaim(text: string): CookieBundle {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const bundle = (value as { bundle?: unknown } | undefined)?.bundle;
  if (typeof bundle !== 'string') {
    throw new LoginError('E_INVALID_BUNDLE', 'the relay answered 200 without a bundle', {
      hint: 'is /cookie-bridge/relay/ served by cookie-bridge serve? nothing was saved',
    });
  }
  return decodeCookieBundle(bundle);
}

function isRelayInfo(body: string): boolean {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === 'object' && value !== null && (value as { relay?: unknown }).relay === 1;
  } catch {
    return false;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
