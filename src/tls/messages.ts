/**
 * TLS 1.3 handshake messages (RFC 8446 4): one entry point to the codecs in `msgs/`, and a
 * dispatcher over every message type.
 *
 * Convention: `encodeX(msg)` returns the whole handshake message (4-byte header + body) and
 * `decodeX(bytes)` takes the whole message, returning it with `raw` (the exact bytes, for the
 * transcript hash). Malformed input throws `TlsDecodeError` carrying the alert to send.
 *
 * | module | messages |
 * |---|---|
 * | msgs/handshake.ts | header framing, limits |
 * | msgs/extensions.ts | every extension, typed per message (RFC 8446 4.2) |
 * | msgs/hello.ts | ClientHello, ServerHello, HelloRetryRequest, message_hash |
 * | msgs/encrypted-extensions.ts | EncryptedExtensions |
 * | msgs/certificate.ts | CertificateRequest, Certificate, CertificateVerify, CompressedCertificate |
 * | msgs/finished.ts | Finished, EndOfEarlyData |
 * | msgs/post-handshake.ts | NewSessionTicket, KeyUpdate |
 * @module
 */
import { TlsDecodeError } from './codec.js';
import { HANDSHAKE_TYPE, handshakeTypeName } from './enums.js';
import {
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeCompressedCertificate,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  encodeCompressedCertificate,
  type Certificate,
  type CertificateRequest,
  type CertificateVerify,
  type CompressedCertificate,
} from './msgs/certificate.js';
import { decodeEncryptedExtensions, encodeEncryptedExtensions, type EncryptedExtensions } from './msgs/encrypted-extensions.js';
import {
  decodeEndOfEarlyData,
  decodeFinished,
  encodeEndOfEarlyData,
  encodeFinished,
  type EndOfEarlyData,
  type Finished,
} from './msgs/finished.js';
import { decodeHandshakeHeader, type Decoded, type DecodeOptions } from './msgs/handshake.js';
import {
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
  encodeHelloRetryRequest,
  encodeMessageHash,
  encodeServerHello,
  type ClientHello,
  type HelloRetryRequest,
  type MessageHash,
  type ServerHello,
} from './msgs/hello.js';
import {
  decodeKeyUpdate,
  decodeNewSessionTicket,
  encodeKeyUpdate,
  encodeNewSessionTicket,
  type KeyUpdate,
  type NewSessionTicket,
} from './msgs/post-handshake.js';

export {
  encodeCertificateRequest,
  decodeCertificateRequest,
  encodeCertificate,
  decodeCertificate,
  encodeCertificateVerify,
  decodeCertificateVerify,
  encodeCompressedCertificate,
  decodeCompressedCertificate,
} from './msgs/certificate.js';
export type {
  CertificateRequest,
  CertificateEntry,
  Certificate,
  CertificateVerify,
  CompressedCertificate,
} from './msgs/certificate.js';
export {
  encodeEncryptedExtensions,
  decodeEncryptedExtensions,
} from './msgs/encrypted-extensions.js';
export type {
  EncryptedExtensions,
} from './msgs/encrypted-extensions.js';
export {
  EXTENSION_CONTEXTS,
  extensionAllowedIn,
  extensionCode,
  findExtension,
  checkSolicited,
  duplicateExtensionAlert,
  MIN_RECORD_SIZE_LIMIT,
  pskBindersLength,
  encodeExtensions,
  decodeExtensions,
} from './msgs/extensions.js';
export type {
  ExtensionContext,
  OpaqueExtension,
  ServerName,
  KeyShareEntry,
  PskIdentity,
  ServerNameExtension,
  ServerNameAckExtension,
  SupportedGroupsExtension,
  SignatureAlgorithmsExtension,
  SignatureAlgorithmsCertExtension,
  KeyShareClientHelloExtension,
  KeyShareServerHelloExtension,
  KeyShareHelloRetryRequestExtension,
  SupportedVersionsClientHelloExtension,
  SupportedVersionsServerHelloExtension,
  PskKeyExchangeModesExtension,
  OfferedPsksExtension,
  SelectedPskExtension,
  EarlyDataIndicationExtension,
  EarlyDataTicketExtension,
  CookieExtension,
  AlpnExtension,
  AlpnSelectedExtension,
  CertificateAuthoritiesExtension,
  PostHandshakeAuthExtension,
  PaddingExtension,
  RecordSizeLimitExtension,
  CompressCertificateExtension,
  TlsFlagsExtension,
  TrustAnchorsExtension,
  ClientHelloExtension,
  ServerHelloExtension,
  HelloRetryRequestExtension,
  EncryptedExtensionsExtension,
  CertificateRequestExtension,
  CertificateEntryExtension,
  NewSessionTicketExtension,
  AnyExtension,
  ExtensionsByContext,
} from './msgs/extensions.js';
export {
  encodeFinished,
  decodeFinished,
  encodeEndOfEarlyData,
  decodeEndOfEarlyData,
} from './msgs/finished.js';
export type {
  Finished,
  EndOfEarlyData,
} from './msgs/finished.js';
export {
  DEFAULT_CODEC_LIMITS,
  codecLimits,
  HANDSHAKE_HEADER_LENGTH,
  maxHandshakeBodyLength,
  encodeHandshake,
  decodeHandshakeHeader,
} from './msgs/handshake.js';
export type {
  CodecLimits,
  DecodeOptions,
  Decoded,
  HandshakeHeader,
} from './msgs/handshake.js';
export {
  RANDOM_LENGTH,
  HELLO_RETRY_REQUEST_RANDOM,
  DOWNGRADE_TLS12_SENTINEL,
  DOWNGRADE_TLS11_SENTINEL,
  isHelloRetryRequestRandom,
  encodeClientHello,
  decodeClientHello,
  clientHelloRawExtensions,
  truncatedClientHello,
  encodeServerHello,
  encodeHelloRetryRequest,
  decodeServerHello,
  hasDowngradeSentinel,
  encodeMessageHash,
  decodeMessageHash,
} from './msgs/hello.js';
export type {
  ClientHello,
  ServerHello,
  HelloRetryRequest,
  MessageHash,
} from './msgs/hello.js';
export {
  encodeNewSessionTicket,
  decodeNewSessionTicket,
  encodeKeyUpdate,
  decodeKeyUpdate,
} from './msgs/post-handshake.js';
export type {
  NewSessionTicket,
  KeyUpdate,
} from './msgs/post-handshake.js';

