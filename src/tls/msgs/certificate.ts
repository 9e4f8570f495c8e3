/**
 * Authentication messages (RFC 8446 4.3.2, 4.4.2, 4.4.3): CertificateRequest, Certificate and
 * CertificateVerify; and RFC 8879's CompressedCertificate.
 * @module
 */
import { TlsDecodeError, TlsEncodeError, vectorBounds } from '../codec.js';
import {
  _readExtensionBlock,
  _writeExtensionBlock,
  type CertificateEntryExtension,
  type CertificateRequestExtension,
} from './extensions.js';
import { _buildHandshake, _openHandshake, type Decoded, type DecodeOptions } from './handshake.js';

/** `opaque certificate_request_context<0..2^8-1>;` (RFC 8446 4.3.2, 4.4.2) */
const CERTIFICATE_REQUEST_CONTEXT = vectorBounds('certificate_request_context', 0, 0xff);
/** `opaque cert_data<1..2^24-1>;` and `opaque ASN1_subjectPublicKeyInfo<1..2^24-1>;` (RFC 8446 4.4.2) */
const CERT_DATA = vectorBounds('cert_data', 1, 0xffffff);
/** `CertificateEntry certificate_list<0..2^24-1>;` (RFC 8446 4.4.2) */
const CERTIFICATE_LIST = vectorBounds('certificate_list', 0, 0xffffff);
/** `opaque compressed_certificate_message<1..2^24-1>;` (RFC 8879 4) */
const COMPRESSED_CERTIFICATE_MESSAGE = vectorBounds('compressed_certificate_message', 1, 0xffffff);
/** `opaque signature<0..2^16-1>;` (RFC 8446 4.4.3) */
const SIGNATURE = vectorBounds('signature', 0, 0xffff);

// ---------------------------------------------------------------------------------------------
// CertificateRequest
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * struct {
 *     opaque certificate_request_context<0..2^8-1>;
 *     Extension extensions<2..2^16-1>;
 * } CertificateRequest;
 * ```
 * (RFC 8446 4.3.2)
 */
export interface CertificateRequest {
  readonly type: 'certificate_request';
  /** Empty during the handshake; echoed in the client's Certificate. */
  readonly certificateRequestContext: Uint8Array;
  /** Must include signature_algorithms. */
  readonly extensions: readonly CertificateRequestExtension[];
}

/**
 * Encodes a CertificateRequest (whole handshake message).
 * @example
 * encodeCertificateRequest({ type: 'certificate_request', certificateRequestContext: new Uint8Array(0),
 *   extensions: [{ type: 'signature_algorithms', supportedSignatureAlgorithms: [0x0403, 0x0804] }] });
 */
export function encodeCertificateRequest(msg: CertificateRequest): Uint8Array {
  if (!msg.extensions.some((e) => e.type === 'signature_algorithms')) {
    throw new TlsEncodeError('certificate_request: signature_algorithms is mandatory (RFC 8446 4.3.2)');
  }
  return _buildHandshake('certificate_request', (w) => {
    w.opaque(CERTIFICATE_REQUEST_CONTEXT, msg.certificateRequestContext);
    _writeExtensionBlock(w, 'certificate_request', msg.extensions);
  });
}

/**
 * Decodes a CertificateRequest (whole handshake message).
 * @example
 * const cr = decodeCertificateRequest(message);
 * const algs = findExtension(cr.extensions, 'signature_algorithms')!.supportedSignatureAlgorithms;
 */
export function decodeCertificateRequest(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<CertificateRequest> {
  const r = _openHandshake(bytes, 'certificate_request', options);
  const certificateRequestContext = r.opaque(CERTIFICATE_REQUEST_CONTEXT);
  const extensions = _readExtensionBlock(r, 'certificate_request');
  r.expectEnd();
  // RFC 8446 4.3.2: "The "signature_algorithms" extension MUST be specified"; RFC 8446 4.2:
  // a mandatory extension that is absent is a "missing_extension".
  if (!extensions.some((e) => e.type === 'signature_algorithms')) {
    throw new TlsDecodeError('missing_extension', 'certificate_request: no signature_algorithms extension');
  }
  return { type: 'certificate_request', certificateRequestContext, extensions, raw: bytes.slice() };
}

// ---------------------------------------------------------------------------------------------
// Certificate
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * struct {
 *     select (certificate_type) {
 *         case RawPublicKey:
 *           /* From RFC 7250 ASN.1_subjectPublicKeyInfo *\/
 *           opaque ASN1_subjectPublicKeyInfo<1..2^24-1>;
 *
 *         case X509:
 *           opaque cert_data<1..2^24-1>;
 *     };
 *     Extension extensions<0..2^16-1>;
 * } CertificateEntry;
 * ```
 * Both certificate types have the same wire form; `certData` holds the DER certificate or the
 * DER SubjectPublicKeyInfo, as negotiated.
 */
