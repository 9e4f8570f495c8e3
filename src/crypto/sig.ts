/**
 * Signature schemes of TLS 1.3 (RFC 8446 4.2.3) and of the certificates it carries:
 * ECDSA P-256/SHA-256 and P-384/SHA-384, and on the brainpool curves of RFC 8734 (P256r1/SHA-256,
 * P384r1/SHA-384, P512r1/SHA-512) (DER signatures; verification accepts high-S, as OpenSSL
 * produces it half the time), Ed25519 (strict RFC 8032 decoding), RSA-PSS-RSAE with
 * SHA-256/384/512 (salt = hash length), and RSA PKCS#1 v1.5 (verification, for certificates).
 *
 * Verification never throws for a bad signature, it returns false; a malformed key is an
 * `InvalidKeyError`. Signing draws its hedging and blinding randomness from the Platform.
 * @module
 */
import type { CurveSet, WeierstrassCurveName } from './curves.js';
import { CryptoParameterError, InvalidKeyError } from './errors.js';
import { hash, type HashName } from './hash.js';
import { isPlatformFailure, type RandomSource } from './random.js';
import {
  rsaPkcs1v15Sign,
  rsaPkcs1v15Verify,
  rsaPssSign,
  rsaPssVerify,
  rsaPublicKey,
  type RsaPrivateKey,
} from './rsa.js';

/** Signature schemes by their IANA names. */
export type SignatureScheme =
  | 'ecdsa_secp256r1_sha256'
  | 'ecdsa_secp384r1_sha384'
  | 'ecdsa_brainpoolP256r1tls13_sha256'
  | 'ecdsa_brainpoolP384r1tls13_sha384'
  | 'ecdsa_brainpoolP512r1tls13_sha512'
  | 'ed25519'
  | 'rsa_pss_rsae_sha256'
  | 'rsa_pss_rsae_sha384'
  | 'rsa_pss_rsae_sha512'
  | 'rsa_pkcs1_sha256'
  | 'rsa_pkcs1_sha384'
  | 'rsa_pkcs1_sha512';

/**
 * Every scheme sandtls implements. The brainpool schemes (RFC 8734) come last: the TLS layer
 * leaves them out of its default `signatureAlgorithms` (they are opt-in).
 */
export const SIGNATURE_SCHEMES: readonly SignatureScheme[] = Object.freeze([
  'ecdsa_secp256r1_sha256',
  'ecdsa_secp384r1_sha384',
  'ed25519',
  'rsa_pss_rsae_sha256',
  'rsa_pss_rsae_sha384',
  'rsa_pss_rsae_sha512',
  'rsa_pkcs1_sha256',
  'rsa_pkcs1_sha384',
  'rsa_pkcs1_sha512',
  'ecdsa_brainpoolP256r1tls13_sha256',
  'ecdsa_brainpoolP384r1tls13_sha384',
  'ecdsa_brainpoolP512r1tls13_sha512',
]);

/**
 * The schemes no default configuration uses (the brainpool ones): `init()` neither self-tests
 * nor warms them up; their curve is built and self-tested on an engine's first use of it.
 */
export const OPT_IN_SIGNATURE_SCHEMES: readonly SignatureScheme[] = Object.freeze(SIGNATURE_SCHEMES.filter((scheme) => scheme.startsWith('ecdsa_brainpool')));

/** A public key as it appears in a SubjectPublicKeyInfo. */
export type PublicKey =
  | { readonly kind: 'ec'; readonly curve: WeierstrassCurveName; readonly point: Uint8Array }
  | { readonly kind: 'ed25519'; readonly publicKey: Uint8Array }
  | { readonly kind: 'rsa'; readonly n: bigint; readonly e: bigint };

/** A private key ready for signing. */
export type PrivateKey =
  | { readonly kind: 'ec'; readonly curve: WeierstrassCurveName; readonly secret: Uint8Array }
  | { readonly kind: 'ed25519'; readonly seed: Uint8Array }
  | { readonly kind: 'rsa'; readonly key: RsaPrivateKey };

