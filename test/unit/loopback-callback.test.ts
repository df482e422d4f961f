import type * as http from 'node:http';
import { encodeCookieBundle, type CookieBundle } from '../../src/protocol/bundle-codec';
import { Refusal } from '../../src/http/refusal';
import {
  checkRequestHead,
  decodeCallbackBundle,
  describeRequest,
  isStatelessBundle,
  refusalCorsOrigin,
  type RequestFacts,
} from '../../src/login/loopback-callback';
import { OneShotBundle } from '../../src/login/one-shot-bundle';

const ORIGIN = 'https://api.example.test';
const STATE = 'state-0123456789abcdefghij';
const PORT = 40123;
const COOKIES = [{ name: '_oauth2_proxy', value: 'SECRET-VALUE' }];

function incoming(method: string, url: string, headers: http.IncomingHttpHeaders): http.IncomingMessage {
  return { method, url, headers } as http.IncomingMessage;
}

function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    method: 'POST',
    path: '/callback',
    host: `127.0.0.1:${PORT}`,
    origin: ORIGIN,
    type: 'application/x-www-form-urlencoded',
    reply: 'html',
    asksPrivateNetwork: false,
    ...overrides,
  };
}

/** The Refusal `run` throws, as [status, code]; fails the test when it throws nothing or something else. */
function refusalOf(run: () => unknown): [number, string] {
  try {
    run();
  } catch (error) {
    if (error instanceof Refusal) return [error.status, error.code];
    throw error;
  }
  throw new Error('expected a Refusal');
}

describe('describeRequest', () => {
  test.each([
    ['application/json', 'application/json', 'json'],
    ['Text/Plain; charset=utf-8', 'text/plain', 'json'],
    ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded', 'html'],
    [undefined, '', 'html'],
  ])('Content-Type %p: media type %p, %p answers', (contentType, type, reply) => {
    const headers = contentType === undefined ? {} : { 'content-type': contentType };
    expect(describeRequest(incoming('POST', '/callback', headers))).toMatchObject({ type, reply });
  });

  test('reads method, path (without query), host, origin and the Private Network Access ask', () => {
    const req = incoming('OPTIONS', '/callback?x=1', {
      host: `127.0.0.1:${PORT}`,
      origin: ORIGIN,
      'access-control-request-private-network': 'TRUE',
    });
    expect(describeRequest(req)).toEqual({
      method: 'OPTIONS',
      path: '/callback',
      host: `127.0.0.1:${PORT}`,
      origin: ORIGIN,
      type: '',
      reply: 'html',
      asksPrivateNetwork: true,
    });
  });

  test('an unparsable URL gets a placeholder path, never the raw text', () => {
    expect(describeRequest(incoming('GET', 'http://[', {})).path).toBe('(unparsable)');
  });
});

describe('checkRequestHead', () => {
  const source = { endpointOrigin: ORIGIN, port: PORT };

  test.each<[string, Partial<RequestFacts>, [number, string]]>([
    ['a Host naming another server', { host: 'evil.example' }, [400, 'misdirected_request']],
    ['a Host on another port', { host: `127.0.0.1:${PORT + 1}` }, [400, 'misdirected_request']],
    [
      'the Host is checked before the Origin',
      { host: 'evil.example', origin: 'https://evil.example' },
      [400, 'misdirected_request'],
    ],
    ['a foreign Origin', { origin: 'https://evil.example' }, [403, 'cross_origin_refused']],
    ['an opaque Origin', { origin: 'null' }, [403, 'cross_origin_refused']],
    ['another path', { path: '/admin' }, [404, 'not_found']],
    ['a preflight without Origin', { method: 'OPTIONS', origin: undefined }, [403, 'cross_origin_refused']],
    ['GET', { method: 'GET' }, [405, 'method_not_allowed']],
    ['a POST without Origin', { origin: undefined }, [403, 'cross_origin_refused']],
  ])('%s is refused', (_name, overrides, expected) => {
    expect(refusalOf(() => checkRequestHead(facts(overrides), source))).toEqual(expected);
  });

  test('the endpoint may preflight and post, on /callback and on /', () => {
    expect(checkRequestHead(facts({ method: 'OPTIONS' }), source)).toBe('preflight');
    expect(checkRequestHead(facts(), source)).toBe('post');
    expect(checkRequestHead(facts({ path: '/', host: `localhost:${PORT}` }), source)).toBe('post');
  });
});

