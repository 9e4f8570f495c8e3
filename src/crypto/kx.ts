/**
 * Key exchange for the TLS 1.3 named groups (RFC 8446 4.2.7, 4.2.8):
 * - x25519 (RFC 7748);
 * - secp256r1 and secp384r1 (uncompressed points, x-coordinate secret, RFC 8446 7.4.2), and the
 *   brainpool curves of RFC 8734 (brainpoolP256r1tls13, brainpoolP384r1tls13,
 *   brainpoolP512r1tls13), encoded and agreed exactly the same way;
 * - the hybrids of draft-ietf-tls-ecdhe-mlkem: X25519MLKEM768, SecP256r1MLKEM768 and
 *   SecP384r1MLKEM1024.
 *
 * The client calls `generate(group)` and later `complete(serverShare)`; the server answers a
 * client share with `respond(group, clientShare)`. Every private value is drawn from the
 * Platform with a `key_share:<group>` label and wiped once the secret is computed.
 *
 * The opt-in groups cost nothing until used: a brainpool curve is built (and self-tested) on its
 * first use (curves.ts), and ML-KEM-1024 runs its known-answer self-test on this key exchange's
 * first SecP384r1MLKEM1024 operation.
 * @module
 */
import { concatBytes as concat } from './bytes.js';
import type { CurveSet, WeierstrassCurveName } from './curves.js';
import { CryptoParameterError, InvalidKeyShareError } from './errors.js';
import {
  MLKEM1024,
  MLKEM768,
  mlKem1024Decapsulate,
  mlKem1024Encapsulate,
  mlKem1024KeyGen,
  mlKem768Decapsulate,
  mlKem768Encapsulate,
  mlKem768KeyGen,
  mlKemSelfTest,
  type MlKemKeyPair,
  type MlKemSizes,
} from './mlkem.js';
import { isPlatformFailure, type RandomSource } from './random.js';

/** The (EC)DHE groups: one Diffie-Hellman on one curve. */
export type EcdheGroup = 'x25519' | 'secp256r1' | 'secp384r1' | 'brainpoolP256r1tls13' | 'brainpoolP384r1tls13' | 'brainpoolP512r1tls13';

/** The hybrid groups of draft-ietf-tls-ecdhe-mlkem: one ECDHE and one ML-KEM, secrets concatenated. */
export type HybridGroup = 'X25519MLKEM768' | 'SecP256r1MLKEM768' | 'SecP384r1MLKEM1024';

/** The key exchange groups sandtls supports, by their IANA names. */
export type NamedGroup = HybridGroup | EcdheGroup;

/**
 * Every group sandtls implements: the four on by default first (see the TLS layer's
 * `DEFAULT_GROUPS`), then the opt-in ones (the secp* hybrids and the brainpool curves).
 */
export const NAMED_GROUPS: readonly NamedGroup[] = Object.freeze([
  'X25519MLKEM768',
  'x25519',
  'secp256r1',
  'secp384r1',
  'SecP256r1MLKEM768',
  'SecP384r1MLKEM1024',
  'brainpoolP256r1tls13',
  'brainpoolP384r1tls13',
  'brainpoolP512r1tls13',
]);

/**
 * The groups no default configuration uses (the TLS layer's `DEFAULT_GROUPS` leaves them out):
 * `init()` neither self-tests nor warms them up; an engine pays for each on its first use.
 */
export const OPT_IN_GROUPS: readonly NamedGroup[] = Object.freeze(NAMED_GROUPS.slice(4));

/** The curve of each Weierstrass (EC)DHE group. */
const _WEIERSTRASS_GROUPS: Readonly<Record<Exclude<EcdheGroup, 'x25519'>, WeierstrassCurveName>> = Object.freeze({
  secp256r1: 'secp256r1',
  secp384r1: 'secp384r1',
  brainpoolP256r1tls13: 'brainpoolP256r1',
  brainpoolP384r1tls13: 'brainpoolP384r1',
  brainpoolP512r1tls13: 'brainpoolP512r1',
});

/**
 * draft-ietf-tls-ecdhe-mlkem: which ECDHE and ML-KEM each hybrid combines, and in which order.
 * X25519MLKEM768 puts ML-KEM first (client share = encapsulation key || x25519 public key,
 * server share = ciphertext || x25519 public key, secret = ML-KEM secret || x25519 secret); the
 * secp hybrids put the ECDHE part first in all three.
 */
export const HYBRID_LAYOUTS: Readonly<Record<HybridGroup, HybridLayout>> = Object.freeze({
  X25519MLKEM768: { ecdhe: 'x25519', kem: MLKEM768, kemFirst: true },
  SecP256r1MLKEM768: { ecdhe: 'secp256r1', kem: MLKEM768, kemFirst: false },
  SecP384r1MLKEM1024: { ecdhe: 'secp384r1', kem: MLKEM1024, kemFirst: false },
});

