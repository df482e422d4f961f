import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { isWorthInspecting } from '../protocol/auth-proxy-signals';
import { sendAnswer, sessionExpiredAnswer, upstreamFailureAnswer } from './proxy-answers';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import { saveSetCookies, upstreamTarget, type ProxyRuntime, type UpstreamTarget } from './proxy-runtime';
import { checkLocalRequest } from './request-guard';
import { checkUpstreamSession } from '../http/session-check';
import { toIncomingHeaders } from '../http/incoming-headers';
import type { DispatchHandler, HttpMethod } from './upstream-pool';

/**
 * One HTTP request through the proxy: check who asks, add the credential, stream the body up and the
 * answer down (back-pressure both ways, nothing buffered but the first 4 KiB of a suspicious answer).
 *
 * The upstream call is an undici dispatch. An ordinary answer (no Set-Cookie, not a redirect, 401/403 or
 * a 2xx HTML page) is written straight to the client chunk by chunk, pausing the upstream while the client
 * is slow; the others go through a Readable so the jar can be updated and the head inspected first.
 */
export async function forwardHttpRequest(
  runtime: ProxyRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const refusal = checkLocalRequest(req.headers, req.url, runtime.policy());
  if (refusal !== undefined) {
    runtime.logger.debug(`refused ${req.method ?? 'GET'} request: ${refusal.code}`);
    res.setHeader('connection', 'close');
    sendAnswer(res, refusal);
    req.resume();
    return;
  }
  const target = upstreamTarget(runtime, req.url ?? '/', req.headers.host ?? '');
  const method = req.method ?? 'GET';
  // The cached header without an await (the usual case); the jar is read only when it changed.
  const credential =
    runtime.credential.cachedHeadersFor(target.url) ?? (await runtime.credential.headersFor(target.url));
  const headers = upstreamRequestHeaders(req.headers, {
    endpoint: runtime.endpointUrl,
    localOrigins: target.localOrigins,
    credential,
  });
  // Path only: queries may carry secrets (and redacting them on every request costs throughput).
  runtime.logger.debug(`> ${method} ${target.url.pathname}`);

  const exchange = new ProxyExchange(runtime, req, res, target, method);
  res.on('close', () => exchange.clientClosed());
  req.on('error', () => exchange.cancel(new Error('the client request failed')));
  let body: Transform | undefined;
  if (hasBody(req)) {
    // Through a stream of its own: when the upstream fails, undici destroys the body it was given, and the
    // client's socket must survive that to receive the 502. It counts the bytes for the sweep, as onData does.
    body = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        runtime.countBodyBytes(chunk.length);
        callback(null, chunk);
      },
    });
    req.pipe(body);
    exchange.onFailure = () => {
      req.unpipe(body as Transform);
      req.resume();
    };
  }
  runtime.upstream.dispatch(
    {
      origin: runtime.endpointUrl.origin,
      method: method as HttpMethod,
      path: target.path,
      headers,
      ...(body === undefined ? {} : { body }),
    },
    exchange,
  );
}

class ProxyExchange implements DispatchHandler {
  onFailure: (() => void) | undefined;
  /** The response is being (or has been) written to the client: errors now cut the connection. */
  private answered = false;
  /** Chunks go straight to res (the ordinary case) rather than through `body`. */
  private direct = false;
  private complete = false;
  private body: Readable | undefined;
  private abort: ((error?: Error) => void) | undefined;
  private cancelled: Error | undefined;

  constructor(
    private readonly runtime: ProxyRuntime,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly target: UpstreamTarget,
    private readonly method: string,
  ) {}

  clientClosed(): void {
    if (!this.res.writableFinished) this.cancel(new Error('the client went away'));
  }

  cancel(error: Error): void {
    this.cancelled ??= error;
    this.abort?.(error);
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
    if (this.cancelled !== undefined) abort(this.cancelled);
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    const headers = toIncomingHeaders(rawHeaders);
    const { runtime, res, target } = this;
    runtime.logger.debug(`< ${status} ${target.url.pathname}`);
    if (headers['set-cookie'] === undefined && !isWorthInspecting(status, headers)) {
      this.answered = true;
      this.direct = true;
      res.writeHead(status, statusText, this.clientHeaders(headers));
      res.on('drain', resume);
      return true;
    }
    this.body = new Readable({
      read: () => resume(),
      destroy: (error, callback) => {
        // Discarded before the end (session expired, client gone): stop the upstream too.
        if (!this.complete) this.cancel(error ?? new Error('the response body was discarded'));
        callback(error);
      },
    });
    this.answerChecked(status, statusText, headers, this.body).catch((error: unknown) => {
      this.body?.destroy();
      if (!this.answered) {
        this.answered = true;
        sendAnswer(res, upstreamFailureAnswer(target.url, error));
      } else res.destroy();
    });
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.runtime.countBodyBytes(chunk.length);
    if (this.direct) return this.res.write(chunk);
    return this.body?.push(chunk) ?? false;
  }

  onComplete(): void {
    this.complete = true;
    if (this.direct) this.res.end();
    else this.body?.push(null);
  }

  onError(error: Error): void {
    this.onFailure?.();
    if (this.body !== undefined) {
      // Before answerChecked has written, it sees the stream fail and answers 502 itself.
      this.body.destroy(error);
      if (this.answered) this.res.destroy();
      return;
    }
    if (this.answered || this.cancelled !== undefined) {
      this.res.destroy();
      return;
    }
    this.answered = true;
    const answer = upstreamFailureAnswer(this.target.url, error);
    this.runtime.logger.warn(`${this.method} ${this.target.url.pathname}: ${answer.message}`);
    sendAnswer(this.res, answer);
  }

  /** Set-Cookie into the jar, then the session check, then the answer (or 401 session_expired). */
  private async answerChecked(
    status: number,
    statusText: string,
    headers: IncomingHttpHeaders,
    body: Readable,
  ): Promise<void> {
    const { runtime, res, target } = this;
    await saveSetCookies(runtime, target.url, headers['set-cookie']);
    const checked = await checkUpstreamSession(
      { status, headers, body },
      { endpoint: runtime.endpoint, requestUrl: target.url },
    );
    if (this.answered || this.cancelled !== undefined) {
      checked.body.destroy();
      return;
    }
    this.answered = true;
    if (checked.signal !== undefined) {
      checked.body.resume();
      runtime.logger.warn(`session expired (${checked.signal.detail}): answered 401`);
      sendAnswer(res, sessionExpiredAnswer(runtime.endpoint));
      return;
    }
    res.writeHead(status, statusText, this.clientHeaders(headers));
    // pipe() rather than pipeline(): the same back-pressure, without an AbortController per response.
    checked.body.on('error', () => res.destroy());
    checked.body.pipe(res);
  }

  private clientHeaders(headers: IncomingHttpHeaders): ReturnType<typeof downstreamResponseHeaders> {
    return downstreamResponseHeaders(headers, {
      requestUrl: this.target.url,
      endpoint: this.runtime.endpointUrl,
      localOrigin: this.target.localOrigin,
    });
  }
}

/** RFC 9112 §6.3: a request has a body only with Content-Length > 0 or Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
