/** Reading a bearer token without trusting it (src/protocol/bearer-token.ts): serve verifies only tokens claiming its issuer. */
import { bearerToken, unverifiedIssuer } from '../../src/protocol/bearer-token';

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

describe('unverifiedIssuer', () => {
  it('reads iss from the payload', () => {
    expect(unverifiedIssuer(`${part({ alg: 'ES256' })}.${part({ iss: 'https://x/sa' })}.sig`)).toBe(
      'https://x/sa',
    );
  });

  it.each([
    ['two parts', `${part({})}.${part({ iss: 'a' })}`],
    ['payload not JSON', `${part({})}.bm90IGpzb24.sig`],
    ['payload an array', `${part({})}.${part(['iss'])}.sig`],
    ['iss not a string', `${part({})}.${part({ iss: 1 })}.sig`],
    ['payload not base64url', `${part({})}.a+b/c.sig`],
    ['no iss', `${part({})}.${part({ sub: 'x' })}.sig`],
  ])('%s → undefined', (_name, token) => {
    expect(unverifiedIssuer(token)).toBeUndefined();
  });
});
