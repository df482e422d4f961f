import type { IncomingHttpHeaders } from 'node:http';
import { Readable, type Writable } from 'node:stream';
import type { buildConnector, Dispatcher, Pool } from 'undici';
import { silentLogger, type Logger } from '../context';
import { EndpointUnreachableError } from '../errors';
import { toUnreachableError } from './upstream-errors';
import {
  describeRoute,
  ignoredProxyVariables,
  proxyFailure,
  resolveProxy,
  type ProxyEnv,
  type ProxyRoute,
} from './proxy-settings';
import { tlsConnector, type TlsTrust } from './tls-options';
import { incomingHeadersFromLines, toIncomingHeaders } from './incoming-headers';
import { nodeHttpExchange } from './node-http-transport';

/**
 * Short exchanges without `bodySink` go on node:http/https instead (node-http-transport.ts: same routes, CA
 * trust and errors), so a command that makes one request never loads undici.
 *
 * The one outbound HTTP client, on undici: detection, verification, the SDK and forwarding client, relay
 * registration and polling use httpRequest(); the local proxy dispatches on an origin pool built here too.
 * So the forward proxy (HTTPS_PROXY, http_proxy, NO_PROXY: createHttpClient({ env }), proxy-settings.ts) and
 * a CA setting (`connect`) reach every hop.
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
  /**
   * Big bodies: where the body goes, chosen at the response head. undici then writes each chunk straight
   * into it (undici.stream: no Readable in between), pauses the socket while it is full and ends it at the
   * end. The response still resolves at the head, with an empty `body`; its `finished` settles once the
   * body is written (rejecting with the sink's own error, e.g. EPIPE, or the connection's).
   */
  bodySink?: (head: HttpResponseHead) => Writable;
}

/** The response head, as bodySink sees it. */
export interface HttpResponseHead {
  url: URL;
  status: number;
  statusText: string;
  headers: IncomingHttpHeaders;
}

export interface HttpResponse {
  url: URL;
  status: number;
  statusText: string;
  /** As node:http presents them: lower-case names, Set-Cookie always a list, other repeats joined. */
  headers: IncomingHttpHeaders;
  /** The body as a stream; read it once, with readResponseBody() or by piping. */
  body: Readable;
  /** With `bodySink`: settles once the whole body is written into the sink. */
  finished?: Promise<void>;
}

export type HttpRequest = (url: URL, options?: HttpRequestOptions) => Promise<HttpResponse>;

/**
 * The outbound HTTP client every hop is given (AppContext.http, src/context.ts): one exchange at a time, or
 * a pool of connections to one origin for the local proxy's upstream (raw dispatch).
 */
export interface HttpClient {
  request: HttpRequest;
  originPool(origin: string): OriginPool;
}

/** What the local proxy's upstream needs of a pool: a Pool, or ProxyAgents when a forward proxy is set. */
export interface OriginPool {
  dispatch: Dispatcher['dispatch'];
  close(): Promise<void>;
  destroy(): Promise<void>;
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
    ...ORIGIN_POOL_OPTIONS,
    ...(tls === undefined ? {} : { connect: tlsConnector(tls) }),
  });
}

export interface HttpClientOptions {
  /** The dispatcher of direct requests (default defaultDispatcher()); tests pass their own. */
  dispatcher?: Dispatcher;
  /** Private CAs (--cacert, $COOKIE_BRIDGE_CA_BUNDLE, the stored one): see tls-options.ts. */
  tls?: TlsTrust;
  /**
   * Where the forward-proxy variables are read (https_proxy, HTTPS_PROXY, http_proxy, all_proxy, no_proxy…,
   * with curl's rules: src/http/proxy-settings.ts). Left out: every request goes direct.
   */
  env?: ProxyEnv;
  /** Says under --debug which way (which proxy, or direct) each origin goes. */
  logger?: Logger;
}

