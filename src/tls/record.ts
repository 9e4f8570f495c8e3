/**
 * The TLS 1.3 record layer (RFC 8446 5): plaintext records before keys, a deframer for bytes
 * from the network, and AEAD record protection with its sequence numbers and usage limits.
 *
 * ```text
 * struct {                                   struct {
 *     ContentType type;                          ContentType opaque_type = application_data; // 23
 *     ProtocolVersion legacy_record_version;     ProtocolVersion legacy_record_version = 0x0303;
 *     uint16 length;                             uint16 length;
 *     opaque fragment[TLSPlaintext.length];      opaque encrypted_record[TLSCiphertext.length];
 * } TLSPlaintext;                            } TLSCiphertext;
 *
 * struct {
 *     opaque content[TLSPlaintext.length];
 *     ContentType type;
 *     uint8 zeros[length_of_padding];
 * } TLSInnerPlaintext;
 * ```
 *
 * Every failure is a `RecordError` naming the alert to send (RFC 8446 6.2).
 * @module
 */
import { CONTENT_TYPE } from './enums.js';
import type { AeadKey, AeadName } from '../crypto/aead.js';
import type { TlsPrimitives } from '../crypto/provider.js';
import { AeadTagError } from '../crypto/errors.js';
import { nextTrafficSecret, trafficKeys } from './key-schedule.js';
import type { CipherSuite } from './suites.js';

/** A ContentType code point TLS 1.3 carries in records (RFC 8446 5.1): 20, 21, 22 or 23. */
export type RecordContentType =
  | typeof CONTENT_TYPE.change_cipher_spec
  | typeof CONTENT_TYPE.alert
  | typeof CONTENT_TYPE.handshake
  | typeof CONTENT_TYPE.application_data;

/**
 * node:tls's codes for a peer that does not speak TLS: OpenSSL's reasons for a plain HTTP
 * request (`GET `, `POST`, `HEAD`, `PUT `), a proxy's `CONNECT`, and anything else.
 */
export type NotTlsCode = 'ERR_SSL_WRONG_VERSION_NUMBER' | 'ERR_SSL_HTTP_REQUEST' | 'ERR_SSL_HTTPS_PROXY_REQUEST';

/** The alerts the record layer fails with (RFC 8446 6.2). */
export type RecordAlert = 'unexpected_message' | 'bad_record_mac' | 'record_overflow' | 'decode_error' | 'internal_error';

/**
 * A record-layer failure; `alert` is the alert to send. `internal_error` marks a local mistake
 * (a caller asking for something the RFC forbids, or keys used past their limit), every other
 * alert a fault in the peer's bytes.
 * @example
 * try { reader.next(); } catch (e) { if (e instanceof RecordError) fail(e.alert); }
 */
export class RecordError extends Error {
  override readonly name = 'RecordError';
  readonly alert: RecordAlert;
  /** Set when the peer's first bytes are not TLS at all (node:tls's code for it). */
  readonly code: NotTlsCode | undefined;
  constructor(alert: RecordAlert, message: string, code?: NotTlsCode) {
    super(message);
    this.alert = alert;
    this.code = code;
  }
}

/** type (1) + legacy_record_version (2) + length (2). */
export const RECORD_HEADER_LENGTH = 5;
/** TLSPlaintext.length and TLSInnerPlaintext.content may not exceed 2^14 bytes (RFC 8446 5.1, 5.4). */
export const MAX_PLAINTEXT_LENGTH = 2 ** 14;
/** TLSCiphertext.length may not exceed 2^14 + 256 bytes (RFC 8446 5.2). */
export const MAX_CIPHERTEXT_LENGTH = 2 ** 14 + 256;
/** The largest record on the wire, header included. */
export const MAX_RECORD_LENGTH = RECORD_HEADER_LENGTH + MAX_CIPHERTEXT_LENGTH;
/** legacy_record_version of every record sandtls writes, except maybe the first ClientHello's (5.1). */
export const LEGACY_RECORD_VERSION = 0x0303;

