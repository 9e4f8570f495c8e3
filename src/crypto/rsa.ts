/**
 * RSA signatures for TLS 1.3 and certificates (RFC 8017): RSASSA-PSS and RSASSA-PKCS1-v1_5,
 * plus the BigInt arithmetic they need.
 *
 * - Verification of both schemes: TLS 1.3 signs handshakes with PSS only (RFC 8446 4.2.3), but
 *   certificates are still commonly signed with PKCS#1 v1.5.
 * - Signing uses the CRT with Garner's recombination, blinds the base with Platform entropy
 *   (`rsa_blinding`) and the CRT exponents too (`rsa_exponent_blinding`: d_p + r_1 (p - 1) and
 *   d_q + r_2 (q - 1), which give the same results but different exponent bits on every call),
 *   and checks every signature before releasing it (verify-after-sign), so a fault in one CRT
 *   half cannot leak a prime factor (the Bellcore attack).
 * - Public exponents are bounded (odd, 3 <= e < 2^33, as in ring; Go stops at 2^31 - 1): an
 *   exponent as long as the modulus would make each verification a full-size exponentiation,
 *   which a peer could repeat at will.
 * - PSS always uses MGF1 with the message hash and a salt as long as the hash, as TLS 1.3
 *   requires; other PSS parameters are not supported.
 *
 * JavaScript BigInt arithmetic is not constant-time. Blinding makes the values that enter the
 * private-key exponentiation random and unrelated to the message, which is the main defence
 * here; the fixed-window exponentiation additionally keeps the sequence of operations
 * independent of the exponent's bits.
 * @module
 */
import { constantTimeEqual } from './bytes.js';
import { CryptoError, CryptoParameterError, InvalidKeyError, SelfTestError } from './errors.js';
import { hash, type HashName } from './hash.js';
import type { RandomSource } from './random.js';

/** An RSA public key. Build it with {@link rsaPublicKey} so it is validated. */
export interface RsaPublicKey {
  readonly n: bigint;
  readonly e: bigint;
  /** Bit length of the modulus n. */
  readonly bits: number;
}

/** An RSA private key with its CRT values. Build it with {@link rsaPrivateKey} so it is validated. */
export interface RsaPrivateKey extends RsaPublicKey {
  readonly d: bigint;
  readonly p: bigint;
  readonly q: bigint;
  /** d mod (p - 1) */
  readonly dp: bigint;
  /** d mod (q - 1) */
  readonly dq: bigint;
  /** q^-1 mod p */
  readonly qInv: bigint;
}

/** The components {@link rsaPrivateKey} accepts; a missing d and missing CRT values are computed. */
export interface RsaPrivateKeyComponents {
  n: bigint;
  e: bigint;
  d?: bigint;
  p: bigint;
  q: bigint;
  dp?: bigint;
  dq?: bigint;
  qInv?: bigint;
}

/**
 * Modulus sizes. Peers' keys must have at least 2048 bits by default (web PKI, rustls-webpki);
 * a caller can lower that policy to 1024 (e.g. to replay the RFC 8448 transcripts, whose key
 * has 1024 bits). 1024 is the hard floor everywhere, as in Go's crypto/rsa; the 8192 ceiling
 * caps the work a peer's key can cause. Keys sandtls signs with may have 1024..4096 bits: an
 * operator's own key is their choice, but nothing below Go's floor.
 */
export const RSA_DEFAULT_MIN_BITS = 2048;
const ABSOLUTE_MIN_BITS = 1024;
const VERIFY_MAX_BITS = 8192;
const SIGN_MIN_BITS = ABSOLUTE_MIN_BITS;
const SIGN_MAX_BITS = 4096;
/**
 * Public exponents must be below 2^33 (ring's bound; every real key uses 65537). A larger e
 * costs a verifier one squaring per bit: a modulus-sized e makes an RSA-8192 check ~150 times
 * slower, and e = 65537 + k * lambda(n) verifies exactly like 65537, so it buys nothing.
 */
export const RSA_MAX_PUBLIC_EXPONENT_BITS = 33;
/** Bytes of each exponent-blinding multiplier r_i (64 bits, as in the usual CRT-exponent blinding). */
const EXPONENT_BLINDING_BYTES = 8;
/** Extra bytes drawn for the blinding factor so that reducing mod n leaves a bias below 2^-64. */
const BLINDING_EXTRA_BYTES = 8;
/** Attempts at a blinding factor before deciding the entropy source is broken. */
const BLINDING_ATTEMPTS = 3;
/** Exponentiation window width in bits (a 32-entry table). */
const WINDOW_BITS = 5;

