import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import { toUnreachableError } from './upstream-errors';
import { tlsConnector, type TlsTrust } from './tls-options';

/**
 * The one outbound HTTP client, on undici: detection, verification, the SDK and forwarding client, relay
 * registration and polling use httpRequest(); the local proxy dispatches on an origin pool built here too.
 * So a proxy (HTTPS_PROXY) or CA setting added to defaultDispatcher() / createOriginPool() reaches every hop.
 *
 * undici.request, not fetch: fetch adds Sec-Fetch-Mode: cors (mod_auth_openidc answers it with 401) and
 * follows redirects. request sends only the headers we give (plus Host, and framing for a body), follows
 * no redirect (maxRedirections 0), bounds the wait for the response head (headersTimeout) and honours an
 * AbortSignal; bodies stream both ways.
 */

export type OutgoingHeaders = Record<string, string | string[]>;

export interface HttpRequestOptions {
  method?: string;
  headers?: OutgoingHeaders;
  body?: Buffer | string | Readable;
  /** Time allowed until the response headers arrive. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Another dispatcher than defaultDispatcher() (tests, a future proxy setting). */
  dispatcher?: Dispatcher;
}

export interface HttpResponse {
  url: URL;
  status: number;
  statusText: string;
  /** As node:http presents them: lower-case names, Set-Cookie always a list, other repeats joined. */
  headers: IncomingHttpHeaders;
  /** The body as a stream; read it once, with readResponseBody() or by piping. */
  body: Readable;
}

export type HttpRequest = (url: URL, options?: HttpRequestOptions) => Promise<HttpResponse>;

/**
 * The outbound HTTP client every hop is given (AppContext.http, src/context.ts): one exchange at a time, or
 * a pool of connections to one origin for the local proxy's upstream (raw dispatch).
 */
export interface HttpClient {
  request: HttpRequest;
  originPool(origin: string): Pool;
}

const DEFAULT_TIMEOUT_MS = 30_000;

// undici is loaded on the first request (commands without network I/O do not pay for it).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const undici = (): typeof import('undici') => require('undici') as typeof import('undici');

let shared: Dispatcher | undefined;

/** The dispatcher every outbound request uses unless told otherwise: one keep-alive Agent per process. */
export function defaultDispatcher(): Dispatcher {
  shared ??= new (undici().Agent)();
  return shared;
}

/**
 * A pool of keep-alive connections to one origin, for the local proxy's upstream (raw dispatch). No time
 * limits of its own, like node:http's Agent: long polls, slow downloads and big uploads pass. With `tls`, an
 * https origin is trusted with its private CAs too (tls-options.ts).
 */
export function createOriginPool(origin: string, tls?: TlsTrust): Pool {
  return new (undici().Pool)(origin, {
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    ...(tls === undefined ? {} : { connect: tlsConnector(tls) }),
  });
}

export interface HttpClientOptions {
  dispatcher?: Dispatcher;
  /** Private CAs (--cacert, $COOKIE_BRIDGE_CA_BUNDLE, the stored one): see tls-options.ts. */
  tls?: TlsTrust;
}

/**
 * An HTTP client on `dispatcher` (default: defaultDispatcher(), or with `tls` an Agent of its own that trusts
 * the private CAs). The CLI builds one (src/cli/cli-context.ts) and hands it to every hop; library callers
 * that pass none get systemHttpClient.
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const { tls } = options;
  let own: Dispatcher | undefined;
  const dispatcher = (): Dispatcher =>
    options.dispatcher ??
    (tls === undefined
      ? defaultDispatcher()
      : (own ??= new (undici().Agent)({ connect: tlsConnector(tls) })));
  return {
    request: (url, requestOptions = {}) =>
      httpRequest(url, { ...requestOptions, dispatcher: requestOptions.dispatcher ?? dispatcher() }),
    originPool: (origin) => createOriginPool(origin, tls),
  };
}

/** The client on defaultDispatcher(): the default of every `http` left out. */
export const systemHttpClient: HttpClient = createHttpClient();

