import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import { toIncomingHeaders } from '../http/incoming-headers';
import { debugShown } from '../context';
import { redactUrl } from '../protocol/redact';
import { sendAnswerOnSocket, sessionExpiredAnswer, upstreamFailureAnswer } from './proxy-answers';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import { saveSetCookies, upstreamTarget, type ProxyRuntime, type UpstreamTarget } from './proxy-runtime';
import { checkLocalRequest } from './request-guard';
import { checkUpstreamSession } from '../http/session-check';
import type { DispatchHandler, HttpMethod } from './upstream-pool';

/**
 * A WebSocket (or other Upgrade) request through the proxy: the same checks and credential as HTTP, sent
 * on the same undici pool as HTTP requests (dispatch with `upgrade`); after the upstream's 101 the two
 * sockets are piped together. `track` registers both sockets so a shutdown can cut them.
 */
export async function forwardUpgrade(
  runtime: ProxyRuntime,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  track: (socket: Duplex) => void,
): Promise<void> {
  socket.on('error', () => socket.destroy());
  const refusal = checkLocalRequest(req.headers, req.url, runtime.policy());
  if (refusal !== undefined) {
    runtime.logger.debug(`refused upgrade request: ${refusal.code}`);
    sendAnswerOnSocket(socket, refusal);
    return;
  }
  const target = upstreamTarget(runtime, req.url ?? '/', req.headers.host ?? '');
  const credential = await runtime.credential.headersFor(target.url);
  // Connection and Upgrade are hop-by-hop (dropped here): undici writes them itself from `upgrade`.
  const headers = upstreamRequestHeaders(req.headers, {
    endpoint: runtime.endpointUrl,
    localOrigins: target.localOrigins,
    credential,
  });
  const protocol = req.headers.upgrade ?? 'websocket';
  if (debugShown(runtime.logger))
    runtime.logger.debug(`> ${req.method ?? 'GET'} ${redactUrl(target.url)} (upgrade)`);

  const exchange = new UpgradeExchange(runtime, req, socket, head, target, protocol, track);
  socket.on('close', () => exchange.clientClosed());
  runtime.upstream.dispatch(
    {
      origin: runtime.endpointUrl.origin,
      method: (req.method ?? 'GET') as HttpMethod,
      path: target.path,
      headers,
      upgrade: protocol,
    },
    exchange,
  );
}

class UpgradeExchange implements DispatchHandler {
  private abort: ((error?: Error) => void) | undefined;
  /** The upstream's answer when it did not switch protocols. */
  private body: Readable | undefined;
  private finished = false;

  constructor(
    private readonly runtime: ProxyRuntime,
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly target: UpstreamTarget,
    private readonly protocol: string,
    private readonly track: (socket: Duplex) => void,
  ) {}

  clientClosed(): void {
    if (!this.finished) this.abort?.(new Error('the client went away'));
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    if (this.socket.destroyed) abort(new Error('the client went away'));
  }

  onUpgrade(_status: number, rawHeaders: Buffer[] | string[] | null, upstreamSocket: Duplex): void {
    this.finished = true;
    const { runtime, socket, target } = this;
    const headers = toIncomingHeaders((rawHeaders ?? []) as Buffer[]);
    this.track(upstreamSocket);
    this.track(socket);
    upstreamSocket.on('error', () => socket.destroy());
    socket.on('error', () => upstreamSocket.destroy());
    upstreamSocket.on('close', () => socket.destroy());
    socket.on('close', () => upstreamSocket.destroy());
    void saveSetCookies(runtime, target.url, headers['set-cookie']).then(() => {
      if (socket.destroyed || upstreamSocket.destroyed) return;
      const out = this.clientHeaders(headers);
      out.connection = 'Upgrade';
      out.upgrade = headers.upgrade ?? this.protocol;
      socket.write(statusAndHeaders(101, 'Switching Protocols', out));
      if (this.head.length > 0) upstreamSocket.write(this.head);
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
      // The tunnel's bytes count for the young-generation sweep like bodies do (a WebSocket carrying a large
      // transfer reads as many socket buffers as a download).
      const count = (chunk: Buffer): void => runtime.countBodyBytes(chunk.length);
      upstreamSocket.on('data', count);
      socket.on('data', count);
    });
  }

  /** The upstream did not switch protocols: pass its answer on (or say the session expired) and close. */
  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    const headers = toIncomingHeaders(rawHeaders);
    const body = new Readable({
      read: () => resume(),
      destroy: (error, callback) => {
        if (!this.finished) this.abort?.(error ?? new Error('the response body was discarded'));
        callback(error);
      },
    });
    this.body = body;
    this.answer(status, statusText, headers, body).catch(() => this.socket.destroy());
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.body?.push(chunk) ?? false;
  }

  onComplete(): void {
    this.finished = true;
    this.body?.push(null);
  }

  onError(error: Error): void {
    this.finished = true;
    if (this.body !== undefined) {
      this.body.destroy(error);
      this.socket.destroy();
      return;
    }
    sendAnswerOnSocket(this.socket, upstreamFailureAnswer(this.target.url, error));
  }

  private async answer(
    status: number,
    statusText: string,
    headers: IncomingHttpHeaders,
    body: Readable,
  ): Promise<void> {
    const { runtime, socket, target } = this;
    await saveSetCookies(runtime, target.url, headers['set-cookie']);
    const checked = await checkUpstreamSession(
      { status, headers, body },
      { endpoint: runtime.endpoint, requestUrl: target.url },
    );
    if (checked.signal !== undefined) {
      checked.body.resume();
      runtime.logger.warn(`session expired (${checked.signal.detail}): answered 401`);
      sendAnswerOnSocket(socket, sessionExpiredAnswer(runtime.endpoint));
      return;
    }
    const out = this.clientHeaders(headers);
    out.connection = 'close';
    socket.write(statusAndHeaders(status, statusText, out));
    checked.body.pipe(socket);
  }

  private clientHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
    return downstreamResponseHeaders(headers, {
      requestUrl: this.target.url,
      endpoint: this.runtime.endpointUrl,
      localOrigin: this.target.localOrigin,
    });
  }
}

function statusAndHeaders(status: number, message: string, headers: OutgoingHttpHeaders): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(item)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
