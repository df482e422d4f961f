import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { encodeCookieBundle } from '../../src/protocol/bundle-codec';
import type { HttpRequestOptions, HttpResponse } from '../../src/http/http-request';
import {
  isValidRelayChallenge,
  normalizeRelayCode,
  relayChallengeFor,
  relayCode,
  relayCodesMatch,
} from '../../src/protocol/relay-protocol';
import {
  checkRelaySupport,
  createRelayChallenge,
  pollRelay,
  RELAY_STORE_BACK_NOTICE,
  RELAY_STORE_OUTAGE_NOTICE,
  registerRelay,
} from '../../src/login/relay-client';
import { manualTimers } from '../kit/manual-timers';
import { TlsError } from '../../src/errors';

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';

function response(status: number, body: string): HttpResponse {
  return {
    url: new URL('http://api.test/'),
    status,
    statusText: '',
    headers: { 'content-type': 'application/json' },
    body: Readable.from([Buffer.from(body)]) as unknown as IncomingMessage,
  };
}

type Answer = HttpResponse | Error;

/** A fake httpRequest answering from a script, recording what was sent. */
function scripted(answers: Answer[]) {
  const calls: Array<{ url: string; options: HttpRequestOptions }> = [];
  const request = (url: URL, options: HttpRequestOptions = {}): Promise<HttpResponse> => {
    calls.push({ url: url.toString(), options });
    const next = answers.shift();
    if (next === undefined) return Promise.reject(new Error('no more scripted answers'));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  };
  return { request, calls };
}

describe('createRelayChallenge', () => {
  const CODE_SECRET = 'c0de-secret-'.padEnd(43, 'q');
  const draws =
    (...values: string[]) =>
    () =>
      values.shift() ?? 'exhausted';

  it('derives the challenge from the verifier (RFC 7636 S256 test vector) and the code from another draw', () => {
    const relay = createRelayChallenge(draws(VERIFIER, CODE_SECRET));
    expect(relay.verifier).toBe(VERIFIER);
    // RFC 7636 appendix B
    expect(relay.challenge).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    expect(relay.challenge).toBe(relayChallengeFor(VERIFIER));
    expect(isValidRelayChallenge(relay.challenge)).toBe(true);
    expect(relay.code).toBe(relayCode(CODE_SECRET));
    // Nothing in the URL tells the code.
    expect(relay.code).not.toBe(relayCode(relay.challenge));
  });

  it('codes are 8 Crockford base32 characters of sha256("cookie-bridge-code:" + secret)', () => {
    const digest = createHash('sha256').update(`cookie-bridge-code:${CODE_SECRET}`).digest();
    const bits = [...digest.subarray(0, 5)].map((byte) => byte.toString(2).padStart(8, '0')).join('');
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const expected = [...Array(8).keys()]
      .map((i) => alphabet[parseInt(bits.slice(i * 5, i * 5 + 5), 2)])
      .join('');
    expect(relayCode(CODE_SECRET)).toBe(`${expected.slice(0, 4)}-${expected.slice(4)}`);
    expect(relayCode(CODE_SECRET)).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(relayCode(`${CODE_SECRET}x`)).not.toBe(relayCode(CODE_SECRET));
  });

  it('refuses randomness that is too short, or that repeats itself', () => {
    expect(() => createRelayChallenge(() => 'short')).toThrow(TypeError);
    expect(() => createRelayChallenge(() => VERIFIER)).toThrow(TypeError);
  });
});

describe('normalizeRelayCode and relayCodesMatch', () => {
  it.each([
    ['K7QD-M2XW', 'K7QDM2XW'],
    ['k7qdm2xw', 'K7QDM2XW'],
    [' k7qd m2xw ', 'K7QDM2XW'],
    ['0OIL-1234', '00111234'],
  ])('%j → %j', (typed, canonical) => {
    expect(normalizeRelayCode(typed)).toBe(canonical);
  });

  it.each(['', 'K7QD-M2X', 'K7QD-M2XWW', 'UUUU-UUUU', '<script>', 'x'.repeat(100)])(
    '%j is no code',
    (typed) => {
      expect(normalizeRelayCode(typed)).toBeUndefined();
      expect(relayCodesMatch(typed, 'K7QD-M2XW')).toBe(false);
    },
  );

  it('matches the forgiving spellings only of the same code', () => {
    expect(relayCodesMatch('k7qd m2xw', 'K7QD-M2XW')).toBe(true);
    expect(relayCodesMatch('K7QD-M2XV', 'K7QD-M2XW')).toBe(false);
  });
});

