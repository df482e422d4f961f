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

/** Whether a request with this Accept header expects JSON (and not an HTML page). */
export function expectsJson(accept: string | undefined): boolean {
  const value = accept ?? '';
  return /json/i.test(value) && !/html/i.test(value);
}

/**
 * Runs classifyAuthProxyResponse on an upstream response, for the local proxy and the SDK: only redirects,
 * 401/403 and HTML-where-JSON-was-asked are inspected (their first 4 KiB, decompressed when the response
 * has a Content-Encoding); every other response streams on untouched.
 */
export async function checkUpstreamSession(
  response: UpstreamResponseHead,
  context: {
    endpoint: string;
    requestUrl: URL;
    accept: string | undefined;
    /** Overrides what `accept` says (the SDK's `expectJson`). */
    expectJson?: boolean;
  },
): Promise<CheckedResponse> {
  const { status, headers } = response;
  const expectJson = context.expectJson ?? expectsJson(context.accept);
  if (!isWorthInspecting(status, headers, expectJson)) return { body: response.body };
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
