import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { ProxyRoute } from './proxy-settings';

/**
 * The one-shot transport of the one client (http-request.ts): a short exchange (the `api info` server check,
 * login detection and verification, relay register/claim, SDK requests without `bodySink`) on node:http and
 * node:https, so a command that makes one request does not load undici (its JS and WebAssembly parser). It
 * takes the route from proxy-settings.ts and the CA list from tls-options.ts exactly as undici's dispatchers
 * do: direct; an http:// origin through a proxy as an absolute-form request with Proxy-Authorization; an
 * https:// origin through a proxy as a CONNECT tunnel, then TLS to the origin inside it (its servername).
 * Failures are raw errors with the codes and messages undici gives, so upstream-errors.ts and
 * proxyFailure() map them through the same tables. node:http, node:https and node:tls load on the first request.
 */

export interface NodeExchange {
  method: string;
  headers: Record<string, string | string[]>;
  body?: Buffer | string | Readable;
  /** Until the response head; 0: no limit. */
  timeoutMs: number;
  signal?: AbortSignal;
  route: ProxyRoute;
  /** For an https:// origin with private CAs: the whole CA list (tls-options.ts caListWith). */
  ca?: string[];
}

export interface NodeResponseHead {
  status: number;
  statusText: string;
  /** Raw header lines as node:http reads them (latin1), name/value pairs. */
  rawHeaders: string[];
  body: IncomingMessage;
}

/* eslint-disable @typescript-eslint/no-require-imports */
const loadHttp = (): typeof import('node:http') => require('node:http') as typeof import('node:http');
const loadHttps = (): typeof import('node:https') => require('node:https') as typeof import('node:https');
const loadTls = (): typeof import('node:tls') => require('node:tls') as typeof import('node:tls');
const loadNet = (): typeof import('node:net') => require('node:net') as typeof import('node:net');
/* eslint-enable @typescript-eslint/no-require-imports */

/** An error carrying a code, as undici and Node give them (the tables in upstream-errors.ts read `code`). */
function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

function basicProxyAuthorization(proxy: URL): string | undefined {
  if (proxy.username === '' && proxy.password === '') return undefined;
  const pair = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

function defaultPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** The host name as TLS and sockets want it: IPv6 without brackets. */
function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Opens a CONNECT tunnel to `target` through `proxy`; rejects like undici (`Proxy response (NNN) …`). */
function openTunnel(proxy: URL, target: URL, signal: AbortSignal | undefined): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const authority = `${target.hostname}:${defaultPort(target)}`;
    const headers: Record<string, string> = { host: authority };
    const authorization = basicProxyAuthorization(proxy);
    if (authorization !== undefined) headers['proxy-authorization'] = authorization;
    const request = loadHttp().request({
      host: bareHost(proxy),
      port: defaultPort(proxy),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      ...(signal === undefined ? {} : { signal }),
    });
    request.once('connect', (response: IncomingMessage, socket: Socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        reject(
          codedError(
            `Proxy response (${String(response.statusCode)}) !== 200 when HTTP Tunneling`,
            'UND_ERR_ABORTED',
          ),
        );
        return;
      }
      resolve(socket);
    });
    request.once('error', reject);
    request.end();
  });
}