// ---------------------------------------------------------------------------------------------
// BigInt helpers

/**
 * Number of bits in a non-negative integer (0 for 0).
 * @example
 * bitLength(255n); // 8
 */
export function bitLength(x: bigint): number {
  if (x < 0n) throw new CryptoParameterError('bitLength: negative integer');
  if (x === 0n) return 0;
  const hex = x.toString(16);
  // Every hex digit but the first contributes 4 bits; the first contributes its own bit length.
  return (hex.length - 1) * 4 + Number.parseInt(hex[0] ?? '0', 16).toString(2).length;
}

/**
 * OS2IP (RFC 8017 4.2): big-endian bytes to a non-negative integer.
 * @example
 * bytesToBigInt(Uint8Array.of(1, 0)); // 256n
 */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let hex = '';
  for (const b of bytes) hex += (b < 16 ? '0' : '') + b.toString(16);
  return BigInt('0x' + hex);
}

/**
 * I2OSP (RFC 8017 4.1): a non-negative integer to exactly `length` big-endian bytes.
 * Throws CryptoParameterError ("integer too large") if it does not fit.
 * @example
 * bigIntToBytes(256n, 4); // Uint8Array [0, 0, 1, 0]
 */
export function bigIntToBytes(x: bigint, length: number): Uint8Array<ArrayBuffer> {
  if (x < 0n) throw new CryptoParameterError('I2OSP: negative integer');
  if (!Number.isSafeInteger(length) || length < 0) throw new CryptoParameterError('I2OSP: bad length');
  const hex = x === 0n ? '' : x.toString(16);
  const digits = hex.length + (hex.length & 1);
  // RFC 8017 4.1 step 1: if x >= 256^xLen, output "integer too large".
  if (digits / 2 > length) throw new CryptoParameterError('I2OSP: integer too large');
  const out = new Uint8Array(length);
  const padded = hex.padStart(digits, '0');
  const offset = length - digits / 2;
  for (let i = 0; i < digits / 2; i++) out[offset + i] = Number.parseInt(padded.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * base^exp mod mod for a positive modulus and non-negative exponent.
 *
 * Large exponents use a fixed 5-bit window: the same squarings and table multiplications run
 * whatever the exponent's bits are (only its length matters). Exponents under 64 bits, such
 * as public exponents, use plain square-and-multiply.
 * @example
 * modPow(4n, 13n, 497n); // 445n
 */
export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  if (mod <= 0n) throw new CryptoParameterError('modPow: modulus must be positive');
  if (exp < 0n) throw new CryptoParameterError('modPow: negative exponent');
  if (mod === 1n) return 0n;
  let b = base % mod;
  if (b < 0n) b += mod;
  const bits = exp.toString(2);

  if (bits.length < 64) {
    let result = 1n;
    for (const bit of bits) {
      result = (result * result) % mod;
      if (bit === '1') result = (result * b) % mod;
    }
    return result;
  }

  // table[i] = b^i mod m for i in [0, 2^w).
  const size = 1 << WINDOW_BITS;
  const table: bigint[] = new Array<bigint>(size);
  table[0] = 1n;
  for (let i = 1; i < size; i++) table[i] = ((table[i - 1] as bigint) * b) % mod;

  const padded = bits.padStart(Math.ceil(bits.length / WINDOW_BITS) * WINDOW_BITS, '0');
  let result = 1n;
  for (let i = 0; i < padded.length; i += WINDOW_BITS) {
    if (i > 0) for (let j = 0; j < WINDOW_BITS; j++) result = (result * result) % mod;
    const digit = Number.parseInt(padded.slice(i, i + WINDOW_BITS), 2);
    result = (result * (table[digit] as bigint)) % mod;
  }
  return result;
}

/**
 * The inverse of `a` modulo `m` (m > 1), by the extended Euclidean algorithm.
 * Throws CryptoParameterError if gcd(a, m) != 1.
 * @example
 * modInverse(3n, 11n); // 4n, since 3 * 4 = 12 ≡ 1 (mod 11)
 */
export function modInverse(a: bigint, m: bigint): bigint {
  const inverse = _invert(a, m);
  if (inverse === undefined) throw new CryptoParameterError('modInverse: not invertible');
  return inverse;
}

/** a^-1 mod m, or undefined when gcd(a, m) != 1. */
function _invert(a: bigint, m: bigint): bigint | undefined {
  if (m <= 1n) throw new CryptoParameterError('modInverse: modulus must be greater than 1');
  let r0 = a % m;
  if (r0 < 0n) r0 += m;
  let r1 = m;
  let s0 = 1n;
  let s1 = 0n;
  // Invariant: r0 ≡ s0 * a and r1 ≡ s1 * a (mod m).
  while (r1 !== 0n) {
    const quotient = r0 / r1;
    const r = r0 - quotient * r1;
    r0 = r1;
    r1 = r;
    const s = s0 - quotient * s1;
    s0 = s1;
    s1 = s;
  }
  if (r0 !== 1n) return undefined;
  s0 %= m;
  return s0 < 0n ? s0 + m : s0;
}

function _gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Length in bytes of the modulus (k in RFC 8017). */
function _byteLength(n: bigint): number {
  return Math.ceil(bitLength(n) / 8);
}

// ---------------------------------------------------------------------------------------------
// Keys

/** Why (n, e) is not an acceptable public key, or undefined. Never mentions the values themselves. */
function _publicKeyProblem(n: bigint, e: bigint, minBits: number, maxBits: number): string | undefined {
  if (typeof n !== 'bigint' || typeof e !== 'bigint') return 'RSA key: n and e must be bigints';
  if (n <= 0n || (n & 1n) === 0n) return 'RSA key: modulus n must be odd and positive';
  const bits = bitLength(n);
  // The modulus size is public; saying it helps whoever has to replace the key.
  if (bits < minBits || bits > maxBits) return `RSA key: modulus has ${bits} bits, ${minBits}..${maxBits} allowed`;
  if ((e & 1n) === 0n) return 'RSA key: public exponent e must be odd';
  if (e < 3n || e >= n) return 'RSA key: public exponent e must satisfy 3 <= e < n';
  if (e >> BigInt(RSA_MAX_PUBLIC_EXPONENT_BITS) !== 0n) return `RSA key: public exponent e must be below 2^${RSA_MAX_PUBLIC_EXPONENT_BITS}`;
  return undefined;
}

/**
 * A validated RSA public key: n odd with `minBits` (default 2048, never below 1024) to 8192 bits
 * and e odd with 3 <= e < min(n, 2^33) (both upper bounds limit how much work a peer's
 * certificate can cause).
 * Throws InvalidKeyError otherwise.
 * @example
 * const key = rsaPublicKey(bytesToBigInt(modulusBytes), 65537n);
 * rsaPssVerify(key, 'SHA-256', message, signature);
 */
export function rsaPublicKey(n: bigint, e: bigint, options: { minBits?: number } = {}): RsaPublicKey {
  const minBits = Math.max(ABSOLUTE_MIN_BITS, options.minBits ?? RSA_DEFAULT_MIN_BITS);
  const problem = _publicKeyProblem(n, e, minBits, VERIFY_MAX_BITS);
  if (problem !== undefined) throw new InvalidKeyError(problem);
  return Object.freeze({ n, e, bits: bitLength(n) });
}

/**
 * A validated RSA private key for signing (1024..4096 bits). Checks that p * q = n,
 * e * d ≡ 1 (mod lcm(p - 1, q - 1)), and that any given CRT values are right; computes the
 * missing ones. Throws InvalidKeyError naming the failed check, never the values.
 * Primality of p and q is not tested; a composite factor would make signing fail its
 * verify-after-sign check instead of producing a bad signature.
 * @example
 * const key = rsaPrivateKey({ n, e: 65537n, d, p, q });
 * const signature = rsaPssSign(key, 'SHA-256', message, platformRandom(platform));
 */
export function rsaPrivateKey(c: RsaPrivateKeyComponents): RsaPrivateKey {
  const { n, e, p, q } = c;
  const problem = _publicKeyProblem(n, e, SIGN_MIN_BITS, SIGN_MAX_BITS);
  if (problem !== undefined) throw new InvalidKeyError(problem);
  for (const value of [c.d, p, q, c.dp, c.dq, c.qInv]) {
    if (value !== undefined && typeof value !== 'bigint') throw new InvalidKeyError('RSA private key: components must be bigints');
  }
  // RFC 8017 3.2: n = r_1 * r_2 with primes r_i > 1 (two-prime keys only).
  if (p <= 1n || q <= 1n) throw new InvalidKeyError('RSA private key: p and q must be greater than 1');
  if (p === q) throw new InvalidKeyError('RSA private key: p and q must be distinct');
  if (p * q !== n) throw new InvalidKeyError('RSA private key: p * q != n');
  const pMinus1 = p - 1n;
  const qMinus1 = q - 1n;
  const lambda = (pMinus1 / _gcd(pMinus1, qMinus1)) * qMinus1;
  // RFC 8017 3.2: d is a positive integer less than n with e * d ≡ 1 (mod λ(n)).
  const d = c.d ?? _invert(e, lambda);
  if (d === undefined) throw new InvalidKeyError('RSA private key: e is not invertible mod lcm(p - 1, q - 1)');
  if (d <= 0n || d >= n) throw new InvalidKeyError('RSA private key: d out of range');
  if ((e * d) % lambda !== 1n) throw new InvalidKeyError('RSA private key: e * d != 1 mod lcm(p - 1, q - 1)');
  // RFC 8017 3.2: e * dP ≡ 1 (mod p - 1), i.e. dP = d mod (p - 1); likewise dQ.
  const dp = d % pMinus1;
  if (c.dp !== undefined && c.dp !== dp) throw new InvalidKeyError('RSA private key: dp != d mod (p - 1)');
  const dq = d % qMinus1;
  if (c.dq !== undefined && c.dq !== dq) throw new InvalidKeyError('RSA private key: dq != d mod (q - 1)');
  // RFC 8017 3.2: q * qInv ≡ 1 (mod p), with qInv < p.
  let qInv: bigint;
  if (c.qInv !== undefined) {
    if (c.qInv <= 0n || c.qInv >= p || (c.qInv * q) % p !== 1n) {
      throw new InvalidKeyError('RSA private key: qInv * q != 1 mod p');
    }
    qInv = c.qInv;
  } else {
    const computed = _invert(q, p);
    if (computed === undefined) throw new InvalidKeyError('RSA private key: q is not invertible mod p');
    qInv = computed;
  }
  return Object.freeze({ n, e, bits: bitLength(n), d, p, q, dp, dq, qInv });
}

// ---------------------------------------------------------------------------------------------
// Primitives (RFC 8017 5.2)

/**
 * RSAVP1 (RFC 8017 5.2.2): s^e mod n, or undefined if the signature representative is out of
 * range. The caller has already checked the key.
 */
function _rsavp1(key: RsaPublicKey, s: bigint): bigint | undefined {
  // RFC 8017 5.2.2 step 1: s must be between 0 and n - 1.
  if (s >= key.n) return undefined;
  return modPow(s, key.e, key.n);
}

/**
 * Draws the blinding factor r in [2, n - 1] with r invertible mod n, and returns r with r^-1.
 * One draw of k + 8 bytes (k = modulus length): reducing a value 64 bits longer than n leaves a
 * bias below 2^-64, and mapping into [2, n - 1] by offset means no draw is rejected for being
 * 0 or 1. A draw is only repeated if r shares a factor with n, which for a real entropy source
 * happens with probability about 2^-1000; a source that keeps doing it is broken.
 */
function _blindingFactor(n: bigint, random: RandomSource): { r: bigint; rInv: bigint } {
  const length = _byteLength(n) + BLINDING_EXTRA_BYTES;
  for (let attempt = 0; attempt < BLINDING_ATTEMPTS; attempt++) {
    const bytes = random(length, 'rsa_blinding');
    if (bytes.length !== length) throw new CryptoError('RSA blinding: entropy source returned the wrong length');
    const r = (bytesToBigInt(bytes) % (n - 2n)) + 2n;
    // The raw draw determines r, and r undoes the blinding: zero it so it does not linger.
    bytes.fill(0);
    const rInv = _invert(r, n);
    if (rInv !== undefined) return { r, rInv };
  }
  throw new CryptoError('RSA blinding: entropy source gave no usable blinding factor');
}

/**
 * The CRT exponents blinded with one draw of 16 bytes (`rsa_exponent_blinding`): two 64-bit
 * multipliers r1, r2 (r_i + 1, so never 0) give dP + r1 (p - 1) and dQ + r2 (q - 1).
 */
function _blindExponents(key: RsaPrivateKey, random: RandomSource): { dpBlinded: bigint; dqBlinded: bigint } {
  const length = 2 * EXPONENT_BLINDING_BYTES;
  const bytes = random(length, 'rsa_exponent_blinding');
  if (bytes.length !== length) throw new CryptoError('RSA exponent blinding: entropy source returned the wrong length');
  const r1 = bytesToBigInt(bytes.subarray(0, EXPONENT_BLINDING_BYTES)) + 1n;
  const r2 = bytesToBigInt(bytes.subarray(EXPONENT_BLINDING_BYTES)) + 1n;
  // The draw determines the blinded exponents; do not leave it around.
  bytes.fill(0);
  return { dpBlinded: key.dp + r1 * (key.p - 1n), dqBlinded: key.dq + r2 * (key.q - 1n) };
}

/**
 * RSASP1 (RFC 8017 5.2.1) with base and exponent blinding, CRT and a verify-after-sign check:
 * s = ((m * r^e)^d mod n) * r^-1 mod n, with the exponentiation done mod p and mod q (blinded
 * exponents) and recombined by Garner's formula.
 */
function _rsasp1(key: RsaPrivateKey, m: bigint, random: RandomSource): bigint {
  const { n, e, p, q, qInv } = key;
  // RFC 8017 5.2.1 step 1: m must be between 0 and n - 1.
  if (m < 0n || m >= n) throw new CryptoParameterError('RSASP1: message representative out of range');
  const { r, rInv } = _blindingFactor(n, random);
  const blinded = (m * modPow(r, e, n)) % n;
  // Exponent blinding: c^(dP + r1 (p - 1)) = c^dP mod p by Fermat's little theorem (and both are
  // 0 when p divides c), so the results are unchanged while the exponent bits the
  // exponentiation walks through differ on every call.
  const { dpBlinded, dqBlinded } = _blindExponents(key, random);
  // RFC 8017 5.2.1 step 2.b: s_1 = c^dP mod p, s_2 = c^dQ mod q, h = (s_1 - s_2) * qInv mod p,
  // s = s_2 + q * h.
  const s1 = modPow(blinded % p, dpBlinded, p);
  const s2 = modPow(blinded % q, dqBlinded, q);
  let h = ((s1 - s2) * qInv) % p;
  if (h < 0n) h += p;
  const s = ((s2 + q * h) * rInv) % n;
  // Verify-after-sign: if one CRT half were wrong (a fault, or a corrupted dp/dq/qInv), s would
  // be right mod one prime only and gcd(s^e - m, n) would reveal the other. Never release it.
  if (modPow(s, e, n) !== m) throw new SelfTestError('RSA verify-after-sign check failed (possible fault)');
  return s;
}

// ---------------------------------------------------------------------------------------------
// EMSA-PSS (RFC 8017 9.1) with MGF1 (B.2.1)

/** MGF1 (RFC 8017 B.2.1): Hash(seed || C) for C = 0, 1, ... truncated to `length` bytes. */
function _mgf1(hashName: HashName, seed: Uint8Array, length: number): Uint8Array {
  const h = hash(hashName);
  const out = new Uint8Array(length);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  for (let counter = 0, offset = 0; offset < length; counter++, offset += h.outputLen) {
    // RFC 8017 B.2.1 step 3.A: C = I2OSP(counter, 4).
    input[seed.length] = counter >>> 24;
    input[seed.length + 1] = (counter >>> 16) & 0xff;
    input[seed.length + 2] = (counter >>> 8) & 0xff;
    input[seed.length + 3] = counter & 0xff;
    const block = h.digest(input);
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
  }
  return out;
}

/** H = Hash(M') with M' = (0x)00 00 00 00 00 00 00 00 || mHash || salt (RFC 8017 9.1.1 steps 5-6). */
function _pssHash(hashName: HashName, mHash: Uint8Array, salt: Uint8Array): Uint8Array {
  const mPrime = new Uint8Array(8 + mHash.length + salt.length);
  mPrime.set(mHash, 8);
  mPrime.set(salt, 8 + mHash.length);
  const h = hash(hashName).digest(mPrime);
  mPrime.fill(0); // holds the salt; do not leave copies of signing inputs around
  return h;
}

/** EMSA-PSS-ENCODE (RFC 8017 9.1.1) with sLen = hLen and MGF1 over the same hash. */
function _emsaPssEncode(hashName: HashName, message: Uint8Array, emBits: number, random: RandomSource): Uint8Array {
  const hLen = hash(hashName).outputLen;
  const sLen = hLen; // RFC 8446 4.2.3: the salt length MUST equal the digest length.
  const emLen = Math.ceil(emBits / 8);
  // RFC 8017 9.1.1 step 2: mHash = Hash(M).
  const mHash = hash(hashName).digest(message);
  // RFC 8017 9.1.1 step 3: if emLen < hLen + sLen + 2, "encoding error".
  if (emLen < hLen + sLen + 2) throw new CryptoParameterError('EMSA-PSS: modulus too short for this hash');
  // RFC 8017 9.1.1 step 4: random salt of sLen octets.
  const salt = random(sLen, 'pss_salt');
  if (salt.length !== sLen) throw new CryptoError('PSS: entropy source returned the wrong length');
  // RFC 8017 9.1.1 steps 5-6.
  const H = _pssHash(hashName, mHash, salt);
  // RFC 8017 9.1.1 steps 7-8: DB = PS || 0x01 || salt, PS = emLen - sLen - hLen - 2 zero octets.
  const dbLen = emLen - hLen - 1;
  const db = new Uint8Array(dbLen);
  db[dbLen - sLen - 1] = 0x01;
  db.set(salt, dbLen - sLen);
  salt.fill(0); // the salt is recoverable from the signature, but nothing else needs this copy
  // RFC 8017 9.1.1 steps 9-10: maskedDB = DB xor MGF(H, emLen - hLen - 1).
  const dbMask = _mgf1(hashName, H, dbLen);
  for (let i = 0; i < dbLen; i++) db[i] = (db[i] as number) ^ (dbMask[i] as number);
  // RFC 8017 9.1.1 step 11: clear the leftmost 8 * emLen - emBits bits of maskedDB.
  db[0] = (db[0] as number) & (0xff >>> (8 * emLen - emBits));
  // RFC 8017 9.1.1 step 12: EM = maskedDB || H || 0xbc.
  const em = new Uint8Array(emLen);
  em.set(db);
  em.set(H, dbLen);
  em[emLen - 1] = 0xbc;
  db.fill(0);
  return em;
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 9.1.1) with sLen = hLen, the salt drawn as `random(hLen, 'pss_salt')`:
 * the encoded message EM of ceil(emBits / 8) bytes, for a provider whose RSA private-key operation
 * is native (the Platform still chooses the salt).
 * @example
 * const em = emsaPssEncode('SHA-256', message, bitLength(n) - 1, random);
 */
export function emsaPssEncode(hashName: HashName, message: Uint8Array, emBits: number, random: RandomSource): Uint8Array {
  return _emsaPssEncode(hashName, message, emBits, random);
}

/** EMSA-PSS-VERIFY (RFC 8017 9.1.2) with sLen = hLen; true for "consistent". */
function _emsaPssVerify(hashName: HashName, message: Uint8Array, em: Uint8Array, emBits: number): boolean {
  const hLen = hash(hashName).outputLen;
  const sLen = hLen; // RFC 8446 4.2.3: the salt length MUST equal the digest length.
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen) return false;
  // RFC 8017 9.1.2 step 2: mHash = Hash(M).
  const mHash = hash(hashName).digest(message);
  // RFC 8017 9.1.2 step 3: if emLen < hLen + sLen + 2, "inconsistent".
  if (emLen < hLen + sLen + 2) return false;
  // RFC 8017 9.1.2 step 4: the rightmost octet must be 0xbc.
  if (em[emLen - 1] !== 0xbc) return false;
  // RFC 8017 9.1.2 step 5: maskedDB is the first emLen - hLen - 1 octets, H the next hLen.
  const dbLen = emLen - hLen - 1;
  const maskedDB = em.subarray(0, dbLen);
  const H = em.subarray(dbLen, dbLen + hLen);
  // RFC 8017 9.1.2 step 6: the leftmost 8 * emLen - emBits bits of maskedDB must be zero.
  const topMask = 0xff >>> (8 * emLen - emBits);
  if (((maskedDB[0] as number) & ~topMask & 0xff) !== 0) return false;
  // RFC 8017 9.1.2 steps 7-9: DB = maskedDB xor MGF(H, emLen - hLen - 1), top bits cleared.
  const db = _mgf1(hashName, H, dbLen);
  for (let i = 0; i < dbLen; i++) db[i] = (db[i] as number) ^ (maskedDB[i] as number);
  db[0] = (db[0] as number) & topMask;
  // RFC 8017 9.1.2 step 10: the emLen - hLen - sLen - 2 leftmost octets of DB must be zero and
  // the next one 0x01. With sLen fixed to hLen this is where a different salt length fails.
  const psLen = emLen - hLen - sLen - 2;
  let bad = (db[psLen] as number) ^ 0x01;
  for (let i = 0; i < psLen; i++) bad |= db[i] as number;
  if (bad !== 0) return false;
  // RFC 8017 9.1.2 steps 11-14: salt = last sLen octets of DB; H' = Hash(M'); H must equal H'.
  const salt = db.subarray(dbLen - sLen);
  return constantTimeEqual(H, _pssHash(hashName, mHash, salt));
}

