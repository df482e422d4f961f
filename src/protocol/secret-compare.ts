import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in constant time (of their SHA-256 digests, so the lengths do not leak either). */
export function secretsEqual(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
