import { debugShown, silentLogger, systemTimers, unrefTimer, type Logger, type Timers } from '../context';
import { EndpointUnreachableError } from '../errors';
import { toUnreachableError } from '../http/upstream-errors';
import {
  classifyAuthProxyResponse,
  INSPECTED_BODY_BYTES,
  type AuthProxySignal,
} from '../protocol/auth-proxy-signals';
import { resolveEndpointUrl } from '../protocol/endpoint';
import {
  systemHttpClient,
  type HttpRequest,
  type HttpResponse,
  type OutgoingHeaders,
} from '../http/http-request';
import { namedUser } from '../protocol/named-user';
import { describeHeaders, redactUrl } from '../protocol/redact';

/**
 * Finds out whether an endpoint sits behind a browser cookie auth proxy by probing `<endpoint>/api/health`
 * with the one HTTP client (core/http-request.ts: never fetch, whose Sec-Fetch-Mode: cors changes
 * mod_auth_openidc's answer).
 *
 * First like an API client (`Accept: application/json`); when that is inconclusive, or fires a rule that
 * does not name the proxy (oauth2-proxy's bare `{}` 401), again like a browser (Accept: text/html and any type),
 * which oauth2-proxy and mod_auth_openidc answer with a redirect that names them. Redirects are followed
 * here, one hop at a time, so every hop is classified and logged (redacted) at debug level.
 */

export const HEALTH_PATH = '/api/health';
export const DEFAULT_MAX_HOPS = 10;
const ACCEPT = { json: 'application/json', browser: 'text/html,*/*' } as const;

export type ProbeMode = keyof typeof ACCEPT;

/** One request of a probe, with secrets redacted (safe to print). */
export interface ProbeHop {
  url: string;
  mode: ProbeMode;
  status: number;
  /** The redirect target, resolved and redacted. */
  location?: string;
  contentType?: string;
}

export type DetectionResult =
  | { kind: 'no-proxy'; status: number; user?: string; hops: ProbeHop[] }
  | { kind: 'auth-proxy'; signal: AuthProxySignal; hops: ProbeHop[] }
  | { kind: 'api-error'; status: number; hops: ProbeHop[] };

export interface DetectAuthProxyOptions {
  logger?: Logger;
  /** Per request: until the headers arrive, and again for reading the start of the body. */
  timeoutMs?: number;
  /** Redirects followed per probe; default 10. */
  maxHops?: number;
  /** Sent to the endpoint's origin only (e.g. Authorization for basic or token auth); never Accept. */
  headers?: OutgoingHeaders;
  /** The HTTP client's request (AppContext.http); default the process-wide one. */
  request?: HttpRequest;
  /** Runs the body read's time-out; default the real setTimeout. */
  timers?: Timers;
}

type ProbeOutcome =
  | { kind: 'signal'; signal: AuthProxySignal; hops: ProbeHop[] }
  | { kind: 'json-ok'; status: number; user?: string; hops: ProbeHop[] }
  | { kind: 'api-error'; status: number; hops: ProbeHop[] }
  | { kind: 'inconclusive'; status: number; hops: ProbeHop[] };

/**
 * Probes the endpoint and says whether an auth proxy answered, the API answered (JSON 2xx: `no-proxy`,
 * with `user` when the JSON names someone, see protocol/named-user.ts), or the API refused (`api-error`: its
 * own JSON 401/403, e.g. it wants a token or basic auth, or any other non-2xx JSON). Network errors,
 * redirect loops and too many redirects throw EndpointUnreachableError naming the endpoint.
 */
export async function detectAuthProxy(
  endpoint: string,
  options: DetectAuthProxyOptions = {},
): Promise<DetectionResult> {
  const logger = options.logger ?? silentLogger;
  const start = resolveEndpointUrl(endpoint, HEALTH_PATH);
  const probe = (mode: ProbeMode) => runProbe(endpoint, start, mode, options, logger);

  const first = await probe('json');
  if (first.kind === 'json-ok') return noProxy(first.status, first.user, first.hops);
  if (first.kind === 'api-error') return { kind: 'api-error', status: first.status, hops: first.hops };
  if (first.kind === 'signal' && first.signal.proxy !== 'unknown')
    return found(first.signal, first.hops, logger);

  let second: ProbeOutcome;
  try {
    second = await probe('browser');
  } catch (error) {
    if (first.kind !== 'signal') throw error;
    logger.debug(
      `browser-like probe failed (${error instanceof Error ? error.message : String(error)}); keeping the first answer`,
    );
    return found(first.signal, first.hops, logger);
  }
  const hops = [...first.hops, ...second.hops];
  if (second.kind === 'signal') {
    const signal =
      first.kind === 'signal' && second.signal.proxy === 'unknown' ? first.signal : second.signal;
    return found(signal, hops, logger);
  }
  if (first.kind === 'signal') return found(first.signal, hops, logger);
  if (second.kind === 'json-ok') return noProxy(second.status, second.user, hops);
  if (second.kind === 'api-error') return { kind: 'api-error', status: second.status, hops };
  // Neither probe points at a proxy nor got JSON (e.g. a plain-text health check, or no /api/health).
  return isSuccess(first.status)
    ? noProxy(first.status, undefined, hops)
    : { kind: 'api-error', status: first.status, hops };
}

