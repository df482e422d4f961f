import type * as Zlib from 'node:zlib';

/** At most this much of a compressed head is decompressed (a bomb stops there, and is not inspected). */
const DECOMPRESSED_LIMIT = 16 * 1024;

// node:zlib is loaded only when a suspicious response is actually compressed.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const zlib = (): typeof Zlib => require('node:zlib') as typeof Zlib;

/**
 * The inspected head as text. With a Content-Encoding (gzip, deflate, br, in the order applied) the head
 * is decompressed as far as it goes (it is usually cut mid-stream), at most DECOMPRESSED_LIMIT bytes of it;
 * an encoding we do not know, or data that does not decompress, gives '' (nothing to go by in the body).
 */
export function decodeHead(head: Buffer, contentEncoding: string | undefined): string {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  let data = head;
  try {
    for (const coding of codings.reverse()) data = decompressBounded(data, coding);
  } catch {
    return '';
  }
  return data.toString('utf8');
}

/** Decompresses the longest prefix (halving on overflow) whose output fits in DECOMPRESSED_LIMIT. */
function decompressBounded(data: Buffer, coding: string): Buffer {
  for (let length = data.length; ; length >>= 1) {
    try {
      return decompressPartial(data.subarray(0, length), coding);
    } catch (error) {
      const tooLarge = (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
      if (!tooLarge || length <= 1) throw error;
    }
  }
}

function decompressPartial(data: Buffer, coding: string): Buffer {
  const options = { finishFlush: zlib().constants.Z_SYNC_FLUSH, maxOutputLength: DECOMPRESSED_LIMIT };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib().gunzipSync(data, options);
    case 'deflate':
      // RFC 9110 says zlib-wrapped; some servers send raw deflate.
      try {
        return zlib().inflateSync(data, options);
      } catch {
        return zlib().inflateRawSync(data, options);
      }
    case 'br':
      return zlib().brotliDecompressSync(data, {
        finishFlush: zlib().constants.BROTLI_OPERATION_FLUSH,
        maxOutputLength: DECOMPRESSED_LIMIT,
      });
    default:
      throw new Error(`unknown content-encoding ${coding}`);
  }
}
