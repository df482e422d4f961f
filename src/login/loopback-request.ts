import type * as http from 'node:http';
import { singleHeader } from '../http/single-header';
import { Refusal } from '../http/refusal';

/** Reads the request body up to `maxBytes` within `timeoutMs`; a Refusal (413, 408) otherwise. */
export function readRequestBody(
  req: http.IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<Buffer> {
  const declared = Number(singleHeader(req, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(
      new Refusal(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes.`, true),
    );
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const fail = (refusal: Refusal): void => {
      stop();
      req.pause();
      reject(refusal);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes)
        fail(new Refusal(413, 'payload_too_large', `the body is larger than ${maxBytes} bytes.`, true));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onGone = (): void =>
      fail(new Refusal(400, 'bad_request', 'the client went away before the body arrived.', true));
    const timer = setTimeout(
      () =>
        fail(new Refusal(408, 'request_timeout', `the body did not arrive within ${timeoutMs} ms.`, true)),
      timeoutMs,
    );
    timer.unref();
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onGone);
  });
}

export function parseJsonBody(body: Buffer): { bundleText: string | undefined; state: string | undefined } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Refusal(400, 'bad_request', 'the body is not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Refusal(400, 'bad_request', 'the body is not a JSON object.');
  }
  const { bundle, state } = value as Record<string, unknown>;
  return {
    bundleText: typeof bundle === 'string' ? bundle : undefined,
    state: typeof state === 'string' ? state : undefined,
  };
}
