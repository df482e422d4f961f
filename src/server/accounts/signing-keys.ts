import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { ecJwkThumbprint, type JwtSigningKey } from '../../protocol/jwt';
import type { AccountDocumentCodec } from './account-state-store';
import type { PublicJwk } from './account-types';

/**
 * The signing keys of serve's service accounts: one current key that signs new tokens and the retired keys
 * whose tokens may still be valid. A key is an EC P-256 pair; its `kid` is its RFC 7638 thumbprint. The current
 * key is replaced (rotated) when it is older than keyLifetimeMs or on rotateKey(); a retired key stays published
 * until retiredAt + maxLifetimeMs (no token it signed can outlive that) and is dropped after.
 *
 * The private halves live only inside SigningKey objects (a private field) and in the keys document's stored
 * JSON; JSON.stringify, util.inspect and String() of a key or of the key set show the kid and times only.
 */

export class SigningKey {
  readonly #privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicJwk: PublicJwk;

  constructor(
    privateKey: KeyObject,
    readonly createdAt: number,
    readonly retiredAt?: number,
  ) {
    this.#privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    const jwk = this.publicKey.export({ format: 'jwk' });
    const kid = ecJwkThumbprint(jwk);
    this.publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, kid, alg: 'ES256', use: 'sig' };
  }

  get kid(): string {
    return this.publicJwk.kid;
  }

  /** What signJwt needs: only the token signer asks for it. */
  signingKey(): JwtSigningKey {
    return { kid: this.kid, privateKey: this.#privateKey };
  }

  retire(at: number): SigningKey {
    return new SigningKey(this.#privateKey, this.createdAt, at);
  }

  /** The stored form, private half included: for the keys document only. */
  storedForm(): StoredSigningKey {
    const jwk = this.#privateKey.export({ format: 'jwk' });
    return {
      kid: this.kid,
      createdAt: this.createdAt,
      ...(this.retiredAt === undefined ? {} : { retiredAt: this.retiredAt }),
      privateJwk: { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, d: jwk.d! },
    };
  }

  toJSON(): { kid: string; createdAt: number; retiredAt?: number } {
    return {
      kid: this.kid,
      createdAt: this.createdAt,
      ...(this.retiredAt === undefined ? {} : { retiredAt: this.retiredAt }),
    };
  }

  toString(): string {
    return `SigningKey(${this.kid})`;
  }

  [inspect.custom](): string {
    return `SigningKey ${JSON.stringify(this.toJSON())}`;
  }
}

export interface StoredSigningKey {
  kid: string;
  createdAt: number;
  retiredAt?: number;
  privateJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };
}

/** The keys document: the current key (the one not retired) and the retired ones still published. */
export interface SigningKeySet {
  keys: readonly SigningKey[];
}

/** A new P-256 key pair, current from `now`. */
export function generateSigningKey(now: number): SigningKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return new SigningKey(privateKey, now);
}

/** The key that signs, undefined when there is none yet. */
export function currentKey(set: SigningKeySet): SigningKey | undefined {
  return set.keys.find((key) => key.retiredAt === undefined);
}

export interface KeyTimes {
  now: number;
  keyLifetimeMs: number;
  maxLifetimeMs: number;
}

/** True when the set needs a new current key: none yet, or the current one is keyLifetimeMs old. */
export function rotationDue(set: SigningKeySet, times: KeyTimes): boolean {
  const current = currentKey(set);
  return current === undefined || times.now - current.createdAt >= times.keyLifetimeMs;
}

/** The set with a new current key: the old current one retired now, retired keys past their time dropped. */
export function rotate(set: SigningKeySet, times: KeyTimes): SigningKeySet {
  const kept = set.keys
    .map((key) => (key.retiredAt === undefined ? key.retire(times.now) : key))
    .filter((key) => isPublished(key, times));
  return { keys: [...kept, generateSigningKey(times.now)] };
}

/** The keys whose tokens may still be valid: the current one and each retired one until retiredAt + maxLifetimeMs. */
export function publishedKeys(set: SigningKeySet, times: Omit<KeyTimes, 'keyLifetimeMs'>): SigningKey[] {
  return set.keys.filter((key) => isPublished(key, times));
}

function isPublished(key: SigningKey, times: Omit<KeyTimes, 'keyLifetimeMs'>): boolean {
  return key.retiredAt === undefined || times.now < key.retiredAt + times.maxLifetimeMs;
}

export const signingKeysCodec: AccountDocumentCodec<SigningKeySet> = {
  name: 'keys',
  empty: () => ({ keys: [] }),
  serialize: (set) => ({ version: 1, keys: set.keys.map((key) => key.storedForm()) }),
  parse(raw) {
    if (!isRecord(raw) || raw.version !== 1 || !Array.isArray(raw.keys)) {
      throw new Error('is not a cookie-bridge keys document (version 1 with a "keys" list)');
    }
    const keys = raw.keys.map((entry: unknown, index) => parseStoredKey(entry, index));
    if (keys.filter((key) => key.retiredAt === undefined).length > 1) {
      throw new Error('has more than one current (not retired) key');
    }
    return { keys };
  },
};

function parseStoredKey(entry: unknown, index: number): SigningKey {
  const where = `key ${index + 1}`;
  if (!isRecord(entry) || typeof entry.kid !== 'string' || !isTime(entry.createdAt)) {
    throw new Error(`${where} lacks its kid or createdAt`);
  }
  if (entry.retiredAt !== undefined && !isTime(entry.retiredAt))
    throw new Error(`${where} has a bad retiredAt`);
  const jwk = entry.privateJwk;
  if (
    !isRecord(jwk) ||
    jwk.kty !== 'EC' ||
    jwk.crv !== 'P-256' ||
    ![jwk.x, jwk.y, jwk.d].every((part) => typeof part === 'string')
  ) {
    throw new Error(`${where} is not an EC P-256 private key`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({
      key: { kty: 'EC', crv: 'P-256', x: jwk.x as string, y: jwk.y as string, d: jwk.d as string },
      format: 'jwk',
    });
  } catch {
    // Node's message could describe the key material: leave it out.
    throw new Error(`${where} cannot be read as an EC P-256 private key`);
  }
  const key = new SigningKey(privateKey, entry.createdAt, entry.retiredAt as number | undefined);
  if (key.kid !== entry.kid) throw new Error(`${where}: its kid does not match the key`);
  return key;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