/** One record as framed from the wire. `fragment` and `raw` share memory. */
export interface TlsRecord {
  /** ContentType (or opaque_type, 23, for protected records). */
  readonly type: RecordContentType;
  /** legacy_record_version, which RFC 8446 5.1 says to ignore; kept for diagnostics. */
  readonly legacyVersion: number;
  /** TLSPlaintext.fragment or TLSCiphertext.encrypted_record. */
  readonly fragment: Uint8Array;
  /** The whole record, header included (the AAD of a protected record is its first 5 bytes). */
  readonly raw: Uint8Array;
}

/** A decrypted record: the real content type and the content with padding removed. */
export interface OpenedRecord {
  readonly contentType: RecordContentType;
  readonly content: Uint8Array;
}

function _isContentType(type: number): type is RecordContentType {
  return type >= CONTENT_TYPE.change_cipher_spec && type <= CONTENT_TYPE.application_data;
}

function _writeHeader(out: Uint8Array, offset: number, type: number, legacyVersion: number, length: number): void {
  out[offset] = type;
  out[offset + 1] = legacyVersion >>> 8;
  out[offset + 2] = legacyVersion & 0xff;
  out[offset + 3] = length >>> 8;
  out[offset + 4] = length & 0xff;
}

/**
 * Encodes `fragment` as one or more TLSPlaintext records of at most 2^14 bytes each (RFC 8446
 * 5.1), for the messages sent before keys exist: ClientHello, ServerHello, HelloRetryRequest,
 * alerts before the handshake keys, and the compatibility change_cipher_spec. `legacyVersion`
 * may be 0x0301 for an initial ClientHello only (5.1).
 * @example
 * const bytes = encodePlaintextRecord(CONTENT_TYPE.handshake, clientHello, 0x0301);
 * encodePlaintextRecord(CONTENT_TYPE.change_cipher_spec, Uint8Array.of(1)); // 14 03 03 00 01 01
 */
export function encodePlaintextRecord(type: RecordContentType, fragment: Uint8Array, legacyVersion: number = LEGACY_RECORD_VERSION): Uint8Array {
  if (type === CONTENT_TYPE.application_data) {
    throw new RecordError('internal_error', 'application data is never sent unprotected in TLS 1.3 (RFC 8446 5.1)');
  }
  if (!_isContentType(type)) throw new RecordError('internal_error', `cannot send a record of unknown content type ${String(type)}`);
  // RFC 8446 5.1: "Implementations MUST NOT send zero-length fragments of Handshake types"; an
  // empty alert or change_cipher_spec is not a message at all.
  if (fragment.length === 0) throw new RecordError('internal_error', `cannot send an empty record of content type ${type}`);
  if (legacyVersion !== LEGACY_RECORD_VERSION && legacyVersion !== 0x0301) {
    throw new RecordError('internal_error', `legacy_record_version must be 0x0303 or 0x0301, got 0x${legacyVersion.toString(16)}`);
  }
  const count = Math.ceil(fragment.length / MAX_PLAINTEXT_LENGTH);
  const out = new Uint8Array(fragment.length + count * RECORD_HEADER_LENGTH);
  let at = 0;
  for (let start = 0; start < fragment.length; start += MAX_PLAINTEXT_LENGTH) {
    const piece = fragment.subarray(start, start + MAX_PLAINTEXT_LENGTH);
    _writeHeader(out, at, type, legacyVersion, piece.length);
    out.set(piece, at + RECORD_HEADER_LENGTH);
    at += RECORD_HEADER_LENGTH + piece.length;
  }
  return out;
}