/**
 * An HTTP client that sends each request direct (on `dispatcher`, default defaultDispatcher(), or with `tls`
 * an Agent of its own that trusts the private CAs) or through the forward proxy `env` names for its URL (one
 * undici ProxyAgent per proxy and CA set, built on first use: CONNECT for https://, with the private CAs
 * inside the tunnel; absolute-form requests for http://). The CLI builds one (src/cli/cli-context.ts) and
 * hands it to every hop; library callers that pass none get systemHttpClient. A proxy that is down or
 * refuses is a ProxyError naming it (never its credentials).
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const { tls } = options;
  const logger = options.logger ?? silentLogger;
  const proxies = new Map<string, Dispatcher>();
  const described = new Set<string>();
  let own: Dispatcher | undefined;
  let warned = false;

  const routeFor = (url: URL): ProxyRoute => {
    if (options.env === undefined) return { kind: 'direct' };
    if (!warned) {
      warned = true;
      for (const name of ignoredProxyVariables(options.env))
        logger.debug(
          `proxy: ${name} is ignored inside a CGI request (REQUEST_METHOD is set: httpoxy); set http_proxy`,
        );
    }
    const route = resolveProxy(url, options.env);
    const origin = `${url.protocol}//${url.host}`;
    if (!described.has(origin) && (route.kind === 'proxy' || route.noProxyVariable !== undefined)) {
      described.add(origin);
      logger.debug(`proxy: ${origin} ${describeRoute(route)}`);
    }
    return route;
  };
  const direct = (): Dispatcher =>
    options.dispatcher ??
    (tls === undefined
      ? defaultDispatcher()
      : (own ??= new (undici().Agent)({ connect: tlsConnector(tls) })));
  const viaProxy = async (route: ViaProxy, origin: string): Promise<Dispatcher> => {
    const requestTls = await tunnelTls(tls, origin);
    const key = `${route.url.href}\n${requestTls.key}`;
    let agent = proxies.get(key);
    if (agent === undefined) {
      agent = createProxyAgent(route, requestTls.options);
      proxies.set(key, agent);
    }
    return agent;
  };

  return {
    request: async (url, requestOptions = {}) => {
      if (requestOptions.dispatcher !== undefined) return httpRequest(url, requestOptions);
      const route = routeFor(url);
      // Short exchanges go on node:http/https (no undici to load); a bodySink streams on undici.stream().
      if (requestOptions.bodySink === undefined && options.dispatcher === undefined) {
        try {
          return await nodeRequest(url, requestOptions, route, tls);
        } catch (error) {
          const cause = error instanceof EndpointUnreachableError ? error.cause : error;
          throw proxyFailure(route, url, cause) ?? error;
        }
      }
      if (route.kind === 'direct') return httpRequest(url, { ...requestOptions, dispatcher: direct() });
      try {
        return await httpRequest(url, { ...requestOptions, dispatcher: await viaProxy(route, url.origin) });
      } catch (error) {
        const cause = error instanceof EndpointUnreachableError ? error.cause : error;
        throw proxyFailure(route, url, cause) ?? error;
      }
    },
    originPool: (origin) => {
      const route = routeFor(new URL(origin));
      if (route.kind === 'direct') return createOriginPool(origin, tls);
      return createProxiedOriginPool(route, origin, tunnelTls(tls, origin));
    },
  };
}

/** The client on defaultDispatcher() that honours the proxy variables of process.env: the default of every `http` left out. */
export const systemHttpClient: HttpClient = createHttpClient({ env: process.env });

/** No time limits of its own, like node:http's Agent (long polls, slow downloads and big uploads pass). */
const ORIGIN_POOL_OPTIONS = { pipelining: 1, headersTimeout: 0, bodyTimeout: 0 } as const;

type ViaProxy = Extract<ProxyRoute, { kind: 'proxy' }>;

/** `options` for the origin inside the tunnel; `key` names its private CAs (empty: none). */
interface TunnelTls {
  key: string;
  options?: buildConnector.BuildOptions & { ca?: string[] };
}