function found(signal: AuthProxySignal, hops: ProbeHop[], logger: Logger): DetectionResult {
  logger.debug(`auth proxy detected: rule ${signal.rule}, proxy ${signal.proxy}: ${signal.detail}`);
  return { kind: 'auth-proxy', signal, hops };
}

function noProxy(status: number, user: string | undefined, hops: ProbeHop[]): DetectionResult {
  return user === undefined ? { kind: 'no-proxy', status, hops } : { kind: 'no-proxy', status, user, hops };
}

async function runProbe(
  endpoint: string,
  start: URL,
  mode: ProbeMode,
  options: DetectAuthProxyOptions,
  logger: Logger,
): Promise<ProbeOutcome> {
  const request = options.request ?? systemHttpClient.request;
  const maxHops = options.maxHops ?? DEFAULT_MAX_HOPS;
  const endpointOrigin = start.origin;
  const hops: ProbeHop[] = [];
  const visited = new Set<string>();
  let url = start;
  for (;;) {
    visited.add(url.href);
    const headers: OutgoingHeaders = {
      ...(url.origin === endpointOrigin ? withoutAccept(options.headers) : {}),
      accept: ACCEPT[mode],
    };
    if (debugShown(logger))
      logger.debug(`probe (${mode}) GET ${redactUrl(url)}\n${describeHeaders(headers)}`);
    const response = await request(url, {
      headers,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    const body = await readSnippet(response, options.timeoutMs, options.timers ?? systemTimers);
    if (debugShown(logger)) {
      logger.debug(`← ${response.status} ${response.statusText}\n${describeHeaders(response.headers)}`);
    }

    const rawLocation = response.headers.location;
    const location =
      isRedirect(response.status) && rawLocation !== undefined ? safeUrl(rawLocation, url) : undefined;
    const contentType = response.headers['content-type'];
    hops.push({
      url: redactUrl(url),
      mode,
      status: response.status,
      ...(location === undefined ? {} : { location: redactUrl(location) }),
      ...(contentType === undefined ? {} : { contentType }),
    });

    const signal = classifyAuthProxyResponse({
      endpoint,
      requestUrl: url.href,
      status: response.status,
      headers: response.headers,
      bodySnippet: body,
      expectJson: mode === 'json',
      healthProbe: true,
    });
    if (signal !== undefined) {
      logger.debug(`rule ${signal.rule} fired on ${redactUrl(url)} (${signal.proxy})`);
      return { kind: 'signal', signal, hops };
    }

    if (location !== undefined && (location.protocol === 'http:' || location.protocol === 'https:')) {
      if (visited.has(location.href)) {
        throw new EndpointUnreachableError(
          endpoint,
          `redirect loop: ${redactUrl(location)} redirects back to itself`,
          {
            hint: 'the server keeps redirecting; check the endpoint URL and the proxy configuration',
          },
        );
      }
      if (hops.length >= maxHops) {
        throw new EndpointUnreachableError(
          endpoint,
          `more than ${maxHops} redirects, starting at ${redactUrl(start)}`,
          {
            hint: 'the server keeps redirecting; check the endpoint URL and the proxy configuration',
          },
        );
      }
      url = location;
      continue;
    }
    return finalOutcome(response.status, contentType, body, hops);
  }
}

function finalOutcome(
  status: number,
  contentType: string | undefined,
  body: string,
  hops: ProbeHop[],
): ProbeOutcome {
  const parsed = parseJson(body);
  const json = parsed.ok || /^application\/(?:[a-z0-9.+-]*\+)?json\b/i.test(contentType ?? '');
  if (!json) return { kind: 'inconclusive', status, hops };
  if (!isSuccess(status)) return { kind: 'api-error', status, hops };
  const user = namedUser(
    parsed.ok && typeof parsed.value === 'object' && parsed.value !== null
      ? (parsed.value as { user?: unknown }).user
      : undefined,
  );
  return user !== undefined ? { kind: 'json-ok', status, user, hops } : { kind: 'json-ok', status, hops };
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  const trimmed = body.trim();
  if (!/^[[{]/.test(trimmed)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(trimmed) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Reads the first 4 KB of the body and drops the rest, within the timeout. */
async function readSnippet(
  response: HttpResponse,
  timeoutMs: number | undefined,
  timers: Timers,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer =
    timeoutMs === undefined
      ? undefined
      : timers.setTimeout(
          () => response.body.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
          timeoutMs,
        );
  unrefTimer(timer);
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= INSPECTED_BODY_BYTES) break;
    }
  } catch (error) {
    throw toUnreachableError(response.url, error, timeoutMs);
  } finally {
    if (timer !== undefined) timers.clearTimeout(timer);
    if (!response.body.destroyed) response.body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, INSPECTED_BODY_BYTES).toString('utf8');
}

function withoutAccept(headers: OutgoingHeaders | undefined): OutgoingHeaders {
  const copy: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (name.toLowerCase() !== 'accept') copy[name] = value;
  return copy;
}

function isRedirect(status: number): boolean {
  return status >= 300 && status < 400;
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function safeUrl(text: string, base: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}