/** What a scheme is: its algorithm, and the curve and hash it fixes. */
export type SchemeInfo =
  | { readonly kind: 'ecdsa'; readonly curve: WeierstrassCurveName; readonly hash: HashName }
  | { readonly kind: 'ed25519' }
  | { readonly kind: 'rsa-pss' | 'rsa-pkcs1'; readonly hash: HashName };

const SCHEMES: Readonly<Record<SignatureScheme, SchemeInfo>> = Object.freeze({
  ecdsa_secp256r1_sha256: { kind: 'ecdsa', curve: 'secp256r1', hash: 'SHA-256' },
  ecdsa_secp384r1_sha384: { kind: 'ecdsa', curve: 'secp384r1', hash: 'SHA-384' },
  // RFC 8734 2: each brainpool curve with the hash of its size.
  ecdsa_brainpoolP256r1tls13_sha256: { kind: 'ecdsa', curve: 'brainpoolP256r1', hash: 'SHA-256' },
  ecdsa_brainpoolP384r1tls13_sha384: { kind: 'ecdsa', curve: 'brainpoolP384r1', hash: 'SHA-384' },
  ecdsa_brainpoolP512r1tls13_sha512: { kind: 'ecdsa', curve: 'brainpoolP512r1', hash: 'SHA-512' },
  ed25519: { kind: 'ed25519' },
  rsa_pss_rsae_sha256: { kind: 'rsa-pss', hash: 'SHA-256' },
  rsa_pss_rsae_sha384: { kind: 'rsa-pss', hash: 'SHA-384' },
  rsa_pss_rsae_sha512: { kind: 'rsa-pss', hash: 'SHA-512' },
  rsa_pkcs1_sha256: { kind: 'rsa-pkcs1', hash: 'SHA-256' },
  rsa_pkcs1_sha384: { kind: 'rsa-pkcs1', hash: 'SHA-384' },
  rsa_pkcs1_sha512: { kind: 'rsa-pkcs1', hash: 'SHA-512' },
});

/** The one TLS 1.3 scheme of each curve (RFC 8446 4.2.3 and RFC 8734 2 fix the curve and hash). */
const _ECDSA_SCHEME: Readonly<Record<WeierstrassCurveName, SignatureScheme>> = Object.freeze({
  secp256r1: 'ecdsa_secp256r1_sha256',
  secp384r1: 'ecdsa_secp384r1_sha384',
  brainpoolP256r1: 'ecdsa_brainpoolP256r1tls13_sha256',
  brainpoolP384r1: 'ecdsa_brainpoolP384r1tls13_sha384',
  brainpoolP512r1: 'ecdsa_brainpoolP512r1tls13_sha512',
});

/** The field prime of edwards25519, 2^255 - 19. */
const _ED25519_P = 2n ** 255n - 19n;

/**
 * The y-coordinates of edwards25519's eight points of small order (RFC 7748 4.1's curve): the
 * identity (1), order 2 (p - 1), order 4 (0) and order 8 (these two, each other's negation).
 */
const _ED25519_SMALL_ORDER_Y: ReadonlySet<bigint> = new Set([
  0n,
  1n,
  _ED25519_P - 1n,
  0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n,
  0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n,
]);

/**
 * Whether strict RFC 8032 verification, as the noble provider runs it (not ZIP-215), refuses an
 * Ed25519 public key before any arithmetic: a non-canonical y (at least p) or a point of small
 * order, under which signatures are ambiguous (one can verify for many messages). OpenSSL and
 * BoringSSL accept such keys; a provider over them asks this first, so every provider gives the
 * same verdict.
 * @example
 * refusedEd25519PublicKey(new Uint8Array(32)); // true: y = 0, a point of order 4
 */
export function refusedEd25519PublicKey(publicKey: Uint8Array): boolean {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? publicKey[i]! & 0x7f : publicKey[i]!);
  return y >= _ED25519_P || _ED25519_SMALL_ORDER_Y.has(y);
}