/** Printable ASCII, tab, CR and LF: what the first bytes of a plaintext protocol look like. */
function _isText(byte: number): boolean {
  return (byte >= 0x20 && byte <= 0x7e) || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * The error for a first record whose content type is no TLS content type: the peer does not
 * speak TLS (node:tls, through OpenSSL, calls it "wrong version number"). When the bytes are
 * text, as an HTTP server's "HTTP/1.1 400 Bad Request" or an SMTP banner, the message quotes
 * their first line (at most 40 characters; it is the peer's plaintext, never a secret).
 */
function _notTls(start: Uint8Array): RecordError {
  const head = start.subarray(0, RECORD_HEADER_LENGTH);
  if (head.every(_isText)) {
    let line = '';
    for (const byte of start.subarray(0, 40)) {
      if (byte === 0x0d || byte === 0x0a || !_isText(byte)) break;
      line += String.fromCharCode(byte);
    }
    // The prefixes OpenSSL recognises (and names) on a TLS port.
    if (/^(GET |POST|HEAD|PUT )/.test(line)) {
      return new RecordError('unexpected_message', `the peer sent a plain HTTP request (${JSON.stringify(line)}) to a TLS port (http request)`, 'ERR_SSL_HTTP_REQUEST');
    }
    if (line.startsWith('CONNE')) {
      return new RecordError('unexpected_message', `the peer sent an HTTP proxy request (${JSON.stringify(line)}) to a TLS port (https proxy request)`, 'ERR_SSL_HTTPS_PROXY_REQUEST');
    }
    return new RecordError(
      'unexpected_message',
      `the peer does not speak TLS: its first bytes are plain text (${JSON.stringify(line)}), as an HTTP, SMTP or other plaintext server sends (wrong version number)`,
      'ERR_SSL_WRONG_VERSION_NUMBER',
    );
  }
  return new RecordError(
    'unexpected_message',
    `the peer does not speak TLS: its first record has content type ${start[0]!} (wrong version number, RFC 8446 5)`,
    'ERR_SSL_WRONG_VERSION_NUMBER',
  );
}

/**
 * Checks a record header as soon as its 5 bytes are known, before any of the body is buffered.
 * `first` holds the bytes seen so far of the stream's first record (undefined for later ones).
 */
function _checkHeader(type: number, length: number, first: Uint8Array | undefined): RecordContentType {
  if (!_isContentType(type) && first !== undefined) throw _notTls(first);
  // RFC 8446 5: "If a TLS implementation receives an unexpected record type, it MUST terminate
  // the connection with an "unexpected_message" alert."
  if (!_isContentType(type)) throw new RecordError('unexpected_message', `unknown record content type ${type} (RFC 8446 5)`);
  if (type === CONTENT_TYPE.application_data) {
    // Every protected record is opaque_type 23 (5.2); plaintext application data does not exist.
    if (length > MAX_CIPHERTEXT_LENGTH) {
      throw new RecordError('record_overflow', `TLSCiphertext.length ${length} exceeds 2^14 + 256 (RFC 8446 5.2)`);
    }
  } else if (length > MAX_PLAINTEXT_LENGTH) {
    throw new RecordError('record_overflow', `TLSPlaintext.length ${length} exceeds 2^14 (RFC 8446 5.1)`);
  }
  if (length === 0) {
    // RFC 8446 5.1: zero-length Handshake fragments are forbidden (Application Data may be empty).
    if (type === CONTENT_TYPE.handshake) throw new RecordError('unexpected_message', 'zero-length handshake record (RFC 8446 5.1)');
    // An Alert is two bytes and is never fragmented (RFC 8446 5.1, 6): an empty one cannot decode.
    if (type === CONTENT_TYPE.alert) throw new RecordError('decode_error', 'zero-length alert record (RFC 8446 5.1)');
  }
  return type;
}

function _record(raw: Uint8Array, type: RecordContentType): TlsRecord {
  return {
    type,
    legacyVersion: (raw[1]! << 8) | raw[2]!,
    fragment: raw.subarray(RECORD_HEADER_LENGTH),
    raw,
  };
}

/**
 * The deframer: turns arbitrary chunks of bytes from the network into whole records.
 *
 * A record that lies within one pushed chunk is returned as a view of that chunk (no copy); only
 * a record split across chunks is copied, once, into a buffer of its exact size. Each header is
 * checked the moment its 5 bytes arrive (content type, length limits, zero-length rules), so the
 * reader never holds more than one partial record, and a partial record is never larger than
 * `MAX_RECORD_LENGTH`. The reader keeps views of pushed chunks: do not reuse their memory while
 * records are queued, or `detach()` them first.
 *
 * A fault is reported by `next()` in stream order, after the good records that preceded it;
 * from then on the reader is failed, drops further bytes and reports the same error.
 * @example
 * const reader = new RecordReader();
 * reader.push(bytesFromSocket);
 * for (let record = reader.next(); record; record = reader.next()) handle(record);
 */
export class RecordReader {
  readonly #ready: (TlsRecord | undefined)[] = [];
  #readyHead = 0;
  /** Queued records from this index on may be views of pushed chunks (`detach()` copies them). */
  #viewsFrom = 0;
  /** Header bytes of a record whose header has not fully arrived. */
  readonly #header = new Uint8Array(RECORD_HEADER_LENGTH);
  #headerFilled = 0;
  /** The record being assembled across chunks, header included, and how much of it has arrived. */
  #partial: Uint8Array | undefined;
  #partialType: RecordContentType = CONTENT_TYPE.handshake;
  #partialFilled = 0;
  #failure: RecordError | undefined;
  /** Whether a record header has been read yet (a non-TLS peer shows in the first one). */
  #started = false;

  /**
   * Adds bytes from the network. Never throws for bad input: faults come out of `next()`.
   * @example
   * reader.push(chunk);
   */
  push(bytes: Uint8Array): void {
    if (this.#failure) return; // after a fatal record error nothing more is read (RFC 8446 6.2)
    let at = 0;
    try {
      while (at < bytes.length) {
        if (this.#partial) {
          const take = Math.min(this.#partial.length - this.#partialFilled, bytes.length - at);
          this.#partial.set(bytes.subarray(at, at + take), this.#partialFilled);
          this.#partialFilled += take;
          at += take;
          if (this.#partialFilled === this.#partial.length) {
            this.#emit(_record(this.#partial, this.#partialType));
            this.#partial = undefined;
          }
          continue;
        }
        if (this.#headerFilled > 0 || bytes.length - at < RECORD_HEADER_LENGTH) {
          // A header split across chunks: gather its 5 bytes first.
          const take = Math.min(RECORD_HEADER_LENGTH - this.#headerFilled, bytes.length - at);
          this.#header.set(bytes.subarray(at, at + take), this.#headerFilled);
          this.#headerFilled += take;
          at += take;
          if (this.#headerFilled < RECORD_HEADER_LENGTH) break;
          this.#headerFilled = 0;
          const header = this.#header;
          const length = (header[3]! << 8) | header[4]!;
          const type = _checkHeader(header[0]!, length, this.#started ? undefined : header);
          this.#started = true;
          const record = new Uint8Array(RECORD_HEADER_LENGTH + length);
          record.set(header);
          if (length === 0) {
            this.#emit(_record(record, type));
          } else {
            this.#partial = record;
            this.#partialType = type;
            this.#partialFilled = RECORD_HEADER_LENGTH;
          }
          continue;
        }
        // The fast path: the header is within this chunk.
        const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
        const type = _checkHeader(bytes[at]!, length, this.#started ? undefined : bytes.subarray(at));
        this.#started = true;
        const end = at + RECORD_HEADER_LENGTH + length;
        if (end <= bytes.length) {
          this.#emit(_record(bytes.subarray(at, end), type));
          at = end;
        } else {
          const record = new Uint8Array(RECORD_HEADER_LENGTH + length);
          record.set(bytes.subarray(at));
          this.#partial = record;
          this.#partialType = type;
          this.#partialFilled = bytes.length - at;
          at = bytes.length;
        }
      }
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      this.#failure = error;
      this.#partial = undefined;
      this.#headerFilled = 0;
    }
  }

  /**
   * The next whole record, or `undefined` until more bytes arrive. Throws the `RecordError` of a
   * bad header once every record before it has been taken.
   * @example
   * const record = reader.next(); // { type: 22, legacyVersion: 0x0303, fragment, raw }
   */
  next(): TlsRecord | undefined {
    if (this.#readyHead < this.#ready.length) {
      const record = this.#ready[this.#readyHead]!;
      this.#ready[this.#readyHead++] = undefined; // let the chunk it views be collected
      if (this.#readyHead === this.#ready.length) {
        this.#ready.length = 0;
        this.#readyHead = 0;
        this.#viewsFrom = 0;
      }
      return record;
    }
    if (this.#failure) throw this.#failure;
    return undefined;
  }

  /** Bytes of an incomplete record held, header included; always below `MAX_RECORD_LENGTH`. */
  get bufferedBytes(): number {
    return this.#partial ? this.#partialFilled : this.#headerFilled;
  }

  /** Whole records waiting to be taken with `next()`. */
  get pendingRecords(): number {
    return this.#ready.length - this.#readyHead;
  }

  /**
   * Replaces every queued record with a copy of its own, so the chunks pushed so far are no longer
   * viewed and their memory may be reused: for a caller that leaves records queued after `push()`
   * returns (a connection parked on a Promise keeps its input for later).
   * @example
   * reader.push(chunk);
   * reader.detach(); // chunk may be overwritten now
   */
  detach(): void {
    for (let i = Math.max(this.#readyHead, this.#viewsFrom); i < this.#ready.length; i++) {
      const record = this.#ready[i]!;
      this.#ready[i] = _record(record.raw.slice(), record.type);
    }
    this.#viewsFrom = this.#ready.length;
  }

  /** True once a fault has been found (`next()` reports it after the records before it). */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  #emit(record: TlsRecord): void {
    this.#ready.push(record);
  }
}

/**
 * The AEAD usage limits of RFC 8446 5.5, counted in records per key. AES-GCM: 2^24.5 full-size
 * records keep the attacker's advantage near 2^-57; sandtls asks for a KeyUpdate from 2^24 on,
 * leaving millions of records for it to take effect, and refuses to seal past the limit.
 * ChaCha20-Poly1305: the sequence number (2^64) runs out before the limit is reached.
 * AES-128-CCM and AES-128-CCM-8: RFC 8446 5.5 gives no figure. CCM's bound charges about 2l
 * blocks per l-block message where GCM's charges l (draft-irtf-cfrg-aead-limits, AEAD_AES_128_CCM;
 * RFC 9147 Appendix B applies it to full-size records), so sandtls keeps half of GCM's budget in
 * the exponent, conservatively: at most 2^23.5 records per key, a KeyUpdate asked for from 2^23.
 * CCM-8's 64-bit tag weakens integrity, not confidentiality: each forged record succeeds with
 * probability 2^-64, and TLS (unlike DTLS, RFC 9147 4.5.3) tears the connection down at the first
 * record that fails authentication, so an attacker gets one try per connection.
 */
export const AEAD_RECORD_LIMITS: Readonly<Record<AeadName, { readonly keyUpdateAt: bigint; readonly maxRecords: bigint }>> = Object.freeze({
  'AES-128-GCM': { keyUpdateAt: 2n ** 24n, maxRecords: 23_726_566n }, // floor(2^24.5)
  'AES-256-GCM': { keyUpdateAt: 2n ** 24n, maxRecords: 23_726_566n },
  'CHACHA20-POLY1305': { keyUpdateAt: 2n ** 64n - 2n ** 32n, maxRecords: 2n ** 64n },
  'AES-128-CCM': { keyUpdateAt: 2n ** 23n, maxRecords: 11_863_283n }, // floor(2^23.5)
  'AES-128-CCM-8': { keyUpdateAt: 2n ** 23n, maxRecords: 11_863_283n },
});

/** Sequence numbers are 64-bit and must not wrap (RFC 8446 5.3): 2^64 - 1 is the last usable. */
const SEQUENCE_SPACE = 2n ** 64n;

/** Bytes ahead of a protected record in its buffer, so its body (after the 5-byte header) starts on a 4-byte boundary. */
const _BODY_ALIGNMENT = 3;

/**
 * The per-record nonce (RFC 8446 5.3): the 64-bit sequence number in network byte order,
 * left-padded with zeros to iv_length, XORed with the write IV.
 * @example
 * perRecordNonce(iv, 0n); // equals iv
 */
export function perRecordNonce(iv: Uint8Array, sequenceNumber: bigint): Uint8Array {
  if (iv.length < 8) throw new RecordError('internal_error', 'a TLS 1.3 IV is at least 8 bytes (RFC 8446 5.3)');
  if (sequenceNumber < 0n || sequenceNumber >= SEQUENCE_SPACE) {
    throw new RecordError('internal_error', 'a sequence number is a uint64');
  }
  const nonce = iv.slice();
  const hi = Number(sequenceNumber >> 32n);
  const lo = Number(sequenceNumber & 0xffffffffn);
  const n = nonce.length;
  nonce[n - 8]! ^= hi >>> 24;
  nonce[n - 7]! ^= (hi >>> 16) & 0xff;
  nonce[n - 6]! ^= (hi >>> 8) & 0xff;
  nonce[n - 5]! ^= hi & 0xff;
  nonce[n - 4]! ^= lo >>> 24;
  nonce[n - 3]! ^= (lo >>> 16) & 0xff;
  nonce[n - 2]! ^= (lo >>> 8) & 0xff;
  nonce[n - 1]! ^= lo & 0xff;
  return nonce;
}

export interface RecordProtectionOptions {
  /**
   * The first sequence number; 0 for every real key (RFC 8446 5.3: reset to zero whenever the
   * key changes). Other values exist to test the limits without sending 2^24 records.
   */
  readonly sequenceNumber?: bigint;
}

/**
 * AEAD protection for one direction of one key (RFC 8446 5.2-5.5): a sender seals, a receiver
 * opens; each keeps its own sequence number. Built from a traffic secret, so a KeyUpdate is
 * `updateKeys()`.
 * @example
 * const write = RecordProtection.fromSecret(engine.crypto, suite, clientHandshakeTrafficSecret);
 * socket.write(write.seal(CONTENT_TYPE.handshake, finished));
 * const read = RecordProtection.fromSecret(engine.crypto, suite, serverHandshakeTrafficSecret);
 * const { contentType, content } = read.open(record);
 */
export class RecordProtection {
  readonly suite: CipherSuite;
  #aead: AeadKey | undefined;
  #iv: Uint8Array;
  #secret: Uint8Array;
  #sequence: bigint;
  readonly #limits: { readonly keyUpdateAt: bigint; readonly maxRecords: bigint };
  /** The engine's primitives: the AEAD, and HKDF for the traffic keys and KeyUpdate. */
  readonly #primitives: TlsPrimitives;

  private constructor(primitives: TlsPrimitives, suite: CipherSuite, trafficSecret: Uint8Array, options: RecordProtectionOptions) {
    if (trafficSecret.length !== suite.hashLength) {
      throw new RecordError('internal_error', `a ${suite.name} traffic secret is ${suite.hashLength} bytes, got ${trafficSecret.length}`);
    }
    const sequence = options.sequenceNumber ?? 0n;
    if (sequence < 0n || sequence >= SEQUENCE_SPACE) throw new RecordError('internal_error', 'a sequence number is a uint64');
    this.suite = suite;
    this.#primitives = primitives;
    this.#secret = trafficSecret.slice();
    const { key, iv } = trafficKeys(primitives, suite, trafficSecret);
    this.#aead = primitives.aeadKey(suite.aead, key);
    key.fill(0); // the AEAD holds its own (expanded) copy
    this.#iv = iv;
    this.#sequence = sequence;
    this.#limits = AEAD_RECORD_LIMITS[suite.aead];
  }

  /**
   * Record protection keyed from a traffic secret (RFC 8446 7.3). The secret is copied, kept for
   * `updateKeys()`, and wiped by `destroy()`.
   * @example
   * const read = RecordProtection.fromSecret(engine.crypto, CIPHER_SUITES.TLS_AES_128_GCM_SHA256, sHs);
   */
  static fromSecret(primitives: TlsPrimitives, suite: CipherSuite, trafficSecret: Uint8Array, options: RecordProtectionOptions = {}): RecordProtection {
    return new RecordProtection(primitives, suite, trafficSecret, options);
  }

  /** The sequence number the next record will use. */
  get sequenceNumber(): bigint {
    return this.#sequence;
  }

  /**
   * True once this key is near its RFC 8446 5.5 usage limit (or its sequence numbers are close to
   * running out): the connection should send a KeyUpdate (with update_requested when it is the
   * receiving direction that is worn).
   */
  get needsKeyUpdate(): boolean {
    return this.#sequence >= this.#limits.keyUpdateAt;
  }

  /**
   * Protects one record: TLSInnerPlaintext = content || type || zeros[paddingLength], sealed with
   * AAD = the record header (RFC 8446 5.2). Returns the whole TLSCiphertext record.
   * @example
   * write.seal(CONTENT_TYPE.alert, Uint8Array.of(1, 0)); // close_notify
   * write.seal(CONTENT_TYPE.application_data, data, 32);  // with 32 bytes of padding
   */
  seal(contentType: RecordContentType, content: Uint8Array, paddingLength = 0): Uint8Array {
    const aead = this.#key();
    if (contentType !== CONTENT_TYPE.handshake && contentType !== CONTENT_TYPE.alert && contentType !== CONTENT_TYPE.application_data) {
      throw new RecordError('internal_error', `cannot protect a record of content type ${String(contentType)}`);
    }
    // RFC 8446 5.4: "Implementations MUST NOT send Handshake and Alert records that have a
    // zero-length TLSInnerPlaintext.content".
    if (content.length === 0 && contentType !== CONTENT_TYPE.application_data) {
      throw new RecordError('internal_error', 'cannot send an empty handshake or alert record (RFC 8446 5.4)');
    }
    if (!Number.isSafeInteger(paddingLength) || paddingLength < 0) {
      throw new RecordError('internal_error', `invalid padding length ${paddingLength}`);
    }
    const innerLength = content.length + 1 + paddingLength;
    // RFC 8446 5.4: "the full encoded TLSInnerPlaintext MUST NOT exceed 2^14 + 1 octets".
    if (innerLength > MAX_PLAINTEXT_LENGTH + 1) {
      throw new RecordError('record_overflow', `content plus padding of ${innerLength - 1} bytes exceeds 2^14 (RFC 8446 5.4)`);
    }
    if (this.#sequence >= this.#limits.maxRecords) {
      // RFC 8446 5.3 (no wrapping) and 5.5 (usage limits): rekey or close, never reuse.
      throw new RecordError('internal_error', `${this.suite.aead} key usage limit reached: a KeyUpdate is required (RFC 8446 5.5)`);
    }
    // The inner plaintext is laid out where its ciphertext goes and sealed in place. The record
    // starts _BODY_ALIGNMENT bytes into its buffer so that its body is 4-byte aligned: AES's
    // word-wise CTR would otherwise copy it.
    const sealedLength = innerLength + aead.info.tagLength;
    const record = new Uint8Array(_BODY_ALIGNMENT + RECORD_HEADER_LENGTH + sealedLength).subarray(_BODY_ALIGNMENT);
    _writeHeader(record, 0, CONTENT_TYPE.application_data, LEGACY_RECORD_VERSION, sealedLength);
    const header = record.subarray(0, RECORD_HEADER_LENGTH);
    const body = record.subarray(RECORD_HEADER_LENGTH);
    body.set(content);
    body[content.length] = contentType;
    const sealed = aead.seal(perRecordNonce(this.#iv, this.#sequence), body.subarray(0, innerLength), header, body);
    // A provider that returned its own array: its ciphertext overwrites the plaintext.
    if (sealed !== body) body.set(sealed);
    this.#sequence += 1n;
    return record;
  }

  /**
   * Removes protection from one TLSCiphertext record (header included, e.g. `TlsRecord.raw`):
   * checks the length limits, authenticates with AAD = the header, strips the padding and returns
   * the real content type and content. `content` is a view of a fresh plaintext buffer.
   * @example
   * const { contentType, content } = read.open(reader.next()!);
   */
  open(record: Uint8Array | TlsRecord): OpenedRecord {
    const aead = this.#key();
    const raw = record instanceof Uint8Array ? record : record.raw;
    if (raw.length < RECORD_HEADER_LENGTH) throw new RecordError('decode_error', 'truncated record header');
    // RFC 8446 5.2: protected records carry opaque_type application_data; a record of another
    // type arriving under protection is unexpected.
    if (raw[0] !== CONTENT_TYPE.application_data) {
      throw new RecordError('unexpected_message', `record of content type ${raw[0]!} where a protected record was expected`);
    }
    const length = (raw[3]! << 8) | raw[4]!;
    if (length !== raw.length - RECORD_HEADER_LENGTH) {
      throw new RecordError('decode_error', `record length field says ${length}, record body is ${raw.length - RECORD_HEADER_LENGTH} bytes`);
    }
    // RFC 8446 5.2: "An endpoint that receives a record from its peer with TLSCiphertext.length
    // larger than 2^14 + 256 octets MUST terminate the connection with a "record_overflow" alert."
    if (length > MAX_CIPHERTEXT_LENGTH) {
      throw new RecordError('record_overflow', `TLSCiphertext.length ${length} exceeds 2^14 + 256 (RFC 8446 5.2)`);
    }
    // RFC 8446 5.3: the peer had to rekey before its sequence number would wrap.
    if (this.#sequence >= SEQUENCE_SPACE) {
      throw new RecordError('unexpected_message', 'peer sent a record past the 2^64 sequence number space (RFC 8446 5.3)');
    }
    let inner: Uint8Array;
    try {
      inner = aead.open(perRecordNonce(this.#iv, this.#sequence), raw.subarray(RECORD_HEADER_LENGTH), raw.subarray(0, RECORD_HEADER_LENGTH));
    } catch (error) {
      // RFC 8446 5.2: "If the decryption fails, the receiver MUST terminate the connection with a
      // "bad_record_mac" alert."
      if (error instanceof AeadTagError) throw new RecordError('bad_record_mac', 'record failed authentication (RFC 8446 5.2)');
      throw error;
    }
    this.#sequence += 1n;
    // RFC 8446 5.4: the full TLSInnerPlaintext MUST NOT exceed 2^14 + 1 octets (5.2: record_overflow).
    if (inner.length > MAX_PLAINTEXT_LENGTH + 1) {
      throw new RecordError('record_overflow', `TLSInnerPlaintext of ${inner.length} bytes exceeds 2^14 + 1 (RFC 8446 5.4)`);
    }
    // RFC 8446 5.4: the content type is the last non-zero byte; no non-zero byte at all is
    // unexpected_message.
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) throw new RecordError('unexpected_message', 'protected record has no non-zero content type (RFC 8446 5.4)');
    const contentType = inner[end]!;
    // RFC 8446 5: a protected change_cipher_spec, like any unknown type, is unexpected_message.
    if (contentType !== CONTENT_TYPE.handshake && contentType !== CONTENT_TYPE.alert && contentType !== CONTENT_TYPE.application_data) {
      throw new RecordError('unexpected_message', `protected record of content type ${contentType} (RFC 8446 5)`);
    }
    // RFC 8446 5.4: zero-length Handshake or Alert content MUST be answered with unexpected_message.
    if (end === 0 && contentType !== CONTENT_TYPE.application_data) {
      throw new RecordError('unexpected_message', 'zero-length protected handshake or alert record (RFC 8446 5.4)');
    }
    return { contentType, content: inner.subarray(0, end) };
  }

  /**
   * KeyUpdate (RFC 8446 7.2): protection keyed from application_traffic_secret_N+1, with the
   * sequence number back at 0. This generation is destroyed, so it cannot be used again.
   * @example
   * write = write.updateKeys(); // after sending KeyUpdate under the old key
   */
  updateKeys(): RecordProtection {
    this.#key();
    const next = nextTrafficSecret(this.#primitives, this.suite.hash, this.#secret);
    try {
      return new RecordProtection(this.#primitives, this.suite, next, {});
    } finally {
      next.fill(0);
      this.destroy();
    }
  }

  /** Wipes the key, IV and traffic secret; any later use throws. */
  destroy(): void {
    this.#aead?.destroy();
    this.#aead = undefined;
    this.#iv.fill(0);
    this.#secret.fill(0);
  }

  #key(): AeadKey {
    if (!this.#aead) throw new RecordError('internal_error', 'record protection used after destroy()');
    return this.#aead;
  }
}
