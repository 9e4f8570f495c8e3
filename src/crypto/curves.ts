/**
 * Per-engine elliptic-curve instances whose randomness comes from the Platform.
 *
 * noble's ready-made `p256`, `p384`, `ed25519` and `x25519` draw from `globalThis.crypto` at
 * import and on every secret-key operation (scalar and nonce blinding). sandtls never imports
 * them: it builds its own instances from noble's `abstract/` constructors with `randomBytes`
 * bound to the engine's RandomSource, so every draw is labelled and audited. The arithmetic is
 * noble's; outputs match the built-ins byte for byte.
 * @module
 */
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { eddsa, edwards, type EdDSA, type EdwardsPointCons } from '@noble/curves/abstract/edwards.js';
import type { IField } from '@noble/curves/abstract/modular.js';
import { montgomery, type MontgomeryECDH } from '@noble/curves/abstract/montgomery.js';
import { ecdsa, weierstrass, type ECDSA } from '@noble/curves/abstract/weierstrass.js';
import type { CHash } from '@noble/hashes/utils.js';
import { CryptoParameterError } from './errors.js';
import type { RandomSource } from './random.js';
import { modPow } from './rsa.js';

/** The short-Weierstrass curves TLS 1.3 uses for ECDHE and ECDSA. */
export type WeierstrassCurveName = 'secp256r1' | 'secp384r1';

// SEC 2 v2, 2.4.2 (secp256r1) and 2.5.1 (secp384r1); a = p - 3 for both.
const SECP256R1 = {
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  h: 1n,
  a: 0xffffffff00000001000000000000000000000000fffffffffffffffffffffffcn,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  Gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  Gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};
const SECP384R1 = {
  p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
  n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  h: 1n,
  a: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffcn,
  b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  Gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
  Gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
};
// RFC 8032 5.1 (edwards25519): p = 2^255 - 19, d = -121665/121666, cofactor 8.
const EDWARDS25519 = {
  p: 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffedn,
  n: 0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3edn,
  h: 8n,
  a: 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffecn,
  d: 0x52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3n,
  Gx: 0x216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51an,
  Gy: 0x6666666666666666666666666666666666666666666666666666666666666658n,
};

/** RFC 7748 5 / RFC 8032 5.1.5: clear the low three bits and the top bit, set bit 254. */
function clampScalar25519(bytes: Uint8Array): Uint8Array {
  bytes[0]! &= 248;
  bytes[31]! &= 127;
  bytes[31]! |= 64;
  return bytes;
}

/** The curve instances one engine owns. Nothing here is shared between engines. */
export interface CurveSet {
  readonly secp256r1: ECDSA;
  readonly secp384r1: ECDSA;
  readonly ed25519: EdDSA;
  readonly edwards25519: EdwardsPointCons;
  readonly x25519: MontgomeryECDH;
}

/** Hook for tests that count field operations; production passes nothing. */
export type FieldWrapper = (field: IField<bigint>) => IField<bigint>;

export interface BuildCurvesOptions {
  /** Wraps each curve's base field (used by the laziness test to count field operations). */
  wrapField?: FieldWrapper;
}

/**
 * Builds the engine's curve instances. Construction already draws entropy: noble probes the
 * RandomSource once per instance (label `rng_probe:<curve>`) and disables blinding if the probe
 * fails, so a RandomSource that throws here must stop `init()` instead (the caller checks).
 * @example
 * const curves = buildCurves(platformRandom(platform));
 * curves.secp256r1.getPublicKey(secret, false);
 */
export function buildCurves(random: RandomSource, options: BuildCurvesOptions = {}): CurveSet {
  const wrap = options.wrapField;
  const secp256r1 = weierstrassInstance('secp256r1', SECP256R1, sha256, random, wrap);
  const secp384r1 = weierstrassInstance('secp384r1', SECP384R1, sha384, random, wrap);

  const edBlinding = labelledRandom(random, 'edwards25519');
  const edFields = wrap ? { Fp: wrap(fieldOf(edwards(EDWARDS25519, {}))) } : {};
  const edwards25519 = edwards(EDWARDS25519, {
    ...edFields,
    uvRatio: ed25519UvRatio,
    randomBytes: edBlinding.source,
  });
  edBlinding.probed();
  const ed25519 = eddsa(edwards25519, sha512, {
    adjustScalarBytes: clampScalar25519,
    zip215: false, // RFC 8032 strict decoding, as TLS requires (not ZIP-215)
    randomBytes: (n = 32) => random(n, 'ed25519_random'),
  });

  const Fp = edwards25519.Fp;
  const P = EDWARDS25519.p;
  const n = EDWARDS25519.n;
  // Fermat inversion: a fixed exponent, so its running time does not depend on the (secret-derived)
  // input, unlike the extended-Euclid Fp.inv.
  const invertConstantTime = (x: bigint) => Fp.pow(x, P - 2n);
  const x25519 = montgomery({
    P,
    type: 'x25519',
    adjustScalarBytes: clampScalar25519,
    powPminus2: invertConstantTime,
    randomBytes: (len = 32) => random(len, 'x25519_random'),
    // [k]B on the birationally equivalent Edwards curve (its cached, blinded base table) is
    // about 3x faster than the ladder; u = (Z + Y) / (Z - Y) maps the result back (RFC 7748 4.1).
    scalarMultBase: (k: bigint): bigint => {
      const kn = k % n;
      if (kn === 0n) return 0n;
      const point = edwards25519.BASE.multiply(kn);
      return Fp.mul(Fp.add(point.Z, point.Y), invertConstantTime(Fp.sub(point.Z, point.Y)));
    },
  });
  return Object.freeze({ secp256r1, secp384r1, ed25519, edwards25519, x25519 });
}