/** Every handshake message, discriminated by `type`. */
export type HandshakeMessage =
  | ClientHello
  | ServerHello
  | HelloRetryRequest
  | EncryptedExtensions
  | CertificateRequest
  | Certificate
  | CertificateVerify
  | CompressedCertificate
  | Finished
  | EndOfEarlyData
  | NewSessionTicket
  | KeyUpdate
  | MessageHash;

/** The messages a peer can send (message_hash is synthetic, RFC 8446 4.4.1). */
export type WireHandshakeMessage = Exclude<HandshakeMessage, MessageHash>;

/** Options of {@link decodeHandshake}. */
export interface HandshakeDecodeOptions extends DecodeOptions {
  /**
   * Hash.length of the negotiated suite, the exact size of Finished.verify_data
   * (RFC 8446 4.4.4). Without it a Finished of 32, 48 or 64 bytes is accepted.
   */
  readonly finishedLength?: number;
}

/**
 * Decodes any handshake message a peer can send (whole message: header and body). An unknown
 * or never-sent type (message_hash) is an unexpected_message. A CompressedCertificate (RFC 8879)
 * is decoded but not decompressed: the state machine knows which algorithms it offered.
 * @example
 * const msg = decodeHandshake(bytes, { finishedLength: suite.hashLength });
 * switch (msg.type) { case 'server_hello': ...; case 'hello_retry_request': ...; }
 */
export function decodeHandshake(bytes: Uint8Array, options: HandshakeDecodeOptions = {}): Decoded<WireHandshakeMessage> {
  const { msgType, length } = decodeHandshakeHeader(bytes, options);
  const T = HANDSHAKE_TYPE;
  switch (msgType) {
    case T.client_hello:
      return decodeClientHello(bytes, options);
    case T.server_hello:
      return decodeServerHello(bytes, options);
    case T.encrypted_extensions:
      return decodeEncryptedExtensions(bytes, options);
    case T.certificate_request:
      return decodeCertificateRequest(bytes, options);
    case T.certificate:
      return decodeCertificate(bytes, options);
    case T.certificate_verify:
      return decodeCertificateVerify(bytes, options);
    case T.compressed_certificate:
      return decodeCompressedCertificate(bytes, options);
    case T.finished: {
      // RFC 8446 4.4.4: verify_data is Hash.length bytes; without the suite, any hash length.
      if (options.finishedLength === undefined && length !== 32 && length !== 48 && length !== 64) {
        throw new TlsDecodeError('decode_error', `finished: verify_data of ${length} bytes is not a hash length`);
      }
      return decodeFinished(bytes, options.finishedLength ?? length, options);
    }
    case T.end_of_early_data:
      return decodeEndOfEarlyData(bytes, options);
    case T.new_session_ticket:
      return decodeNewSessionTicket(bytes, options);
    case T.key_update:
      return decodeKeyUpdate(bytes, options);
    default: {
      // RFC 8446 6.2 unexpected_message: message_hash never crosses the wire (4.4.1), and no
      // other type is valid in TLS 1.3 without an extension that negotiated it.
      const name = handshakeTypeName(msgType) ?? `unknown handshake type ${msgType}`;
      throw new TlsDecodeError('unexpected_message', `${name} cannot be received`);
    }
  }
}

/**
 * Encodes any handshake message (whole message: header and body).
 * @example
 * transcript.update(encodeHandshakeMessage({ type: 'key_update', requestUpdate: 'update_not_requested' }));
 */
export function encodeHandshakeMessage(msg: HandshakeMessage): Uint8Array {
  switch (msg.type) {
    case 'client_hello':
      return encodeClientHello(msg);
    case 'server_hello':
      return encodeServerHello(msg);
    case 'hello_retry_request':
      return encodeHelloRetryRequest(msg);
    case 'encrypted_extensions':
      return encodeEncryptedExtensions(msg);
    case 'certificate_request':
      return encodeCertificateRequest(msg);
    case 'certificate':
      return encodeCertificate(msg);
    case 'certificate_verify':
      return encodeCertificateVerify(msg);
    case 'compressed_certificate':
      return encodeCompressedCertificate(msg);
    case 'finished':
      return encodeFinished(msg);
    case 'end_of_early_data':
      return encodeEndOfEarlyData(msg);
    case 'new_session_ticket':
      return encodeNewSessionTicket(msg);
    case 'key_update':
      return encodeKeyUpdate(msg);
    case 'message_hash':
      return encodeMessageHash(msg);
  }
}
