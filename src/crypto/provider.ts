/**
 * The crypto provider: every primitive TLS 1.3 needs, bound to one engine's RandomSource.
 * @module
 */
import { aeadKey, type AeadKey, type AeadName } from './aead.js';
import { buildCurves, type BuildCurvesOptions, type CurveSet } from './curves.js';
import { hash, type HashFunction, type HashName } from './hash.js';
import { hkdfExpand, hkdfExtract, hmac } from './kdf.js';
import { createKeyExchange, type KeyExchange } from './kx.js';
import type { RandomSource } from './random.js';
import { createSignatures, type Signatures } from './sig.js';

export interface CryptoProvider {
  /** The engine's only source of randomness (the Platform's entropy, labelled). */
  readonly random: RandomSource;
  /** The engine's own curve instances (never noble's global ones). */
  readonly curves: CurveSet;
  readonly kx: KeyExchange;
  readonly signatures: Signatures;
  hash(name: HashName): HashFunction;
  hmac(hashName: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(hashName: HashName, salt: Uint8Array | undefined, ikm: Uint8Array): Uint8Array;
  hkdfExpand(hashName: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  aeadKey(name: AeadName, key: Uint8Array): AeadKey;
}

/**
 * Builds a provider. `init()` does this and then runs the self-tests and the warm-up; use
 * `init()` rather than calling this directly.
 * @example
 * const provider = createCryptoProvider(platformRandom(platform));
 */
export function createCryptoProvider(random: RandomSource, options: BuildCurvesOptions = {}): CryptoProvider {
  const curves = buildCurves(random, options);
  return Object.freeze({
    random,
    curves,
    kx: createKeyExchange(curves, random),
    signatures: createSignatures(curves, random),
    hash,
    hmac,
    hkdfExtract,
    hkdfExpand,
    aeadKey,
  });
}
