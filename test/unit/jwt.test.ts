import {
  createHmac,
  createPublicKey,
  generateKeyPairSync,
  sign as cryptoSign,
  verify as cryptoVerify,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import fc from 'fast-check';
import {
  ecJwkThumbprint,
  MAX_JWT_LENGTH,
  signJwt,
  unverifiedIssuer,
  unverifiedKid,
  verifyJwt,
  type JwtClaims,
  type VerifyJwtOptions,
} from '../../src/protocol/jwt';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const NOW_S = NOW / 1000;
const ISSUER = 'https://api.example.test/cookie-bridge/sa';
const AUDIENCE = 'cookie-bridge';

function ecKey(): { kid: string; privateKey: KeyObject; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid: ecJwkThumbprint(publicKey.export({ format: 'jwk' })), privateKey, publicKey };
}

const ours = ecKey();
const foreign = ecKey();

function options(overrides: Partial<VerifyJwtOptions> = {}): VerifyJwtOptions {
  return {
    keyFor: (kid) => (kid === ours.kid ? ours.publicKey : undefined),
    issuer: ISSUER,
    audience: AUDIENCE,
    now: NOW,
    ...overrides,
  };
}

function claims(overrides: JwtClaims = {}): JwtClaims {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'sa:ci',
    email: 'ci@service-accounts.invalid',
    role: 'user',
    jti: 'j1',
    iat: NOW_S,
    exp: NOW_S + 3600,
    ...overrides,
  };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with any header, signed by ES256 with `key` (P1363 unless told). */
function forged(
  header: Record<string, unknown>,
  body: JwtClaims = claims(),
  key: KeyObject = ours.privateKey,
  dsaEncoding: 'ieee-p1363' | 'der' = 'ieee-p1363',
): string {
  const input = `${b64(header)}.${b64(body)}`;
  return `${input}.${cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding }).toString('base64url')}`;
}

const good = (): string => signJwt(claims(), ours);

function replacePart(token: string, index: number, part: string): string {
  const parts = token.split('.');
  parts[index] = part;
  return parts.join('.');
}

