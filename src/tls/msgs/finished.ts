/**
 * Finished (RFC 8446 4.4.4) and EndOfEarlyData (RFC 8446 4.5).
 * @module
 */
import { TlsDecodeError, TlsEncodeError } from '../codec.js';
import { _buildHandshake, _openHandshake, type Decoded, type DecodeOptions } from './handshake.js';

/**
 * ```
 * struct {
 *     opaque verify_data[Hash.length];
 * } Finished;
 * ```
 * (RFC 8446 4.4.4)
 */
export interface Finished {
  readonly type: 'finished';
  readonly verifyData: Uint8Array;
}

/** `struct {} EndOfEarlyData;` (RFC 8446 4.5) */
export interface EndOfEarlyData {
  readonly type: 'end_of_early_data';
}

/** Hash lengths of the TLS 1.3 hashes: SHA-256, SHA-384 (and SHA-512, for completeness). */
const _HASH_LENGTHS: readonly number[] = Object.freeze([32, 48, 64]);

/**
 * Encodes a Finished message (whole handshake message).
 * @example
 * encodeFinished({ type: 'finished', verifyData: finishedVerifyData(hash, baseKey, th) });
 */
export function encodeFinished(msg: Finished): Uint8Array {
  if (!_HASH_LENGTHS.includes(msg.verifyData.length)) {
    throw new TlsEncodeError(`finished: verify_data of ${msg.verifyData.length} bytes is not a hash length`);
  }
  return _buildHandshake('finished', (w) => w.bytes(msg.verifyData), msg.verifyData.length);
}

/**
 * Decodes a Finished message (whole handshake message). `hashLength` is the negotiated cipher
 * suite's Hash.length: verify_data is a fixed-length field of exactly that size.
 * @example
 * const fin = decodeFinished(message, suite.hashLength);
 * if (!verifyFinished(suite.hash, baseKey, th, fin.verifyData)) fatal('decrypt_error');
 */
export function decodeFinished(bytes: Uint8Array, hashLength: number, options: DecodeOptions = {}): Decoded<Finished> {
  const r = _openHandshake(bytes, 'finished', options);
  // RFC 8446 4.4.4: `opaque verify_data[Hash.length];` -- any other length cannot be decoded.
  if (r.remaining !== hashLength) {
    throw new TlsDecodeError('decode_error', `finished: verify_data is ${r.remaining} bytes, expected ${hashLength}`);
  }
  return { type: 'finished', verifyData: r.bytes(hashLength, 'verify_data'), raw: bytes.slice() };
}

/**
 * Encodes EndOfEarlyData (whole handshake message: `05 00 00 00`).
 * @example
 * encodeEndOfEarlyData(); // Uint8Array [5, 0, 0, 0]
 */
export function encodeEndOfEarlyData(_msg: EndOfEarlyData = { type: 'end_of_early_data' }): Uint8Array {
  return _buildHandshake('end_of_early_data', () => undefined);
}

/**
 * Decodes EndOfEarlyData (whole handshake message); the body must be empty.
 * @example
 * decodeEndOfEarlyData(Uint8Array.of(5, 0, 0, 0));
 */
export function decodeEndOfEarlyData(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<EndOfEarlyData> {
  const r = _openHandshake(bytes, 'end_of_early_data', options);
  // RFC 8446 4.5: `struct {} EndOfEarlyData;` has no content.
  r.expectEnd();
  return { type: 'end_of_early_data', raw: bytes.slice() };
}
