import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { redactUrl } from '../core/redact';
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
  runtime.logger.debug(`> ${method} ${redactUrl(target.url)}`);

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
    runtime.logger.warn(`${method} ${redactUrl(target.url)}: ${answer.message}`);
    sendAnswer(res, answer);
  });
  upstream.on('response', (response) => {
    void (async () => {
      runtime.logger.debug(`< ${response.statusCode ?? 0} ${redactUrl(target.url)}`);
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
      pipeline(checked.body, res, () => undefined);
    })().catch((error: unknown) => {
      response.destroy();
      if (!done) {
        done = true;
        sendAnswer(res, upstreamFailureAnswer(target.url, error));
      } else res.destroy();
    });
  });
  req.pipe(upstream);
}