/**
 * The TLS options of an https:// origin reached through a proxy's CONNECT tunnel: with private CAs for it
 * (tls-options.ts), Node's roots + NODE_EXTRA_CA_CERTS + those CAs, as a direct connection trusts them;
 * without, undefined (Node's own trust).
 */
async function tunnelTls(tls: TlsTrust | undefined, origin: string): Promise<TunnelTls> {
  if (tls === undefined || new URL(origin).protocol !== 'https:') return { key: '' };
  const extra = await tls.extraCaFor(new URL(origin).origin);
  if (extra.length === 0) return { key: '' };
  return { key: extra.join('\n'), options: { ca: await tls.caListWith(extra) } };
}

/**
 * A ProxyAgent for `route`: Proxy-Authorization from the URL's credentials, CONNECT for https:// origins
 * (`requestTls` inside the tunnel), absolute-form requests for http:// origins unless `tunnel`.
 */
function createProxyAgent(
  route: ViaProxy,
  requestTls: buildConnector.BuildOptions | undefined,
  poolOptions: Pool.Options = {},
  tunnel = false,
): Dispatcher {
  const { ProxyAgent, Pool: UndiciPool } = undici();
  return new ProxyAgent({
    uri: route.url.href,
    proxyTunnel: tunnel,
    ...(requestTls === undefined ? {} : { requestTls }),
    factory: (origin: string | URL, factoryOptions: object) =>
      new UndiciPool(origin, { ...factoryOptions, ...poolOptions }),
  });
}

/**
 * The local proxy's upstream through a forward proxy, once the origin's TLS options are known. WebSocket
 * upgrades always go through a CONNECT tunnel (as curl sends ws://): forward proxies drop Upgrade from
 * absolute-form requests, so an http:// origin's upgrades take a second agent, built on the first upgrade.
 */
function createProxiedOriginPool(
  route: ViaProxy,
  origin: string,
  requestTls: Promise<TunnelTls>,
): OriginPool {
  const mapErrors = mapProxyErrors(route, origin);
  const plainHttp = new URL(origin).protocol === 'http:';
  const requests = requestTls.then(({ options }) =>
    createProxyAgent(route, options, ORIGIN_POOL_OPTIONS).compose(mapErrors),
  );
  let upgrades: Promise<Dispatcher> | undefined;
  const agents = async (): Promise<Dispatcher[]> =>
    Promise.all(upgrades === undefined ? [requests] : [requests, upgrades]);
  return {
    dispatch: (opts, handler) => {
      let agent = requests;
      if (plainHttp && opts.upgrade !== undefined && opts.upgrade !== null) {
        upgrades ??= requestTls.then(({ options }) =>
          createProxyAgent(route, options, ORIGIN_POOL_OPTIONS, true).compose(mapErrors),
        );
        agent = upgrades;
      }
      agent.then(
        (dispatcher) => dispatcher.dispatch(opts, handler),
        (error: Error) => handler.onError?.(error),
      );
      return true;
    },
    close: async () => {
      await Promise.all((await agents()).map((agent) => agent.close()));
    },
    destroy: async () => {
      await Promise.all((await agents()).map((agent) => agent.destroy()));
    },
  };
}

/** Turns a raw dispatch's failure that is the proxy's doing into a ProxyError (for the local proxy's 502). */
function mapProxyErrors(route: ProxyRoute, origin: string): Dispatcher.DispatcherComposeInterceptor {
  const target = new URL(origin);
  const map = (error: Error): Error => proxyFailure(route, target, error) ?? error;
  return (dispatch) => (opts, handler) => {
    if (proxyErrorHandler === undefined) {
      const Base = undici().DecoratorHandler as unknown as new (handler: Handler) => DecoratedErrorHandler;
      proxyErrorHandler = class extends Base {
        constructor(
          handler: Handler,
          private readonly mapError: (error: Error) => Error,
        ) {
          super(handler);
        }

        override onError(error: Error): void {
          super.onError(this.mapError(error));
        }
      };
    }
    return dispatch(opts, new proxyErrorHandler(handler, map));
  };
}

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
declare class DecoratedErrorHandler implements Handler {
  onError(error: Error): void;
}
let proxyErrorHandler: (new (handler: Handler, map: (error: Error) => Error) => Handler) | undefined;
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

