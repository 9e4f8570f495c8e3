/**
 * ML-KEM-768 and ML-KEM-1024 (FIPS 203) with explicit randomness: noble's `ml_kem768` and
 * `ml_kem1024` draw from the global RNG only when no seed or message is passed, so sandtls always
 * passes them, drawn from the Platform.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ml_kem1024, ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { bytesToHex, hexToBytes } from './bytes.js';
import { CryptoParameterError, InvalidKeyShareError, SelfTestError } from './errors.js';

/** The ML-KEM parameter sets sandtls uses. */
export type MlKemName = 'ML-KEM-768' | 'ML-KEM-1024';

/** FIPS 203 Table 3 sizes of one parameter set. */
export interface MlKemSizes {
  readonly name: MlKemName;
  /** d || z */
  readonly seedLength: 64;
  readonly messageLength: 32;
  readonly encapsulationKeyLength: number;
  readonly decapsulationKeyLength: number;
  readonly ciphertextLength: number;
  readonly sharedSecretLength: 32;
}

/** FIPS 203 Table 3 sizes for ML-KEM-768. */
export const MLKEM768: MlKemSizes = Object.freeze({
  name: 'ML-KEM-768',
  seedLength: 64,
  messageLength: 32,
  encapsulationKeyLength: 1184,
  decapsulationKeyLength: 2400,
  ciphertextLength: 1088,
  sharedSecretLength: 32,
});

/** FIPS 203 Table 3 sizes for ML-KEM-1024. */
export const MLKEM1024: MlKemSizes = Object.freeze({
  name: 'ML-KEM-1024',
  seedLength: 64,
  messageLength: 32,
  encapsulationKeyLength: 1568,
  decapsulationKeyLength: 3168,
  ciphertextLength: 1568,
  sharedSecretLength: 32,
});

const _IMPLEMENTATIONS = Object.freeze({ 'ML-KEM-768': ml_kem768, 'ML-KEM-1024': ml_kem1024 });

export interface MlKemKeyPair {
  encapsulationKey: Uint8Array;
  decapsulationKey: Uint8Array;
}

/** ML-KEM.KeyGen_internal from a 64-byte seed (d || z), for either parameter set. */
function _keyGen(sizes: MlKemSizes, seed: Uint8Array): MlKemKeyPair {
  if (seed.length !== sizes.seedLength) {
    throw new CryptoParameterError(`${sizes.name} key generation needs a ${sizes.seedLength}-byte seed, got ${seed.length}`);
  }
  const { publicKey, secretKey } = _IMPLEMENTATIONS[sizes.name].keygen(seed);
  return { encapsulationKey: publicKey, decapsulationKey: secretKey };
}

/** ML-KEM.Encaps_internal with explicit 32-byte message randomness, with FIPS 203 7.2's checks. */
function _encapsulate(sizes: MlKemSizes, encapsulationKey: Uint8Array, message: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  if (encapsulationKey.length !== sizes.encapsulationKeyLength) {
    throw new InvalidKeyShareError(`${sizes.name} encapsulation key must be ${sizes.encapsulationKeyLength} bytes, got ${encapsulationKey.length}`);
  }
  if (message.length !== sizes.messageLength) {
    throw new CryptoParameterError(`${sizes.name} encapsulation needs ${sizes.messageLength} random bytes`);
  }
  try {
    const { cipherText, sharedSecret } = _IMPLEMENTATIONS[sizes.name].encapsulate(encapsulationKey, message);
    return { ciphertext: cipherText, sharedSecret };
  } catch {
    // FIPS 203 7.2 modulus check: a coefficient >= q means the key was not honestly made.
    throw new InvalidKeyShareError(`${sizes.name} encapsulation key failed the modulus check`);
  }
}

/** ML-KEM.Decaps; a well-formed but wrong ciphertext yields the implicit-rejection secret. */
function _decapsulate(sizes: MlKemSizes, ciphertext: Uint8Array, decapsulationKey: Uint8Array): Uint8Array {
  if (ciphertext.length !== sizes.ciphertextLength) {
    throw new InvalidKeyShareError(`${sizes.name} ciphertext must be ${sizes.ciphertextLength} bytes, got ${ciphertext.length}`);
  }
  if (decapsulationKey.length !== sizes.decapsulationKeyLength) {
    throw new CryptoParameterError(`${sizes.name} decapsulation key has the wrong length`);
  }
  return _IMPLEMENTATIONS[sizes.name].decapsulate(ciphertext, decapsulationKey);
}

/**
 * ML-KEM-768 KeyGen_internal from a 64-byte seed (d || z).
 * @example
 * const { encapsulationKey } = mlKem768KeyGen(random(64, 'key_share:X25519MLKEM768:mlkem768'));
 */
export function mlKem768KeyGen(seed: Uint8Array): MlKemKeyPair {
  return _keyGen(MLKEM768, seed);
}

/**
 * ML-KEM-768 Encaps_internal with explicit 32-byte message randomness. The encapsulation key must
 * pass FIPS 203 7.2's type and modulus checks, else `InvalidKeyShareError`.
 * @example
 * const { ciphertext, sharedSecret } = mlKem768Encapsulate(peerKey, random(32, 'kem_encapsulation'));
 */
