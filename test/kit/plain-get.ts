import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { HTTP_REQUEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';

/** What plainGet() answers: the status, the headers and the whole body as text. */
export interface PlainReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A plain GET over http:// on its own connection that never follows redirects, bounded by
 * HTTP_REQUEST_TIMEOUT_MS: what a test uses to look at a real component's answer as it is.
 */
export function plainGet(url: string, headers: Record<string, string> = {}): Promise<PlainReply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false, timeout: HTTP_REQUEST_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end();
  });
}