// ---------------------------------------------------------------------------------------------
// EMSA-PKCS1-v1_5 (RFC 8017 9.2)

/**
 * DER of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { OID, NULL }, OCTET STRING } up to the
 * digest, as listed in RFC 8017 9.2 note 1. The NULL parameter (05 00) is required.
 */
const DIGEST_INFO_PREFIX: Readonly<Record<HashName, readonly number[]>> = Object.freeze({
  // 2.16.840.1.101.3.4.2.1
  'SHA-256': Object.freeze([0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20]),
  // 2.16.840.1.101.3.4.2.2
  'SHA-384': Object.freeze([0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30]),
  // 2.16.840.1.101.3.4.2.3
  'SHA-512': Object.freeze([0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40]),
});

/** EMSA-PKCS1-v1_5-ENCODE (RFC 8017 9.2): EM = 0x00 || 0x01 || PS (0xff...) || 0x00 || T. */
function _emsaPkcs1v15Encode(hashName: HashName, message: Uint8Array, emLen: number): Uint8Array {
  const prefix = DIGEST_INFO_PREFIX[hashName];
  if (prefix === undefined) throw new CryptoParameterError(`unsupported hash: ${String(hashName)}`);
  // RFC 8017 9.2 steps 1-2: H = Hash(M); T = DER(DigestInfo) = prefix || H.
  const H = hash(hashName).digest(message);
  const tLen = prefix.length + H.length;
  // RFC 8017 9.2 step 3: if emLen < tLen + 11, "intended encoded message length too short".
  if (emLen < tLen + 11) throw new CryptoParameterError('EMSA-PKCS1-v1_5: modulus too short for this hash');
  // RFC 8017 9.2 steps 4-5: PS is emLen - tLen - 3 octets of 0xff (at least 8).
  const em = new Uint8Array(emLen);
  em[1] = 0x01;
  em.fill(0xff, 2, emLen - tLen - 1);
  em[emLen - tLen - 1] = 0x00;
  em.set(prefix, emLen - tLen);
  em.set(H, emLen - H.length);
  return em;
}