describe('registerRelay', () => {
  it('POSTs the challenge and code before the browser opens; 201 is success', async () => {
    const fake = scripted([response(201, '{"status":"registered"}')]);
    await registerRelay(
      'http://api.test/base',
      { challenge: 'c'.repeat(43), code: 'K7QD-M2XW' },
      { request: fake.request },
    );
    expect(fake.calls[0]?.url).toBe('http://api.test/base/cookie-bridge/relay/register');
    expect(fake.calls[0]?.options.method).toBe('POST');
    expect(JSON.parse(String(fake.calls[0]?.options.body))).toEqual({
      challenge: 'c'.repeat(43),
      code: 'K7QD-M2XW',
    });
  });

  it("a busy server's hint says how long its pending sign-ins live (ttl_seconds), or that --relay-ttl decides", async () => {
    const relay = { challenge: 'c'.repeat(43), code: 'K7QD-M2XW' };
    const hintFor = async (body: string): Promise<unknown> => {
      const fake = scripted([response(503, body)]);
      const error = await registerRelay('http://api.test', relay, { request: fake.request }).catch(
        (thrown: unknown) => thrown,
      );
      expect(error).toMatchObject({ code: 'E_RELAY_BUSY' });
      return (error as { hint?: unknown }).hint;
    };
    expect(await hintFor('{"error":"relay_source_full","message":"wait","ttl_seconds":90}')).toBe(
      'wait up to 90 seconds (pending sign-ins expire by then) and run the login again',
    );
    expect(await hintFor('{"error":"relay_full","message":"wait","ttl_seconds":7200}')).toBe(
      'wait up to 2 hours (pending sign-ins expire by then) and run the login again',
    );
    // An older server, a load balancer's page, or a value --relay-ttl cannot give: the code's default hint.
    for (const body of [
      '{"error":"relay_full","message":"wait"}',
      '<html>Service Unavailable</html>',
      '{"error":"relay_full","ttl_seconds":"90"}',
      '{"error":"relay_full","ttl_seconds":1.5}',
      '{"error":"relay_full","ttl_seconds":86401}',
    ]) {
      expect(await hintFor(body)).toBe(
        "wait until pending sign-ins expire (the server's --relay-ttl, 5 minutes by default) and run the login again",
      );
    }
  });

  it('a full server (503) is E_RELAY_BUSY with its message; anything else E_RELAY_FAILED', async () => {
    const relay = { challenge: 'c'.repeat(43), code: 'K7QD-M2XW' };
    const busy = scripted([response(503, '{"error":"relay_full","message":"too many waiting"}')]);
    await expect(registerRelay('http://api.test', relay, { request: busy.request })).rejects.toMatchObject({
      code: 'E_RELAY_BUSY',
      message: expect.stringContaining('too many waiting') as unknown,
    });
    for (const answer of [response(404, '{}'), response(409, '{}'), new Error('ECONNREFUSED')]) {
      const fake = scripted([answer]);
      await expect(registerRelay('http://api.test', relay, { request: fake.request })).rejects.toMatchObject({
        code: 'E_RELAY_FAILED',
      });
    }
  });
});

describe("registerRelay while the server's relay store is unavailable", () => {
  it('503 relay_store_unavailable is E_RELAY_STORE_UNAVAILABLE with its own hint; a 503 without that code stays busy', async () => {
    const relay = { challenge: 'c'.repeat(43), code: 'K7QD-M2XW' };
    const down = scripted([
      response(503, '{"error":"relay_store_unavailable","message":"relay store unavailable: try again"}'),
    ]);
    const error = await registerRelay('http://api.test', relay, { request: down.request }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ code: 'E_RELAY_STORE_UNAVAILABLE', exitCode: 6 });
    expect(String((error as Error).message)).not.toMatch(/busy/);
    // A load balancer's own 503 (no JSON) is still "busy".
    const lb = scripted([response(503, '<html>Service Unavailable</html>')]);
    await expect(registerRelay('http://api.test', relay, { request: lb.request })).rejects.toMatchObject({
      code: 'E_RELAY_BUSY',
    });
  });
});

