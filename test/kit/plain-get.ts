import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { HTTP_REQUEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';

/** What plainGet() answers: the status, the headers and the whole body as text. */
export interface PlainReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A plain GET on its own connection that never follows redirects, bounded by HTTP_REQUEST_TIMEOUT_MS: what a
 * test uses to look at a real component's answer as it is. An https:// URL trusts `ca` (PEM) only.
 */
export function plainGet(
  url: string,
  headers: Record<string, string> = {},
  options: { ca?: string } = {},
): Promise<PlainReply> {
  const tls = url.startsWith('https:');
  if (tls && options.ca === undefined) throw new Error(`plainGet: ${url} needs the CA that signed it`);
  const request = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const settings = { headers, agent: false as const, timeout: HTTP_REQUEST_TIMEOUT_MS };
    const req = request(url, tls ? { ...settings, ca: options.ca } : settings, (res) => {
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