export interface CertificateEntry {
  readonly certData: Uint8Array;
  /** status_request (OCSP) and signed_certificate_timestamp, kept opaque. */
  readonly extensions: readonly CertificateEntryExtension[];
}

/**
 * ```
 * struct {
 *     opaque certificate_request_context<0..2^8-1>;
 *     CertificateEntry certificate_list<0..2^24-1>;
 * } Certificate;
 * ```
 * (RFC 8446 4.4.2)
 */
export interface Certificate {
  readonly type: 'certificate';
  /** Empty from a server; the CertificateRequest's context from a client. */
  readonly certificateRequestContext: Uint8Array;
  /** End-entity first. Empty when a client has no certificate to send. */
  readonly certificateList: readonly CertificateEntry[];
}

/**
 * The size of a Certificate body, exact when no entry carries extensions (the usual case):
 * context, list length, and per entry its 3-byte length, the DER and the 2-byte extension block
 * length; opaque extension data is counted, typed extensions get a small allowance.
 */
function _certificateBodyEstimate(msg: Certificate): number {
  let size = 1 + msg.certificateRequestContext.length + 3;
  for (const entry of msg.certificateList) {
    size += 3 + entry.certData.length + 2;
    for (const ext of entry.extensions) size += 4 + ('data' in ext && ext.data instanceof Uint8Array ? ext.data.length : 64);
  }
  return size;
}

/**
 * Encodes a Certificate (whole handshake message).
 * @example
 * encodeCertificate({ type: 'certificate', certificateRequestContext: new Uint8Array(0),
 *   certificateList: chain.map((der) => ({ certData: der, extensions: [] })) });
 */
export function encodeCertificate(msg: Certificate): Uint8Array {
  return _buildHandshake('certificate', (w) => {
    w.opaque(CERTIFICATE_REQUEST_CONTEXT, msg.certificateRequestContext);
    w.lengthPrefixed(CERTIFICATE_LIST, (w) => {
      for (const entry of msg.certificateList) {
        w.opaque(CERT_DATA, entry.certData);
        _writeExtensionBlock(w, 'certificate', entry.extensions);
      }
    });
  }, _certificateBodyEstimate(msg));
}

/**
 * Decodes a Certificate (whole handshake message; up to `maxCertificateMessageSize` bytes).
 * @example
 * const chain = decodeCertificate(message).certificateList.map((e) => e.certData);
 */
