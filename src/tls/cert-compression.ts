/**
 * RFC 8879 certificate compression: the algorithms sandtls implements (zlib only), turning a
 * Certificate message into a CompressedCertificate when that saves bytes, and back.
 * @module
 */
import { _localAlert } from './errors.js';
import { HANDSHAKE_TYPE } from './enums.js';
import { decodeCertificate, encodeCompressedCertificate, type Certificate, type CompressedCertificate } from './msgs/certificate.js';
import { encodeHandshake, HANDSHAKE_HEADER_LENGTH, type CodecLimits, type Decoded } from './msgs/handshake.js';
import { ZlibError, zlibDeflate, zlibInflate } from './zlib.js';

/**
 * ```
 * enum { zlib(1), brotli(2), zstd(3), (65535) } CertificateCompressionAlgorithm;
 * ```
 * (RFC 8879 3, 7.3.)
 * @example
 * CERTIFICATE_COMPRESSION_ALGORITHM.zlib; // 1
 */
export const CERTIFICATE_COMPRESSION_ALGORITHM = Object.freeze({ zlib: 1, brotli: 2, zstd: 3 } as const);

/** The algorithms sandtls can compress and decompress with. */
export type CertificateCompressionAlgorithm = 'zlib';

/** Every {@link CertificateCompressionAlgorithm}, in sandtls's preference order. */
export const CERTIFICATE_COMPRESSION_ALGORITHMS: readonly CertificateCompressionAlgorithm[] = Object.freeze(['zlib']);

/**
 * Per-config memo of compressed Certificate messages: a chain always compresses to the same
 * bytes, so it is compressed once per configuration and algorithm, not once per connection.
 * Held by the resolved config (never module-level).
 */
export class CompressedCertificateCache {
  readonly #entries = new Map<string, Uint8Array | null>();

  /**
   * The CompressedCertificate for `certificate` (a whole Certificate message), or undefined
   * when compressing would not make it smaller. `key` names the message (its context and chain).
   */
  get(key: string, certificate: Uint8Array, algorithm: number): Uint8Array | undefined {
    const id = `${algorithm}:${key}`;
    let entry = this.#entries.get(id);
    if (entry === undefined) {
      entry = compressCertificate(certificate, algorithm) ?? null;
      this.#entries.set(id, entry);
    }
    return entry ?? undefined;
  }
}

/**
 * A whole CompressedCertificate message for a whole Certificate message, or undefined when it
 * would not be smaller (RFC 8879 does not require compressing; sending more bytes is pointless).
 * @example
 * const message = compressCertificate(encodeCertificate(certificate), CERTIFICATE_COMPRESSION_ALGORITHM.zlib) ?? encodeCertificate(certificate);
 */
export function compressCertificate(certificate: Uint8Array, algorithm: number): Uint8Array | undefined {
  if (algorithm !== CERTIFICATE_COMPRESSION_ALGORITHM.zlib) return undefined;
  // RFC 8879 4: the compressed data is the Certificate message without its handshake header.
  const body = certificate.subarray(HANDSHAKE_HEADER_LENGTH);
  const message = encodeCompressedCertificate({
    type: 'compressed_certificate',
    algorithm,
    uncompressedLength: body.length,
    compressedCertificateMessage: zlibDeflate(body),
  });
  return message.length < certificate.length ? message : undefined;
}

/**
 * The Certificate inside a CompressedCertificate, checked as RFC 8879 4 asks: an algorithm this
 * side did not offer is illegal_parameter; data that does not decompress to exactly
 * uncompressed_length bytes (or would be larger than this side accepts) is bad_certificate; the
 * Certificate itself is then decoded like any other. Its `raw` is the CompressedCertificate as
 * received: that is what the transcript hashes (RFC 8879 4).
 * @example
 * const certificate = decompressCertificate(message, offeredAlgorithms, config.limits);
 * transcript.update(certificate.raw); // the CompressedCertificate bytes
 */
export function decompressCertificate(
  message: Decoded<CompressedCertificate>,
  offered: readonly number[],
  limits: CodecLimits,
): Decoded<Certificate> {
  // RFC 8879 4: "The algorithm MUST be one of the algorithms listed in the peer's
  // compress_certificate extension." A field with a value we never allowed: illegal_parameter
  // (what tlsfuzzer expects; BoringSSL refuses it too).
  if (!offered.includes(message.algorithm)) {
    throw _localAlert('illegal_parameter', `CompressedCertificate with algorithm ${message.algorithm}, which was not offered (RFC 8879 4)`);
  }
  // Refused before decompressing: a peer cannot make us allocate more than a Certificate may be.
  if (message.uncompressedLength > limits.maxCertificateMessageSize) {
    throw _localAlert('bad_certificate', `CompressedCertificate declares ${message.uncompressedLength} bytes, above the limit of ${limits.maxCertificateMessageSize}`);
  }
  let body: Uint8Array;
  try {
    body = zlibInflate(message.compressedCertificateMessage, message.uncompressedLength);
  } catch (error) {
    // RFC 8879 4: data that cannot be decompressed, or whose length after decompression does
    // not match uncompressed_length, aborts the connection with "bad_certificate".
    if (error instanceof ZlibError) throw _localAlert('bad_certificate', `CompressedCertificate does not decompress: ${error.message}`, error);
    throw error;
  }
  const certificate = decodeCertificate(encodeHandshake(HANDSHAKE_TYPE.certificate, body), { limits });
  return { ...certificate, raw: message.raw };
}