/** One exchange on node:http/https: resolves at the response head, rejects with the raw error. */
export function nodeHttpExchange(url: URL, exchange: NodeExchange): Promise<NodeResponseHead> {
  return new Promise<NodeResponseHead>((resolve, reject) => {
    let settled = false;
    let request: ClientRequest | undefined;
    let timer: NodeJS.Timeout | undefined;
    /** Removes this exchange's abort listeners from the signal (a poll loop passes one signal to many). */
    let forgetSignal = (): void => undefined;
    const fail = (error: unknown): void => {
      if (timer !== undefined) clearTimeout(timer);
      forgetSignal();
      if (settled) return;
      settled = true;
      request?.destroy();
      reject(error as Error);
    };
    if (exchange.timeoutMs > 0) {
      timer = setTimeout(() => {
        fail(codedError('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT'));
      }, exchange.timeoutMs);
    }
    if (exchange.signal?.aborted === true) {
      fail(abortReason(exchange.signal));
      return;
    }
    const onAbort = (): void => {
      fail(abortReason(exchange.signal));
    };
    exchange.signal?.addEventListener('abort', onAbort, { once: true });
    forgetSignal = () => exchange.signal?.removeEventListener('abort', onAbort);

    const start = (socket: Socket | undefined): void => {
      if (settled) {
        socket?.destroy();
        return;
      }
      request = sendRequest(url, exchange, socket);
      request.once('response', (response: IncomingMessage) => {
        if (timer !== undefined) clearTimeout(timer);
        if (settled) {
          response.destroy();
          return;
        }
        if (exchange.route.kind === 'proxy' && url.protocol === 'http:' && response.statusCode === 407) {
          response.destroy();
          fail(codedError('Proxy Authentication Required (407)', 'UND_ERR_INVALID_ARG'));
          return;
        }
        settled = true;
        // After the head, an abort still ends the body (as with undici); both listeners go with it.
        if (exchange.signal !== undefined) {
          const signal = exchange.signal;
          const onBodyAbort = (): void => {
            response.destroy(abortReason(signal));
          };
          signal.addEventListener('abort', onBodyAbort, { once: true });
          forgetSignal = () => {
            signal.removeEventListener('abort', onAbort);
            signal.removeEventListener('abort', onBodyAbort);
          };
        }
        response.once('close', forgetSignal);
        resolve({
          status: response.statusCode ?? 0,
          statusText: response.statusMessage ?? '',
          rawHeaders: response.rawHeaders,
          body: response,
        });
      });
      request.once('error', fail);
      writeBody(request, exchange.body, fail);
    };

    const { route } = exchange;
    if (route.kind === 'proxy' && url.protocol === 'https:') {
      openTunnel(route.url, url, exchange.signal).then(start, fail);
    } else {
      start(undefined);
    }
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function sendRequest(url: URL, exchange: NodeExchange, tunnel: Socket | undefined): ClientRequest {
  const { route } = exchange;
  const headers: Record<string, string | string[]> = { ...exchange.headers };
  const hasHost = Object.keys(headers).some((name) => name.toLowerCase() === 'host');
  if (!hasHost) headers.host = url.host;
  const path = `${url.pathname}${url.search}`;
  if (route.kind === 'proxy' && url.protocol === 'http:') {
    // Absolute-form, to the proxy, with its credentials (as undici's ProxyAgent without a tunnel).
    const authorization = basicProxyAuthorization(route.url);
    if (authorization !== undefined) headers['proxy-authorization'] = authorization;
    const options: RequestOptions = {
      host: bareHost(route.url),
      port: defaultPort(route.url),
      method: exchange.method,
      path: `${url.origin}${path}`,
      headers,
      setHost: false,
      // A connection per exchange: proxies (tinyproxy) close idle ones, which a reused socket meets as a reset.
      agent: false,
    };
    return loadHttp().request(options);
  }
  const options: RequestOptions & { ca?: string[]; servername?: string } = {
    host: bareHost(url),
    port: defaultPort(url),
    method: exchange.method,
    path,
    headers,
    setHost: false,
    ...(exchange.ca === undefined ? {} : { ca: exchange.ca }),
  };
  if (url.protocol !== 'https:') return loadHttp().request(options);
  if (tunnel === undefined) return loadHttps().request(options);
  const host = bareHost(url);
  const servername = loadNet().isIP(host) === 0 ? host : undefined;
  return loadHttps().request({
    ...options,
    createConnection: () =>
      loadTls().connect({
        socket: tunnel,
        host,
        ...(servername === undefined ? {} : { servername }),
        ...(exchange.ca === undefined ? {} : { ca: exchange.ca }),
        ALPNProtocols: ['http/1.1'],
      }),
  });
}

function writeBody(request: ClientRequest, body: NodeExchange['body'], fail: (error: unknown) => void): void {
  if (body === undefined) {
    request.end();
    return;
  }
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    // node:http frames a body itself only for methods that usually have one: a DELETE (or OPTIONS) body would
    // go out unframed, and the server would read it as the next request. Say its length for every method.
    if (!request.hasHeader('content-length') && !request.hasHeader('transfer-encoding')) {
      request.setHeader('content-length', Buffer.byteLength(body));
    }
    request.end(body);
    return;
  }
  body.once('error', (error) => {
    request.destroy(error);
    fail(error);
  });
  body.pipe(request);
}
