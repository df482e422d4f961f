import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { CredentialStore } from '../store/credential-types';
import { resolveEndpointUrl } from '../protocol/endpoint';
import { systemHttpClient, type HttpClient, type OutgoingHeaders } from '../http/http-request';
import { describeHeaders, redactUrl } from '../protocol/redact';
import { silentLogger, type AppContext } from '../context';
import { SessionExpiredError } from '../errors';
import { saveSetCookies } from '../http/save-set-cookies';
import { checkUpstreamSession } from '../http/session-check';
import { resolveCredential, type CredentialSource } from '../store/resolve-credential';

export interface ClientRequestInit {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer | Readable;
  /**
   * This request takes only JSON: an HTML page answering it then counts as the proxy's (SessionExpiredError).
   * Default false: an HTML page is delivered unless it is a sign-in page.
   */
  expectJson?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ClientResponse {
  url: URL;
  status: number;
  statusText: string;
  ok: boolean;
  headers: IncomingHttpHeaders;
  /** The body, streamed: read it once, with text()/json()/buffer() or by piping. */
  body: Readable;
  buffer(): Promise<Buffer>;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
}

export interface CookieBridgeClient {
  readonly endpoint: string;
  readonly credentialSource: CredentialSource;
  /**
   * Sends one request to the endpoint with its stored credential. Cookies the server sets go back into
   * the jar. A response that shows the session is gone rejects with SessionExpiredError.
   */
  fetch(pathOrUrl: string, init?: ClientRequestInit): Promise<ClientResponse>;
}

/** The part of the one dependency object (AppContext) the client uses; `http` defaults to systemHttpClient. */
export interface ForwardingClientDeps
  extends Pick<AppContext<CredentialStore, HttpClient>, 'env' | 'store'>,
    Partial<Pick<AppContext<CredentialStore, HttpClient>, 'logger' | 'http'>> {
  endpoint: string;
  timeoutMs?: number;
}

export async function createForwardingClient(deps: ForwardingClientDeps): Promise<CookieBridgeClient> {
  const { endpoint, store } = deps;
  const logger = deps.logger ?? silentLogger;
  const http = deps.http ?? systemHttpClient;
  const credential = await resolveCredential(endpoint, store, deps.env);
  logger.debug(`credential for ${endpoint}: ${credential.source}`);

  async function fetchThrough(pathOrUrl: string, init: ClientRequestInit = {}): Promise<ClientResponse> {
    const url = resolveEndpointUrl(endpoint, pathOrUrl);
    const headers: OutgoingHeaders = lowerCaseKeys(init.headers ?? {});
    if (headers.accept === undefined) headers.accept = 'application/json, */*;q=0.8';
    Object.assign(headers, await credential.headersFor(url));
    const method = (init.method ?? (init.body === undefined ? 'GET' : 'POST')).toUpperCase();
    logger.debug(`> ${method} ${redactUrl(url)}\n${describeHeaders(headers)}`);
    const timeoutMs = init.timeoutMs ?? deps.timeoutMs;
    const response = await http.request(url, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
    logger.debug(`< ${response.status} ${response.statusText}\n${describeHeaders(response.headers)}`);

    if (credential.source === 'cookie-jar') {
      await saveSetCookies(store, { endpoint, url, setCookies: response.headers['set-cookie'], logger });
    }

    const checked = await checkUpstreamSession(response, {
      endpoint,
      requestUrl: url,
      ...(init.expectJson === undefined ? {} : { expectJson: init.expectJson }),
    });
    if (checked.signal !== undefined) {
      checked.body.resume();
      logger.debug(
        `session check: rule ${checked.signal.rule} fired (proxy ${checked.signal.proxy}): ${checked.signal.detail}`,
      );
      throw new SessionExpiredError(endpoint, checked.signal.detail, response.status);
    }
    const body = checked.body;
    return toClientResponse(url, response.status, response.statusText, response.headers, body);
  }

  return { endpoint, credentialSource: credential.source, fetch: fetchThrough };
}

function lowerCaseKeys(headers: Record<string, string | string[]>): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function toClientResponse(
  url: URL,
  status: number,
  statusText: string,
  headers: IncomingHttpHeaders,
  body: Readable,
): ClientResponse {
  const buffer = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  };
  return {
    url,
    status,
    statusText,
    ok: status >= 200 && status < 300,
    headers,
    body,
    buffer,
    text: async () => (await buffer()).toString('utf8'),
    json: async <T>() => JSON.parse((await buffer()).toString('utf8')) as T,
  };
}
