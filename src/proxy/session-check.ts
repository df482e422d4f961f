import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { peekBody } from '../client/peek-body';
import { classifyAuthProxyResponse, type AuthProxySignal } from '../core/auth-proxy-signals';

/** Bytes of a suspicious response inspected to tell a proxy's login page from the API's own answer. */
const INSPECT_BYTES = 4096;

export interface CheckedResponse {
  /** Set when the auth proxy, not the API, answered: the stored session is gone. */
  signal?: AuthProxySignal;
  /** The whole body, still streaming (the inspected head included). */
  body: Readable;
}

/**
 * Runs classifyAuthProxyResponse on an upstream response, as the forwarding client does: only redirects,
 * 401/403 and HTML-where-JSON-was-asked are inspected (their first 4 KiB); every other response streams
 * on untouched.
 */
export async function checkUpstreamSession(
  response: IncomingMessage,
  context: { endpoint: string; requestUrl: URL; accept: string | undefined },
): Promise<CheckedResponse> {
  const status = response.statusCode ?? 0;
  const accept = context.accept ?? '';
  const expectJson = /json/i.test(accept) && !/html/i.test(accept);
  if (!isWorthInspecting(status, response.headers, expectJson)) return { body: response };
  const peeked = await peekBody(response, INSPECT_BYTES);
  const signal = classifyAuthProxyResponse({
    endpoint: context.endpoint,
    requestUrl: context.requestUrl.toString(),
    status,
    headers: response.headers,
    bodySnippet: peeked.head.toString('utf8'),
    expectJson,
  });
  return signal === undefined ? { body: peeked.body } : { signal, body: peeked.body };
}

function isWorthInspecting(status: number, headers: IncomingHttpHeaders, expectJson: boolean): boolean {
  if (status >= 300 && status < 400) return true;
  if (status === 401 || status === 403) return true;
  return expectJson && /html/i.test(headers['content-type'] ?? '');
}
