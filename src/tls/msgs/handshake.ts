/**
 * Handshake message framing (RFC 8446 4) and the limits every decoder enforces.
 *
 * Convention for every message codec in this folder: `encodeX(msg)` returns the whole
 * handshake message (4-byte header and body), and `decodeX(bytes)` takes the whole message and
 * returns it with `raw`, the exact bytes received, for the transcript hash (RFC 8446 4.4.1).
 * @module
 */
import { Reader, TlsDecodeError, Writer, type FieldSink } from '../codec.js';
import { HANDSHAKE_TYPE, handshakeTypeName, type HandshakeTypeName } from '../enums.js';

/**
 * Resource limits for decoding peer messages. Work and memory are bounded by bytes: each
 * handshake message is refused above its size limit before it is buffered, and decoding is
 * linear in its size (duplicate checks use sets, never pairwise comparison). There is no limit
 * on how many extensions, code points or list entries a message holds: RFC-valid peers send
 * ClientHellos with 80+ extensions and thousands of signature schemes (tlsfuzzer does), and
 * the message size already bounds them. Exceeding a limit is a decode_error.
 */
export interface CodecLimits {
  /**
   * Largest handshake message body other than Certificate (default 131,396 bytes: the largest
   * ClientHello RFC 8446 4.1.2 allows, 2 + 32 + (1 + 32) + (2 + 65,534) + (1 + 255) + (2 + 65,535);
   * no other TLS 1.3 message but Certificate can be larger. tlsfuzzer sends ClientHellos of
   * 65,600 bytes, 32,717 signature schemes, that peers must take).
   */
  readonly maxHandshakeMessageSize: number;
  /** Largest Certificate message body (default 262,144 bytes: long chains, big RSA keys). */
  readonly maxCertificateMessageSize: number;
}

/**
 * The default {@link CodecLimits}.
 * @example
 * DEFAULT_CODEC_LIMITS.maxHandshakeMessageSize; // 131396
 */
export const DEFAULT_CODEC_LIMITS: CodecLimits = Object.freeze({
  maxHandshakeMessageSize: 131_396,
  maxCertificateMessageSize: 0x40000,
});

/** Options every decoder accepts. */
export interface DecodeOptions {
  /** Overrides of {@link DEFAULT_CODEC_LIMITS}. */
  readonly limits?: Partial<CodecLimits>;
  /** Told where each field of the message lies (for the annotated hex dump of a `'bytes'` trace). */
  readonly annotate?: FieldSink;
}

/**
 * The limits in force: the defaults with `overrides` applied.
 * @example
 * codecLimits({ maxHandshakeMessageSize: 4096 }).maxHandshakeMessageSize; // 4096
 */
export function codecLimits(overrides?: Partial<CodecLimits>): CodecLimits {
  return overrides === undefined ? DEFAULT_CODEC_LIMITS : { ...DEFAULT_CODEC_LIMITS, ...overrides };
}

/** A decoded message with the exact bytes it was decoded from (header included). */
export type Decoded<T> = T & {
  /** The whole handshake message as received: what goes into the transcript hash. */
  readonly raw: Uint8Array;
};

/** The 4-byte handshake header. */
export interface HandshakeHeader {
  /** HandshakeType code point (possibly unknown). */
  readonly msgType: number;
  /** Length of the body that follows. */
  readonly length: number;
}

/** Bytes in the handshake header: msg_type (1) and length (3). */
export const HANDSHAKE_HEADER_LENGTH = 4;

/**
 * The largest body this decoder accepts for a message type.
 * @example
 * maxHandshakeBodyLength(HANDSHAKE_TYPE.certificate); // 262144 by default
 */
export function maxHandshakeBodyLength(msgType: number, limits: CodecLimits = DEFAULT_CODEC_LIMITS): number {
  return msgType === HANDSHAKE_TYPE.certificate || msgType === HANDSHAKE_TYPE.compressed_certificate
    ? limits.maxCertificateMessageSize
    : limits.maxHandshakeMessageSize;
}

/**
 * ```
 * struct {
 *     HandshakeType msg_type;    /* handshake type *\/
 *     uint24 length;             /* remaining bytes in message *\/
 *     select (Handshake.msg_type) { ... };
 * } Handshake;
 * ```
 * Wraps a body in its header.
 * @example
 * encodeHandshake(HANDSHAKE_TYPE.end_of_early_data, new Uint8Array(0)); // 05 00 00 00
 */
export function encodeHandshake(msgType: number, body: Uint8Array): Uint8Array {
  // Sized exactly: one buffer, no growth, handed over by finish() without a copy.
  return new Writer(HANDSHAKE_HEADER_LENGTH + body.length).u8(msgType).u24(body.length).bytes(body).finish();
}

/**
 * Reads the 4-byte header at the start of `bytes` (which may hold more, or less, than one
 * message body). A deframer calls it once 4 bytes have arrived, to learn how many more to wait
 * for; a declared length above the limit for that type is refused before anything is buffered.
 * @example
 * const { msgType, length } = decodeHandshakeHeader(buffered);
 * if (buffered.length >= 4 + length) handle(buffered.subarray(0, 4 + length));
 */
export function decodeHandshakeHeader(bytes: Uint8Array, options: DecodeOptions = {}): HandshakeHeader {
  const r = new Reader(bytes, 'handshake header', 0, bytes.length, options.annotate);
  const msgType = r.u8('msg_type');
  const length = r.u24('length');
  const max = maxHandshakeBodyLength(msgType, codecLimits(options.limits));
  if (length > max) {
    // Local policy bound: a peer may not make us buffer more than this (RFC 8446 4 sets 2^24-1).
    const name = handshakeTypeName(msgType) ?? `handshake type ${msgType}`;
    throw new TlsDecodeError('decode_error', `${name} of ${length} bytes exceeds the limit of ${max}`);
  }
  return { msgType, length };
}

/**
 * Checks the header of a whole handshake message and returns a reader over its body, for the
 * message decoders. Not exported from the package.
 */
export function _openHandshake(bytes: Uint8Array, expected: HandshakeTypeName, options: DecodeOptions): Reader {
  const { msgType, length } = decodeHandshakeHeader(bytes, options);
  if (msgType !== HANDSHAKE_TYPE[expected]) {
    // RFC 8446 6.2: a message of the wrong type where this one was expected.
    const got = handshakeTypeName(msgType) ?? `type ${msgType}`;
    throw new TlsDecodeError('unexpected_message', `expected ${expected}, got ${got}`);
  }
  // RFC 8446 4: the length field covers exactly the body.
  if (bytes.length - HANDSHAKE_HEADER_LENGTH !== length) {
    throw new TlsDecodeError(
      'decode_error',
      `${expected}: header says ${length} body bytes, ${bytes.length - HANDSHAKE_HEADER_LENGTH} present`,
    );
  }
  return new Reader(bytes, expected, HANDSHAKE_HEADER_LENGTH, bytes.length, options.annotate);
}

/**
 * Builds a handshake message: header, then the body `write` produces (length back-patched), in
 * one buffer. `bodyCapacity` is the encoder's estimate of the body's size: the buffer starts that
 * large, so a message of many kilobytes (Certificate, a ClientHello with an ML-KEM share) does
 * not grow by doubling; an exact estimate is handed over without a final copy.
 */
export function _buildHandshake(msgType: HandshakeTypeName, write: (w: Writer) => void, bodyCapacity = 252): Uint8Array {
  const w = new Writer(HANDSHAKE_HEADER_LENGTH + bodyCapacity).u8(HANDSHAKE_TYPE[msgType]);
  w.lengthPrefixed(3, write);
  return w.finish();
}