/**
 * One short exchange on node:http/https (node-http-transport.ts) with the client's route and CA trust:
 * the same response shape and the same errors as httpRequest() on undici.
 */
async function nodeRequest(
  url: URL,
  options: HttpRequestOptions,
  route: ProxyRoute,
  tls: TlsTrust | undefined,
): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    let ca: string[] | undefined;
    if (tls !== undefined && url.protocol === 'https:') {
      const extra = await tls.extraCaFor(url.origin);
      if (extra.length > 0) ca = await tls.caListWith(extra);
    }
    const head = await nodeHttpExchange(url, {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      timeoutMs,
      route,
      ...(ca === undefined ? {} : { ca }),
    });
    return {
      url,
      status: head.status,
      statusText: head.statusText,
      headers: incomingHeadersFromLines(head.rawHeaders),
      body: head.body,
    };
  } catch (error) {
    throw toUnreachableError(url, error, timeoutMs);
  }
}

/** One HTTP exchange: resolves at the response head (the body still streaming), rejects with EndpointUnreachableError. */
export async function httpRequest(url: URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const line: ResponseHead = { statusText: '', headers: {} };
  const requestOptions = {
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
  };
  if (options.bodySink !== undefined) {
    return streamToSink(url, requestOptions, line, options.bodySink, timeoutMs);
  }
  try {
    const response = await undici().request(url, requestOptions);
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
 * httpRequest with a bodySink: undici.stream() asks for the sink at the head and writes the body into it.
 * Resolves at the head (like undici.request), with `finished` for the rest.
 */
function streamToSink(
  url: URL,
  requestOptions: Parameters<typeof import('undici').stream>[1],
  line: ResponseHead,
  bodySink: (head: HttpResponseHead) => Writable,
  timeoutMs: number,
): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let atHead = false;
    const done: Promise<unknown> = undici().stream(url, requestOptions, ({ statusCode }) => {
      atHead = true;
      const head = { url, status: statusCode, statusText: line.statusText, headers: line.headers };
      let sink: Writable;
      try {
        sink = bodySink(head);
      } catch (error) {
        reject(error as Error);
        throw error;
      }
      const finished = done.then(() => undefined);
      // A caller that stops early (a sign-in page, a failed jar write) may never await it: no unhandled rejection.
      finished.catch(() => undefined);
      resolve({ ...head, body: Readable.from([]), finished });
      return sink;
    });
    done.catch((error: unknown) => {
      if (!atHead) reject(toUnreachableError(url, error, timeoutMs));
    });
  });
}

/**
 * Reads a response body into memory, up to `limitBytes` (the rest is read and discarded). With the stream's
 * events rather than `for await`: the async iterator (and the end-of-stream helper it sets up) is cold code
 * that took ~1.5 ms of a short command's start for a 1 KB body. It settles as `for await` would: with the
 * stream's error, or ERR_STREAM_PREMATURE_CLOSE when it closes without ending.
 */
export function readResponseBody(
  response: Pick<HttpResponse, 'body'>,
  limitBytes = 1024 * 1024,
): Promise<Buffer> {
  const body = response.body;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      if (size < limitBytes) {
        const part = chunk.subarray(0, limitBytes - size);
        chunks.push(part);
        size += part.length;
      }
    };
    const settle = (error?: Error): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      if (error === undefined) resolve(Buffer.concat(chunks));
      else reject(error);
    };
    const onEnd = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(body.errored ?? prematureClose());
    if (body.readableEnded) return settle();
    if (body.destroyed) return settle(body.errored ?? prematureClose());
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}

/** What node:stream reports for a stream that closed before its end. */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

export async function readResponseText(response: HttpResponse, limitBytes?: number): Promise<string> {
  return (await readResponseBody(response, limitBytes)).toString('utf8');
}