/** One hybrid group's parts: its ECDHE group, its ML-KEM parameter set, and which goes first. */
export interface HybridLayout {
  readonly ecdhe: 'x25519' | 'secp256r1' | 'secp384r1';
  readonly kem: MlKemSizes;
  readonly kemFirst: boolean;
}

/** The label of each ML-KEM set in a hybrid's key-share draw (`key_share:<group>:<label>`). */
export const KEM_DRAW_LABELS = Object.freeze({ 'ML-KEM-768': 'mlkem768', 'ML-KEM-1024': 'mlkem1024' } as const);

/**
 * The ML-KEM functions of a parameter set (looked up at call time: tests wrap them). Callers run
 * ML-KEM-1024's known-answer test on its first use themselves (`mlKemSelfTest`).
 * @example
 * const kem = mlKemFunctions(HYBRID_LAYOUTS.X25519MLKEM768.kem);
 * const pair = kem.keyGen(seed);
 */
export function mlKemFunctions(sizes: MlKemSizes) {
  return sizes.name === 'ML-KEM-768'
    ? { keyGen: mlKem768KeyGen, encapsulate: mlKem768Encapsulate, decapsulate: mlKem768Decapsulate }
    : { keyGen: mlKem1024KeyGen, encapsulate: mlKem1024Encapsulate, decapsulate: mlKem1024Decapsulate };
}

/** A client's key share awaiting the server's answer. */
export interface KeyShare {
  readonly group: NamedGroup;
  /** The KeyShareEntry.key_exchange bytes to send. */
  readonly publicShare: Uint8Array;
  /** Computes the shared secret from the server's share; usable once. */
  complete(serverShare: Uint8Array): Uint8Array;
  /** Wipes the private part without completing (e.g. after a HelloRetryRequest). */
  destroy(): void;
}

