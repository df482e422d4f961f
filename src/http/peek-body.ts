import { PassThrough, type Readable } from 'node:stream';

export interface PeekedBody {
  /** Up to `limit` bytes from the start of the body. */
  head: Buffer;
  /** The whole body, head included, as a stream that still respects back-pressure. */
  body: Readable;
}

/**
 * Reads the first bytes of a stream without consuming it for the caller, so a response can be
 * inspected (is this an HTML login page?) and still be streamed on unbuffered.
 */
export async function peekBody(stream: Readable, limit: number): Promise<PeekedBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  let ended = false;
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) {
        stream.pause();
        cleanup();
        resolve();
      }
    };
    const onEnd = (): void => {
      ended = true;
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
  const head = Buffer.concat(chunks);
  const out = new PassThrough();
  out.write(head);
  if (ended) out.end();
  else {
    stream.on('error', (error) => out.destroy(error));
    stream.pipe(out);
    stream.resume();
  }
  return { head: head.subarray(0, limit), body: out };
}