// ---------------------------------------------------------------------------------------------
// Signature schemes (RFC 8017 8.1, 8.2)

/**
 * RSASSA-PSS-SIGN (RFC 8017 8.1.1) with MGF1 over the same hash and a salt as long as the hash
 * (RFC 8446 4.2.3). Draws `random(hLen, 'pss_salt')`, `random(k + 8, 'rsa_blinding')`
 * (k = modulus length in bytes) and `random(16, 'rsa_exponent_blinding')`. Throws
 * SelfTestError if the verify-after-sign check fails.
 * @example
 * const sig = rsaPssSign(key, 'SHA-256', transcriptContent, platformRandom(platform));
 */
export function rsaPssSign(key: RsaPrivateKey, hashName: HashName, message: Uint8Array, random: RandomSource): Uint8Array<ArrayBuffer> {
  const k = _byteLength(key.n);
  // RFC 8017 8.1.1 step 1: EM = EMSA-PSS-ENCODE(M, modBits - 1).
  const em = _emsaPssEncode(hashName, message, bitLength(key.n) - 1, random);
  // RFC 8017 8.1.1 step 2: m = OS2IP(EM); s = RSASP1(K, m); S = I2OSP(s, k).
  const m = bytesToBigInt(em);
  return bigIntToBytes(_rsasp1(key, m, random), k);
}