/** The server's answer to a client share. */
export interface KeyShareResponse {
  readonly group: NamedGroup;
  readonly publicShare: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

export interface KeyExchange {
  generate(group: NamedGroup): KeyShare;
  respond(group: NamedGroup, clientShare: Uint8Array): KeyShareResponse;
  /**
   * Raw Diffie-Hellman with a given private key (known-answer tests): the same peer checks as
   * `complete`/`respond`. Secret: 32 bytes (x25519) or the curve's scalar length.
   */
  dh(group: EcdheGroup, secret: Uint8Array, peerShare: Uint8Array): Uint8Array;
}

/**
 * One (EC)DHE as a provider implements it: its share length, how a private key is drawn, its
 * public key, and the agreement. `keyExchangeFrom` builds the TLS key exchange (the groups, the
 * hybrids, single use and wiping) over one of these per group, so a native provider supplies
 * only this and shares the rest with the noble one.
 */
export interface EcdheOps {
  readonly shareLength: number;
  /** A fresh private key, drawn with `purpose`. */
  secret(purpose: string): Uint8Array;
  publicOf(secret: Uint8Array): Uint8Array;
  /** The shared secret; `InvalidKeyShareError` for a share that is not a valid public key. */
  agree(secret: Uint8Array, peer: Uint8Array): Uint8Array;
  isValidSecret(secret: Uint8Array): boolean;
}

const X25519_LENGTH = 32;

/**
 * Key exchange bound to one engine's curves and RandomSource.
 * @example
 * const kx = createKeyExchange(curves, random);
 * const share = kx.generate('x25519');
 * const answer = kx.respond('x25519', share.publicShare);
 * share.complete(answer.publicShare); // equals answer.sharedSecret
 */
export function createKeyExchange(curves: CurveSet, random: RandomSource): KeyExchange {
  return keyExchangeFrom(nobleEcdhe(curves, random), random);
}

/** The noble (EC)DHE of each group, on the engine's own curve instances. */
function nobleEcdhe(curves: CurveSet, random: RandomSource): Readonly<Record<EcdheGroup, EcdheOps>> {
  const x25519: EcdheOps = {
    shareLength: X25519_LENGTH,
    secret: (purpose) => random(X25519_LENGTH, purpose),
    publicOf: (secret) => curves.x25519.getPublicKey(secret),
    /** RFC 7748 6.1 / RFC 8446 7.4.2: reject wrong lengths and the all-zero output of low-order points. */
    agree: (secret, peer) => {
      if (peer.length !== X25519_LENGTH) throw new InvalidKeyShareError(`x25519 share must be 32 bytes, got ${peer.length}`);
      let shared: Uint8Array;
      try {
        shared = curves.x25519.getSharedSecret(secret, peer);
      } catch (error) {
        if (isPlatformFailure(error)) throw error;
        throw new InvalidKeyShareError('x25519 share is a low-order point (all-zero shared secret)');
      }
      if (shared.every((b) => b === 0)) throw new InvalidKeyShareError('x25519 shared secret is all zero');
      return shared;
    },
    isValidSecret: (secret) => secret.length === X25519_LENGTH,
  };

  const weierstrass = (group: string, curveName: WeierstrassCurveName): EcdheOps => {
    // Looked up on each use, never here: reading an opt-in (brainpool) curve builds it, and
    // this runs for every engine.
    const curveOf = () => curves[curveName];
    return {
      get shareLength() {
        return curveOf().lengths.publicKeyUncompressed!;
      },
      secret: (purpose) => {
        const curve = curveOf();
        const seed = random(curve.lengths.seed!, purpose);
        try {
          return curve.utils.randomSecretKey(seed);
        } finally {
          seed.fill(0); // it determines the private key
        }
      },
      publicOf: (secret) => curveOf().getPublicKey(secret, false),
      /** RFC 8446 4.2.8.2, RFC 8734 2: UncompressedPointRepresentation only; the point must be on the curve. */
      agree: (secret, peer) => {
        // Outside the try below: a failed first use is ours (internal_error), not a bad share.
        const curve = curveOf();
        const pointLength = curve.lengths.publicKeyUncompressed!;
        if (peer.length !== pointLength || peer[0] !== 0x04) {
          throw new InvalidKeyShareError(`${group} share must be a ${pointLength}-byte uncompressed point`);
        }
        try {
          // The shared secret is the x-coordinate of the ECDH result (RFC 8446 7.4.2), full
          // length. The whole point is wiped once the x-coordinate is copied out: it is the same
          // secret.
          const point = curve.getSharedSecret(secret, peer, true);
          try {
            return point.slice(1);
          } finally {
            point.fill(0);
          }
        } catch (error) {
          // The multiplication draws blinding entropy: a denied draw is ours, not the peer's fault.
          if (isPlatformFailure(error)) throw error;
          throw new InvalidKeyShareError(`${group} share is not a valid point on the curve`);
        }
      },
      isValidSecret: (secret) => curveOf().utils.isValidSecretKey(secret),
    };
  };
  return Object.freeze({
    x25519,
    ...(Object.fromEntries(Object.entries(_WEIERSTRASS_GROUPS).map(([group, curve]) => [group, weierstrass(group, curve)])) as Record<
      Exclude<EcdheGroup, 'x25519'>,
      EcdheOps
    >),
  });
}

/**
 * The TLS key exchange over one `EcdheOps` per (EC)DHE group: the (EC)DHE groups themselves and
 * the ML-KEM hybrids (ML-KEM is always noble's, with its randomness drawn from `random`). Every
 * private value is drawn with a `key_share:<group>` label and wiped once used.
 * @example
 * const kx = keyExchangeFrom(nativeEcdhe, random);
 * kx.generate('X25519MLKEM768').publicShare.length; // 1216
 */
export function keyExchangeFrom(ecdhe: Readonly<Record<EcdheGroup, EcdheOps>>, random: RandomSource): KeyExchange {

  const oneShot = (group: NamedGroup, publicShare: Uint8Array, secrets: Uint8Array[], finish: (peer: Uint8Array) => Uint8Array): KeyShare => {
    let used = false;
    const destroy = () => {
      for (const s of secrets) s.fill(0); // private keys must not outlive the exchange
      used = true;
    };
    return {
      group,
      publicShare,
      complete(serverShare) {
        if (used) throw new CryptoParameterError('key share already used');
        try {
          return finish(serverShare);
        } finally {
          destroy();
        }
      },
      destroy,
    };
  };

  // ML-KEM-768 is tested by init(); ML-KEM-1024 serves only the opt-in SecP384r1MLKEM1024, so
  // its known-answer test runs here, once, on first use (not remembered if it fails).
  let mlKem1024Tested = false;
  const kemOf = (sizes: MlKemSizes) => {
    if (sizes.name === 'ML-KEM-1024' && !mlKem1024Tested) {
      mlKemSelfTest(sizes);
      mlKem1024Tested = true;
    }
    return mlKemFunctions(sizes);
  };

  const generateHybrid = (group: HybridGroup): KeyShare => {
    const { kem: sizes, kemFirst } = HYBRID_LAYOUTS[group];
    const classical = ecdhe[HYBRID_LAYOUTS[group].ecdhe];
    const kem = kemOf(sizes);
    const seed = random(sizes.seedLength, `key_share:${group}:${KEM_DRAW_LABELS[sizes.name]}`);
    let pair: MlKemKeyPair;
    try {
      pair = kem.keyGen(seed);
    } finally {
      seed.fill(0); // d || z: the decapsulation key itself
    }
    const ecSecret = classical.secret(`key_share:${group}:${HYBRID_LAYOUTS[group].ecdhe}`);
    const ecPublic = classical.publicOf(ecSecret);
    const share = kemFirst ? concat(pair.encapsulationKey, ecPublic) : concat(ecPublic, pair.encapsulationKey);
    return oneShot(group, share, [pair.decapsulationKey, ecSecret], (peer) => {
      if (peer.length !== sizes.ciphertextLength + classical.shareLength) {
        throw new InvalidKeyShareError(`${group} server share must be ${sizes.ciphertextLength + classical.shareLength} bytes, got ${peer.length}`);
      }
      const ciphertext = kemFirst ? peer.subarray(0, sizes.ciphertextLength) : peer.subarray(classical.shareLength);
      const ecPeer = kemFirst ? peer.subarray(sizes.ciphertextLength) : peer.subarray(0, classical.shareLength);
      const kemSecret = kem.decapsulate(ciphertext, pair.decapsulationKey);
      let ecShared: Uint8Array | undefined;
      try {
        ecShared = classical.agree(ecSecret, ecPeer);
        return kemFirst ? concat(kemSecret, ecShared) : concat(ecShared, kemSecret);
      } finally {
        // The hybrid secret is their concatenation: the components are the same secret twice over.
        kemSecret.fill(0);
        ecShared?.fill(0);
      }
    });
  };

  const respondHybrid = (group: HybridGroup, clientShare: Uint8Array): KeyShareResponse => {
    const { kem: sizes, kemFirst } = HYBRID_LAYOUTS[group];
    const classical = ecdhe[HYBRID_LAYOUTS[group].ecdhe];
    const kem = kemOf(sizes);
    if (clientShare.length !== sizes.encapsulationKeyLength + classical.shareLength) {
      throw new InvalidKeyShareError(`${group} client share must be ${sizes.encapsulationKeyLength + classical.shareLength} bytes, got ${clientShare.length}`);
    }
    const encapsulationKey = kemFirst ? clientShare.subarray(0, sizes.encapsulationKeyLength) : clientShare.subarray(classical.shareLength);
    const ecPeer = kemFirst ? clientShare.subarray(sizes.encapsulationKeyLength) : clientShare.subarray(0, classical.shareLength);
    const message = random(sizes.messageLength, `kem_encapsulation:${group}`);
    let encapsulated: { ciphertext: Uint8Array; sharedSecret: Uint8Array };
    try {
      encapsulated = kem.encapsulate(encapsulationKey, message);
    } finally {
      message.fill(0); // it determines the KEM secret as much as the secret itself
    }
    const ecSecret = classical.secret(`key_share:${group}:${HYBRID_LAYOUTS[group].ecdhe}`);
    let ecShared: Uint8Array | undefined;
    try {
      ecShared = classical.agree(ecSecret, ecPeer);
      const ecPublic = classical.publicOf(ecSecret);
      return {
        group,
        publicShare: kemFirst ? concat(encapsulated.ciphertext, ecPublic) : concat(ecPublic, encapsulated.ciphertext),
        sharedSecret: kemFirst ? concat(encapsulated.sharedSecret, ecShared) : concat(ecShared, encapsulated.sharedSecret),
      };
    } finally {
      ecSecret.fill(0);
      // The components live on inside the concatenated secret; these copies must not.
      encapsulated.sharedSecret.fill(0);
      ecShared?.fill(0);
    }
  };

  const ecdheOf = (group: NamedGroup): EcdheOps | undefined => (Object.hasOwn(ecdhe, group) ? ecdhe[group as EcdheGroup] : undefined);
  const isHybrid = (group: NamedGroup): group is HybridGroup => Object.hasOwn(HYBRID_LAYOUTS, group);

  return {
    dh(group, secret, peerShare) {
      const ops = ecdheOf(group);
      if (!ops) throw new CryptoParameterError(`unsupported group: ${String(group)}`);
      if (!ops.isValidSecret(secret)) throw new CryptoParameterError(`invalid ${group} private key`);
      return ops.agree(secret, peerShare);
    },

    generate(group) {
      if (isHybrid(group)) return generateHybrid(group);
      const ops = ecdheOf(group);
      if (!ops) throw new CryptoParameterError(`unsupported group: ${String(group)}`);
      const secret = ops.secret(`key_share:${group}`);
      return oneShot(group, ops.publicOf(secret), [secret], (peer) => ops.agree(secret, peer));
    },

    respond(group, clientShare) {
      if (isHybrid(group)) return respondHybrid(group, clientShare);
      const ops = ecdheOf(group);
      if (!ops) throw new CryptoParameterError(`unsupported group: ${String(group)}`);
      const secret = ops.secret(`key_share:${group}`);
      try {
        const sharedSecret = ops.agree(secret, clientShare);
        return { group, publicShare: ops.publicOf(secret), sharedSecret };
      } finally {
        secret.fill(0);
      }
    },
  };
}
