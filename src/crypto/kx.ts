/**
 * Key exchange for the TLS 1.3 named groups (RFC 8446 4.2.7, 4.2.8):
 * x25519 (RFC 7748), secp256r1 and secp384r1 (uncompressed points, x-coordinate secret,
 * RFC 8446 7.4.2), and the hybrid X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem).
 *
 * The client calls `generate(group)` and later `complete(serverShare)`; the server answers a
 * client share with `respond(group, clientShare)`. Every private value is drawn from the
 * Platform with a `key_share:<group>` label and wiped once the secret is computed.
 * @module
 */
import { concatBytes as concat } from './bytes.js';
import type { CurveSet } from './curves.js';
import { CryptoParameterError, InvalidKeyShareError } from './errors.js';
import { MLKEM768, mlKem768Decapsulate, mlKem768Encapsulate, mlKem768KeyGen } from './mlkem.js';
import { isPlatformFailure, type RandomSource } from './random.js';

/** The key exchange groups sandtls supports, by their IANA names. */
export type NamedGroup = 'X25519MLKEM768' | 'x25519' | 'secp256r1' | 'secp384r1';

export const NAMED_GROUPS: readonly NamedGroup[] = Object.freeze(['X25519MLKEM768', 'x25519', 'secp256r1', 'secp384r1']);

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
  dh(group: 'x25519' | 'secp256r1' | 'secp384r1', secret: Uint8Array, peerShare: Uint8Array): Uint8Array;
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
  const x25519Secret = (purpose: string) => random(X25519_LENGTH, purpose);
  const x25519Public = (secret: Uint8Array) => curves.x25519.getPublicKey(secret);

  /** RFC 7748 6.1 / RFC 8446 7.4.2: reject wrong lengths and the all-zero output of low-order points. */
  const x25519Agree = (secret: Uint8Array, peer: Uint8Array): Uint8Array => {
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
  };

  const weierstrass = (group: 'secp256r1' | 'secp384r1') => {
    const curve = curves[group];
    const coordinateLength = curve.lengths.secretKey!;
    const pointLength = 1 + 2 * coordinateLength;
    const makeSecret = () => curve.utils.randomSecretKey(random(curve.lengths.seed!, `key_share:${group}`));
    /** RFC 8446 4.2.8.2: UncompressedPointRepresentation only; the point must be on the curve. */
    const agree = (secret: Uint8Array, peer: Uint8Array) => {
      if (peer.length !== pointLength || peer[0] !== 0x04) {
        throw new InvalidKeyShareError(`${group} share must be a ${pointLength}-byte uncompressed point`);
      }
      try {
        // The shared secret is the x-coordinate of the ECDH result (RFC 8446 7.4.2). The whole
        // point is wiped once the x-coordinate is copied out: it is the same secret.
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
    };
    return { makeSecret, publicOf: (s: Uint8Array) => curve.getPublicKey(s, false), agree };
  };
  const nist = { secp256r1: weierstrass('secp256r1'), secp384r1: weierstrass('secp384r1') };

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

  return {
    dh(group, secret, peerShare) {
      if (group === 'x25519') {
        if (secret.length !== X25519_LENGTH) throw new CryptoParameterError('x25519 private key must be 32 bytes');
        return x25519Agree(secret, peerShare);
      }
      const ops = nist[group];
      if (!ops) throw new CryptoParameterError(`unsupported group: ${String(group)}`);
      if (!curves[group].utils.isValidSecretKey(secret)) throw new CryptoParameterError(`invalid ${group} private key`);
      return ops.agree(secret, peerShare);
    },

    generate(group) {
      switch (group) {
        case 'x25519': {
          const secret = x25519Secret('key_share:x25519');
          return oneShot(group, x25519Public(secret), [secret], (peer) => x25519Agree(secret, peer));
        }
        case 'secp256r1':
        case 'secp384r1': {
          const ops = nist[group];
          const secret = ops.makeSecret();
          return oneShot(group, ops.publicOf(secret), [secret], (peer) => ops.agree(secret, peer));
        }
        case 'X25519MLKEM768': {
          const kem = mlKem768KeyGen(random(MLKEM768.seedLength, 'key_share:X25519MLKEM768:mlkem768'));
          const xSecret = x25519Secret('key_share:X25519MLKEM768:x25519');
          const share = concat(kem.encapsulationKey, x25519Public(xSecret));
          return oneShot(group, share, [kem.decapsulationKey, xSecret], (peer) => {
            if (peer.length !== MLKEM768.ciphertextLength + X25519_LENGTH) {
              throw new InvalidKeyShareError(`X25519MLKEM768 server share must be ${MLKEM768.ciphertextLength + X25519_LENGTH} bytes, got ${peer.length}`);
            }
            const kemSecret = mlKem768Decapsulate(peer.subarray(0, MLKEM768.ciphertextLength), kem.decapsulationKey);
            let xShared: Uint8Array | undefined;
            try {
              xShared = x25519Agree(xSecret, peer.subarray(MLKEM768.ciphertextLength));
              return concat(kemSecret, xShared);
            } finally {
              // The hybrid secret is their concatenation: the components are the same secret twice over.
              kemSecret.fill(0);
              xShared?.fill(0);
            }
          });
        }
        default:
          throw new CryptoParameterError(`unsupported group: ${String(group)}`);
      }
    },

    respond(group, clientShare) {
      switch (group) {
        case 'x25519': {
          const secret = x25519Secret('key_share:x25519');
          try {
            return { group, publicShare: x25519Public(secret), sharedSecret: x25519Agree(secret, clientShare) };
          } finally {
            secret.fill(0);
          }
        }
        case 'secp256r1':
        case 'secp384r1': {
          const ops = nist[group];
          const secret = ops.makeSecret();
          try {
            const sharedSecret = ops.agree(secret, clientShare);
            return { group, publicShare: ops.publicOf(secret), sharedSecret };
          } finally {
            secret.fill(0);
          }
        }
        case 'X25519MLKEM768': {
          if (clientShare.length !== MLKEM768.encapsulationKeyLength + X25519_LENGTH) {
            throw new InvalidKeyShareError(`X25519MLKEM768 client share must be ${MLKEM768.encapsulationKeyLength + X25519_LENGTH} bytes, got ${clientShare.length}`);
          }
          const ek = clientShare.subarray(0, MLKEM768.encapsulationKeyLength);
          const message = random(MLKEM768.messageLength, 'kem_encapsulation:X25519MLKEM768');
          const kem = mlKem768Encapsulate(ek, message);
          message.fill(0); // it determines the KEM secret as much as the secret itself
          const xSecret = x25519Secret('key_share:X25519MLKEM768:x25519');
          let xShared: Uint8Array | undefined;
          try {
            xShared = x25519Agree(xSecret, clientShare.subarray(MLKEM768.encapsulationKeyLength));
            return {
              group,
              publicShare: concat(kem.ciphertext, x25519Public(xSecret)),
              sharedSecret: concat(kem.sharedSecret, xShared),
            };
          } finally {
            xSecret.fill(0);
            // The components live on inside the concatenated secret; these copies must not.
            kem.sharedSecret.fill(0);
            xShared?.fill(0);
          }
        }
        default:
          throw new CryptoParameterError(`unsupported group: ${String(group)}`);
      }
    },
  };
}
