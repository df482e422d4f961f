import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { resolveCredential, type CredentialSource } from '../store/resolve-credential';
import type { CredentialStore } from '../store/credential-types';
import { parseEndpoint } from '../protocol/endpoint';
import {
  bodyBytesCounter,
  silentLogger,
  systemClock,
  type AppContext,
  type YoungGenerationSweep,
} from '../context';
import { createHttpClient, type HttpClient } from '../http/http-request';
import { closeGracefully, listenServer } from '../http/server-lifecycle';
import { createCachedCredential } from './cached-credential';
import { forwardHttpRequest } from './forward-http';
import { forwardUpgrade } from './forward-upgrade';
import { sendAnswer, upstreamFailureAnswer } from './proxy-answers';
import type { ProxyRuntime } from './proxy-runtime';
import { createUpstreamPool } from './upstream-pool';

/**
 * `cookie-bridge proxy` as a library: a loopback HTTP server that forwards every request (and WebSocket
 * upgrade) to one endpoint with that endpoint's stored credential, so tools that cannot carry cookies
 * reach the API through http://127.0.0.1:<port> unchanged. See docs/proxy.md.
 *
 * Built on node:http rather than http-proxy-middleware: every response has to be looked at before any of
 * it goes downstream (Set-Cookie into the jar and never passed on, the expired-session check on the first
 * 4 KiB, Location rewriting), which in http-proxy-middleware means `selfHandleResponse` and copying the
 * response by hand anyway; the credential lookup is asynchronous (the jar is re-read when it changes),
 * which its synchronous `proxyReq` hooks cannot await; and leaving out http-proxy, micromatch and debug
 * keeps the hot path and the start-up short.
 */

/**
 * The part of the one dependency object (AppContext) the proxy uses, and its settings. `env` is read for
 * COOKIE_BRIDGE_TOKEN (which overrides what is stored) and, when no `http` is given, for the forward-proxy
 * variables of the client built for the upstream pool (HTTPS_PROXY, NO_PROXY…).
 */
export interface LocalForwardingProxyOptions
  extends Pick<AppContext<CredentialStore, HttpClient>, 'env' | 'store'>,
    Partial<Pick<AppContext<CredentialStore, HttpClient>, 'logger' | 'now' | 'timers' | 'http'>> {
  /** The endpoint (normalised with parseEndpoint); its stored credential is added to every request. */
  endpoint: string;
  /** When set, every request must carry it in X-Cookie-Bridge-Secret. */
  secret?: string;
  /** How long close() lets in-flight responses finish before cutting them; default 5000 ms. */
  shutdownGraceMs?: number;
  /**
   * A young-generation collection every `everyBytes` of body, down and up (see YoungGenerationSweep): keeps
   * the peak RSS of large transfers down. None by default: the proxy never collects on its host's process
   * by itself; the CLI's `proxy` and `exec` pass one for their own process.
   */
  youngGenerationSweep?: YoungGenerationSweep;
}

export interface LocalForwardingProxy {
  /** The server, not listening yet: call listen(), or listen on 127.0.0.1 yourself. */
  server: http.Server;
  endpoint: string;
  credentialSource: CredentialSource;
  /** Who the stored login says we are, when known. */
  identity: string | undefined;
  /**
   * Listens on 127.0.0.1 (port 0: a free one); PortInUseError when the port is taken. `shared`: in a
   * node:cluster worker, share the port with the other workers (`proxy --workers N`).
   */
  listen(port?: number, options?: { shared?: boolean }): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish within the grace period, then cuts what is left. */
  close(): Promise<void>;
}

export const PROXY_HOST = '127.0.0.1';
const DEFAULT_SHUTDOWN_GRACE_MS = 5000;

/** Resolves the endpoint's credential (NotLoggedInError when there is none) and builds the proxy. */
export async function createLocalForwardingProxy(
  options: LocalForwardingProxyOptions,
): Promise<LocalForwardingProxy> {
  const endpoint = parseEndpoint(options.endpoint).url;
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? systemClock;
  const resolved = await resolveCredential(endpoint, options.store, options.env);
  const jarVersion = options.store.jarVersion?.(endpoint);
  const jarVersionSync = options.store.jarVersionSync?.(endpoint);
  const endpointUrl = new URL(endpoint);
  let port = 0;

  const runtime: ProxyRuntime = {
    endpoint,
    endpointUrl,
    store: options.store,
    logger,
    credential: createCachedCredential(resolved, {
      now,
      ...(jarVersion === undefined ? {} : { jarVersion }),
      ...(jarVersionSync === undefined ? {} : { jarVersionSync }),
    }),
    credentialSource: resolved.source,
    policy: () => (options.secret === undefined ? { port } : { port, secret: options.secret }),
    upstream: createUpstreamPool(endpointUrl, options.http ?? createHttpClient({ env: options.env })),
    countBodyBytes: bodyBytesCounter(options.youngGenerationSweep),
  };

  let closing = false;
  const upgraded = new Set<Duplex>();
  const track = (socket: Duplex): void => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
  };

  const server = http.createServer((req, res) => {
    if (closing) res.setHeader('connection', 'close');
    res.once('finish', () => {
      if (closing) server.closeIdleConnections();
    });
    forwardHttpRequest(runtime, req, res).catch((error: unknown) => {
      sendAnswer(res, upstreamFailureAnswer(endpointUrl, error));
    });
  });
  // Long uploads and downloads are streamed: no whole-request time limit (headers still must come in 60 s).
  server.requestTimeout = 0;
  server.on('listening', () => {
    const address = server.address();
    if (address !== null && typeof address === 'object') port = (address as AddressInfo).port;
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing) {
      socket.destroy();
      return;
    }
    forwardUpgrade(runtime, req, socket, head, track).catch(() => socket.destroy());
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const listen = async (
    requested = 0,
    listenOptions: { shared?: boolean } = {},
  ): Promise<{ url: string; port: number }> => {
    port = await listenServer(server, {
      port: requested,
      host: PROXY_HOST,
      ...(listenOptions.shared === true ? { shared: true } : {}),
    });
    return { url: `http://${PROXY_HOST}:${port}`, port };
  };

  const close = async (): Promise<void> => {
    closing = true;
    const graceMs = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    await closeGracefully(server, {
      graceMs,
      upgraded,
      ...(options.timers === undefined ? {} : { timers: options.timers }),
    }).closed;
    void runtime.upstream.destroy();
  };

  return {
    server,
    endpoint,
    credentialSource: resolved.source,
    identity: resolved.profile?.identity,
    listen,
    close,
  };
}