describe('checkRelaySupport', () => {
  it('is true only for {"relay":1} with 200, and false on errors', async () => {
    const cases: Array<[Answer, boolean]> = [
      [response(200, '{"relay":1}'), true],
      [response(200, '{"relay":2}'), false],
      [response(200, '<html>sign in</html>'), false],
      [response(302, ''), false],
      [response(401, '{}'), false],
      [new Error('ECONNREFUSED'), false],
    ];
    for (const [answer, expected] of cases) {
      const fake = scripted([answer]);
      expect(await checkRelaySupport('http://api.test/base', { request: fake.request })).toBe(expected);
      expect(fake.calls[0]?.url).toBe('http://api.test/base/cookie-bridge/relay/info');
    }
  });
});

describe('pollRelay', () => {
  const bundle = encodeCookieBundle({ cookies: [{ name: '_oauth2_proxy', value: 'secret' }], user: 'a@b.c' });

  it('claims until 200, waiting the interval between 202 answers', async () => {
    const fake = scripted([
      response(202, '{"status":"pending"}'),
      response(202, '{"status":"pending"}'),
      response(200, JSON.stringify({ bundle })),
    ]);
    const sleeps: number[] = [];
    const result = await pollRelay('http://api.test', VERIFIER, {
      signal: new AbortController().signal,
      intervalMs: 1234,
      request: fake.request,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
    expect(result.cookies).toEqual([{ name: '_oauth2_proxy', value: 'secret' }]);
    expect(result.user).toBe('a@b.c');
    expect(sleeps).toEqual([1234, 1234]);
    expect(fake.calls).toHaveLength(3);
    for (const call of fake.calls) {
      expect(call.url).toBe('http://api.test/cookie-bridge/relay/claim');
      expect(call.options.method).toBe('POST');
      expect(JSON.parse(String(call.options.body))).toEqual({ verifier: VERIFIER });
    }
  });

  it('pauses between claims on the injected timers (no sleep given): nothing is claimed until the pause fires', async () => {
    const fake = scripted([response(202, '{"status":"pending"}'), response(200, JSON.stringify({ bundle }))]);
    const timers = manualTimers();
    const claimed = pollRelay('http://api.test', VERIFIER, {
      signal: new AbortController().signal,
      intervalMs: 1234,
      request: fake.request,
      timers,
    });
    const pause = await timers.next();
    expect(pause.ms).toBe(1234);
    expect(fake.calls).toHaveLength(1);
    pause.fire();
    expect((await claimed).user).toBe('a@b.c');
    expect(fake.calls).toHaveLength(2);
  });

  it('an abort during the pause cancels the injected timer and rejects with the reason', async () => {
    const fake = scripted([response(202, '{"status":"pending"}')]);
    const timers = manualTimers();
    const controller = new AbortController();
    const claimed = pollRelay('http://api.test', VERIFIER, {
      signal: controller.signal,
      request: fake.request,
      timers,
    });
    const pause = await timers.next();
    controller.abort(new Error('login finished'));
    await expect(claimed).rejects.toThrow('login finished');
    expect(pause.cancelled).toBe(true);
  });

  it('retries network errors a bounded number of times in a row, then fails', async () => {
    const failure = new Error('connect ECONNREFUSED');
    const fake = scripted([failure, response(503, '{}'), response(202, '{}'), failure, failure, failure]);
    let sleeps = 0;
    const run = pollRelay('http://api.test', VERIFIER, {
      signal: new AbortController().signal,
      request: fake.request,
      maxConsecutiveErrors: 3,
      sleep: () => {
        sleeps += 1;
        return Promise.resolve();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'E_RELAY_FAILED' });
    // the 202 reset the count: 2 errors, 1 pending, then 3 errors
    expect(fake.calls).toHaveLength(6);
    expect(sleeps).toBe(5);
  });

  it('does not count 503 relay_store_unavailable as errors, and tells once per outage (default: the logger)', async () => {
    const down = (): HttpResponse =>
      response(503, '{"error":"relay_store_unavailable","message":"relay store unavailable: try again"}');
    const fake = scripted([
      down(),
      down(),
      down(),
      down(),
      down(),
      response(202, '{"status":"pending"}'),
      down(),
      down(),
      down(),
      down(),
      response(503, '{}'),
      response(503, '{}'),
      response(503, '{}'),
    ]);
    const lines: string[] = [];
    const run = pollRelay('http://api.test', VERIFIER, {
      signal: new AbortController().signal,
      request: fake.request,
      maxConsecutiveErrors: 3,
      logger: {
        debug: () => undefined,
        info: (line) => lines.push(`info: ${line}`),
        warn: (line) => lines.push(`warn: ${line}`),
      },
      sleep: () => Promise.resolve(),
    });
    // Nine store-unavailable answers (more than maxConsecutiveErrors) went by; three plain 503s end it.
    await expect(run).rejects.toMatchObject({
      code: 'E_RELAY_FAILED',
      message: expect.stringContaining('3 times') as unknown,
    });
    expect(fake.calls).toHaveLength(13);
    expect(lines).toEqual([
      `warn: ${RELAY_STORE_OUTAGE_NOTICE}`,
      `info: ${RELAY_STORE_BACK_NOTICE}`,
      // "back" only once the store answers again (202), not on a load balancer's 503.
      `warn: ${RELAY_STORE_OUTAGE_NOTICE}`,
    ]);
  });

  it('stops when aborted, with the abort reason', async () => {
    const controller = new AbortController();
    const fake = scripted([response(202, '{}'), response(202, '{}')]);
    const run = pollRelay('http://api.test', VERIFIER, {
      signal: controller.signal,
      request: fake.request,
      sleep: () => {
        controller.abort(new Error('login finished'));
        return Promise.reject(controller.signal.reason as Error);
      },
    });
    await expect(run).rejects.toThrow('login finished');
    expect(fake.calls).toHaveLength(1);
  });

  it('stops at once when the registered sign-in is gone: 410 (wrong codes, claimed) or 404 (expired)', async () => {
    const cases: Array<[HttpResponse, RegExp]> = [
      [
        response(410, '{"error":"relay_ended","reason":"wrong-codes"}'),
        /too many wrong codes were typed on the page/,
      ],
      [response(410, '{"error":"relay_ended","reason":"claimed"}'), /already picked up/],
      [response(404, '{"error":"not_found"}'), /no longer knows it/],
    ];
    for (const [answer, message] of cases) {
      const fake = scripted([response(202, '{}'), answer, response(202, '{}')]);
      const run = pollRelay('http://api.test', VERIFIER, {
        signal: new AbortController().signal,
        request: fake.request,
        sleep: () => Promise.resolve(),
      });
      await expect(run).rejects.toMatchObject({
        code: 'E_RELAY_GONE',
        exitCode: 6,
        message: expect.stringMatching(message) as unknown,
      });
      expect(fake.calls).toHaveLength(2);
    }
  });

  it('fails at once on a 200 without a valid bundle', async () => {
    const fake = scripted([response(200, '{"bundle":"cb1.!!!"}')]);
    await expect(
      pollRelay('http://api.test', VERIFIER, {
        signal: new AbortController().signal,
        request: fake.request,
        sleep: () => Promise.resolve(),
      }),
    ).rejects.toMatchObject({ code: 'E_INVALID_BUNDLE' });
  });
});

/** The relay's hops report a refused certificate as every hop does (E_TLS, exit 9, the fix), never retried. */
describe('a refused TLS certificate on the relay hops', () => {
  const refused = (): TlsError =>
    new TlsError('https://api.test', "TLS: the server's certificate has expired", 'CERT_HAS_EXPIRED');

  it('checkRelaySupport, registerRelay and pollRelay pass TlsError on unchanged', async () => {
    await expect(
      checkRelaySupport('https://api.test', { request: scripted([refused()]).request }),
    ).rejects.toBeInstanceOf(TlsError);
    await expect(
      registerRelay(
        'https://api.test',
        { challenge: 'c'.repeat(43), code: 'K7QD-M2XW' },
        { request: scripted([refused()]).request },
      ),
    ).rejects.toMatchObject({ code: 'E_TLS', exitCode: 9 });
    const fake = scripted([response(202, '{}'), refused(), response(202, '{}')]);
    await expect(
      pollRelay('https://api.test', VERIFIER, {
        signal: new AbortController().signal,
        request: fake.request,
        sleep: () => Promise.resolve(),
      }),
    ).rejects.toBeInstanceOf(TlsError);
    expect(fake.calls).toHaveLength(2);
  });
});
