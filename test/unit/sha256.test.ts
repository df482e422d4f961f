/**
 * sha256Hex (src/protocol/sha256.ts) names every endpoint's folder (store-layout.ts endpointSlug), so it
 * must give node:crypto's digest for every input, or existing logins would no longer be found.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sha256Hex } from '../../src/protocol/sha256';
import { endpointSlug } from '../../src/store/store-layout';

const nodeSha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('sha256Hex', () => {
  it.each([
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    [
      'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq',
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    ],
  ])('the FIPS 180-4 example %j', (text, digest) => {
    expect(sha256Hex(text)).toBe(digest);
  });

  it('gives node:crypto’s digest around the block boundaries (55, 56, 63, 64, 119, 120 bytes)', () => {
    for (let length = 0; length <= 200; length++) {
      const text = 'x'.repeat(length);
      expect(sha256Hex(text)).toBe(nodeSha256(text));
    }
  });

  it('gives node:crypto’s digest for any string (UTF-8, lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(nodeSha256(text));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the endpoint folder names existing users have', () => {
    expect(endpointSlug('https://api.example.com')).toBe(
      `https_api.example.com-${nodeSha256('https://api.example.com').slice(0, 8)}`,
    );
    expect(endpointSlug('http://[::1]:8080/team/api/')).toBe(
      `http_--1_8080_team_api-${nodeSha256('http://[::1]:8080/team/api').slice(0, 8)}`,
    );
  });
});