/**
 * RSASSA-PSS-VERIFY (RFC 8017 8.1.2) with MGF1 over the same hash and a salt exactly as long as
 * the hash (RFC 8446 4.2.3). Returns false for any bad signature; draws no randomness.
 * @example
 * if (!rsaPssVerify(key, 'SHA-256', content, signature)) throw new Error('bad CertificateVerify');
 */
export function rsaPssVerify(key: RsaPublicKey, hashName: HashName, message: Uint8Array, signature: Uint8Array): boolean {
  const problem = _publicKeyProblem(key.n, key.e, ABSOLUTE_MIN_BITS, VERIFY_MAX_BITS);
  if (problem !== undefined) throw new InvalidKeyError(problem);
  const modBits = bitLength(key.n);
  const k = Math.ceil(modBits / 8);
  // RFC 8017 8.1.2 step 1: the signature must be exactly k octets.
  if (signature.length !== k) return false;
  // RFC 8017 8.1.2 step 2: s = OS2IP(S); m = RSAVP1((n, e), s), failing if s >= n.
  const m = _rsavp1(key, bytesToBigInt(signature));
  if (m === undefined) return false;
  // RFC 8017 8.1.2 step 2.c: EM = I2OSP(m, emLen), emLen = ceil((modBits - 1) / 8);
  // "integer too large" means "invalid signature".
  const emBits = modBits - 1;
  const emLen = Math.ceil(emBits / 8);
  if (bitLength(m) > emLen * 8) return false;
  // RFC 8017 8.1.2 step 3: EMSA-PSS-VERIFY.
  return _emsaPssVerify(hashName, message, bigIntToBytes(m, emLen), emBits);
}

