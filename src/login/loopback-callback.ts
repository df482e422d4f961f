import type * as http from 'node:http';
import type { Timers } from '../context';
import { decodeCookieBundle, type CookieBundle } from '../protocol/bundle-codec';
import { secretsEqual } from '../protocol/secret-compare';
import { InvalidBundleError } from '../errors';
import { Refusal } from '../http/refusal';
import { singleHeader } from '../http/single-header';
import { isLoopbackHost } from '../http/loopback-host';
import { HOST_V4 } from '../http/listen-on-loopback';
import { parseJsonBody, readRequestBody } from './loopback-request';

/**
 * The rules of the loopback listener's one route, request by request: what a request is (its facts),
 * whether its head may reach us at all, how its body carries the bundle and state, and whether that bundle
 * belongs to this login. Each step returns what it found or throws a Refusal; the listener
 * (loopback-listener.ts) owns the sockets, the one-shot outcome and the answers.
 */

export const CALLBACK_PATH = '/callback';
/** SkyPilot's older protocol: a `no-cors` text/plain post of the bare bundle. */
export const LEGACY_PATH = '/';
/** The Allow header of a 405. */
export const ALLOWED_METHODS = 'POST, OPTIONS';

export type ReplyKind = 'html' | 'json';

/** What the listener needs to know of a request, read once from its head. */
export interface RequestFacts {
  method: string;
  path: string;
  host: string | undefined;
  origin: string | undefined;
  /** The media type of Content-Type, lower case, without parameters; '' without one. */
  type: string;
  /** A fetch (JSON or text/plain) gets JSON answers; a form post gets pages. */
  reply: ReplyKind;
  /** The preflight's Access-Control-Request-Private-Network asks for Private Network Access. */
  asksPrivateNetwork: boolean;
}

/** Where a request may come from: the endpoint's pages, addressed to this listener. */
export interface CallbackSource {
  endpointOrigin: string;
  /** The listener's port (0 until it listens). */
  port: number;
}

export interface BodyLimits {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  timers: Timers;
}

/** What a request's body carries, before any check. */
export interface CallbackFields {
  bundleText: string | undefined;
  state: string | undefined;
}

export function describeRequest(req: http.IncomingMessage): RequestFacts {
  const type = mediaType(singleHeader(req, 'content-type'));
  return {
    method: req.method ?? '',
    path: pathOf(req.url),
    host: singleHeader(req, 'host'),
    origin: singleHeader(req, 'origin'),
    type,
    reply: type === 'application/json' || type === 'text/plain' ? 'json' : 'html',
    asksPrivateNetwork: singleHeader(req, 'access-control-request-private-network')?.toLowerCase() === 'true',
  };
}

/**
 * Checks a request's head: it names this listener, comes from the endpoint (or names no origin), asks for
 * one of our two paths with POST or OPTIONS. Says which of the two; throws a Refusal otherwise.
 */
export function checkRequestHead(facts: RequestFacts, source: CallbackSource): 'preflight' | 'post' {
  const { method, path, origin } = facts;
  if (!isLoopbackHost(facts.host, source.port)) {
    throw new Refusal(400, 'misdirected_request', 'the Host header does not name this loopback listener.');
  }
  if (origin !== undefined && origin !== source.endpointOrigin) {
    throw new Refusal(
      403,
      'cross_origin_refused',
      `requests from ${describeOrigin(origin)} are not accepted.`,
    );
  }
  if (path !== CALLBACK_PATH && path !== LEGACY_PATH) {
    throw new Refusal(404, 'not_found', 'there is nothing here.');
  }
  if (method === 'OPTIONS') {
    if (origin !== source.endpointOrigin)
      throw new Refusal(403, 'cross_origin_refused', 'a preflight must come from the endpoint.');
    return 'preflight';
  }
  if (method !== 'POST') {
    throw new Refusal(405, 'method_not_allowed', `${sanitize(method)} is not accepted here.`);
  }
  // A browser always sends Origin on these posts; a request without one is not a browser's hand-off.
  if (origin !== source.endpointOrigin) {
    throw new Refusal(
      403,
      'cross_origin_refused',
      'a bundle is taken only from a page of the endpoint (the request has no Origin).',
    );
  }
  return 'post';
}