describe('signJwt / verifyJwt', () => {
  it('signs ES256 with the kid in the header and verifies back to the claims', () => {
    const token = good();
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as unknown;
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', kid: ours.kid });
    expect(verifyJwt(token, options())).toEqual({ ok: true, kid: ours.kid, claims: claims() });
  });

  it('an independent implementation (WebCrypto, raw r||s) verifies our token with the published JWK', async () => {
    const token = good();
    const [h, p, s] = token.split('.') as [string, string, string];
    const jwk = ours.publicKey.export({ format: 'jwk' });
    const key = await webcrypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'verify',
    ]);
    const signature = Buffer.from(s, 'base64url');
    const data = Buffer.from(`${h}.${p}`);
    await expect(
      webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, data),
    ).resolves.toBe(true);
    const tampered = Buffer.from(data);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 1, tampered.length - 1);
    await expect(
      webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, tampered),
    ).resolves.toBe(false);
    // And node:crypto with the key imported from the JWK alone.
    const imported = createPublicKey({ key: jwk, format: 'jwk' });
    expect(cryptoVerify('sha256', data, { key: imported, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = ours.publicKey.export({ format: 'pem', type: 'spki' }).toString();

  const refusals: Array<[string, () => string, string, Partial<VerifyJwtOptions>?]> = [
    [
      'alg none with an empty signature',
      () => `${b64({ alg: 'none', kid: ours.kid })}.${b64(claims())}.`,
      'malformed',
    ],
    [
      'alg none with a signature',
      () => `${b64({ alg: 'none', kid: ours.kid })}.${b64(claims())}.AAAA`,
      'unsupported-algorithm',
    ],
    [
      'HS256 with our public key (PEM) as the HMAC secret',
      () => {
        const input = `${b64({ alg: 'HS256', kid: ours.kid })}.${b64(claims({ role: 'admin' }))}`;
        return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
      },
      'unsupported-algorithm',
    ],
    [
      'RS256 signed by an RSA key',
      () => {
        const input = `${b64({ alg: 'RS256', kid: ours.kid })}.${b64(claims())}`;
        return `${input}.${cryptoSign('sha256', Buffer.from(input), rsa.privateKey).toString('base64url')}`;
      },
      'unsupported-algorithm',
    ],
    ['ES384 named', () => forged({ alg: 'ES384', kid: ours.kid }), 'unsupported-algorithm'],
    ['lower-case es256', () => forged({ alg: 'es256', kid: ours.kid }), 'unsupported-algorithm'],
    ['alg missing', () => forged({ kid: ours.kid }), 'malformed'],
    ['alg not a string', () => forged({ alg: ['ES256'], kid: ours.kid }), 'malformed'],
    ['a crit header', () => forged({ alg: 'ES256', kid: ours.kid, crit: ['exp'] }), 'malformed'],
    ['kid missing', () => forged({ alg: 'ES256' }), 'unknown-key'],
    ['kid empty', () => forged({ alg: 'ES256', kid: '' }), 'unknown-key'],
    [
      'kid unknown (a foreign key set)',
      () => forged({ alg: 'ES256', kid: foreign.kid }, claims(), foreign.privateKey),
      'unknown-key',
    ],
    [
      'our kid, signed by a foreign key',
      () => forged({ alg: 'ES256', kid: ours.kid }, claims(), foreign.privateKey),
      'bad-signature',
    ],
    [
      'signature in DER, not P1363',
      () => forged({ alg: 'ES256', kid: ours.kid }, claims(), ours.privateKey, 'der'),
      'bad-signature',
    ],
    [
      'payload tampered (role admin), signature kept',
      () => replacePart(good(), 1, b64(claims({ role: 'admin' }))),
      'bad-signature',
    ],
    [
      'signature tampered (one bit)',
      () => {
        const sig = Buffer.from(good().split('.')[2]!, 'base64url');
        sig.writeUInt8(sig.readUInt8(10) ^ 0x01, 10);
        return replacePart(good(), 2, sig.toString('base64url'));
      },
      'bad-signature',
    ],
    [
      'signature truncated',
      () => replacePart(good(), 2, good().split('.')[2]!.slice(0, 40)),
      'bad-signature',
    ],
    [
      'signature of zeros',
      () => replacePart(good(), 2, Buffer.alloc(64).toString('base64url')),
      'bad-signature',
    ],
    ['base64 padding on the payload', () => replacePart(good(), 1, `${good().split('.')[1]}==`), 'malformed'],
    [
      'standard base64 alphabet (+ and /)',
      () => replacePart(good(), 2, Buffer.from(good().split('.')[2]!, 'base64url').toString('base64')),
      'malformed',
    ],
    ['garbage characters', () => replacePart(good(), 1, 'eyJ!@#$'), 'malformed'],
    [
      'non-canonical trailing bits in a part',
      () =>
        replacePart(
          good(),
          0,
          `${b64({ alg: 'ES256', kid: ours.kid })}`.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        ),
      'malformed',
    ],
    ['a length of 1 mod 4', () => replacePart(good(), 2, good().split('.')[2]!.slice(0, 85)), 'malformed'],
    [
      'header not JSON',
      () => replacePart(good(), 0, Buffer.from('alg=ES256').toString('base64url')),
      'malformed',
    ],
    ['header a JSON array', () => replacePart(good(), 0, b64(['ES256'])), 'malformed'],
    [
      'payload not UTF-8',
      () => replacePart(good(), 1, Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')),
      'malformed',
    ],
    ['two parts', () => good().split('.').slice(0, 2).join('.'), 'malformed'],
    ['four parts', () => `${good()}.AAAA`, 'malformed'],
    ['empty', () => '', 'malformed'],
    [
      'oversize (8 KiB + 1)',
      () => `${good()}${'A'.repeat(MAX_JWT_LENGTH)}`.slice(0, MAX_JWT_LENGTH + 1),
      'malformed',
    ],
    ['iss of another issuer', () => signJwt(claims({ iss: 'https://evil.test/sa' }), ours), 'wrong-issuer'],
    ['iss with a trailing slash', () => signJwt(claims({ iss: `${ISSUER}/` }), ours), 'wrong-issuer'],
    ['iss missing', () => signJwt(claims({ iss: undefined }), ours), 'malformed'],
    ['aud of another service', () => signJwt(claims({ aud: 'other' }), ours), 'wrong-audience'],
    ['aud array without ours', () => signJwt(claims({ aud: ['a', 'b'] }), ours), 'wrong-audience'],
    ['aud empty array', () => signJwt(claims({ aud: [] }), ours), 'malformed'],
    ['aud array with a number', () => signJwt(claims({ aud: [AUDIENCE, 5] }), ours), 'malformed'],
    ['aud missing', () => signJwt(claims({ aud: undefined }), ours), 'malformed'],
    ['exp missing', () => signJwt(claims({ exp: undefined }), ours), 'malformed'],
    ['exp a string', () => signJwt(claims({ exp: String(NOW_S + 3600) }), ours), 'malformed'],
    ['nbf a string', () => signJwt(claims({ nbf: 'soon' }), ours), 'malformed'],
    ['expired an hour ago', () => signJwt(claims({ exp: NOW_S - 3600 }), ours), 'expired'],
    ['nbf in an hour', () => signJwt(claims({ nbf: NOW_S + 3600 }), ours), 'not-yet-valid'],
    ['iat in an hour', () => signJwt(claims({ iat: NOW_S + 3600 }), ours), 'not-yet-valid'],
  ];

  it.each(refusals.map(([label, make, reason, extra]) => [label, reason, make, extra] as const))(
    '%s: %s',
    (_label, reason, make, extra) => {
      expect(verifyJwt(make(), options(extra))).toEqual({ ok: false, reason });
    },
  );

  it('accepts aud as an array that contains ours', () => {
    expect(verifyJwt(signJwt(claims({ aud: ['x', AUDIENCE] }), ours), options()).ok).toBe(true);
  });

  it('never throws on hostile input', () => {
    for (const input of [undefined, null, 42, {}, '...', 'a.b.c', '\u0000.\u0000.\u0000']) {
      expect(verifyJwt(input as string, options()).ok).toBe(false);
    }
    const throwingKeys = options({
      keyFor: () => {
        throw new Error('must not be called for malformed tokens');
      },
    });
    expect(verifyJwt('x.y', throwingKeys)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyJwt(forged({ alg: 'HS256', kid: ours.kid }), throwingKeys)).toEqual({
      ok: false,
      reason: 'unsupported-algorithm',
    });
  });

  it('refuses to sign a token over the size cap', () => {
    expect(() => signJwt(claims({ pad: 'x'.repeat(MAX_JWT_LENGTH) }), ours)).toThrow(RangeError);
  });
});

describe('time claims with the injected clock and 60 s of leeway', () => {
  const exp = NOW_S + 3600;
  const token = signJwt(claims({ exp, nbf: NOW_S, iat: NOW_S }), ours);
  const at = (ms: number, leewaySeconds?: number) =>
    verifyJwt(token, options({ now: ms, ...(leewaySeconds === undefined ? {} : { leewaySeconds }) }));

  it.each([
    ['1 ms before exp + 60 s', exp * 1000 + 59_999, undefined, true],
    ['exactly exp + 60 s', exp * 1000 + 60_000, undefined, 'expired'],
    ['exactly exp with no leeway', exp * 1000, 0, 'expired'],
    ['1 ms before exp with no leeway', exp * 1000 - 1, 0, true],
    ['a leeway above 60 s is held at 60 s', exp * 1000 + 60_000, 600, 'expired'],
    ['exactly nbf - 60 s', (NOW_S - 60) * 1000, undefined, true],
    ['1 ms before nbf - 60 s', (NOW_S - 60) * 1000 - 1, undefined, 'not-yet-valid'],
    ['1 ms before nbf with no leeway', NOW - 1, 0, 'not-yet-valid'],
  ])('%s', (_label, ms, leeway, expected) => {
    const verdict = at(ms, leeway);
    if (expected === true) expect(verdict.ok).toBe(true);
    else expect(verdict).toEqual({ ok: false, reason: expected });
  });
});

describe('unverified reads and the thumbprint', () => {
  it('reads iss and kid without verifying, and nothing from a non-JWT', () => {
    const token = signJwt(claims({ iss: 'https://other.test' }), foreign);
    expect(unverifiedIssuer(token)).toBe('https://other.test');
    expect(unverifiedKid(token)).toBe(foreign.kid);
    for (const bad of ['', 'opaque', 'a.b', `${'A'.repeat(MAX_JWT_LENGTH)}.a.b`]) {
      expect(unverifiedIssuer(bad)).toBeUndefined();
      expect(unverifiedKid(bad)).toBeUndefined();
    }
  });

  it('is the RFC 7638 SHA-256 of the ordered members crv, kty, x, y', () => {
    const jwk = { kty: 'EC', crv: 'P-256', x: 'eA', y: 'eQ' };
    // printf '{"crv":"P-256","kty":"EC","x":"eA","y":"eQ"}' | openssl dgst -sha256 -binary, in base64url
    expect(ecJwkThumbprint({ ...jwk, d: 'secret' } as typeof jwk)).toBe(ecJwkThumbprint(jwk));
    expect(ecJwkThumbprint(jwk)).toBe('XsuzE82157538AHHoFSQ-ycaXD33mFy1mVFXbB4k0V4');
    expect(() => ecJwkThumbprint({ kty: 'RSA' })).toThrow(TypeError);
  });
});

describe('properties', () => {
  const claimValue = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.string(), { maxLength: 3 }),
  );
  const extraClaims = fc.dictionary(
    fc
      .string({ minLength: 1, maxLength: 12 })
      .filter((k) => !['iss', 'aud', 'exp', 'nbf', 'iat'].includes(k)),
    claimValue,
    { maxKeys: 6 },
  );

  it('sign then verify gives the claims back', () => {
    fc.assert(
      fc.property(extraClaims, (extra) => {
        const body = { ...extra, ...claims() };
        const verdict = verifyJwt(signJwt(body, ours), options());
        expect(verdict).toEqual({
          ok: true,
          kid: ours.kid,
          claims: JSON.parse(JSON.stringify(body)) as unknown,
        });
      }),
      { numRuns: 100 },
    );
  });

  it('any single character changed is refused', () => {
    const token = good();
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.integer({ min: 0, max: 0x2ff }), (index, code) => {
        const replacement = String.fromCharCode(code);
        fc.pre(replacement !== token[index]);
        const changed = `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;
        expect(verifyJwt(changed, options()).ok).toBe(false);
      }),
      { numRuns: 400 },
    );
  });
});
