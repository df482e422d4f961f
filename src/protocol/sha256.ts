/**
 * SHA-256 (FIPS 180-4) of a string's UTF-8 bytes, in plain JavaScript. For the endpoint folder name only
 * (store-layout.ts endpointSlug): every command computes it, and loading node:crypto for it cost ~4 ms of
 * start-up. Not for secrets or comparisons (secret-compare.ts and the relay keep node:crypto); the digests are
 * checked against node:crypto in test/unit/sha256.test.ts.
 *
 * Words are kept as signed 32-bit integers, which V8 holds as small integers, and added with add32 in 16-bit
 * halves: an unsigned word above 2^31, or a plain sum past 2^31, is a 16-byte heap number in V8's interpreter,
 * and the straightforward version made hundreds of them for one endpoint (~7 KB of the young generation at
 * every start, bench/README.md section 3).
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** a + b modulo 2^32, as a signed 32-bit integer, without an intermediate past 2^31. */
const add32 = (a: number, b: number): number => {
  const low = (a & 0xffff) + (b & 0xffff);
  return ((((a >>> 16) + (b >>> 16) + (low >>> 16)) & 0xffff) << 16) | (low & 0xffff);
};

/** Rotates right by 1 to 31 bits. */
const rotr = (x: number, n: number): number => (x >>> n) | (x << (32 - n));

/** The SHA-256 digest of `text` (UTF-8), as 64 lowercase hex digits. */
export function sha256Hex(text: string): string {
  const bytes = new TextEncoder().encode(text);
  // Message, the 0x80 byte, zero padding, then the bit length (big-endian, 64 bits) in 64-byte blocks.
  const blocks = Math.ceil((bytes.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(bytes);
  padded[bytes.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = bytes.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const h = new Int32Array([
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  ]);
  const w = new Int32Array(64);
  // Typed-array reads are numbers here (indices always in range); `at` keeps the compiler's index checks quiet.
  const at = (array: Int32Array, index: number): number => array[index] ?? 0;
  for (let block = 0; block < blocks; block++) {
    for (let t = 0; t < 16; t++) w[t] = view.getInt32(block * 64 + t * 4);
    for (let t = 16; t < 64; t++) {
      const w15 = at(w, t - 15);
      const w2 = at(w, t - 2);
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      w[t] = add32(add32(at(w, t - 16), s0), add32(at(w, t - 7), s1));
    }
    let a = at(h, 0);
    let b = at(h, 1);
    let c = at(h, 2);
    let d = at(h, 3);
    let e = at(h, 4);
    let f = at(h, 5);
    let g = at(h, 6);
    let hh = at(h, 7);
    for (let t = 0; t < 64; t++) {
      const s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = add32(add32(add32(hh, s1), add32(ch, at(K, t))), at(w, t));
      const s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = add32(s0, maj);
      hh = g;
      g = f;
      f = e;
      e = add32(d, t1);
      d = c;
      c = b;
      b = a;
      a = add32(t1, t2);
    }
    h[0] = add32(at(h, 0), a);
    h[1] = add32(at(h, 1), b);
    h[2] = add32(at(h, 2), c);
    h[3] = add32(at(h, 3), d);
    h[4] = add32(at(h, 4), e);
    h[5] = add32(at(h, 5), f);
    h[6] = add32(at(h, 6), g);
    h[7] = add32(at(h, 7), hh);
  }
  let hex = '';
  for (let i = 0; i < 8; i++) hex += (at(h, i) >>> 0).toString(16).padStart(8, '0');
  return hex;
}
