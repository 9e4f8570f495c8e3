/**
 * EncryptedExtensions (RFC 8446 4.3.1): the server's answers to ClientHello extensions that
 * are not needed to establish the cryptographic context.
 * @module
 */
import { _readExtensionBlock, _writeExtensionBlock, type EncryptedExtensionsExtension } from './extensions.js';
import { _buildHandshake, _openHandshake, type Decoded, type DecodeOptions } from './handshake.js';

/**
 * ```
 * struct {
 *     Extension extensions<0..2^16-1>;
 * } EncryptedExtensions;
 * ```
 * (RFC 8446 4.3.1)
 */
export interface EncryptedExtensions {
  readonly type: 'encrypted_extensions';
  readonly extensions: readonly EncryptedExtensionsExtension[];
}

/**
 * Encodes EncryptedExtensions (whole handshake message).
 * @example
 * encodeEncryptedExtensions({ type: 'encrypted_extensions',
 *   extensions: [{ type: 'application_layer_protocol_negotiation', protocolName: h2 }] });
 */
export function encodeEncryptedExtensions(msg: EncryptedExtensions): Uint8Array {
  return _buildHandshake('encrypted_extensions', (w) => _writeExtensionBlock(w, 'encrypted_extensions', msg.extensions));
}

/**
 * Decodes EncryptedExtensions (whole handshake message).
 * @example
 * const ee = decodeEncryptedExtensions(message);
 * const alpn = findExtension(ee.extensions, 'application_layer_protocol_negotiation')?.protocolName;
 */
export function decodeEncryptedExtensions(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<EncryptedExtensions> {
  const r = _openHandshake(bytes, 'encrypted_extensions', options);
  const extensions = _readExtensionBlock(r, 'encrypted_extensions');
  r.expectEnd();
  return { type: 'encrypted_extensions', extensions, raw: bytes.slice() };
}
