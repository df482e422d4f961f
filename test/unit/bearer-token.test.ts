/** The token of an `Authorization: Bearer` header (src/protocol/bearer-token.ts), read without trusting it. */
import { bearerToken, claimedIssuer } from '../../src/protocol/bearer-token';

const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer abc', 'abc'],
    ['BEARER \tabc ', 'abc'],
  ])('%j → %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });

  it.each([undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Bearerabc'])(
    '%j → none',
    (header) => {
      expect(bearerToken(header)).toBeUndefined();
    },
  );
});

describe('claimedIssuer', () => {
  const payload = part({ iss: 'https://x/sa' });

  it.each([
    ['a well-formed token', `${part({ alg: 'ES256' })}.${payload}.c2ln`],
    ['alg none with an empty signature', `${part({ alg: 'none' })}.${payload}.`],
    ['an empty header', `.${payload}.c2ln`],
    ['a signature that is not base64url', `${part({})}.${payload}.not*base64`],
    ['an over-long signature', `${part({})}.${payload}.${'A'.repeat(9000)}`],
  ])('reads the claim of %s', (_name, token) => {
    expect(claimedIssuer(token)).toBe('https://x/sa');
  });

  it.each([
    ['two parts', `${part({})}.${payload}`],
    ['four parts', `${part({})}.${payload}.a.b`],
    ['payload not JSON', `${part({})}.bm90IGpzb24.sig`],
    ['payload an array', `${part({})}.${part(['iss'])}.sig`],
    ['iss not a string', `${part({})}.${part({ iss: 1 })}.sig`],
    ['payload not base64url', `${part({})}.a+b/c.sig`],
    ['no iss', `${part({})}.${part({ sub: 'x' })}.sig`],
  ])('none for %s', (_name, token) => {
    expect(claimedIssuer(token)).toBeUndefined();
  });
});
