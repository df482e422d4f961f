import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { redactUrl } from '../protocol/redact';
import { sendAnswerOnSocket, sessionExpiredAnswer, upstreamFailureAnswer } from './proxy-answers';
import { downstreamResponseHeaders, upstreamRequestHeaders } from './proxy-headers';
import { requestUpstream, saveSetCookies, upstreamTarget, type ProxyRuntime } from './proxy-runtime';
import { checkLocalRequest } from './request-guard';
import { checkUpstreamSession } from '../http/session-check';

/**
 * A WebSocket (or other Upgrade) request through the proxy: the same checks and credential as HTTP;
 * after the upstream's 101 the two sockets are piped together. `track` registers both sockets so a
 * shutdown can cut them.
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
  const headers = upstreamRequestHeaders(req.headers, {
    endpoint: runtime.endpointUrl,
    localOrigins: target.localOrigins,
    credential,
  });
  headers.connection = 'Upgrade';
  headers.upgrade = req.headers.upgrade ?? 'websocket';
  runtime.logger.debug(`> ${req.method ?? 'GET'} ${redactUrl(target.url)} (upgrade)`);

  const upstream = requestUpstream(runtime, target, { method: req.method ?? 'GET', headers });
  socket.on('close', () => upstream.destroy());
  upstream.on('error', (error) => sendAnswerOnSocket(socket, upstreamFailureAnswer(target.url, error)));

  upstream.on('upgrade', (response, upstreamSocket, upstreamHead) => {
    track(upstreamSocket);
    track(socket);
    upstreamSocket.on('error', () => socket.destroy());
    socket.on('error', () => upstreamSocket.destroy());
    upstreamSocket.on('close', () => socket.destroy());
    socket.on('close', () => upstreamSocket.destroy());
    void saveSetCookies(runtime, target.url, response.headers['set-cookie']).then(() => {
      if (socket.destroyed || upstreamSocket.destroyed) return;
      const out = downstreamResponseHeaders(response.headers, {
        requestUrl: target.url,
        endpoint: runtime.endpointUrl,
        localOrigin: target.localOrigin,
      });
      out.connection = 'Upgrade';
      out.upgrade = response.headers.upgrade ?? headers.upgrade;
      socket.write(statusAndHeaders(101, response.statusMessage ?? 'Switching Protocols', out));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
    });
  });

  // The upstream did not switch protocols: pass its answer on (or say the session expired) and close.
  upstream.on('response', (response) => {
    void (async () => {
      await saveSetCookies(runtime, target.url, response.headers['set-cookie']);
      const checked = await checkUpstreamSession(
        { status: response.statusCode ?? 0, headers: response.headers, body: response },
        {
          endpoint: runtime.endpoint,
          requestUrl: target.url,
          accept: req.headers.accept,
        },
      );
      if (checked.signal !== undefined) {
        checked.body.resume();
        runtime.logger.warn(`session expired (${checked.signal.detail}): answered 401`);
        sendAnswerOnSocket(socket, sessionExpiredAnswer(runtime.endpoint));
        return;
      }
      const out = downstreamResponseHeaders(response.headers, {
        requestUrl: target.url,
        endpoint: runtime.endpointUrl,
        localOrigin: target.localOrigin,
      });
      out.connection = 'close';
      socket.write(statusAndHeaders(response.statusCode ?? 502, response.statusMessage ?? '', out));
      checked.body.pipe(socket);
    })().catch(() => socket.destroy());
  });
  upstream.end();
}

function statusAndHeaders(status: number, message: string, headers: OutgoingHttpHeaders): string {
  const lines = [`HTTP/1.1 ${status} ${message}`];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${String(item)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
