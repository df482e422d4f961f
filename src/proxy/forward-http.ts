import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendAnswer, sessionExpiredAnswer, upstreamFailureAnswer } from './proxy-answers';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import { requestUpstream, saveSetCookies, upstreamTarget, type ProxyRuntime } from './proxy-runtime';
import { checkLocalRequest } from './request-guard';
import { checkUpstreamSession } from './session-check';

/**
 * One HTTP request through the proxy: check who asks, add the credential, stream the body up and the
 * answer down (back-pressure both ways, nothing buffered but the first 4 KiB of a suspicious answer).
 */
export async function forwardHttpRequest(
  runtime: ProxyRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const refusal = checkLocalRequest(req.headers, req.url, runtime.policy());
  if (refusal !== undefined) {
    runtime.logger.debug(`refused ${req.method ?? 'GET'} request: ${refusal.error}`);
    res.setHeader('connection', 'close');
    sendAnswer(res, refusal);
    req.resume();
    return;
  }
  const target = upstreamTarget(runtime, req.url ?? '/', req.headers.host ?? '');
  const method = req.method ?? 'GET';
  const credential = await runtime.credential.headersFor(target.url);
  const headers = upstreamRequestHeaders(req.headers, {
    endpoint: runtime.endpointUrl,
    localOrigins: target.localOrigins,
    credential,
  });
  // Path only: queries may carry secrets (and redacting them on every request costs throughput).
  runtime.logger.debug(`> ${method} ${target.url.pathname}`);

  const upstream = requestUpstream(runtime, target, { method, headers });
  let done = false;
  res.on('close', () => {
    if (!done || !res.writableFinished) upstream.destroy();
  });
  req.on('error', () => upstream.destroy());
  upstream.on('error', (error) => {
    if (done) return;
    done = true;
    req.unpipe(upstream);
    req.resume();
    const answer = upstreamFailureAnswer(target.url, error);
    runtime.logger.warn(`${method} ${target.url.pathname}: ${answer.message}`);
    sendAnswer(res, answer);
  });
  upstream.on('response', (response) => {
    void (async () => {
      runtime.logger.debug(`< ${response.statusCode ?? 0} ${target.url.pathname}`);
      await saveSetCookies(runtime, target.url, response.headers['set-cookie']);
      const checked = await checkUpstreamSession(response, {
        endpoint: runtime.endpoint,
        requestUrl: target.url,
        accept: req.headers.accept,
      });
      if (done) {
        checked.body.destroy();
        return;
      }
      done = true;
      if (checked.signal !== undefined) {
        checked.body.resume();
        runtime.logger.warn(`session expired (${checked.signal.detail}): answered 401`);
        sendAnswer(res, sessionExpiredAnswer(runtime.endpoint));
        return;
      }
      res.writeHead(
        response.statusCode ?? 502,
        response.statusMessage,
        downstreamResponseHeaders(response.headers, {
          requestUrl: target.url,
          endpoint: runtime.endpointUrl,
          localOrigin: target.localOrigin,
        }),
      );
      // pipe() rather than pipeline(): the same back-pressure, without an AbortController per response.
      checked.body.on('error', () => res.destroy());
      checked.body.pipe(res);
    })().catch((error: unknown) => {
      response.destroy();
      if (!done) {
        done = true;
        sendAnswer(res, upstreamFailureAnswer(target.url, error));
      } else res.destroy();
    });
  });
  if (hasBody(req)) req.pipe(upstream);
  else upstream.end();
}

/** RFC 9112 §6.3: a request has a body only with Content-Length > 0 or Transfer-Encoding. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