/** Reads the bundle (and state) out of a POST's body: text/plain on `/`, a form or JSON on /callback. */
export async function readCallbackFields(
  req: http.IncomingMessage,
  facts: RequestFacts,
  limits: BodyLimits,
): Promise<CallbackFields> {
  const readBody = (): Promise<Buffer> =>
    readRequestBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs, limits.timers);
  if (facts.path === LEGACY_PATH) {
    if (facts.type !== 'text/plain')
      throw new Refusal(415, 'unsupported_media_type', 'expected a text/plain body.');
    return { bundleText: (await readBody()).toString('utf8'), state: undefined };
  }
  if (facts.type === 'application/x-www-form-urlencoded') {
    const fields = new URLSearchParams((await readBody()).toString('utf8'));
    return { bundleText: fields.get('bundle') ?? undefined, state: fields.get('state') ?? undefined };
  }
  if (facts.reply === 'json') return parseJsonBody(await readBody());
  throw new Refusal(415, 'unsupported_media_type', 'expected a form post or a JSON body.');
}

/**
 * Decodes the bundle of a POST and checks that it belongs to this login: /callback must carry the login's
 * state; a bundle that names a state must name the login's. Throws a Refusal otherwise.
 */
export function decodeCallbackBundle(
  fields: CallbackFields,
  facts: RequestFacts,
  expectedState: string,
): CookieBundle {
  const { bundleText, state } = fields;
  if (facts.path !== LEGACY_PATH && (state === undefined || !secretsEqual(state, expectedState))) {
    throw new Refusal(403, 'state_mismatch', 'the state does not belong to the login this terminal started.');
  }
  if (bundleText === undefined || bundleText.trim() === '')
    throw new Refusal(400, 'bad_request', 'the request carries no bundle.');
  let decoded: CookieBundle;
  try {
    decoded = decodeCookieBundle(bundleText);
  } catch (error) {
    if (error instanceof InvalidBundleError) throw new Refusal(400, 'invalid_bundle', `${error.message}.`);
    throw error;
  }
  if (decoded.state !== undefined && !secretsEqual(decoded.state, expectedState)) {
    throw new Refusal(
      403,
      'state_mismatch',
      'the bundle belongs to another login (its state does not match).',
    );
  }
  return decoded;
}

/** A bundle without state on SkyPilot's path: taken only with --accept-stateless (or once confirmed). */
export function isStatelessBundle(decoded: CookieBundle, facts: RequestFacts): boolean {
  return facts.path === LEGACY_PATH && decoded.state === undefined;
}

/**
 * Whom a refusal's JSON lets read it (Access-Control-Allow-Origin): the endpoint's own pages, and a fetch
 * that names no origin; nobody else.
 */
export function refusalCorsOrigin(facts: RequestFacts, endpointOrigin: string): string | undefined {
  const allowed = facts.origin === endpointOrigin || (facts.origin === undefined && facts.reply === 'json');
  return allowed ? endpointOrigin : undefined;
}

export function statelessRefusal(): Refusal {
  return new Refusal(
    403,
    'stateless_bundle',
    'a bundle without state is taken only with --accept-stateless or when confirmed in the terminal.',
  );
}

export function loginFinishedRefusal(): Refusal {
  return new Refusal(410, 'login_finished', 'this login has already finished.', true);
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? '/', `http://${HOST_V4}`).pathname;
  } catch {
    return '(unparsable)';
  }
}

/** Text from a request, short and without control characters, fit for a --debug line or a message. */
export function sanitize(text: string): string {
  const short = text.length > 80 ? `${text.slice(0, 80)}…` : text;

  return short.replace(/[\x00-\x1f\x7f]/g, '?');
}

function describeOrigin(origin: string): string {
  return origin === 'null' ? 'an opaque origin (null)' : JSON.stringify(sanitize(origin));
}
