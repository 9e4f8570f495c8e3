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
import { createKeyExchange, type KeyExchange, type KeyShareResponse, type NamedGroup } from './kx.js';
import type { RandomSource } from './random.js';
import { createSignatures, type PrivateKey, type PublicKey, type SignatureScheme, type Signatures, type VerifyOptions } from './sig.js';

/** A value now, or a promise of it: what an asynchronous provider (or an application hook) may return. */
export type MaybePromise<T> = T | PromiseLike<T>;

/**
 * Whether an answer is a Promise (any thenable) rather than a value: how the engine tells an
 * asynchronous provider's or hook's answer from a synchronous one.
 * @example
 * if (isPromiseLike(answer)) park(answer); else next(answer);
 */
export function isPromiseLike<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as PromiseLike<T>).then === 'function';
}

/**
 * A client key share as the handshake uses it: `complete` may answer with a Promise (an
 * asynchronous provider). A synchronous `KeyShare` is one.
 */
export interface HandshakeKeyShare {
  readonly group: NamedGroup;
  /** The KeyShareEntry.key_exchange bytes to send. */
  readonly publicShare: Uint8Array;
  /** The shared secret from the server's share (rejects with `InvalidKeyShareError` for a bad one); usable once. */
  complete(serverShare: Uint8Array): MaybePromise<Uint8Array>;
  /** Drops the private part without completing (after a HelloRetryRequest, a failure). */
  destroy(): void;
}

/**
 * The key exchange a handshake runs: each operation may answer with a Promise. Every private
 * value is drawn from the provider's RandomSource inside the call itself, before it answers, so
 * the Platform sees the same draws in the same order as with a synchronous provider.
 */
export interface HandshakeKeyExchange {
  generate(group: NamedGroup): MaybePromise<HandshakeKeyShare>;
  respond(group: NamedGroup, clientShare: Uint8Array): MaybePromise<KeyShareResponse>;
}

/**
 * The signature operations a handshake runs (CertificateVerify, and the peer's X.509 chain
 * signatures verified ahead of path building): each may answer with a Promise.
 */
export interface HandshakeSignatures {
  sign(scheme: SignatureScheme, key: PrivateKey, message: Uint8Array): MaybePromise<Uint8Array>;
  verify(scheme: SignatureScheme, key: PublicKey, message: Uint8Array, signature: Uint8Array, options?: VerifyOptions): MaybePromise<boolean>;
}

/**
 * What a handshake asks of the provider beyond the hashes and the key schedule: its key shares
 * and CertificateVerify signatures. A synchronous provider's `kx` and `signatures` are one; an
 * asynchronous provider (WebCrypto) supplies its own, and a connection waiting for one of its
 * Promises parks with `pending.kind === 'crypto'` until it settles.
 */
export interface HandshakeCrypto {
  readonly kx: HandshakeKeyExchange;
  readonly signatures: HandshakeSignatures;
}

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
  /**
   * Synchronous key exchange: `init()`'s self-tests and warm-up, and every handshake unless
   * `handshake` is given.
   */
  readonly kx: KeyExchange;
  /**
   * Synchronous signatures: self-tests, X.509 chain verification (with `handshake`, what was not
   * verified ahead there) and certificate issuance, key checks (`publicKeyOf`, `schemesFor`), and
   * CertificateVerify unless `handshake` is given.
   */
  readonly signatures: Signatures;
  /**
   * An asynchronous provider's handshake operations (key shares, CertificateVerify signing with a
   * configured private key and verification, the peer's chain signatures), which may answer with Promises; the connection
   * parks (`pending.kind === 'crypto'`) until they settle. Left out by a synchronous provider:
   * the handshake then uses `kx` and `signatures` and never parks on them.
   */
  readonly handshake?: HandshakeCrypto;
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

/**
 * The operations a handshake runs on `provider`: its asynchronous `handshake` ones, or its
 * synchronous `kx` and `signatures`.
 * @example
 * const share = handshakeCrypto(engine.crypto).kx.generate('x25519'); // a KeyShare, or a Promise of one
 */
export function handshakeCrypto(provider: CryptoProvider): HandshakeCrypto {
  return provider.handshake ?? provider;
}

/**
 * `provider` without its asynchronous `handshake` side: every operation answers at once. What
 * `init()`'s TLS warm-up runs on, since it cannot wait for a Promise.
 * @example
 * const sync = synchronousProvider(engine.crypto); // sync.handshake === undefined
 */
export function synchronousProvider(provider: CryptoProvider): CryptoProvider {
  if (provider.handshake === undefined) return provider;
  const { handshake: _asynchronous, ...synchronous } = provider;
  return Object.freeze(synchronous);
}

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
