/**
 * The TLS presentation-language codec (RFC 8446 3): a {@link Reader} over received bytes and a
 * {@link Writer} that builds messages to send.
 *
 * - Integers are big-endian `uint8`, `uint16`, `uint24`, `uint32` (RFC 8446 3.3).
 * - A variable-length vector `T v<floor..ceiling>` carries a length prefix of as many bytes as
 *   the ceiling needs (RFC 8446 3.4). Its bounds are declared once per type with
 *   {@link vectorBounds} and used by both directions.
 * - The reader hands out bounded sub-readers for vectors, so a field cannot read past its own
 *   length, and {@link Reader.expectEnd} checks that nothing trails.
 * - The writer's {@link Writer.lengthPrefixed} reserves the prefix, writes the body, then
 *   back-patches the length, refusing a body outside the vector's bounds.
 *
 * A malformed peer message throws {@link TlsDecodeError}, which names the alert to send and
 * says what was wrong. A message of ours that cannot be encoded throws {@link TlsEncodeError}
 * (a programming error: internal_error).
 * @module
 */
import type { AlertName } from './enums.js';

/**
 * A received message is malformed. `alert` is the alert to send (RFC 8446 6.2); the message
 * says what was wrong.
 * @example
 * try { decodeClientHello(bytes); }
 * catch (e) { if (e instanceof TlsDecodeError) fatal(e.alert); }
 */
export class TlsDecodeError extends Error {
  override readonly name = 'TlsDecodeError';
  /** The alert the receiver sends, e.g. 'decode_error' or 'illegal_parameter'. */
  readonly alert: AlertName;
  constructor(alert: AlertName, message: string) {
    super(`${alert}: ${message}`);
    this.alert = alert;
  }
}

/**
 * A message of ours cannot be encoded (a vector outside its bounds, a value out of range).
 * Always a bug in the caller; a connection maps it to internal_error.
 * @example
 * new Writer().u8(256); // throws TlsEncodeError
 */
export class TlsEncodeError extends Error {
  override readonly name = 'TlsEncodeError';
  readonly alert: AlertName = 'internal_error';
}

/** Bytes in a vector's length prefix. */
export type LengthBytes = 1 | 2 | 3;

/**
 * The bounds of a variable-length vector `T name<min..max>` (RFC 8446 3.4), declared once per
 * type. `lengthBytes` is as many bytes as `max` needs.
 */
export interface VectorBounds {
  /** The field's name in the RFC, for error messages. */
  readonly name: string;
  readonly lengthBytes: LengthBytes;
  /** Floor in bytes. */
  readonly min: number;
  /** Ceiling in bytes. */
  readonly max: number;
}

const _MAX_FOR: Readonly<Record<LengthBytes, number>> = Object.freeze({ 1: 0xff, 2: 0xffff, 3: 0xffffff });

/**
 * Declares `name<min..max>`; the prefix size follows from the ceiling (RFC 8446 3.4: "the length
 * will be in the form of a number consuming as many bytes as required to hold the vector's
 * specified maximum (ceiling) length").
 * @example
 * // opaque legacy_session_id<0..32>;
 * const LEGACY_SESSION_ID = vectorBounds('legacy_session_id', 0, 32); // 1-byte prefix
 */
export function vectorBounds(name: string, min: number, max: number): VectorBounds {
  const lengthBytes: LengthBytes = max <= 0xff ? 1 : max <= 0xffff ? 2 : 3;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || min > max || max > 0xffffff) {
    throw new RangeError(`bad vector bounds for ${name}: <${min}..${max}>`);
  }
  return Object.freeze({ name, lengthBytes, min, max });
}

function _bounds(lengthBytes: LengthBytes, min: number | undefined, max: number | undefined, name: string): VectorBounds {
  return { name, lengthBytes, min: min ?? 0, max: max ?? _MAX_FOR[lengthBytes] };
}

/**
 * Receives the place of every field a {@link Reader} reads: `offset` and `length` in the buffer
 * the outermost reader was given, and the field's name in the RFC (`random`,
 * `legacy_session_id length`, `extension_type`). Vectors report their whole body, then each field
 * inside it. For annotated hex dumps (the `'bytes'` trace); a reader without one reports nothing.
 */
export type FieldSink = (offset: number, length: number, field: string) => void;

/**
 * Reads the presentation language from a byte array. Sub-readers returned by
 * {@link Reader.vector} share the buffer but cannot read past their vector's end.
 * @example
 * const r = new Reader(body, 'ServerHello');
 * const version = r.u16('legacy_version');
 * const random = r.bytes(32, 'random');
 * const sessionId = r.vector(LEGACY_SESSION_ID).rest();
 */
export class Reader {
  readonly #buf: Uint8Array;
  readonly #end: number;
  #pos: number;
  readonly #annotate: FieldSink | undefined;
  /** What is being read, for error messages. */
  readonly what: string;

  /** @param annotate told where each field read lies (see {@link FieldSink}); sub-readers inherit it */
  constructor(bytes: Uint8Array, what = 'message', start = 0, end = bytes.length, annotate?: FieldSink) {
    this.#buf = bytes;
    this.#pos = start;
    this.#end = end;
    this.what = what;
    this.#annotate = annotate;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.#end - this.#pos;
  }