describe('decodeCallbackBundle', () => {
  const bundleText = (state?: string): string =>
    encodeCookieBundle({ cookies: COOKIES, ...(state === undefined ? {} : { state }) });

  test.each<[string, string | undefined, string | undefined, string, [number, string]]>([
    ['no state on /callback', bundleText(STATE), undefined, '/callback', [403, 'state_mismatch']],
    ['another state on /callback', bundleText(STATE), 'other-state', '/callback', [403, 'state_mismatch']],
    ['no bundle', undefined, STATE, '/callback', [400, 'bad_request']],
    ['a blank bundle', '  ', STATE, '/callback', [400, 'bad_request']],
    ['a bundle that does not decode', 'not a bundle', STATE, '/callback', [400, 'invalid_bundle']],
    [
      "a bundle naming another login's state",
      bundleText('other-state'),
      STATE,
      '/callback',
      [403, 'state_mismatch'],
    ],
    [
      "a bundle naming another login's state on /",
      bundleText('other-state'),
      undefined,
      '/',
      [403, 'state_mismatch'],
    ],
  ])('%s is refused', (_name, text, state, path, expected) => {
    const run = () => decodeCallbackBundle({ bundleText: text, state }, facts({ path }), STATE);
    expect(refusalOf(run)).toEqual(expected);
  });

  test('a bundle of this login decodes; one without state only on /, where it counts as stateless', () => {
    const taken = decodeCallbackBundle({ bundleText: bundleText(STATE), state: STATE }, facts(), STATE);
    expect(taken.cookies).toEqual(COOKIES);
    expect(isStatelessBundle(taken, facts())).toBe(false);
    const legacy = facts({ path: '/', type: 'text/plain', reply: 'json' });
    const stateless = decodeCallbackBundle({ bundleText: bundleText(), state: undefined }, legacy, STATE);
    expect(isStatelessBundle(stateless, legacy)).toBe(true);
    expect(
      isStatelessBundle(
        decodeCallbackBundle({ bundleText: bundleText(STATE), state: undefined }, legacy, STATE),
        legacy,
      ),
    ).toBe(false);
  });
});

describe('refusalCorsOrigin', () => {
  test.each<[string, Partial<RequestFacts>, string | undefined]>([
    ["the endpoint's page", { origin: ORIGIN }, ORIGIN],
    ['a fetch naming no origin', { origin: undefined, reply: 'json' }, ORIGIN],
    ['a form post naming no origin', { origin: undefined, reply: 'html' }, undefined],
    ['another origin', { origin: 'https://evil.example', reply: 'json' }, undefined],
    ['an opaque origin', { origin: 'null', reply: 'json' }, undefined],
  ])('%s', (_name, overrides, expected) => {
    expect(refusalCorsOrigin(facts(overrides), ORIGIN)).toBe(expected);
  });
});

describe('OneShotBundle', () => {
  const bundle: CookieBundle = { format: 'skypilot-v1', cookies: COOKIES };

  test('a claimed login is finished, delivers its bundle, and ignores a later abandon', async () => {
    const outcome = new OneShotBundle();
    expect(outcome.finished).toBe(false);
    outcome.claim();
    expect(outcome.finished).toBe(true);
    outcome.abandon(new Error('closed'));
    outcome.deliver(bundle);
    await expect(outcome.bundle).resolves.toBe(bundle);
  });

  test('abandoned before a claim: finished, and the bundle rejects with the error', async () => {
    const outcome = new OneShotBundle();
    const error = new Error('closed');
    outcome.abandon(error);
    expect(outcome.finished).toBe(true);
    await expect(outcome.bundle).rejects.toBe(error);
  });
});
