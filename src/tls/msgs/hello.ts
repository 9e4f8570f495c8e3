/**
 * Key exchange messages (RFC 8446 4.1): ClientHello, ServerHello, HelloRetryRequest, and the
 * synthetic message_hash that replaces ClientHello1 in the transcript after a
 * HelloRetryRequest (RFC 8446 4.4.1).
 * @module
 */
import { Reader, TlsDecodeError, TlsEncodeError, vectorBounds, type Writer } from '../codec.js';
import { HANDSHAKE_TYPE } from '../enums.js';
import {
  _readExtensionBlock,
  _writeExtensionBlock,
  pskBindersLength,
  type ClientHelloExtension,
  type HelloRetryRequestExtension,
  type KeyShareEntry,
  type OpaqueExtension,
  type ServerHelloExtension,
} from './extensions.js';
import { _buildHandshake, _openHandshake, encodeHandshake, HANDSHAKE_HEADER_LENGTH, type Decoded, type DecodeOptions } from './handshake.js';

/** `opaque Random[32];` (RFC 8446 4.1.2) */
export const RANDOM_LENGTH = 32;

/**
 * RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest"):
 * ```
 * CF 21 AD 74 E5 9A 61 11 BE 1D 8C 02 1E 65 B8 91
 * C2 A2 11 16 7A BB 8C 5E 07 9E 09 E2 C8 A8 33 9C
 * ```
 * A frozen list of byte values (a typed array cannot be frozen); see {@link isHelloRetryRequestRandom}.
 * @example
 * Uint8Array.from(HELLO_RETRY_REQUEST_RANDOM);
 */
export const HELLO_RETRY_REQUEST_RANDOM: readonly number[] = Object.freeze([
  0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
  0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
]);

/**
 * RFC 8446 4.1.3: a TLS 1.3 server negotiating TLS 1.2 sets the last 8 bytes of its random to
 * `44 4F 57 4E 47 52 44 01` ("DOWNGRD" 01); negotiating TLS 1.1 or below, `... 00`. A TLS 1.3
 * client that sees either MUST abort with illegal_parameter (see {@link hasDowngradeSentinel}).
 */
export const DOWNGRADE_TLS12_SENTINEL: readonly number[] = Object.freeze([0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01]);
/** See {@link DOWNGRADE_TLS12_SENTINEL}. */
export const DOWNGRADE_TLS11_SENTINEL: readonly number[] = Object.freeze([0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00]);

function _equals(bytes: Uint8Array, list: readonly number[]): boolean {
  if (bytes.length !== list.length) return false;
  // A plain loop: every ServerHello is checked, and a random differs at its first byte.
  for (let i = 0; i < list.length; i++) if (bytes[i] !== list[i]) return false;
  return true;
}

/**
 * Whether a ServerHello random is the HelloRetryRequest value (RFC 8446 4.1.3).
 * @example
 * isHelloRetryRequestRandom(Uint8Array.from(HELLO_RETRY_REQUEST_RANDOM)); // true
 */
export function isHelloRetryRequestRandom(random: Uint8Array): boolean {
  return _equals(random, HELLO_RETRY_REQUEST_RANDOM);
}

/** `opaque legacy_session_id<0..32>;` (RFC 8446 4.1.2) and legacy_session_id_echo (4.1.3) */
const LEGACY_SESSION_ID = vectorBounds('legacy_session_id', 0, 32);
/** `CipherSuite cipher_suites<2..2^16-2>;` (RFC 8446 4.1.2) */
const CIPHER_SUITES = vectorBounds('cipher_suites', 2, 0xfffe);
/** `opaque legacy_compression_methods<1..2^8-1>;` (RFC 8446 4.1.2) */
const LEGACY_COMPRESSION_METHODS = vectorBounds('legacy_compression_methods', 1, 0xff);

