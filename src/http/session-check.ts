import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { peekBody } from './peek-body';
import { decodeHead } from './decode-body-head';
import {
  classifyAuthProxyResponse,
  INSPECTED_BODY_BYTES,
  isWorthInspecting,
  type AuthProxySignal,
} from '../protocol/auth-proxy-signals';

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

/**
 * Runs classifyAuthProxyResponse on an upstream response, for the local proxy and the SDK: only redirects,
 * 401/403 and 2xx HTML pages are inspected (their first 4 KiB, decompressed when the response has a
 * Content-Encoding); every other response streams on untouched. The request's Accept header is not evidence:
 * an HTML page of the app is delivered, whatever was asked, unless it is a sign-in page.
 */
export async function checkUpstreamSession(
  response: UpstreamResponseHead,
  context: {
    endpoint: string;
    requestUrl: URL;
    /** The caller takes only JSON here: an HTML 2xx page then counts as the proxy's (the SDK's `expectJson`). */
    expectJson?: boolean;
  },
): Promise<CheckedResponse> {
  const { status, headers } = response;
  const expectJson = context.expectJson ?? false;
  if (!isWorthInspecting(status, headers)) return { body: response.body };
  const peeked = await peekBody(response.body, INSPECTED_BODY_BYTES);
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
