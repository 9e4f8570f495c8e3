/**
 * ML-KEM-768 (FIPS 203) with explicit randomness: noble's `ml_kem768` draws from the global RNG
 * only when no seed or message is passed, so sandtls always passes them, drawn from the Platform.
 * @module
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { CryptoParameterError, InvalidKeyShareError } from './errors.js';

/** FIPS 203 Table 3 sizes for ML-KEM-768. */
export const MLKEM768 = Object.freeze({
  seedLength: 64, // d || z
  messageLength: 32,
  encapsulationKeyLength: 1184,
  decapsulationKeyLength: 2400,
  ciphertextLength: 1088,
  sharedSecretLength: 32,
});

export interface MlKemKeyPair {
  encapsulationKey: Uint8Array;
  decapsulationKey: Uint8Array;
}

/**
 * ML-KEM.KeyGen_internal from a 64-byte seed (d || z).
 * @example
 * const { encapsulationKey } = mlKem768KeyGen(random(64, 'key_share:X25519MLKEM768:mlkem768'));
 */
export function mlKem768KeyGen(seed: Uint8Array): MlKemKeyPair {
  if (seed.length !== MLKEM768.seedLength) {
    throw new CryptoParameterError(`ML-KEM-768 key generation needs a ${MLKEM768.seedLength}-byte seed, got ${seed.length}`);
  }
  const { publicKey, secretKey } = ml_kem768.keygen(seed);
  return { encapsulationKey: publicKey, decapsulationKey: secretKey };
}

/**
 * ML-KEM.Encaps_internal with explicit 32-byte message randomness. The encapsulation key must
 * pass FIPS 203 7.2's type and modulus checks, else `InvalidKeyShareError`.
 * @example
 * const { ciphertext, sharedSecret } = mlKem768Encapsulate(peerKey, random(32, 'kem_encapsulation'));
 */
export function mlKem768Encapsulate(
  encapsulationKey: Uint8Array,
  message: Uint8Array,
): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  if (encapsulationKey.length !== MLKEM768.encapsulationKeyLength) {
    throw new InvalidKeyShareError(`ML-KEM-768 encapsulation key must be ${MLKEM768.encapsulationKeyLength} bytes, got ${encapsulationKey.length}`);
  }
  if (message.length !== MLKEM768.messageLength) {
    throw new CryptoParameterError(`ML-KEM-768 encapsulation needs ${MLKEM768.messageLength} random bytes`);
  }
  try {
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(encapsulationKey, message);
    return { ciphertext: cipherText, sharedSecret };
  } catch {
    // FIPS 203 7.2 modulus check: a coefficient >= q means the key was not honestly made.
    throw new InvalidKeyShareError('ML-KEM-768 encapsulation key failed the modulus check');
  }
}

/**
 * ML-KEM.Decaps. A wrong-length ciphertext is rejected; a well-formed but wrong one yields the
 * implicit-rejection secret (FIPS 203 6.3), never an error, so it leaks nothing.
 * @example
 * const secret = mlKem768Decapsulate(ciphertext, keyPair.decapsulationKey);
 */
export function mlKem768Decapsulate(ciphertext: Uint8Array, decapsulationKey: Uint8Array): Uint8Array {
  if (ciphertext.length !== MLKEM768.ciphertextLength) {
    throw new InvalidKeyShareError(`ML-KEM-768 ciphertext must be ${MLKEM768.ciphertextLength} bytes, got ${ciphertext.length}`);
  }
  if (decapsulationKey.length !== MLKEM768.decapsulationKeyLength) {
    throw new CryptoParameterError('ML-KEM-768 decapsulation key has the wrong length');
  }
  return ml_kem768.decapsulate(ciphertext, decapsulationKey);
}