  /** Whether nothing is left. */
  get isEmpty(): boolean {
    return this.#pos === this.#end;
  }

  #need(n: number, field: string): number {
    // RFC 8446 6.2: a field running past the end of its enclosing structure is a decode_error.
    if (n > this.remaining) {
      throw new TlsDecodeError('decode_error', `${this.what}: truncated ${field} (needs ${n} bytes, ${this.remaining} left)`);
    }
    const at = this.#pos;
    this.#pos += n;
    if (this.#annotate !== undefined && n > 0) this.#annotate(at, n, field);
    return at;
  }

  /** `uint8` (RFC 8446 3.3). */
  u8(field = 'uint8'): number {
    return this.#buf[this.#need(1, field)]!;
  }

  /** `uint16`, big-endian (RFC 8446 3.3). */
  u16(field = 'uint16'): number {
    const at = this.#need(2, field);
    return (this.#buf[at]! << 8) | this.#buf[at + 1]!;
  }

  /** `uint24`, big-endian (RFC 8446 3.3). */
  u24(field = 'uint24'): number {
    const at = this.#need(3, field);
    return (this.#buf[at]! << 16) | (this.#buf[at + 1]! << 8) | this.#buf[at + 2]!;
  }

  /** `uint32`, big-endian (RFC 8446 3.3). */
  u32(field = 'uint32'): number {
    const at = this.#need(4, field);
    return this.#buf[at]! * 0x1000000 + ((this.#buf[at + 1]! << 16) | (this.#buf[at + 2]! << 8) | this.#buf[at + 3]!);
  }

  /** A fixed-length `opaque field[n]` (RFC 8446 3.2), copied. */
  bytes(n: number, field = 'opaque'): Uint8Array {
    const at = this.#need(n, field);
    return this.#buf.slice(at, at + n);
  }

  /** Everything left, copied; the reader is then empty. */
  rest(): Uint8Array {
    return this.bytes(this.remaining, 'rest');
  }

  /**
   * Reads a vector's length prefix, checks it against the bounds (RFC 8446 3.4) and returns a
   * sub-reader over exactly the vector's bytes. A length outside `<min..max>` or past the end of
   * this reader is a decode_error.
   * @example
   * const suites = r.vector(2, 2, 0xfffe); // CipherSuite cipher_suites<2..2^16-2>
   * while (!suites.isEmpty) list.push(suites.u16('cipher_suite'));
   */
  vector(bounds: VectorBounds): Reader;
  vector(lengthBytes: LengthBytes, min?: number, max?: number): Reader;
  vector(spec: VectorBounds | LengthBytes, min?: number, max?: number): Reader {
    const b = typeof spec === 'number' ? _bounds(spec, min, max, 'vector') : spec;
    const prefix = `${b.name} length`;
    const length = b.lengthBytes === 1 ? this.u8(prefix) : b.lengthBytes === 2 ? this.u16(prefix) : this.u24(prefix);
    // RFC 8446 3.4: a vector's length must lie within its declared floor and ceiling.
    if (length < b.min || length > b.max) {
      throw new TlsDecodeError('decode_error', `${this.what}: ${b.name} length ${length} outside <${b.min}..${b.max}>`);
    }
    const at = this.#need(length, b.name);
    return new Reader(this.#buf, b.name, at, at + length, this.#annotate);
  }

  /**
   * Everything left, as a private copy read by a new Reader named `what` (a structure parsed
   * apart from its enclosure, whose bytes must not alias the message); this reader is then
   * empty. Fields the new reader reads are reported at their offsets in this reader's buffer.
   * @example
   * const { bytes, reader } = body.detach('client_hello key_share');
   */
  detach(what: string): { readonly bytes: Uint8Array; readonly reader: Reader } {
    const at = this.#pos;
    const bytes = this.#buf.slice(at, this.#end);
    this.#pos = this.#end;
    const outer = this.#annotate;
    const annotate: FieldSink | undefined = outer && ((offset, length, field) => outer(at + offset, length, field));
    return { bytes, reader: new Reader(bytes, what, 0, bytes.length, annotate) };
  }

  /** `opaque name<min..max>`: the vector's bytes, copied. */
  opaque(bounds: VectorBounds): Uint8Array {
    return this.vector(bounds).rest();
  }

  /**
   * Throws a decode_error if anything is left: a structure's length must match its contents
   * exactly (RFC 8446 3.4, 6.2).
   */
  expectEnd(): void {
    if (this.remaining !== 0) {
      throw new TlsDecodeError('decode_error', `${this.what}: ${this.remaining} trailing bytes`);
    }
  }
}

/**
 * Builds the presentation language into a growing buffer.
 * @example
 * const w = new Writer();
 * w.u16(0x0303);
 * w.lengthPrefixed(LEGACY_SESSION_ID, (w) => w.bytes(sessionId));
 * const bytes = w.finish();
 */
export class Writer {
  #buf: Uint8Array;
  #len = 0;

  /**
   * @param capacity bytes to start with; a caller that knows the message's size passes it, so
   * the buffer never grows and {@link Writer.finish} hands it over without a copy
   */
  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** Claims `n` bytes at the end and returns where they start, growing (doubling) if needed. */
  #reserve(n: number): number {
    const at = this.#len;
    const end = at + n;
    if (end > this.#buf.length) this.#grow(end);
    this.#len = end;
    return at;
  }

  #grow(needed: number): void {
    let size = Math.max(this.#buf.length * 2, 64);
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }

  #checkUint(value: number, max: number, bits: number): void {
    // One comparison chain rejects NaN, fractions, negatives and values above the width.
    if (!(value >= 0 && value <= max && Math.floor(value) === value)) {
      throw new TlsEncodeError(`uint${bits} out of range: ${value}`);
    }
  }

  /** `uint8`. */
  u8(value: number): this {
    this.#checkUint(value, 0xff, 8);
    const at = this.#reserve(1);
    this.#buf[at] = value;
    return this;
  }

  /** `uint16`, big-endian. */
  u16(value: number): this {
    this.#checkUint(value, 0xffff, 16);
    const at = this.#reserve(2);
    const buf = this.#buf;
    buf[at] = value >>> 8;
    buf[at + 1] = value;
    return this;
  }

  /** `uint24`, big-endian. */
  u24(value: number): this {
    this.#checkUint(value, 0xffffff, 24);
    const at = this.#reserve(3);
    const buf = this.#buf;
    buf[at] = value >>> 16;
    buf[at + 1] = value >>> 8;
    buf[at + 2] = value;
    return this;
  }

  /** `uint32`, big-endian. */
  u32(value: number): this {
    this.#checkUint(value, 0xffffffff, 32);
    const at = this.#reserve(4);
    const buf = this.#buf;
    buf[at] = value >>> 24;
    buf[at + 1] = value >>> 16;
    buf[at + 2] = value >>> 8;
    buf[at + 3] = value;
    return this;
  }

  /** Raw bytes. */
  bytes(data: Uint8Array): this {
    const at = this.#reserve(data.length);
    this.#buf.set(data, at);
    return this;
  }

  /**
   * Writes a vector: reserves the length prefix, runs `body`, then back-patches the length.
   * Throws {@link TlsEncodeError} if the body is outside the vector's bounds.
   * @example
   * w.lengthPrefixed(2, (w) => { for (const s of suites) w.u16(s); });
   */
  lengthPrefixed(bounds: VectorBounds | LengthBytes, body: (w: this) => void): this {
    const b = typeof bounds === 'number' ? _bounds(bounds, undefined, undefined, 'vector') : bounds;
    const at = this.#reserve(b.lengthBytes);
    body(this);
    const length = this.#len - at - b.lengthBytes;
    if (length < b.min || length > b.max) {
      throw new TlsEncodeError(`${b.name}: length ${length} outside <${b.min}..${b.max}>`);
    }
    for (let i = b.lengthBytes - 1, v = length; i >= 0; i--, v >>>= 8) this.#buf[at + i] = v & 0xff;
    return this;
  }

  /** `opaque name<min..max>`: a length-prefixed byte string. */
  opaque(bounds: VectorBounds, data: Uint8Array): this {
    const b = bounds;
    if (data.length < b.min || data.length > b.max) {
      throw new TlsEncodeError(`${b.name}: length ${data.length} outside <${b.min}..${b.max}>`);
    }
    const at = this.#reserve(b.lengthBytes + data.length);
    const buf = this.#buf;
    for (let i = b.lengthBytes - 1, v = data.length; i >= 0; i--, v >>>= 8) buf[at + i] = v & 0xff;
    buf.set(data, at + b.lengthBytes);
    return this;
  }

  /**
   * The bytes written, as an array of their own. When the buffer is exactly full (a writer sized
   * by its caller) it is handed over without a copy, and the writer starts again empty, so
   * nothing written later can alias what it returned.
   */
  finish(): Uint8Array {
    if (this.#len === this.#buf.length) {
      const whole = this.#buf;
      this.#buf = new Uint8Array(0);
      this.#len = 0;
      return whole;
    }
    return this.#buf.slice(0, this.#len);
  }
}

/**
 * ASCII text to bytes (labels, host names, ALPN ids). Throws `RangeError` on a character
 * above 0x7f: nothing in the TLS wire format this engine writes is non-ASCII text.
 * @example
 * asciiToBytes('tls13 '); // Uint8Array [0x74, 0x6c, 0x73, 0x31, 0x33, 0x20]
 */
export function asciiToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) throw new RangeError(`not ASCII at index ${i}`);
    out[i] = c;
  }
  return out;
}

/**
 * Bytes to ASCII text, or `undefined` if any byte is above 0x7f.
 * @example
 * bytesToAscii(new Uint8Array([0x68, 0x32])); // 'h2'
 */
export function bytesToAscii(bytes: Uint8Array): string | undefined {
  let out = '';
  for (const b of bytes) {
    if (b > 0x7f) return undefined;
    out += String.fromCharCode(b);
  }
  return out;
}