export function mlKem768Encapsulate(encapsulationKey: Uint8Array, message: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  return _encapsulate(MLKEM768, encapsulationKey, message);
}

/**
 * ML-KEM-768 Decaps. A wrong-length ciphertext is rejected; a well-formed but wrong one yields the
 * implicit-rejection secret (FIPS 203 6.3), never an error, so it leaks nothing.
 * @example
 * const secret = mlKem768Decapsulate(ciphertext, keyPair.decapsulationKey);
 */
export function mlKem768Decapsulate(ciphertext: Uint8Array, decapsulationKey: Uint8Array): Uint8Array {
  return _decapsulate(MLKEM768, ciphertext, decapsulationKey);
}

/**
 * ML-KEM-1024 KeyGen_internal from a 64-byte seed (d || z).
 * @example
 * const { encapsulationKey } = mlKem1024KeyGen(random(64, 'key_share:SecP384r1MLKEM1024:mlkem1024'));
 */
export function mlKem1024KeyGen(seed: Uint8Array): MlKemKeyPair {
  return _keyGen(MLKEM1024, seed);
}

/**
 * ML-KEM-1024 Encaps_internal with explicit 32-byte message randomness; the same checks as
 * `mlKem768Encapsulate`.
 * @example
 * const { ciphertext, sharedSecret } = mlKem1024Encapsulate(peerKey, random(32, 'kem_encapsulation'));
 */
export function mlKem1024Encapsulate(encapsulationKey: Uint8Array, message: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array } {
  return _encapsulate(MLKEM1024, encapsulationKey, message);
}

/**
 * ML-KEM-1024 Decaps, with implicit rejection as `mlKem768Decapsulate`.
 * @example
 * const secret = mlKem1024Decapsulate(ciphertext, keyPair.decapsulationKey);
 */
export function mlKem1024Decapsulate(ciphertext: Uint8Array, decapsulationKey: Uint8Array): Uint8Array {
  return _decapsulate(MLKEM1024, ciphertext, decapsulationKey);
}

/**
 * Known answers: Wycheproof ML-KEM-768 tcId 2's seed d || z and the message 0x42 x 32; the
 * ML-KEM-1024 values on the same inputs agree with kyber-py (an independent FIPS 203
 * implementation, which also reproduces the ML-KEM-768 ones). SHA-256 of the encapsulation key
 * and of the ciphertext, then the shared secret.
 */
const _KATS: Readonly<Record<MlKemName, { readonly encapsulationKey: string; readonly ciphertext: string; readonly sharedSecret: string }>> = Object.freeze({
  'ML-KEM-768': {
    encapsulationKey: '86adbca81f4fee893e2fb58fb98aa2fe188f501fed268d7f4056f8c05c4e53c4',
    ciphertext: 'dd59785eefa884f6a9e677c0018df5eb69819b0dbc7a73ce27284a962bc5042c',
    sharedSecret: 'f41365d1f383cd6ec5df0dd6200ebc63b36998384e07722a5814676364fd2ca6',
  },
  'ML-KEM-1024': {
    encapsulationKey: '61b95ec8c32ae85ad7a17ae5b9c2dfb083e05f767da3ba9a0a8092ea6b4cbf7a',
    ciphertext: 'f1f9d38c762aae200a8f1c38c779b85e0009de37c09e8086a012f6e8c662f306',
    sharedSecret: '3dfe144d032de305e6db80e63303da19db277aabe62cff364eb082eaaaaa99a8',
  },
});
const _KAT_SEED = '7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f';

/**
 * The known-answer self-test of one parameter set: key generation, encapsulation and
 * decapsulation on fixed inputs. Throws `SelfTestError` naming the step that disagrees. `init()`
 * runs it for ML-KEM-768; ML-KEM-1024 (opt-in: SecP384r1MLKEM1024) is tested on an engine's
 * first use of it (kx.ts). Draws no entropy.
 * @example
 * mlKemSelfTest(MLKEM1024);
 */
export function mlKemSelfTest(sizes: MlKemSizes): void {
  const kat = _KATS[sizes.name];
  const check = (step: string, actual: Uint8Array, expected: string) => {
    if (bytesToHex(actual) !== expected) throw new SelfTestError(`self-test failed: ${sizes.name} ${step}`);
  };
  try {
    const pair = _keyGen(sizes, hexToBytes(_KAT_SEED));
    check('keygen', sha256(pair.encapsulationKey), kat.encapsulationKey);
    const encapsulated = _encapsulate(sizes, pair.encapsulationKey, new Uint8Array(32).fill(0x42));
    check('encapsulate', sha256(encapsulated.ciphertext), kat.ciphertext);
    check('shared secret', encapsulated.sharedSecret, kat.sharedSecret);
    check('decapsulate', _decapsulate(sizes, encapsulated.ciphertext, pair.decapsulationKey), kat.sharedSecret);
  } catch (error) {
    // A throw from the implementation (say, its own key check) is a failed self-test too, never
    // the peer's fault (InvalidKeyShareError would blame the peer).
    if (error instanceof SelfTestError) throw error;
    throw new SelfTestError(`self-test failed: ${sizes.name} threw`, { cause: error });
  }
}
