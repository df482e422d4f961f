import type * as http from 'node:http';
import { singleHeader } from '../core/single-header';

/** A request the listener will not take: answered with `status`, logged at debug level, and the wait goes on. */
export class Refusal {
  constructor(
    readonly status: number,
    /** Free of secrets: it is logged and shown to the browser. */
    readonly reason: string,
    /** Drop the connection after answering (the body was not read to its end). */
    readonly dropConnection = false,
  ) {}
}

/** Reads the request body up to `maxBytes` within `timeoutMs`; a Refusal (413, 408) otherwise. */
export function readRequestBody(
  req: http.IncomingMessage,
  maxBytes: number,
  timeoutMs: number,
): Promise<Buffer> {
  const declared = Number(singleHeader(req, 'content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(new Refusal(413, `the body is larger than ${maxBytes} bytes.`, true));
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
      if (size > maxBytes) fail(new Refusal(413, `the body is larger than ${maxBytes} bytes.`, true));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onGone = (): void => fail(new Refusal(400, 'the client went away before the body arrived.', true));
    const timer = setTimeout(
      () => fail(new Refusal(408, `the body did not arrive within ${timeoutMs} ms.`, true)),
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
    throw new Refusal(400, 'the body is not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Refusal(400, 'the body is not a JSON object.');
  }
  const { bundle, state } = value as Record<string, unknown>;
  return {
    bundleText: typeof bundle === 'string' ? bundle : undefined,
    state: typeof state === 'string' ? state : undefined,
  };
}