/**
 * ```
 * uint16 ProtocolVersion;
 * opaque Random[32];
 *
 * uint8 CipherSuite[2];    /* Cryptographic suite selector *\/
 *
 * struct {
 *     ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 *\/
 *     Random random;
 *     opaque legacy_session_id<0..32>;
 *     CipherSuite cipher_suites<2..2^16-2>;
 *     opaque legacy_compression_methods<1..2^8-1>;
 *     Extension extensions<8..2^16-1>;
 * } ClientHello;
 * ```
 * legacy_compression_methods is always `[0]` in TLS 1.3, so it is not a field here.
 */
export interface ClientHello {
  readonly type: 'client_hello';
  /** 0x0303 from TLS 1.3 clients (RFC 8446 4.1.2); kept as received. */
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly legacySessionId: Uint8Array;
  /** Code points in the client's order; unknown and GREASE values kept. */
  readonly cipherSuites: readonly number[];
  /**
   * In wire order. Empty when a pre-extensions ClientHello carried no extension block at all
   * (RFC 8446 4.1.2 allows detecting that; such a hello is not TLS 1.3).
   */
  readonly extensions: readonly ClientHelloExtension[];
}

/**
 * ```
 * struct {
 *     ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 *\/
 *     Random random;
 *     opaque legacy_session_id_echo<0..32>;
 *     CipherSuite cipher_suite;
 *     uint8 legacy_compression_method = 0;
 *     Extension extensions<6..2^16-1>;
 * } ServerHello;
 * ```
 */
export interface ServerHello {
  readonly type: 'server_hello';
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly legacySessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly extensions: readonly ServerHelloExtension[];
}

/**
 * A ServerHello whose random is {@link HELLO_RETRY_REQUEST_RANDOM} (RFC 8446 4.1.3, 4.1.4); the
 * random is implied. Its extensions are key_share (selected_group), cookie and
 * supported_versions.
 */
export interface HelloRetryRequest {
  readonly type: 'hello_retry_request';
  readonly legacyVersion: number;
  readonly legacySessionIdEcho: Uint8Array;
  readonly cipherSuite: number;
  readonly extensions: readonly HelloRetryRequestExtension[];
}

/**
 * The synthetic handshake message that stands for ClientHello1 in the transcript after a
 * HelloRetryRequest (RFC 8446 4.4.1):
 * ```
 * Transcript-Hash(ClientHello1, HelloRetryRequest, ... Mn) =
 *     Hash(message_hash ||        /* Handshake type *\/
 *          00 00 Hash.length  ||  /* Handshake message length (bytes) *\/
 *          Hash(ClientHello1) ||  /* Hash of ClientHello1 *\/
 *          HelloRetryRequest  || ... || Mn)
 * ```
 */
