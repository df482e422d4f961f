import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { peekBody } from '../client/peek-body';
import {
  classifyAuthProxyResponse,
  isWorthInspecting,
  type AuthProxySignal,
} from '../core/auth-proxy-signals';

/** Bytes of a suspicious response inspected to tell a proxy's login page from the API's own answer. */
const INSPECT_BYTES = 4096;
/** At most this much of a compressed head is decompressed (a bomb stops there, and is not inspected). */
const DECOMPRESSED_LIMIT = 16 * 1024;

export interface UpstreamResponseHead {
  status: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

export interface CheckedResponse {
  /** Set when the auth proxy, not the API, answered: the stored session is gone. */
  signal?: AuthProxySignal;
  /** The whole body, still streaming (the inspected head included), as the upstream sent it. */
  body: Readable;
}

/** Whether a request with this Accept header expects JSON (and not an HTML page). */
export function expectsJson(accept: string | undefined): boolean {
  const value = accept ?? '';
  return /json/i.test(value) && !/html/i.test(value);
}

/**
 * Runs classifyAuthProxyResponse on an upstream response, as the forwarding client does: only redirects,
 * 401/403 and HTML-where-JSON-was-asked are inspected (their first 4 KiB, decompressed when the response
 * has a Content-Encoding); every other response streams on untouched.
 */
export async function checkUpstreamSession(
  response: UpstreamResponseHead,
  context: { endpoint: string; requestUrl: URL; accept: string | undefined },
): Promise<CheckedResponse> {
  const { status, headers } = response;
  const expectJson = expectsJson(context.accept);
  if (!isWorthInspecting(status, headers, expectJson)) return { body: response.body };
  const peeked = await peekBody(response.body, INSPECT_BYTES);
  const signal = classifyAuthProxyResponse({
    endpoint: context.endpoint,
    requestUrl: context.requestUrl.toString(),
    status,
    headers,
    bodySnippet: decodeHead(peeked.head, headers['content-encoding']),
    expectJson,
  });
  return signal === undefined ? { body: peeked.body } : { signal, body: peeked.body };
}

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
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: DECOMPRESSED_LIMIT };
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(data, options);
    case 'deflate':
      // RFC 9110 says zlib-wrapped; some servers send raw deflate.
      try {
        return zlib.inflateSync(data, options);
      } catch {
        return zlib.inflateRawSync(data, options);
      }
    case 'br':
      return zlib.brotliDecompressSync(data, {
        finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
        maxOutputLength: DECOMPRESSED_LIMIT,
      });
    default:
      throw new Error(`unknown content-encoding ${coding}`);
  }
}