/**
 * The algorithm, curve and hash of a scheme; `CryptoParameterError` for one sandtls does not
 * implement. Shared by every provider's signatures.
 * @example
 * schemeInfo('ecdsa_secp384r1_sha384'); // { kind: 'ecdsa', curve: 'secp384r1', hash: 'SHA-384' }
 */
export function schemeInfo(scheme: SignatureScheme): SchemeInfo {
  const info = Object.hasOwn(SCHEMES, scheme) ? SCHEMES[scheme] : undefined;
  if (!info) throw new CryptoParameterError(`unsupported signature scheme: ${String(scheme)}`);
  return info;
}

/**
 * Throws `InvalidKeyError` unless a key of `kind` ('ec', 'ed25519', 'rsa') can be used with the
 * scheme.
 * @example
 * checkKeyKind('ed25519', schemeInfo('ed25519'), 'ec'); // throws InvalidKeyError
 */
export function checkKeyKind(scheme: SignatureScheme, info: SchemeInfo, kind: string): void {
  const wanted = info.kind === 'ecdsa' ? 'ec' : info.kind === 'ed25519' ? 'ed25519' : 'rsa';
  if (kind !== wanted) throw new InvalidKeyError(`a ${kind} key cannot be used with ${scheme}`);
}

/**
 * The TLS 1.3 schemes a key can sign with, most preferred first: its curve's one ECDSA scheme,
 * ed25519, or RSA-PSS-RSAE with SHA-256/384/512.
 * @example
 * schemesForKey({ kind: 'ed25519', seed }); // ['ed25519']
 */
export function schemesForKey(key: PrivateKey | PublicKey): SignatureScheme[] {
  switch (key.kind) {
    case 'ec':
      return [_ECDSA_SCHEME[key.curve]];
    case 'ed25519':
      return ['ed25519'];
    case 'rsa':
      return ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512'];
  }
}

export interface VerifyOptions {
  /** Smallest RSA modulus accepted, in bits (default 2048, the web PKI floor; 1024 at the lowest). */
  minRsaBits?: number;
}

export interface Signatures {
  /** Signs `message` (the whole message; hashing is part of the scheme). */
  sign(scheme: SignatureScheme, key: PrivateKey, message: Uint8Array): Uint8Array;
  /**
   * True only for a valid signature by `key` over `message` under `scheme`. RSA keys below
   * `minRsaBits` (default 2048; never below 1024) are refused with InvalidKeyError.
   */
  verify(scheme: SignatureScheme, key: PublicKey, message: Uint8Array, signature: Uint8Array, options?: VerifyOptions): boolean;
  /** ECDSA with any supported curve/hash pairing (certificates may sign P-256 keys with SHA-384). */
  ecdsaVerify(curve: WeierstrassCurveName, hashName: HashName, point: Uint8Array, message: Uint8Array, derSignature: Uint8Array): boolean;
  /** The public half of a private key. */
  publicKeyOf(key: PrivateKey): PublicKey;
  /** The TLS 1.3 schemes a key can sign with, most preferred first. */
  schemesFor(key: PrivateKey | PublicKey): SignatureScheme[];
}

/**
 * Signature operations bound to one engine's curves and RandomSource.
 * @example
 * const sigs = createSignatures(curves, random);
 * const sig = sigs.sign('ed25519', { kind: 'ed25519', seed }, message);
 * sigs.verify('ed25519', sigs.publicKeyOf({ kind: 'ed25519', seed }), message, sig); // true
 */