export function decodeCertificate(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<Certificate> {
  const r = _openHandshake(bytes, 'certificate', options);
  const certificateRequestContext = r.opaque(CERTIFICATE_REQUEST_CONTEXT);
  const list = r.vector(CERTIFICATE_LIST);
  const certificateList: CertificateEntry[] = [];
  // Bounded by maxCertificateMessageSize; how long a chain to accept is the connection's
  // maxCertificateChainLength, checked before any certificate is parsed.
  while (!list.isEmpty) {
    const certData = list.opaque(CERT_DATA);
    // RFC 8446 4.4.2: each entry's extensions are checked like any other block (4.2), in the
    // "CT" column of the table.
    const extensions = _readExtensionBlock(list, 'certificate');
    certificateList.push({ certData, extensions });
  }
  r.expectEnd();
  return { type: 'certificate', certificateRequestContext, certificateList, raw: bytes.slice() };
}

// ---------------------------------------------------------------------------------------------
// CompressedCertificate
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * struct {
 *      CertificateCompressionAlgorithm algorithm;
 *      uint24 uncompressed_length;
 *      opaque compressed_certificate_message<1..2^24-1>;
 * } CompressedCertificate;
 * ```
 * (RFC 8879 4.) The compressed bytes are a Certificate message body (without its handshake
 * header), as BoringSSL, OpenSSL and tlslite compress it.
 */
export interface CompressedCertificate {
  readonly type: 'compressed_certificate';
  /** CertificateCompressionAlgorithm code point (possibly one we do not implement). */
  readonly algorithm: number;
  /** Length of the Certificate message body once decompressed. */
  readonly uncompressedLength: number;
  readonly compressedCertificateMessage: Uint8Array;
}

/**
 * Encodes a CompressedCertificate (whole handshake message).
 * @example
 * encodeCompressedCertificate({ type: 'compressed_certificate', algorithm: 1, uncompressedLength: body.length,
 *   compressedCertificateMessage: zlibDeflate(body) });
 */
export function encodeCompressedCertificate(msg: CompressedCertificate): Uint8Array {
  return _buildHandshake('compressed_certificate', (w) => {
    w.u16(msg.algorithm).u24(msg.uncompressedLength).opaque(COMPRESSED_CERTIFICATE_MESSAGE, msg.compressedCertificateMessage);
  });
}

/**
 * Decodes a CompressedCertificate (whole handshake message; up to `maxCertificateMessageSize`
 * bytes). Decompression is the receiver's business (it knows which algorithms it offered).
 * @example
 * const cc = decodeCompressedCertificate(message);
 */
export function decodeCompressedCertificate(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<CompressedCertificate> {
  const r = _openHandshake(bytes, 'compressed_certificate', options);
  const algorithm = r.u16('algorithm');
  const uncompressedLength = r.u24('uncompressed_length');
  const compressedCertificateMessage = r.opaque(COMPRESSED_CERTIFICATE_MESSAGE);
  r.expectEnd();
  return { type: 'compressed_certificate', algorithm, uncompressedLength, compressedCertificateMessage, raw: bytes.slice() };
}

// ---------------------------------------------------------------------------------------------
// CertificateVerify
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * struct {
 *     SignatureScheme algorithm;
 *     opaque signature<0..2^16-1>;
 * } CertificateVerify;
 * ```
 * (RFC 8446 4.4.3)
 */
export interface CertificateVerify {
  readonly type: 'certificate_verify';
  /** SignatureScheme code point (possibly one we do not implement). */
  readonly algorithm: number;
  readonly signature: Uint8Array;
}

/**
 * Encodes a CertificateVerify (whole handshake message).
 * @example
 * encodeCertificateVerify({ type: 'certificate_verify', algorithm: SIGNATURE_SCHEME.ed25519, signature });
 */
export function encodeCertificateVerify(msg: CertificateVerify): Uint8Array {
  return _buildHandshake('certificate_verify', (w) => {
    w.u16(msg.algorithm).opaque(SIGNATURE, msg.signature);
  }, 4 + msg.signature.length);
}

/**
 * Decodes a CertificateVerify (whole handshake message).
 * @example
 * const cv = decodeCertificateVerify(message);
 * const scheme = supportedSignatureScheme(cv.algorithm);
 */
export function decodeCertificateVerify(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<CertificateVerify> {
  const r = _openHandshake(bytes, 'certificate_verify', options);
  const algorithm = r.u16('algorithm');
  const signature = r.opaque(SIGNATURE);
  r.expectEnd();
  return { type: 'certificate_verify', algorithm, signature, raw: bytes.slice() };
}