/** What the interceptor below keeps of the response head: the reason phrase and the raw header lines. */
interface ResponseHead {
  statusText: string;
  headers: IncomingHttpHeaders;
}

function isResponseHead(value: unknown): value is ResponseHead {
  return typeof value === 'object' && value !== null && 'statusText' in value;
}

type Handler = Dispatcher.DispatchHandlers;
type HeadersCallback = NonNullable<Handler['onHeaders']>;
declare class DecoratedHandler implements Handler {
  onHeaders(...args: Parameters<HeadersCallback>): boolean;
}
let responseHeadHandler: (new (handler: Handler, line: ResponseHead) => Handler) | undefined;

/**
 * undici.request gives no reason phrase, and header values decoded as UTF-8: this interceptor writes the
 * phrase and the raw headers (as node:http reads them, see toIncomingHeaders) into the request's `opaque`.
 */
const keepResponseHead: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const line = (opts as { opaque?: unknown }).opaque;
  if (!isResponseHead(line)) return dispatch(opts, handler);
  if (responseHeadHandler === undefined) {
    // DecoratorHandler passes every callback on; its type declares none of them.
    const Base = undici().DecoratorHandler as unknown as new (handler: Handler) => DecoratedHandler;
    responseHeadHandler = class extends Base {
      constructor(
        handler: Handler,
        private readonly line: ResponseHead,
      ) {
        super(handler);
      }

      override onHeaders(...args: Parameters<HeadersCallback>): boolean {
        this.line.statusText = args[3];
        this.line.headers = toIncomingHeaders(args[1]);
        return super.onHeaders(...args);
      }
    };
  }
  return dispatch(opts, new responseHeadHandler(handler, line));
};

const composed = new WeakMap<Dispatcher, Dispatcher>();

function withResponseHead(dispatcher: Dispatcher): Dispatcher {
  let out = composed.get(dispatcher);
  if (out === undefined) {
    out = dispatcher.compose(keepResponseHead);
    composed.set(dispatcher, out);
  }
  return out;
}

/** One HTTP exchange: resolves at the response head (the body still streaming), rejects with EndpointUnreachableError. */
export async function httpRequest(url: URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const line: ResponseHead = { statusText: '', headers: {} };
  try {
    const response = await undici().request(url, {
      method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: options.headers ?? {},
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      dispatcher: withResponseHead(options.dispatcher ?? defaultDispatcher()),
      maxRedirections: 0,
      headersTimeout: timeoutMs,
      // Like node:http: once the head is in, the body may take its time (callers bound their reads).
      bodyTimeout: 0,
      opaque: line,
    });
    return {
      url,
      status: response.statusCode,
      statusText: line.statusText,
      headers: line.headers,
      body: response.body,
    };
  } catch (error) {
    throw toUnreachableError(url, error, timeoutMs);
  }
}

/**
 * undici's raw response headers as node:http presents them: lower-case names, values as latin1 strings
 * (so they are written back byte for byte), Set-Cookie as a list, other repeated headers joined by ', '.
 */
export function toIncomingHeaders(raw: Buffer[]): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1').toLowerCase();
    const value = (raw[i + 1] as Buffer).toString('latin1');
    if (name === 'set-cookie') {
      const list = headers['set-cookie'];
      if (list === undefined) headers['set-cookie'] = [value];
      else list.push(value);
      continue;
    }
    const existing = headers[name];
    headers[name] = existing === undefined ? value : `${String(existing)}, ${value}`;
  }
  return headers;
}

/** Reads a response body into memory, up to `limitBytes` (the rest is discarded). */
export async function readResponseBody(response: HttpResponse, limitBytes = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    if (size < limitBytes) {
      const part = chunk.subarray(0, limitBytes - size);
      chunks.push(part);
      size += part.length;
    }
  }
  return Buffer.concat(chunks);
}

export async function readResponseText(response: HttpResponse, limitBytes?: number): Promise<string> {
  return (await readResponseBody(response, limitBytes)).toString('utf8');
}