export function createSignatures(curves: CurveSet, random: RandomSource): Signatures {
  const ecdsaCurve = (curve: WeierstrassCurveName) => {
    const instance = curves[curve];
    if (!instance) throw new InvalidKeyError(`unsupported ECDSA curve: ${String(curve)}`);
    return instance;
  };

  const ecdsaVerify: Signatures['ecdsaVerify'] = (curve, hashName, point, message, derSignature) => {
    const instance = ecdsaCurve(curve);
    if (!instance.utils.isValidPublicKey(point, false)) throw new InvalidKeyError(`invalid ${curve} public key`);
    try {
      // The message is hashed here, so noble must not hash again (prehash: false); SEC 1 4.1.4
      // truncates the digest to the order's bit length either way.
      const digest = hash(hashName).digest(message);
      return instance.verify(derSignature, digest, point, { prehash: false, format: 'der', lowS: false });
    } catch (error) {
      if (isPlatformFailure(error)) throw error;
      return false; // malformed DER, r or s out of range
    }
  };

  return {
    sign(scheme, key, message) {
      const info = schemeInfo(scheme);
      checkKeyKind(scheme, info, key.kind);
      if (info.kind === 'ecdsa' && key.kind === 'ec') {
        if (key.curve !== info.curve) throw new InvalidKeyError(`a ${key.curve} key cannot be used with ${scheme}`);
        const instance = ecdsaCurve(key.curve);
        const digest = hash(info.hash).digest(message);
        // RFC 6979 nonces hedged with fresh entropy (RFC 6979 3.6): deterministic if the RNG
        // fails, unpredictable if a fault hits the deterministic derivation.
        const hedge = random(instance.lengths.secretKey!, `ecdsa_hedge:${key.curve}`);
        return instance.sign(digest, key.secret, { prehash: false, format: 'der', extraEntropy: hedge });
      }
      if (info.kind === 'ed25519' && key.kind === 'ed25519') return curves.ed25519.sign(message, key.seed);
      if (key.kind === 'rsa' && (info.kind === 'rsa-pss' || info.kind === 'rsa-pkcs1')) {
        return info.kind === 'rsa-pss'
          ? rsaPssSign(key.key, info.hash, message, random)
          : rsaPkcs1v15Sign(key.key, info.hash, message, random);
      }
      throw new InvalidKeyError(`a ${key.kind} key cannot be used with ${scheme}`);
    },

    verify(scheme, key, message, signature, options = {}) {
      const info = schemeInfo(scheme);
      checkKeyKind(scheme, info, key.kind);
      if (info.kind === 'ecdsa' && key.kind === 'ec') {
        // RFC 8446 4.2.3: the scheme fixes the curve as well as the hash.
        if (key.curve !== info.curve) return false;
        return ecdsaVerify(key.curve, info.hash, key.point, message, signature);
      }
      if (info.kind === 'ed25519' && key.kind === 'ed25519') {
        if (key.publicKey.length !== 32) throw new InvalidKeyError('Ed25519 public key must be 32 bytes');
        if (signature.length !== 64) return false;
        try {
          return curves.ed25519.verify(signature, message, key.publicKey, { zip215: false });
        } catch (error) {
          if (isPlatformFailure(error)) throw error;
          return false; // non-canonical R or A encodings, s >= L
        }
      }
      if (key.kind === 'rsa' && (info.kind === 'rsa-pss' || info.kind === 'rsa-pkcs1')) {
        const pub = rsaPublicKey(key.n, key.e, options.minRsaBits === undefined ? {} : { minBits: options.minRsaBits });
        return info.kind === 'rsa-pss'
          ? rsaPssVerify(pub, info.hash, message, signature)
          : rsaPkcs1v15Verify(pub, info.hash, message, signature);
      }
      return false;
    },

    ecdsaVerify,

    publicKeyOf(key) {
      switch (key.kind) {
        case 'ec': {
          const instance = ecdsaCurve(key.curve);
          if (!instance.utils.isValidSecretKey(key.secret)) throw new InvalidKeyError(`invalid ${key.curve} private key`);
          return { kind: 'ec', curve: key.curve, point: instance.getPublicKey(key.secret, false) };
        }
        case 'ed25519':
          if (key.seed.length !== 32) throw new InvalidKeyError('Ed25519 private key must be 32 bytes');
          return { kind: 'ed25519', publicKey: curves.ed25519.getPublicKey(key.seed) };
        case 'rsa':
          return { kind: 'rsa', n: key.key.n, e: key.key.e };
      }
    },

    schemesFor: schemesForKey,
  };
}
