/**
 * The crypto provider: every primitive TLS 1.3 needs, bound to one engine's RandomSource.
 *
 * `init({ platform, crypto })` takes a `CryptoProviderFactory`; the default,
 * `nobleCryptoProvider()`, is pure TypeScript (@noble/*) and is the provider the jail, seccomp
 * and ambient-globals tests prove: with it, every OS capability reaches the engine through the
 * Platform. A foreign provider (native, WebCrypto) supplies the same primitives; it must draw
 * its randomness through the `random` it is given, or say where it does not.
 * @module
 */
import { aeadKey, type AeadKey, type AeadName } from './aead.js';
import { buildCurves, type BuildCurvesOptions, type CurveSet } from './curves.js';
import { hash, type HashFunction, type HashName } from './hash.js';
import { hkdfExpand, hkdfExtract, hmac } from './kdf.js';
import { createKeyExchange, type KeyExchange } from './kx.js';
import type { RandomSource } from './random.js';
import { createSignatures, type Signatures } from './sig.js';

/**
 * The hashes and the HMAC/HKDF built on them: what the key schedule and transcripts need.
 * @example
 * const prk = hashes.hkdfExtract('SHA-256', salt, ikm);
 */
export interface Hashes {
  hash(name: HashName): HashFunction;
  hmac(hashName: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(hashName: HashName, salt: Uint8Array | undefined, ikm: Uint8Array): Uint8Array;
  hkdfExpand(hashName: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
}

/**
 * What the TLS layer's key schedule, transcripts, record protection and ticket sealing use:
 * the hashes, HMAC/HKDF and the AEADs. Every `CryptoProvider` is one.
 */
export interface TlsPrimitives extends Hashes {
  aeadKey(name: AeadName, key: Uint8Array): AeadKey;
}

/** Every primitive an engine uses: what a provider (noble, native, WebCrypto) supplies. */
export interface CryptoProvider extends TlsPrimitives {
  /** The engine's only source of randomness (the Platform's entropy, labelled). */
  readonly random: RandomSource;
  readonly kx: KeyExchange;
  readonly signatures: Signatures;
  /**
   * The noble provider's own curve instances (never noble's global ones), for its self-tests and
   * x509 key generation; a foreign provider leaves it out.
   */
  readonly curves?: CurveSet;
}

/**
 * Builds a provider bound to an engine's RandomSource (which draws from the Platform). `init()`
 * calls it once, then runs the self-tests and warm-up against what it returns.
 */
export type CryptoProviderFactory = (random: RandomSource) => CryptoProvider;

/** The noble provider: a `CryptoProvider` whose `curves` are always there. */
export interface NobleCryptoProvider extends CryptoProvider {
  readonly curves: CurveSet;
}

/**
 * The noble primitives that need no randomness: the hashes, HMAC/HKDF and the AEADs, for code
 * (and tests, with RFC vectors) that runs outside an engine.
 * @example
 * const early = EarlySecret.withoutPsk(NOBLE_TLS_PRIMITIVES, 'SHA-256');
 */
export const NOBLE_TLS_PRIMITIVES: TlsPrimitives = Object.freeze({ hash, hmac, hkdfExtract, hkdfExpand, aeadKey });

/**
 * The default crypto provider factory: pure TypeScript (@noble/*), every random byte drawn
 * through the engine's Platform. It is what `init()` uses without `crypto`, and what the jail,
 * seccomp and ambient tests prove.
 * @example
 * const engine = init({ platform: defaultPlatform(), crypto: nobleCryptoProvider() });
 */
export function nobleCryptoProvider(options: BuildCurvesOptions = {}): CryptoProviderFactory {
  return (random) => createCryptoProvider(random, options);
}

/**
 * Builds the noble provider. `init()` does this and then runs the self-tests and the warm-up;
 * use `init()` rather than calling this directly.
 * @example
 * const provider = createCryptoProvider(platformRandom(platform));
 */
export function createCryptoProvider(random: RandomSource, options: BuildCurvesOptions = {}): NobleCryptoProvider {
  const curves = buildCurves(random, options);
  return Object.freeze({
    random,
    curves,
    kx: createKeyExchange(curves, random),
    signatures: createSignatures(curves, random),
    ...NOBLE_TLS_PRIMITIVES,
  });
}
