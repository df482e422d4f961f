import { silentLogger, systemTimers, type Logger, type Timers } from '../context';
import { decodeCookieBundle, type CookieBundle } from '../protocol/bundle-codec';
import { formatDurationWords } from '../protocol/duration';
import { resolveEndpointUrl } from '../protocol/endpoint';
import { readResponseText, systemHttpClient, type HttpRequest } from '../http/http-request';
import {
  isValidRelayVerifier,
  RELAY_CLAIM_PATH,
  RELAY_INFO_PATH,
  RELAY_MAX_TTL_SECONDS,
  RELAY_REGISTER_PATH,
  relayChallengeFor,
  relayCode,
} from '../protocol/relay-protocol';
import { isCookieBridgeError, LoginError, TlsError } from '../errors';

/**
 * The CLI's half of relay login: for browsers that cannot reach the terminal's loopback listener, the CLI
 * registers a challenge and a code with the server, the person types the code into the /token page, which
 * leaves the bundle on the server (POST /token/relay), and the CLI claims it with a secret only it holds.
 * See protocol/relay-protocol.ts and docs/serve.md.
 */

export interface RelayChallenge {
  /** Secret: sent only in the claim's body. */
  verifier: string;
  /** base64url(sha256(verifier)): goes into the /token URL. */
  challenge: string;
  /** XXXX-XXXX: secret, shown only in the terminal; the person types it into the page. */
  code: string;
}

/**
 * Makes a relay login's secrets from ≥256 bits of URL-safe randomness (the CLI's randomState): the verifier
 * from one draw, the code from another, so nothing in the URL tells the code.
 */
export function createRelayChallenge(random: () => string): RelayChallenge {
  const verifier = random();
  const codeSecret = random();
  if (!isValidRelayVerifier(verifier) || !isValidRelayVerifier(codeSecret)) {
    throw new TypeError('createRelayChallenge: random() must return 43 to 128 base64url characters');
  }
  if (codeSecret === verifier) throw new TypeError('createRelayChallenge: random() repeated itself');
  const challenge = relayChallengeFor(verifier);
  return { verifier, challenge, code: relayCode(codeSecret) };
}

/**
 * Registers the challenge and code with the server (POST /cookie-bridge/relay/register) before the browser
 * opens: the /token page offers the confirm form only for registered challenges. Throws LoginError
 * E_RELAY_STORE_UNAVAILABLE when the server's relay store is down (503 relay_store_unavailable), E_RELAY_BUSY
 * when the server has no room (other 503s), E_RELAY_FAILED for anything else.
 */
export async function registerRelay(
  endpoint: string,
  relay: Pick<RelayChallenge, 'challenge' | 'code'>,
  options: RelayRequestOptions = {},
): Promise<void> {
  const logger = options.logger ?? silentLogger;
  const url = resolveEndpointUrl(endpoint, RELAY_REGISTER_PATH);
  let status: number;
  let text: string;
  try {
    ({ status, text } = await postJson(url, { challenge: relay.challenge, code: relay.code }, 4096, options));
  } catch (error) {
    // A refused certificate is the endpoint's, not the relay's: the same E_TLS (and fix) as every hop.
    if (error instanceof TlsError) throw error;
    throw new LoginError('E_RELAY_FAILED', `could not register the relay sign-in: ${describe(error)}`, {
      hint: 'check the connection and run the login again, or log in without --relay',
    });
  }
  logger.debug(`relay: POST ${url.pathname} → ${status}`);
  if (status === 201) return;
  const message = jsonMessage(text);
  if (status === 503 && isStoreUnavailable(text)) {
    throw new LoginError(
      'E_RELAY_STORE_UNAVAILABLE',
      `the relay of ${new URL(endpoint).origin} cannot take sign-ins now: its relay store is unavailable`,
    );
  }
  if (status === 503) {
    // The server says how long its pending sign-ins live (serve --relay-ttl); an older one or a load balancer
    // does not, and the code's default hint says so.
    const ttlSeconds = jsonTtlSeconds(text);
    throw new LoginError(
      'E_RELAY_BUSY',
      `the relay of ${new URL(endpoint).origin} is busy${message === undefined ? '' : `: ${message}`}`,
      ttlSeconds === undefined
        ? {}
        : {
            hint: `wait up to ${formatDurationWords(ttlSeconds * 1000)} (pending sign-ins expire by then) and run the login again`,
          },
    );
  }
  throw new LoginError(
    'E_RELAY_FAILED',
    `the relay of ${new URL(endpoint).origin} refused the sign-in request (HTTP ${status}` +
      `${message === undefined ? '' : `: ${message}`})`,
    { hint: 'run the login again; if it keeps failing, update cookie-bridge serve on the server' },
  );
}

