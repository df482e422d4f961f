/**
 * The tables every HTTP hop shares (src/http/, the errno table in upstream-errors.ts): one answer whichever
 * component asks, so `serve` and the local forwarding proxy cannot drift apart again.
 */
import { upstreamFailureAnswer } from '../../src/local-proxy/proxy-answers';
import { EndpointUnreachableError } from '../../src/errors';
import { clientErrorStatus } from '../../src/http/client-error-status';
import { connectionListedHeaders, HOP_BY_HOP_HEADERS, isHopByHop } from '../../src/http/hop-by-hop';
import { isLoopbackHost, loopbackOrigins } from '../../src/http/loopback-host';
import { networkErrorCode, toUnreachableError, upstreamErrorResponse } from '../../src/http/upstream-errors';

const UPSTREAM = new URL('http://127.0.0.1:9/api');
const failure = (code: string): Error => Object.assign(new Error(`failed: ${code}`), { code });

describe('the errno table: serve and the local proxy answer the same gateway status', () => {
  it.each([
    ['UND_ERR_HEADERS_TIMEOUT', 504],
    ['UND_ERR_CONNECT_TIMEOUT', 504],
    ['ETIMEDOUT', 504],
    ['ESOCKETTIMEDOUT', 504],
    ['ECONNABORTED', 504],
    ['ECONNREFUSED', 502],
    ['ECONNRESET', 502],
    ['UND_ERR_SOCKET', 502],
    ['ENOTFOUND', 502],
    ['HPE_INVALID_CONSTANT', 502],
  ] as const)('%s → %d in both', (code, status) => {
    expect(upstreamErrorResponse(code).status).toBe(status);
    const answer = upstreamFailureAnswer(UPSTREAM, failure(code));
    expect(answer.status).toBe(status);
    expect(answer.code).toBe(status === 504 ? 'gateway_timeout' : 'bad_gateway');
  });

  it('describes client-side failures in words, naming only the origin', () => {
    const refused = toUnreachableError(UPSTREAM, failure('ECONNREFUSED'));
    expect(refused).toBeInstanceOf(EndpointUnreachableError);
    expect(refused.message).toContain('http://127.0.0.1:9');
    expect(refused.message).toContain('connection refused (is the server running?)');
    expect(refused.message).not.toContain('/api');
    expect(toUnreachableError(UPSTREAM, failure('UND_ERR_HEADERS_TIMEOUT'), 7000).message).toContain(
      'no answer within 7 s',
    );
  });

  it('reads an abort (a DOMException with a numeric code) as "aborted"', () => {
    const controller = new AbortController();
    controller.abort();
    expect(networkErrorCode(controller.signal.reason)).toBe('ABORT_ERR');
    expect(toUnreachableError(UPSTREAM, controller.signal.reason).message).toMatch(/: aborted$/);
  });
});

describe('hop-by-hop headers', () => {
  it('holds the RFC 9110 set, and what Connection lists', () => {
    for (const name of [
      'connection',
      'keep-alive',
      'proxy-connection',
      'te',
      'trailer',
      'transfer-encoding',
      'upgrade',
    ])
      expect(HOP_BY_HOP_HEADERS.has(name)).toBe(true);
    const listed = connectionListedHeaders(['close, X-Private', 'keep-alive']);
    expect([...listed]).toEqual(['x-private']);
    expect(isHopByHop('x-private', listed)).toBe(true);
    expect(isHopByHop('content-type', listed)).toBe(false);
  });
});

describe('the loopback Host check', () => {
  it.each([
    ['127.0.0.1:8080', true],
    ['LOCALHOST:8080', true],
    ['[::1]:8080', true],
    [' localhost:8080 ', true],
    ['127.0.0.1:8081', false],
    ['evil.example:8080', false],
    ['127.0.0.1', false],
    [undefined, false],
  ] as const)('%s → %s', (host, ok) => {
    expect(isLoopbackHost(host, 8080)).toBe(ok);
  });

  it('gives the matching origins', () => {
    expect(loopbackOrigins(8080)).toEqual([
      'http://127.0.0.1:8080',
      'http://localhost:8080',
      'http://[::1]:8080',
    ]);
  });
});

describe('clientErrorStatus', () => {
  it.each([
    [{ status: 413 }, 413],
    [{ statusCode: 400 }, 400],
    [{ status: 500 }, undefined],
    [{ status: 404.5 }, undefined],
    [new Error('plain'), undefined],
    [null, undefined],
    ['400', undefined],
  ] as const)('%p → %p', (error, status) => {
    expect(clientErrorStatus(error)).toBe(status);
  });
});