const P25519 = EDWARDS25519.p;
/** sqrt(-1) mod p = 2^((p-1)/4) (RFC 8032 5.1.3). */
const SQRT_M1_25519 = modPow(2n, (P25519 - 1n) / 4n, P25519);

/** x^(2^k) mod p: k squarings. */
function squareTimes(x: bigint, k: number): bigint {
  let r = x;
  for (let i = 0; i < k; i++) r = (r * r) % P25519;
  return r;
}

/**
 * x^((p-5)/8) = x^(2^252 - 3) by the usual addition chain (254 squarings, 11 multiplications),
 * about half the work of square-and-multiply over this mostly-ones exponent.
 */
function pow22523(x: bigint): bigint {
  const p = P25519;
  const x2 = (x * x) % p;
  const x3 = (x2 * x) % p; // 2^2 - 1
  const x15 = (squareTimes(x3, 2) * x3) % p; // 2^4 - 1
  const x31 = (squareTimes(x15, 1) * x) % p; // 2^5 - 1
  const b10 = (squareTimes(x31, 5) * x31) % p; // 2^10 - 1
  const b20 = (squareTimes(b10, 10) * b10) % p;
  const b40 = (squareTimes(b20, 20) * b20) % p;
  const b80 = (squareTimes(b40, 40) * b40) % p;
  const b160 = (squareTimes(b80, 80) * b80) % p;
  const b240 = (squareTimes(b160, 80) * b80) % p;
  const b250 = (squareTimes(b240, 10) * b10) % p; // 2^250 - 1
  return (squareTimes(b250, 2) * x) % p; // 2^252 - 4 + 1 = 2^252 - 3
}

/**
 * RFC 8032 5.1.3 step 3: x = sqrt(u/v) as x = u v^3 (u v^7)^((p-5)/8), then fix up by sqrt(-1)
 * when v x^2 = -u. One exponentiation instead of the generic field square root of u/v.
 * Returns the root with even sign bit left to the caller (noble applies the encoded x_0).
 */
function ed25519UvRatio(u: bigint, v: bigint): { isValid: boolean; value: bigint } {
  const p = P25519;
  const v3 = (((v * v) % p) * v) % p;
  const v7 = (((v3 * v3) % p) * v) % p;
  let x = (((u * v3) % p) * pow22523((u * v7) % p)) % p;
  const vx2 = (((v * x) % p) * x) % p;
  const negU = (p - (u % p)) % p;
  const rootIsX = vx2 === u % p;
  const rootIsXi = vx2 === negU;
  if (rootIsXi) x = (x * SQRT_M1_25519) % p;
  // Choose the non-negative (even) root; noble negates it if the encoding's sign bit asks.
  if (x & 1n) x = p - x;
  return { isValid: rootIsX || rootIsXi, value: x };
}

function fieldOf(Point: { Fp: IField<bigint> }): IField<bigint> {
  return Point.Fp;
}

function weierstrassInstance(
  name: WeierstrassCurveName,
  params: typeof SECP256R1,
  hashFn: CHash,
  random: RandomSource,
  wrap: FieldWrapper | undefined,
): ECDSA {
  const scalarBlinding = labelledRandom(random, name);
  const fields = wrap ? { Fp: wrap(fieldOf(weierstrass(params, {}))) } : {};
  const Point = weierstrass(params, { ...fields, randomBytes: scalarBlinding.source });
  scalarBlinding.probed();
  const nonceBlinding = labelledRandom(random, name, 'ecdsa_blinding');
  const instance = ecdsa(Point, hashFn, { randomBytes: nonceBlinding.source });
  nonceBlinding.probed();
  return instance;
}

/**
 * noble calls `randomBytes` once at construction to probe it, then for every blinding. The
 * probe is labelled `rng_probe:<curve>` so recordings tell init-time draws from per-operation
 * ones; after `probed()` the same callback labels its draws `<kind>:<curve>`.
 */
function labelledRandom(random: RandomSource, curve: string, kind = 'scalar_blinding') {
  let purpose = `rng_probe:${curve}`;
  let probeSucceeded = false;
  let probeError: unknown;
  return {
    source: (n = 32) => {
      const probing = purpose.startsWith('rng_probe:');
      try {
        const bytes = random(n, purpose);
        if (probing) probeSucceeded = true;
        return bytes;
      } catch (error) {
        if (probing) probeError = error;
        throw error;
      }
    },
    /**
     * noble swallows a failing probe and silently turns blinding off; sandtls refuses to run
     * unblinded, so a probe that did not succeed stops construction here.
     */
    probed: () => {
      if (probeError !== undefined) throw probeError;
      if (!probeSucceeded) throw new CryptoParameterError(`entropy probe for ${curve} failed; refusing to run without blinding`);
      purpose = `${kind}:${curve}`;
    },
  };
}