export interface MessageHash {
  readonly type: 'message_hash';
  /** Hash(ClientHello1). */
  readonly hash: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// ClientHello
// ---------------------------------------------------------------------------------------------

/**
 * Encodes a ClientHello (whole handshake message). legacy_compression_methods is written as
 * `[0]` (RFC 8446 4.1.2).
 * @example
 * const bytes = encodeClientHello({ type: 'client_hello', legacyVersion: LEGACY_VERSION, random,
 *   legacySessionId: new Uint8Array(0), cipherSuites: [0x1301], extensions });
 */
export function encodeClientHello(msg: ClientHello): Uint8Array {
  return _buildHandshake('client_hello', (w) => {
    w.u16(msg.legacyVersion);
    _writeRandom(w, msg.random);
    w.opaque(LEGACY_SESSION_ID, msg.legacySessionId);
    w.lengthPrefixed(CIPHER_SUITES, (w) => {
      for (const s of msg.cipherSuites) w.u16(s);
    });
    w.lengthPrefixed(LEGACY_COMPRESSION_METHODS, (w) => w.u8(0));
    _writeExtensionBlock(w, 'client_hello', msg.extensions);
  }, _HELLO_FIXED_ESTIMATE + _keyShareBytes(msg.extensions));
}

/**
 * Decodes a ClientHello (whole handshake message).
 * @example
 * const ch = decodeClientHello(message);
 * transcript.update(ch.raw);
 */
export function decodeClientHello(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<ClientHello> {
  const r = _openHandshake(bytes, 'client_hello', options);
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(RANDOM_LENGTH, 'random');
  const legacySessionId = r.opaque(LEGACY_SESSION_ID);
  const suites = r.vector(CIPHER_SUITES);
  // RFC 8446 3.4: a vector of 2-byte elements has an even length.
  if (suites.remaining % 2 !== 0) throw new TlsDecodeError('decode_error', 'client_hello: cipher_suites length is odd');
  const cipherSuites: number[] = [];
  while (!suites.isEmpty) cipherSuites.push(suites.u16('cipher_suite'));
  const compression = r.opaque(LEGACY_COMPRESSION_METHODS);
  // RFC 8446 4.1.2: "For every TLS 1.3 ClientHello, this vector MUST contain exactly one byte,
  // set to zero ... If a TLS 1.3 ClientHello is received with any other value in this field,
  // the server MUST abort the handshake with an "illegal_parameter" alert."
  if (compression.length !== 1 || compression[0] !== 0) {
    throw new TlsDecodeError('illegal_parameter', 'client_hello: legacy_compression_methods is not exactly [0]');
  }
  // RFC 8446 4.1.2: "The presence of extensions can be detected by determining whether there
  // are bytes following the compression_methods field" -- a pre-extensions hello has none.
  const extensions = r.isEmpty ? [] : _readExtensionBlock(r, 'client_hello');
  r.expectEnd();
  return { type: 'client_hello', legacyVersion, random, legacySessionId, cipherSuites, extensions, raw: bytes.slice() };
}

/**
 * The extensions of a decoded ClientHello exactly as they were on the wire: each type with its
 * extension_data bytes, in order, parsed or not. For checks that compare two ClientHellos byte
 * for byte (RFC 8446 4.1.2: the second ClientHello after a HelloRetryRequest repeats the first
 * but for listed changes). Reads `hello.raw`, which the decoder has already checked.
 * @example
 * const before = clientHelloRawExtensions(ch1), after = clientHelloRawExtensions(ch2);
 */
export function clientHelloRawExtensions(hello: Decoded<ClientHello>): OpaqueExtension[] {
  const r = new Reader(hello.raw, 'client_hello', HANDSHAKE_HEADER_LENGTH);
  r.u16('legacy_version');
  r.bytes(RANDOM_LENGTH, 'random');
  r.vector(LEGACY_SESSION_ID);
  r.vector(CIPHER_SUITES);
  r.vector(LEGACY_COMPRESSION_METHODS);
  const out: OpaqueExtension[] = [];
  if (r.isEmpty) return out;
  const block = r.vector(2);
  while (!block.isEmpty) {
    const type = block.u16('extension_type');
    out.push({ type, data: block.vector(2).rest() });
  }
  return out;
}

/**
 * The partial ClientHello a PSK binder is computed over (RFC 8446 4.2.11.2): the encoded
 * ClientHello without the `binders` list that ends it ("the transcript hash up to and including
 * the PreSharedKeyExtension.identities field"). `encoded` is the whole handshake message; `msg`
 * the same ClientHello (its pre_shared_key extension, necessarily last, gives the binders'
 * size). Throws if the ClientHello offers no PSK.
 * @example
 * const partial = truncatedClientHello(encodeClientHello(chWithDummyBinders), chWithDummyBinders);
 * const binder = hmac(hash, finishedKey, transcriptHash(partial));
 */
export function truncatedClientHello(encoded: Uint8Array, msg: ClientHello): Uint8Array {
  const last = msg.extensions[msg.extensions.length - 1];
  if (last === undefined || last.type !== 'pre_shared_key') {
    throw new TlsEncodeError('truncatedClientHello: the ClientHello does not end with pre_shared_key');
  }
  const cut = encoded.length - pskBindersLength(last.binders);
  if (cut < HANDSHAKE_HEADER_LENGTH) throw new TlsEncodeError('truncatedClientHello: binders longer than the message');
  return encoded.slice(0, cut);
}

// ---------------------------------------------------------------------------------------------
// ServerHello and HelloRetryRequest
// ---------------------------------------------------------------------------------------------

/**
 * Encodes a ServerHello (whole handshake message).
 * @example
 * encodeServerHello({ type: 'server_hello', legacyVersion: LEGACY_VERSION, random,
 *   legacySessionIdEcho: ch.legacySessionId, cipherSuite: 0x1301, extensions });
 */
export function encodeServerHello(msg: ServerHello): Uint8Array {
  if (isHelloRetryRequestRandom(msg.random)) {
    throw new TlsEncodeError('server_hello: random is the HelloRetryRequest value');
  }
  return _encodeServerHelloShape(msg.legacyVersion, msg.random, msg.legacySessionIdEcho, msg.cipherSuite, (w) =>
    _writeExtensionBlock(w, 'server_hello', msg.extensions),
  _keyShareBytes(msg.extensions));
}

/**
 * Encodes a HelloRetryRequest: a ServerHello with the special random (RFC 8446 4.1.3).
 * @example
 * encodeHelloRetryRequest({ type: 'hello_retry_request', legacyVersion: LEGACY_VERSION,
 *   legacySessionIdEcho: ch.legacySessionId, cipherSuite: 0x1301,
 *   extensions: [{ type: 'supported_versions', selectedVersion: 0x0304 },
 *                { type: 'key_share', selectedGroup: 0x0017 }] });
 */
export function encodeHelloRetryRequest(msg: HelloRetryRequest): Uint8Array {
  return _encodeServerHelloShape(msg.legacyVersion, Uint8Array.from(HELLO_RETRY_REQUEST_RANDOM), msg.legacySessionIdEcho, msg.cipherSuite, (w) =>
    _writeExtensionBlock(w, 'hello_retry_request', msg.extensions),
  0);
}

/**
 * A hello's size apart from its key shares: version, random, session id, suites, compression
 * and the usual extensions (names, groups, schemes, ALPN, PSK identities) fit in it; a hello
 * with more grows its buffer once.
 */
const _HELLO_FIXED_ESTIMATE = 512;

/** The bytes of the key_share entries among `extensions` (ML-KEM shares are over a kilobyte). */
function _keyShareBytes(extensions: readonly { readonly type: unknown }[]): number {
  let size = 0;
  for (const ext of extensions) {
    if (ext.type !== 'key_share') continue;
    const share = ext as { readonly clientShares?: readonly KeyShareEntry[]; readonly serverShare?: KeyShareEntry };
    for (const entry of share.clientShares ?? []) size += 4 + entry.keyExchange.length;
    if (share.serverShare) size += 4 + share.serverShare.keyExchange.length;
  }
  return size;
}

function _encodeServerHelloShape(
  legacyVersion: number,
  random: Uint8Array,
  legacySessionIdEcho: Uint8Array,
  cipherSuite: number,
  writeExtensions: (w: Writer) => void,
  keyShareBytes: number,
): Uint8Array {
  return _buildHandshake('server_hello', (w) => {
    w.u16(legacyVersion);
    _writeRandom(w, random);
    w.opaque(LEGACY_SESSION_ID, legacySessionIdEcho);
    w.u16(cipherSuite);
    w.u8(0); // legacy_compression_method = 0 (RFC 8446 4.1.3)
    writeExtensions(w);
  }, _HELLO_FIXED_ESTIMATE + keyShareBytes);
}

/**
 * Decodes a message of HandshakeType server_hello (whole handshake message): a ServerHello, or a
 * HelloRetryRequest when the random is {@link HELLO_RETRY_REQUEST_RANDOM} (RFC 8446 4.1.3), whose
 * extensions are then read with HelloRetryRequest's rules.
 * @example
 * const sh = decodeServerHello(message);
 * if (sh.type === 'hello_retry_request') retry(sh); else proceed(sh);
 */
export function decodeServerHello(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<ServerHello> | Decoded<HelloRetryRequest> {
  const r = _openHandshake(bytes, 'server_hello', options);
  const legacyVersion = r.u16('legacy_version');
  const random = r.bytes(RANDOM_LENGTH, 'random');
  const legacySessionIdEcho = r.opaque(LEGACY_SESSION_ID);
  const cipherSuite = r.u16('cipher_suite');
  const compression = r.u8('legacy_compression_method');
  // RFC 8446 4.1.3: "legacy_compression_method: A single byte which MUST have the value 0." It
  // names no alert for a client to send (4.1.2's illegal_parameter is the server's, for
  // ClientHello): decode_error, as BoringSSL sends (BoGo TLS13-HRR-InvalidCompressionMethod).
  if (compression !== 0) throw new TlsDecodeError('decode_error', `server_hello: legacy_compression_method is ${compression}`);
  const raw = bytes.slice();
  // RFC 8446 4.1.3: the HelloRetryRequest random marks the message as a HelloRetryRequest.
  if (isHelloRetryRequestRandom(random)) {
    const extensions = _readExtensionBlock(r, 'hello_retry_request');
    r.expectEnd();
    return { type: 'hello_retry_request', legacyVersion, legacySessionIdEcho, cipherSuite, extensions, raw };
  }
  const extensions = _readExtensionBlock(r, 'server_hello');
  r.expectEnd();
  return { type: 'server_hello', legacyVersion, random, legacySessionIdEcho, cipherSuite, extensions, raw };
}

/**
 * Whether a ServerHello's random ends in a downgrade sentinel (RFC 8446 4.1.3): a TLS 1.3
 * client negotiating an older version MUST then abort with illegal_parameter.
 * @example
 * if (hasDowngradeSentinel(sh.random)) fatal('illegal_parameter');
 */
export function hasDowngradeSentinel(random: Uint8Array): boolean {
  if (random.length !== RANDOM_LENGTH) return false;
  const tail = random.subarray(RANDOM_LENGTH - 8);
  return _equals(tail, DOWNGRADE_TLS12_SENTINEL) || _equals(tail, DOWNGRADE_TLS11_SENTINEL);
}

// ---------------------------------------------------------------------------------------------
// message_hash
// ---------------------------------------------------------------------------------------------

/**
 * Encodes the synthetic message_hash message `FE 00 00 Hash.length Hash(ClientHello1)`
 * (RFC 8446 4.4.1).
 * @example
 * transcript = newTranscript(); transcript.update(encodeMessageHash(hashOfClientHello1));
 */
export function encodeMessageHash(msg: MessageHash | Uint8Array): Uint8Array {
  const hash = msg instanceof Uint8Array ? msg : msg.hash;
  return encodeHandshake(HANDSHAKE_TYPE.message_hash, hash);
}

/**
 * Decodes a message_hash message (for tests and transcript inspection; it never arrives from a
 * peer). The hash must be 32, 48 or 64 bytes.
 * @example
 * decodeMessageHash(encodeMessageHash(h)).hash; // h
 */
export function decodeMessageHash(bytes: Uint8Array, options: DecodeOptions = {}): Decoded<MessageHash> {
  const r = _openHandshake(bytes, 'message_hash', options);
  // RFC 8446 4.4.1: the body is Hash(ClientHello1), Hash.length bytes.
  if (r.remaining !== 32 && r.remaining !== 48 && r.remaining !== 64) {
    throw new TlsDecodeError('decode_error', `message_hash: ${r.remaining} bytes is not a hash length`);
  }
  return { type: 'message_hash', hash: r.rest(), raw: bytes.slice() };
}

function _writeRandom(w: Writer, random: Uint8Array): void {
  if (random.length !== RANDOM_LENGTH) throw new TlsEncodeError(`random must be ${RANDOM_LENGTH} bytes, not ${random.length}`);
  w.bytes(random);
}
