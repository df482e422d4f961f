import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CredentialStore } from '../store/credential-types';
import { resolveEndpointUrl } from '../protocol/endpoint';
import {
  readResponseBody,
  systemHttpClient,
  type HttpClient,
  type HttpResponseHead,
  type OutgoingHeaders,
} from '../http/http-request';
import { describeHeaders, redactUrl } from '../protocol/redact';
import { debugShown, silentLogger, type AppContext } from '../context';
import { SessionExpiredError, TokenRejectedError } from '../errors';
import { saveSetCookies } from '../http/save-set-cookies';
import { checkUpstreamSession } from '../http/session-check';
import { isWorthInspecting } from '../protocol/auth-proxy-signals';
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
  /**
   * Big bodies: where the body goes, asked for once the head is in (a sign-in page is still refused
   * before anything is written). Each chunk is written straight into it, the connection pausing while it
   * is full, and it is ended at the end (process.stdout, a file stream…). The response's `body` is then
   * empty: await `finished`.
   */
  writeBodyTo?: (head: ClientResponseHead) => Writable;
}

export interface ClientResponseHead {
  url: URL;
  status: number;
  statusText: string;
  ok: boolean;
  headers: IncomingHttpHeaders;
}

export interface ClientResponse extends ClientResponseHead {
  /** The body, streamed: read it once, with text()/json()/buffer() or by piping. */
  body: Readable;
  /** With `writeBodyTo`: settles once the whole body is written (rejects with the write's or the connection's error). */
  finished?: Promise<void>;
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
  // Per request, the debug lines redact the URL and every header: only built when shown.
  const debug = debugShown(logger);

  async function fetchThrough(pathOrUrl: string, init: ClientRequestInit = {}): Promise<ClientResponse> {
    const url = resolveEndpointUrl(endpoint, pathOrUrl);
    const headers: OutgoingHeaders = lowerCaseKeys(init.headers ?? {});
    if (headers.accept === undefined) headers.accept = 'application/json, */*;q=0.8';
    Object.assign(headers, await credential.headersFor(url));
    const method = (init.method ?? (init.body === undefined ? 'GET' : 'POST')).toUpperCase();
    if (debug) logger.debug(`> ${method} ${redactUrl(url)}\n${describeHeaders(headers)}`);
    const timeoutMs = init.timeoutMs ?? deps.timeoutMs;
    const { writeBodyTo } = init;
    // With writeBodyTo, a response the session check reads first is held in `inspected` until it passes; so is
    // one whose cookies go back into the jar, so no body byte is written before the jar is saved and its lock
    // released (a reader that stops at the first byte, or a kill then, never leaves the lock behind).
    let inspected: PassThrough | undefined;
    const bodySink =
      writeBodyTo === undefined
        ? undefined
        : (head: HttpResponseHead): Writable =>
            isWorthInspecting(head.status, head.headers) ||
            (credential.source === 'cookie-jar' && head.headers['set-cookie'] !== undefined)
              ? (inspected = new PassThrough())
              : writeBodyTo(toHead(head));
    const response = await http.request(url, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: init.body }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
      ...(bodySink === undefined ? {} : { bodySink }),
    });
    if (debug)
      logger.debug(`< ${response.status} ${response.statusText}\n${describeHeaders(response.headers)}`);

    if (credential.source === 'cookie-jar') {
      await saveSetCookies(store, { endpoint, url, setCookies: response.headers['set-cookie'], logger });
    }

    const checked = await checkUpstreamSession(
      inspected === undefined ? response : { ...response, body: inspected },
      {
        endpoint,
        requestUrl: url,
        ...(init.expectJson === undefined ? {} : { expectJson: init.expectJson }),
      },
    );
    if (checked.signal !== undefined) {
      checked.body.resume();
      logger.debug(
        `session check: rule ${checked.signal.rule} fired (proxy ${checked.signal.proxy}): ${checked.signal.detail}`,
      );
      // serve refused the bearer token itself (revoked, expired…): exit 4 like a session, with its reason.
      const refusal = checked.signal.tokenRefusal;
      if (refusal !== undefined) throw new TokenRejectedError(endpoint, refusal.reason, refusal.message);
      throw new SessionExpiredError(endpoint, checked.signal.detail, response.status);
    }
    const out = toClientResponse(url, response.status, response.statusText, response.headers, checked.body);
    if (writeBodyTo === undefined) return out;
    const written = response.finished;
    if (written !== undefined && inspected === undefined) return { ...out, finished: written };
    // An inspected page that passed (or an HttpClient without bodySink): piped where the caller asked.
    const rest = pipeline(checked.body, writeBodyTo(toHead(response)));
    const finished = Promise.all([written, rest]).then(() => undefined);
    return { ...out, body: emptyBody(), finished };
  }

  return { endpoint, credentialSource: credential.source, fetch: fetchThrough };
}

function lowerCaseKeys(headers: Record<string, string | string[]>): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}

function toHead(head: HttpResponseHead): ClientResponseHead {
  const { url, status, statusText, headers } = head;
  return { url, status, statusText, ok: status >= 200 && status < 300, headers };
}

function emptyBody(): Readable {
  const body = new PassThrough();
  body.end();
  return body;
}

function toClientResponse(
  url: URL,
  status: number,
  statusText: string,
  headers: IncomingHttpHeaders,
  body: Readable,
): ClientResponse {
  // The whole body, however long (the caller asked for it in memory).
  const buffer = (): Promise<Buffer> => readResponseBody({ body }, Infinity);
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