/**
 * RSASSA-PKCS1-V1_5-SIGN (RFC 8017 8.2.1). The signature is deterministic; the randomness only
 * blinds the private-key operation (`random(k + 8, 'rsa_blinding')`, then
 * `random(16, 'rsa_exponent_blinding')`). Throws SelfTestError if
 * the verify-after-sign check fails.
 * @example
 * const sig = rsaPkcs1v15Sign(caKey, 'SHA-256', tbsCertificate, platformRandom(platform));
 */
export function rsaPkcs1v15Sign(key: RsaPrivateKey, hashName: HashName, message: Uint8Array, random: RandomSource): Uint8Array<ArrayBuffer> {
  const k = _byteLength(key.n);
  // RFC 8017 8.2.1 step 1: EM = EMSA-PKCS1-V1_5-ENCODE(M, k).
  const em = _emsaPkcs1v15Encode(hashName, message, k);
  // RFC 8017 8.2.1 step 2: m = OS2IP(EM); s = RSASP1(K, m); S = I2OSP(s, k).
  const m = bytesToBigInt(em);
  return bigIntToBytes(_rsasp1(key, m, random), k);
}

/**
 * RSASSA-PKCS1-V1_5-VERIFY (RFC 8017 8.2.2): recovers the encoded message and compares it whole
 * with the expected encoding (DigestInfo with its NULL parameter), so no parsing of the
 * signature's padding or ASN.1 happens. Returns false for any bad signature.
 * @example
 * rsaPkcs1v15Verify(issuerKey, 'SHA-256', tbsCertificate, signatureValue); // true or false
 */
export function rsaPkcs1v15Verify(key: RsaPublicKey, hashName: HashName, message: Uint8Array, signature: Uint8Array): boolean {
  const problem = _publicKeyProblem(key.n, key.e, ABSOLUTE_MIN_BITS, VERIFY_MAX_BITS);
  if (problem !== undefined) throw new InvalidKeyError(problem);
  const k = _byteLength(key.n);
  // RFC 8017 8.2.2 step 1: the signature must be exactly k octets.
  if (signature.length !== k) return false;
  // RFC 8017 8.2.2 step 2: s = OS2IP(S); m = RSAVP1((n, e), s), failing if s >= n; EM = I2OSP(m, k).
  const m = _rsavp1(key, bytesToBigInt(signature));
  if (m === undefined) return false;
  const em = bigIntToBytes(m, k);
  // RFC 8017 8.2.2 steps 3-4: EM' = EMSA-PKCS1-V1_5-ENCODE(M, k); valid only if EM = EM'.
  return constantTimeEqual(em, _emsaPkcs1v15Encode(hashName, message, k));
}
