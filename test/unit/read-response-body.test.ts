import { PassThrough, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { readResponseBody, readResponseText, type HttpResponse } from '../../src/http/http-request';

const responseOf = (body: Readable): HttpResponse => ({
  url: new URL('http://127.0.0.1/'),
  status: 200,
  statusText: 'OK',
  headers: {},
  body,
});

/** What `for await` over the same stream gives (the implementation readResponseBody replaced). */
async function readWithForAwait(body: Readable, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size < limitBytes) {
      const part = chunk.subarray(0, limitBytes - size);
      chunks.push(part);
      size += part.length;
    }
  }
  return Buffer.concat(chunks);
}

describe('readResponseBody', () => {
  const parts = ['tea', ' for', ' two'].map((text) => Buffer.from(text));

  it('gives the whole body, or its first limitBytes, and still reads the rest (the stream ends)', async () => {
    expect(await readResponseText(responseOf(Readable.from(parts)))).toBe('tea for two');
    const body = Readable.from(parts);
    expect((await readResponseBody(responseOf(body), 5)).toString()).toBe('tea f');
    expect(body.readableEnded).toBe(true);
    expect(await readResponseBody(responseOf(Readable.from([])))).toEqual(Buffer.alloc(0));
  });

  it('settles like for await: the same bytes, the same error, premature close when cut short', async () => {
    const outcome = async (read: (body: Readable) => Promise<Buffer>, end: 'error' | 'destroy') => {
      const body = new PassThrough();
      const reading = read(body);
      body.write('partial');
      if (end === 'error') body.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      else body.destroy();
      return reading.then(
        (bytes) => ({ bytes: bytes.toString() }),
        (error: NodeJS.ErrnoException) => ({ message: error.message, code: error.code }),
      );
    };
    for (const end of ['error', 'destroy'] as const) {
      const ours = await outcome((body) => readResponseBody(responseOf(body), 1024), end);
      const reference = await outcome((body) => readWithForAwait(body, 1024), end);
      expect(ours).toEqual(reference);
    }
    expect(await outcome((body) => readResponseBody(responseOf(body), 1024), 'destroy')).toEqual({
      message: 'Premature close',
      code: 'ERR_STREAM_PREMATURE_CLOSE',
    });
  });

  it('an ended body gives nothing more; one destroyed before reading gives its error', async () => {
    const ended = Readable.from(parts);
    ended.resume();
    await finished(ended);
    expect(await readResponseBody(responseOf(ended))).toEqual(Buffer.alloc(0));
    const broken = new PassThrough();
    broken.on('error', () => undefined);
    broken.destroy(new Error('reset'));
    await new Promise((resolve) => broken.once('close', resolve));
    await expect(readResponseBody(responseOf(broken))).rejects.toThrow('reset');
    expect(await readWithForAwait(ended, 10).catch(() => 'threw')).toEqual(Buffer.alloc(0));
  });
});
