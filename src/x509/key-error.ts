/**
 * The error of private key parsing and decryption, apart from keys.ts so that the encrypted-key
 * modules (pbes2.ts, pkcs12.ts) and keys.ts can all throw it without importing one another.
 * @module
 */

/**
 * What went wrong with a private key, named after the code node:tls (OpenSSL) gives the same
 * fault, so that sandtls/node reports what node:tls would:
 * - `ERR_OSSL_BAD_DECRYPT`: an encrypted key and a wrong or missing passphrase;
 * - `ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE`: a PKCS #12 file and a wrong passphrase (or a damaged file);
 * - `ERR_OSSL_UNSUPPORTED`: anything else: malformed, of a kind or an encryption sandtls does not
 *   support, or asking for more key-derivation work than sandtls allows.
 */
export type PrivateKeyErrorCode = 'ERR_OSSL_BAD_DECRYPT' | 'ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE' | 'ERR_OSSL_UNSUPPORTED';

/**
 * A private key that could not be used: malformed, encrypted without the right passphrase, or
 * of an unsupported kind. The message says which, and never contains key material or the
 * passphrase; `code` classifies it; `cause` holds any underlying error.
 * @example
 * try { parsePrivateKey(text); } catch (e) { if (e instanceof PrivateKeyError && e.code === 'ERR_OSSL_BAD_DECRYPT') askAgain(); }
 */
export class PrivateKeyError extends Error {
  override readonly name = 'PrivateKeyError';
  readonly code: PrivateKeyErrorCode;
  constructor(message: string, options: { cause?: unknown; code?: PrivateKeyErrorCode } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = options.code ?? 'ERR_OSSL_UNSUPPORTED';
  }
}
