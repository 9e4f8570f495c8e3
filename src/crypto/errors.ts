/**
 * Typed errors of the crypto layer. Messages say what was wrong and never carry key material.
 * @module
 */

/** Base class of every error the crypto layer throws on purpose. */
export class CryptoError extends Error {
  override readonly name: string = 'CryptoError';
}

/** AEAD authentication failed: wrong key, nonce, associated data, or a modified ciphertext. */
export class AeadTagError extends CryptoError {
  override readonly name = 'AeadTagError';
  constructor() {
    super('AEAD authentication failed (bad tag)');
  }
}

/** A peer's key share or public key is unusable: wrong length, not on the curve, low order. */
export class InvalidKeyShareError extends CryptoError {
  override readonly name = 'InvalidKeyShareError';
}

/** A key (ours or a peer's) is malformed or of the wrong kind for the operation. */
export class InvalidKeyError extends CryptoError {
  override readonly name = 'InvalidKeyError';
}

/** A request outside what the primitive allows (lengths, unsupported algorithm). */
export class CryptoParameterError extends CryptoError {
  override readonly name = 'CryptoParameterError';
}

/** A known-answer self-test or a verify-after-sign check failed: the primitive cannot be trusted. */
export class SelfTestError extends CryptoError {
  override readonly name = 'SelfTestError';
}
