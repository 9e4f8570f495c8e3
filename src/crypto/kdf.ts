/**
 * HMAC (RFC 2104) and HKDF (RFC 5869), the only key derivation TLS 1.3 uses.
 * @module
 */
import { expand, extract } from '@noble/hashes/hkdf.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { CryptoParameterError } from './errors.js';
import { hash, nobleHash, type HashName } from './hash.js';

/**
 * HMAC of `data` under `key`.
 * @example
 * hmac('SHA-256', finishedKey, transcriptHash);
 */
export function hmac(hashName: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return nobleHmac(nobleHash(hashName), key, data);
}

/**
 * HKDF-Extract (RFC 5869 2.2). An absent salt is HashLen zero bytes.
 * @example
 * const earlySecret = hkdfExtract('SHA-256', new Uint8Array(32), new Uint8Array(32));
 */
export function hkdfExtract(hashName: HashName, salt: Uint8Array | undefined, ikm: Uint8Array): Uint8Array {
  return extract(nobleHash(hashName), ikm, salt);
}

/**
 * HKDF-Expand (RFC 5869 2.3). RFC 5869 caps the output at 255 * HashLen bytes.
 * @example
 * const key = hkdfExpand('SHA-256', prk, info, 16);
 */
export function hkdfExpand(hashName: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const h = hash(hashName);
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * h.outputLen) {
    throw new CryptoParameterError(`HKDF-Expand output length ${length} is outside 0..${255 * h.outputLen}`);
  }
  if (prk.length < h.outputLen) {
    throw new CryptoParameterError(`HKDF-Expand needs a PRK of at least ${h.outputLen} bytes`);
  }
  if (length === 0) return new Uint8Array(0);
  return expand(nobleHash(hashName), prk, info, length);
}

/**
 * Extract-then-expand in one call.
 * @example
 * hkdf('SHA-256', ikm, salt, info, 42);
 */
export function hkdf(
  hashName: HashName,
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(hashName, hkdfExtract(hashName, salt, ikm), info, length);
}