export interface RelayRequestOptions {
  logger?: Logger;
  /** Per request; default 5 s for the support check, 15 s for a claim. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The HTTP client's request (AppContext.http); default the process-wide one (honours HTTPS_PROXY…). */
  request?: HttpRequest;
}

/** Whether the endpoint offers the relay: GET /cookie-bridge/relay/info answers exactly {"relay":1}. Never throws. */
export async function checkRelaySupport(
  endpoint: string,
  options: RelayRequestOptions = {},
): Promise<boolean> {
  const logger = options.logger ?? silentLogger;
  const url = resolveEndpointUrl(endpoint, RELAY_INFO_PATH);
  try {
    const response = await (options.request ?? systemHttpClient.request)(url, {
      headers: { accept: 'application/json' },
      timeoutMs: options.timeoutMs ?? 5_000,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const body = await readResponseText(response, 1024);
    const supported = response.status === 200 && isRelayInfo(body);
    logger.debug(`relay: GET ${url.pathname} → ${response.status}: ${supported ? 'offered' : 'not offered'}`);
    return supported;
  } catch (error) {
    if (error instanceof TlsError) throw error;
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
  /** Waits `ms`, or rejects when `signal` aborts; default a pause on `timers`. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Runs the pause between claims (when no `sleep` is given); default the real setTimeout. */
  timers?: Timers;
  /**
   * Tells the person, once per outage, that the server's relay store is unavailable and again when it is back
   * (a line for stderr); default the logger's warn and info. The login stops its status line around it.
   */
  notice?: (level: 'warn' | 'info', line: string) => void;
}

/** What the CLI says when the claim starts answering 503 relay_store_unavailable, and when it stops. */
export const RELAY_STORE_OUTAGE_NOTICE = "the server's relay store is unavailable; still waiting…";
export const RELAY_STORE_BACK_NOTICE = "the server's relay store is back; waiting for the browser sign-in";

export const DEFAULT_RELAY_POLL_INTERVAL_MS = 1_000;

/**
 * Claims the relay until the bundle arrives: 200 → the bundle; 202 (not confirmed yet) → ask again. The
 * challenge was registered before, so 410 (ended: too many wrong codes, or claimed) and 404 (expired or
 * unknown) stop at once with E_RELAY_GONE. 503 relay_store_unavailable (the server's store is down or
 * restarting, which can take longer than ten claims) → ask again without counting an error: the login's own
 * timeout bounds that wait; the person is told once per outage (`notice`). Rejects with the signal's reason
 * when aborted, with E_RELAY_FAILED after too many errors in a row, and with E_INVALID_BUNDLE for a bad bundle.
 */
export async function pollRelay(
  endpoint: string,
  verifier: string,
  options: PollRelayOptions,
): Promise<CookieBundle> {
  const logger = options.logger ?? silentLogger;
  const { signal } = options;
  const timers = options.timers ?? systemTimers;
  const sleep = options.sleep ?? ((ms: number, stop: AbortSignal) => abortableSleep(timers, ms, stop));
  const intervalMs = options.intervalMs ?? DEFAULT_RELAY_POLL_INTERVAL_MS;
  const maxErrors = options.maxConsecutiveErrors ?? 10;
  const url = resolveEndpointUrl(endpoint, RELAY_CLAIM_PATH);
  const notice = options.notice ?? ((level: 'warn' | 'info', line: string) => logger[level](line));
  let errors = 0;
  let lastStatus: string | undefined;
  let storeDown = false;
  for (;;) {
    signal.throwIfAborted();
    let outcome: string;
    try {
      const response = await postJson(url, { verifier }, 128 * 1024, options);
      const { text } = response;
      if (response.status === 200) {
        const bundle = bundleFromClaim(text);
        logger.debug(`relay: claimed a ${bundle.format} bundle with ${bundle.cookies.length} cookie(s)`);
        return bundle;
      }
      if (response.status === 404 || response.status === 410) throw relayGone(endpoint, text);
      outcome = String(response.status);
      const unavailable = response.status === 503 && isStoreUnavailable(text);
      if (unavailable && !storeDown) {
        storeDown = true;
        notice('warn', RELAY_STORE_OUTAGE_NOTICE);
      } else if (storeDown && response.status === 202) {
        storeDown = false;
        notice('info', RELAY_STORE_BACK_NOTICE);
      }
      // The server answered: an outage of its store is waited out (within the login's timeout), not counted.
      if (response.status === 202 || unavailable) errors = 0;
      else errors += 1;
    } catch (error) {
      signal.throwIfAborted();
      if (isCookieBridgeError(error) && (error.code === 'E_INVALID_BUNDLE' || error.code === 'E_RELAY_GONE'))
        throw error;
      // A refused certificate does not heal by retrying.
      if (error instanceof TlsError) throw error;
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

/** POSTs `payload` as JSON to a relay route (default timeout 15 s) and reads at most `maxBytes` of the answer. */
async function postJson(
  url: URL,
  payload: object,
  maxBytes: number,
  options: RelayRequestOptions,
): Promise<{ status: number; text: string }> {
  const body = JSON.stringify(payload);
  const response = await (options.request ?? systemHttpClient.request)(url, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
    timeoutMs: options.timeoutMs ?? 15_000,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { status: response.status, text: await readResponseText(response, maxBytes) };
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

function relayGone(endpoint: string, text: string): LoginError {
  const reason = jsonField(text, 'reason');
  const why =
    reason === 'wrong-codes'
      ? 'too many wrong codes were typed on the page, so the server cancelled it'
      : reason === 'claimed'
        ? 'it was already picked up'
        : 'the server no longer knows it (expired, or served by another replica)';
  return new LoginError('E_RELAY_GONE', `the relay sign-in at ${new URL(endpoint).origin} ended: ${why}`, {
    hint:
      reason === 'wrong-codes'
        ? 'run the login again and type the code this terminal shows; if you did not type wrong codes, someone else tried to confirm your link'
        : 'run the login again',
  });
}

/** `ttl_seconds` of a JSON answer: a whole number of seconds that --relay-ttl allows, else undefined. */
function jsonTtlSeconds(text: string): number | undefined {
  try {
    const value = (JSON.parse(text) as Record<string, unknown> | null)?.ttl_seconds;
    return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= RELAY_MAX_TTL_SECONDS
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}

function jsonField(text: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(text) as Record<string, unknown> | null)?.[field];
    return typeof value === 'string' ? value.slice(0, 200).replace(/[\x00-\x1f\x7f]/g, '?') : undefined;
  } catch {
    return undefined;
  }
}

/** A 503 answer of serve whose relay store cannot answer now (src/server/relay-store-unavailable.ts). */
function isStoreUnavailable(text: string): boolean {
  return jsonField(text, 'error') === 'relay_store_unavailable';
}

function jsonMessage(text: string): string | undefined {
  return jsonField(text, 'message');
}

function isRelayInfo(body: string): boolean {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === 'object' && value !== null && (value as { relay?: unknown }).relay === 1;
  } catch {
    return false;
  }
}

function abortableSleep(timers: Timers, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      timers.clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = timers.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
