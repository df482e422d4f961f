import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { EndpointUnreachableError } from '../errors';

/**
 * One HTTP exchange over node:http, with no redirect following and no headers we did not ask for
 * (Node's built-in fetch always adds Sec-Fetch-Mode: cors, which mod_auth_openidc answers with 401).
 */

export type OutgoingHeaders = Record<string, string | string[]>;

export interface HttpRequestOptions {
  method?: string;
  headers?: OutgoingHeaders;
  body?: Buffer | string | Readable;
  /** Time allowed until the response headers arrive. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** For https endpoints with a private CA in tests or dev. */
  rejectUnauthorized?: boolean;
}

export interface HttpResponse {
  url: URL;
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** The body as a stream; read it once, with readBody() or by piping. */
  body: http.IncomingMessage;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function httpRequest(url: URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const transport = url.protocol === 'https:' ? https : http;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      reject(toUnreachableError(url, error, timeoutMs));
    };
    const requestOptions: https.RequestOptions = {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
    };
    const request = transport.request(url, requestOptions, (response) => {
      clearTimeout(timer);
      if (settled) {
        response.destroy();
        return;
      }
      settled = true;
      resolve({
        url,
        status: response.statusCode ?? 0,
        statusText: response.statusMessage ?? '',
        headers: response.headers,
        body: response,
      });
    });
    const timer = setTimeout(() => {
      request.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    timer.unref();
    request.on('error', (error) => {
      clearTimeout(timer);
      fail(error);
    });
    const body = options.body;
    if (body === undefined) request.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) request.end(body);
    else {
      body.on('error', (error) => request.destroy(error));
      body.pipe(request);
    }
  });
}

/** Reads a response body into memory, up to `limitBytes` (the rest is discarded). */
export async function readBody(response: HttpResponse, limitBytes = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    if (size < limitBytes) {
      const part = chunk.subarray(0, limitBytes - size);
      chunks.push(part);
      size += part.length;
    }
  }
  return Buffer.concat(chunks);
}

export async function readText(response: HttpResponse, limitBytes?: number): Promise<string> {
  return (await readBody(response, limitBytes)).toString('utf8');
}

const ERRNO_DESCRIPTIONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running?)',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve (DNS)',
  EAI_AGAIN: 'the host name could not be resolved right now (DNS)',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'the connection closed while sending',
  CERT_HAS_EXPIRED: 'TLS error: the server certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS error: the server certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS error: a self-signed certificate is in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS error: the certificate chain cannot be verified',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS error: the certificate does not match the host name',
  EPROTO: 'TLS/protocol error',
  ABORT_ERR: 'aborted',
};

/** Maps a socket/TLS error to a readable EndpointUnreachableError naming the endpoint's origin. */
export function toUnreachableError(url: URL, error: unknown, timeoutMs?: number): EndpointUnreachableError {
  if (error instanceof EndpointUnreachableError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const codeText = typeof code === 'string' ? code : undefined;
  let detail = codeText === undefined ? undefined : ERRNO_DESCRIPTIONS[codeText];
  if (codeText === 'ETIMEDOUT' && timeoutMs !== undefined)
    detail = `no answer within ${Math.round(timeoutMs / 1000)} s`;
  if (detail === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    detail = codeText === undefined ? message : `${message} (${codeText})`;
  }
  return new EndpointUnreachableError(url.origin, detail, { cause: error });
}
