import { EndpointUnreachableError, TlsError, errnoCode } from '../../src/errors';
import {
  toUnreachableError,
  upstreamErrorResponse,
  upstreamErrorStatus,
} from '../../src/http/upstream-errors';

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

describe('TLS refusals: TlsError (E_TLS, exit 9) naming the endpoint, what was wrong and the fix', () => {
  const url = new URL('https://api.internal.example:8443/api/items');
  it.each([
    [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      /a CA this machine does not trust/,
      /--cacert FILE .*COOKIE_BRIDGE_CA_BUNDLE/,
    ],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', /a CA this machine does not trust/, /--cacert FILE/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /self-signed/, /--cacert FILE/],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', /is self-signed/, /--cacert FILE/],
    [
      'ERR_TLS_CERT_ALTNAME_INVALID',
      /for another host name/,
      /issued for.*reissued for api\.internal\.example/,
    ],
    ['CERT_HAS_EXPIRED', /has expired/, /renewed .*--cacert cannot fix this/],
    ['CERT_NOT_YET_VALID', /not valid yet/, /clock/],
    ['ERR_SSL_WRONG_VERSION_NUMBER', /does not speak TLS/, /use http:\/\//],
  ])('%s', (code, detail, fix) => {
    const error = toUnreachableError(url, Object.assign(new Error('tls'), { code }));
    expect(error).toBeInstanceOf(TlsError);
    expect(error).toMatchObject({ code: 'E_TLS', exitCode: 9, endpoint: url.origin, tlsCode: code });
    expect(error.message).toMatch(new RegExp(`^cannot reach ${url.origin.replace(/\./g, '\\.')}: TLS: `));
    expect(error.message).toMatch(detail);
    expect(error.hint).toMatch(fix);
    // The serve side answers them 502 with its own words.
    expect(upstreamErrorResponse(code)).toEqual({
      status: 502,
      body: { error: 'bad_gateway', message: "the upstream's TLS certificate was refused" },
    });
  });

  it('lists the names a certificate of another host name carries', () => {
    const error = toUnreachableError(
      url,
      Object.assign(new Error('altname'), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        cert: { subjectaltname: 'DNS:other.example, IP Address:10.0.0.1' },
      }),
    );
    expect(error.hint).toContain('(it names DNS:other.example, IP Address:10.0.0.1)');
  });

  it('leaves other failures EndpointUnreachableError (exit 5)', () => {
    const error = toUnreachableError(url, Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    expect(error).toBeInstanceOf(EndpointUnreachableError);
    expect(error.exitCode).toBe(5);
  });
});
