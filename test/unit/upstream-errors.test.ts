import { errnoCode } from '../../src/errors';
import { upstreamErrorResponse, upstreamErrorStatus } from '../../src/http/upstream-errors';

describe('upstreamErrorStatus', () => {
  it.each([
    ['ECONNREFUSED', 502],
    ['ECONNRESET', 502],
    ['EPIPE', 502],
    ['ENOTFOUND', 502],
    ['EAI_AGAIN', 502],
    ['EHOSTUNREACH', 502],
    ['HPE_INVALID_CONSTANT', 502],
    ['ETIMEDOUT', 504],
    ['ESOCKETTIMEDOUT', 504],
    ['ECONNABORTED', 504],
    ['SOMETHING_ELSE', 502],
    [undefined, 502],
  ] as const)('%s → %d', (code, status) => {
    expect(upstreamErrorStatus(code)).toBe(status);
  });
});

describe('upstreamErrorResponse', () => {
  it('names the error kind and says briefly what happened', () => {
    expect(upstreamErrorResponse('ECONNREFUSED')).toEqual({
      status: 502,
      body: { error: 'bad_gateway', message: 'the upstream refused the connection (is it running?)' },
    });
    expect(upstreamErrorResponse('ETIMEDOUT')).toEqual({
      status: 504,
      body: { error: 'gateway_timeout', message: 'the upstream did not answer in time' },
    });
    expect(upstreamErrorResponse('HPE_INVALID_CHUNK_SIZE').body.message).toBe(
      'the upstream sent an invalid HTTP response',
    );
    expect(upstreamErrorResponse(undefined).body).toEqual({
      error: 'bad_gateway',
      message: 'the upstream request failed',
    });
  });

  it('never echoes the code or anything else it does not know', () => {
    const { body } = upstreamErrorResponse('E_SECRET_abc123');
    expect(JSON.stringify(body)).not.toContain('abc123');
  });
});

describe('errnoCode', () => {
  it('reads a string code and nothing else', () => {
    expect(errnoCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errnoCode(Object.assign(new Error('x'), { code: 42 }))).toBeUndefined();
    expect(errnoCode(null)).toBeUndefined();
    expect(errnoCode('ECONNRESET')).toBeUndefined();
  });
});
