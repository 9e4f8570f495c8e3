/**
 * A strict DER reader and a small DER encoder (ITU-T X.690, clauses 8 and 10-11).
 *
 * DER gives every value exactly one encoding, and this reader accepts only that encoding:
 * definite lengths in their shortest form, minimal INTEGERs and OID subidentifiers, BOOLEAN
 * as 0x00/0xff, BIT STRINGs whose unused bits are zero, primitive strings, and no trailing
 * bytes. Anything else throws a {@link DerError} naming what was wrong and the byte offset.
 *
 * Hostile input is bounded: lengths are at most {@link DER_MAX_LENGTH}, sub-readers nest at
 * most {@link DER_MAX_DEPTH} deep, and the reader never recurses by itself (one element at a
 * time; {@link parseDerTree} recurses only as deep as the depth bound lets it).
 *
 * Tags are handled as the single identifier octet (`0x30` for SEQUENCE, `0xa0` for `[0]`
 * constructed). The high-tag-number form (tag numbers >= 31) is rejected: nothing in X.509
 * or TLS uses it.
 * @module
 */

import { concatBytes } from '../crypto/bytes.js';

/** Deepest nesting of constructed elements a reader descends into. */
export const DER_MAX_DEPTH = 32;

/** Largest accepted length: 2^24 - 1, i.e. at most three length octets in the long form. */
export const DER_MAX_LENGTH = 0xff_ffff;

/** Malformed or non-canonical DER. `offset` is the byte offset of the offending octet. */
export class DerError extends Error {
  override readonly name = 'DerError';
  /** Byte offset (from the start of the outermost buffer) where the problem was found. */
  readonly offset: number;
  constructor(what: string, offset: number) {
    super(`${what} at offset ${offset}`);
    this.offset = offset;
  }
}

/** Identifier octets of the universal types X.509 uses (X.680 8.4, Table 1). */
export const Tag = Object.freeze({
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const);

/** The class bits of an identifier octet (X.690 8.1.2.2, Table 1). */
export type TagClass = 'universal' | 'application' | 'context' | 'private';

/** One decoded TLV. `contents` and `raw` are views into the reader's buffer, not copies. */
export interface DerElement {
  /** The identifier octet, e.g. 0x30 for SEQUENCE or 0xa0 for [0] constructed. */
  tag: number;
  /** The tag number (0..30) without class and constructed bits. */
  tagNumber: number;
  tagClass: TagClass;
  constructed: boolean;
  /** Offset of the identifier octet from the start of the outermost buffer. */
  offset: number;
  /** Length in bytes of the identifier and length octets. */
  header: number;
  contents: Uint8Array;
  /** The whole TLV: header followed by contents. */
  raw: Uint8Array;
}

/** A decoded BIT STRING (X.690 8.6). `bytes` is a view into the input. */
export interface DerBitString {
  bytes: Uint8Array;
  /** Number of unused bits in the last octet of `bytes` (0..7); those bits are zero. */
  unusedBits: number;
  /** Offset of `bytes[0]` from the start of the outermost buffer. */
  offset: number;
}

/** A tree of elements as returned by {@link parseDerTree}; constructed ones carry children. */
export interface DerNode extends DerElement {
  children?: DerNode[];
}

const _CLASSES: readonly TagClass[] = Object.freeze(['universal', 'application', 'context', 'private'] as const);

// Universal types whose encoding is always constructed: EXTERNAL, EMBEDDED PDV, SEQUENCE,
// SET, CHARACTER STRING. Every other universal type is primitive in DER (X.690 8.x, 10.2).
const _CONSTRUCTED_UNIVERSAL_MASK = (1 << 8) | (1 << 11) | (1 << 16) | (1 << 17) | (1 << 29);

const _UNIVERSAL_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0x01: 'BOOLEAN',
  0x02: 'INTEGER',
  0x03: 'BIT STRING',
  0x04: 'OCTET STRING',
  0x05: 'NULL',
  0x06: 'OBJECT IDENTIFIER',
  0x0a: 'ENUMERATED',
  0x0c: 'UTF8String',
  0x13: 'PrintableString',
  0x14: 'TeletexString',
  0x16: 'IA5String',
  0x17: 'UTCTime',
  0x18: 'GeneralizedTime',
  0x1c: 'UniversalString',
  0x1e: 'BMPString',
  0x30: 'SEQUENCE',
  0x31: 'SET',
});

function _hex2(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** Names an identifier octet for error messages: "SEQUENCE (0x30)", "[0] constructed (0xa0)". */
function _tagName(tag: number): string {
  const universal = _UNIVERSAL_NAMES[tag];
  if (universal !== undefined) return `${universal} (${_hex2(tag)})`;
  const cls = _CLASSES[tag >> 6] ?? 'universal';
  const form = tag & 0x20 ? 'constructed' : 'primitive';
  const num = tag & 0x1f;
  const label = cls === 'context' ? `[${num}]` : `${cls} ${num}`;
  return `${label} ${form} (${_hex2(tag)})`;
}

/**
 * The identifier octet of a context-specific tag `[n]` (X.690 8.1.2).
 * @example contextTag(0, true) === 0xa0; contextTag(2, false) === 0x82
 */
export function contextTag(n: number, constructed: boolean): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`context tag [${n}] out of range 0..30`);
  return 0x80 | (constructed ? 0x20 : 0) | n;
}

// ---------------------------------------------------------------------------------------
// Contents decoders. `offset` is the position of contents[0] in the outermost buffer, used
// only in error messages. Exported so IMPLICIT-tagged values can be decoded.
// ---------------------------------------------------------------------------------------

/**
 * Decodes INTEGER contents (two's complement, X.690 8.3), rejecting non-minimal forms.
 * @example decodeInteger(Uint8Array.of(0x00, 0x80)) === 128n
 */
export function decodeInteger(contents: Uint8Array, offset = 0): bigint {
  // X.690 8.3.1: the contents octets consist of one or more octets.
  if (contents.length === 0) throw new DerError('empty INTEGER contents (X.690 8.3.1)', offset);
  const first = contents[0]!;
  if (contents.length > 1) {
    // X.690 8.3.2: the first nine bits shall not be all ones or all zeros.
    const second = contents[1]!;
    if ((first === 0x00 && second < 0x80) || (first === 0xff && second >= 0x80)) {
      throw new DerError(`non-minimal INTEGER: redundant leading ${_hex2(first)} octet (X.690 8.3.2)`, offset);
    }
  }
  let hex = '';
  for (const byte of contents) hex += byte.toString(16).padStart(2, '0');
  const value = BigInt(`0x${hex}`);
  return first >= 0x80 ? value - (1n << BigInt(contents.length * 8)) : value;
}

/**
 * Decodes OBJECT IDENTIFIER contents (X.690 8.19) into dotted form; subidentifiers must be
 * minimal. Arcs of any size are kept exactly (2.25.<UUID> OIDs exceed 2^53).
 * @example decodeOid(Uint8Array.of(0x2b, 0x65, 0x70)) === '1.3.101.112'
 */
export function decodeOid(contents: Uint8Array, offset = 0): string {
  if (contents.length === 0) throw new DerError('empty OBJECT IDENTIFIER (X.690 8.19.2)', offset);
  const arcs: string[] = [];
  let i = 0;
  while (i < contents.length) {
    const start = i;
    // X.690 8.19.2: a subidentifier shall be encoded in the fewest possible octets, so its
    // leading octet is never 0x80.
    if (contents[i] === 0x80) {
      throw new DerError('non-minimal OID subidentifier: leading 0x80 octet (X.690 8.19.2)', offset + i);
    }
    let small = 0;
    let big: bigint | undefined;
    for (;;) {
      if (i >= contents.length) {
        throw new DerError('truncated OID subidentifier: last octet has bit 8 set (X.690 8.19.2)', offset + start);
      }
      const byte = contents[i++]!;
      if (big === undefined && small < 2 ** 45) {
        small = small * 128 + (byte & 0x7f); // stays below 2^53
      } else {
        big = (big ?? BigInt(small)) * 128n + BigInt(byte & 0x7f);
      }
      if ((byte & 0x80) === 0) break;
    }
    if (arcs.length === 0) {
      // X.690 8.19.4: the first subidentifier is X * 40 + Y, with X in 0..2 and Y < 40 if X < 2.
      if (big !== undefined) arcs.push('2', (big - 80n).toString());
      else if (small < 40) arcs.push('0', String(small));
      else if (small < 80) arcs.push('1', String(small - 40));
      else arcs.push('2', String(small - 80));
    } else {
      arcs.push(big !== undefined ? big.toString() : String(small));
    }
  }
  return arcs.join('.');
}

/**
 * Decodes BIT STRING contents (X.690 8.6) with DER's rule that unused bits are zero (11.2.1).
 * Named-bit-list trailing-zero rules (11.2.2) are the caller's, as only it knows the type.
 * @example decodeBitString(Uint8Array.of(0x04, 0xf0)) // { bytes: [0xf0], unusedBits: 4, offset: 1 }
 */
export function decodeBitString(contents: Uint8Array, offset = 0): DerBitString {
  // X.690 8.6.2: the initial octet gives the number of unused bits in the final octet, 0..7.
  if (contents.length === 0) throw new DerError('BIT STRING without its initial octet (X.690 8.6.2)', offset);
  const unusedBits = contents[0]!;
  if (unusedBits > 7) throw new DerError(`BIT STRING unused-bits count ${unusedBits} > 7 (X.690 8.6.2.2)`, offset);
  // X.690 8.6.2.3: an empty bit string has an initial octet of zero.
  if (contents.length === 1 && unusedBits !== 0) {
    throw new DerError(`empty BIT STRING with unused-bits count ${unusedBits} (X.690 8.6.2.3)`, offset);
  }
  const lastIndex = contents.length - 1;
  if (unusedBits !== 0 && (contents[lastIndex]! & ((1 << unusedBits) - 1)) !== 0) {
    throw new DerError('BIT STRING unused bits are not zero (X.690 11.2.1)', offset + lastIndex);
  }
  return { bytes: contents.subarray(1), unusedBits, offset: offset + 1 };
}

/**
 * Decodes BOOLEAN contents: one octet, 0x00 or 0xff in DER (X.690 8.2, 11.1).
 * @example decodeBoolean(Uint8Array.of(0xff)) === true
 */
export function decodeBoolean(contents: Uint8Array, offset = 0): boolean {
  if (contents.length !== 1) throw new DerError(`BOOLEAN of ${contents.length} octets, expected 1 (X.690 8.2.1)`, offset);
  const v = contents[0]!;
  if (v === 0x00) return false;
  if (v === 0xff) return true;
  throw new DerError(`BOOLEAN value ${_hex2(v)} is not 0x00 or 0xff (X.690 11.1)`, offset);
}

/**
 * Checks NULL contents are empty (X.690 8.8.2).
 * @example decodeNull(new Uint8Array(0)) // ok; decodeNull(Uint8Array.of(0)) throws DerError
 */
export function decodeNull(contents: Uint8Array, offset = 0): null {
  if (contents.length !== 0) throw new DerError(`NULL with ${contents.length} content octets (X.690 8.8.2)`, offset);
  return null;
}

// ---------------------------------------------------------------------------------------
// The reader.
// ---------------------------------------------------------------------------------------

/**
 * Reads DER elements one at a time from a bounded window of bytes. Sub-readers (from
 * `readSequence`, `readSet`, `enter`, explicit `readContextSpecific`) cover exactly their
 * element's contents; call `end()` on each to reject trailing data.
 * @example
 * const r = new DerReader(der);
 * const seq = r.readSequence();
 * const version = seq.readInteger();
 * seq.end();
 * r.end();
 */
export class DerReader {
  readonly #buf: Uint8Array;
  /** Offset of #buf[0] in the outermost buffer, for error messages. */
  readonly #base: number;
  #pos = 0;
  #depth = 0;

  /** @param baseOffset added to every reported offset (when `bytes` sits inside a larger buffer). */
  constructor(bytes: Uint8Array, baseOffset = 0) {
    this.#buf = bytes;
    this.#base = baseOffset;
  }

  /** Absolute offset of the next unread byte. */
  get offset(): number {
    return this.#base + this.#pos;
  }

  /** Bytes left in this reader's window. */
  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  /** Nesting depth of this reader (0 for a reader over a whole buffer). */
  get depth(): number {
    return this.#depth;
  }

  /**
   * Whether any bytes remain.
   * @example while (seq.hasMore()) names.push(seq.readSet());
   */
  hasMore(): boolean {
    return this.#pos < this.#buf.length;
  }

  /**
   * The identifier octet of the next element, or undefined at the end; consumes nothing.
   * @example if (r.peekTag() === contextTag(0, true)) { ... }
   */
  peekTag(): number | undefined {
    return this.#buf[this.#pos];
  }

  /**
   * Reads one TLV of any type, enforcing DER's identifier and length rules.
   * @example const { tag, contents, raw } = r.readElement();
   */
  readElement(): DerElement {
    const buf = this.#buf;
    const start = this.#pos;
    const at = (i: number): number => this.#base + i;
    if (start >= buf.length) throw new DerError('unexpected end of data: expected an element', at(start));
    const tag = buf[start]!;
    const tagNumber = tag & 0x1f;
    // X.690 8.1.2.4: tag numbers >= 31 use the high-tag-number form; X.509 never does.
    if (tagNumber === 0x1f) {
      throw new DerError(`high-tag-number form (identifier ${_hex2(tag)}) is not supported (X.690 8.1.2.4)`, at(start));
    }
    const tagClass = _CLASSES[tag >> 6]!;
    const constructed = (tag & 0x20) !== 0;
    if (tagClass === 'universal') {
      // X.690 8.1.5: end-of-contents exists only to end indefinite lengths, which DER forbids.
      if (tagNumber === 0) throw new DerError('end-of-contents octets are not allowed in DER (X.690 8.1.5, 10.1)', at(start));
      // X.690 8.9.1, 8.11.1 (SEQUENCE/SET constructed); 10.2 (DER strings primitive) and
      // 8.2, 8.3, 8.8, 8.19 (BOOLEAN, INTEGER, NULL, OID primitive).
      const mustBeConstructed = ((_CONSTRUCTED_UNIVERSAL_MASK >> tagNumber) & 1) === 1;
      if (constructed !== mustBeConstructed) {
        throw new DerError(
          `universal tag ${tagNumber} in ${constructed ? 'constructed' : 'primitive'} form is not valid DER (X.690 8.9, 10.2)`,
          at(start),
        );
      }
    }
    if (start + 1 >= buf.length) throw new DerError('truncated element: missing length octet', at(start + 1));
    const first = buf[start + 1]!;
    let length: number;
    let header: number;
    if (first < 0x80) {
      length = first; // X.690 8.1.3.4: short form
      header = 2;
    } else if (first === 0x80) {
      // X.690 10.1: DER uses the definite form of length encoding only.
      throw new DerError('indefinite length is not allowed in DER (X.690 10.1)', at(start + 1));
    } else if (first === 0xff) {
      throw new DerError('reserved length octet 0xff (X.690 8.1.3.5 c)', at(start + 1));
    } else {
      const count = first & 0x7f;
      if (count > 3) {
        throw new DerError(`length of ${count} octets exceeds the limit of ${DER_MAX_LENGTH} bytes`, at(start + 1));
      }
      if (start + 2 + count > buf.length) throw new DerError('truncated length octets', at(start + 1));
      // X.690 10.1: the length shall be encoded in the minimum number of octets.
      if (buf[start + 2] === 0) throw new DerError('non-minimal length: leading zero octet (X.690 10.1)', at(start + 2));
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + buf[start + 2 + i]!;
      if (length < 0x80) {
        throw new DerError(`non-minimal length: long form used for ${length} (X.690 10.1)`, at(start + 1));
      }
      header = 2 + count;
    }
    const contentsStart = start + header;
    const available = buf.length - contentsStart;
    if (length > available) {
      throw new DerError(`length ${length} runs past the end of the data (${available} bytes left)`, at(start + 1));
    }
    const endPos = contentsStart + length;
    this.#pos = endPos;
    return {
      tag,
      tagNumber,
      tagClass,
      constructed,
      offset: at(start),
      header,
      contents: buf.subarray(contentsStart, endPos),
      raw: buf.subarray(start, endPos),
    };
  }

  /**
   * Reads one element whose identifier octet must be `tag`.
   * @example const time = r.readExpected(Tag.UTC_TIME).contents;
   */
  readExpected(tag: number): DerElement {
    const found = this.peekTag();
    if (found !== tag) {
      if (found === undefined) throw new DerError(`unexpected end of data: expected ${_tagName(tag)}`, this.offset);
      throw new DerError(`expected ${_tagName(tag)}, found ${_tagName(found)}`, this.offset);
    }
    return this.readElement();
  }

  /**
   * A reader over the contents of a constructed element (depth-checked).
   * @example const tbs = r.readExpected(Tag.SEQUENCE); const fields = r.enter(tbs); // tbs.raw kept
   */
  enter(element: DerElement): DerReader {
    if (!element.constructed) throw new DerError(`cannot enter primitive ${_tagName(element.tag)}`, element.offset);
    if (this.#depth + 1 > DER_MAX_DEPTH) {
      throw new DerError(`nesting deeper than ${DER_MAX_DEPTH} levels`, element.offset);
    }
    const sub = new DerReader(element.contents, element.offset + element.header);
    sub.#depth = this.#depth + 1;
    return sub;
  }

  /**
   * Reads a SEQUENCE and returns a reader over its contents.
   * @example const seq = r.readSequence(); const a = seq.readInteger(); seq.end();
   */
  readSequence(): DerReader {
    return this.enter(this.readExpected(Tag.SEQUENCE));
  }

  /**
   * Reads a SET (or SET OF) and returns a reader over its contents.
   * @example const rdn = name.readSet();
   */
  readSet(): DerReader {
    return this.enter(this.readExpected(Tag.SET));
  }

  /**
   * Reads an INTEGER of any sign (X.690 8.3), rejecting non-minimal encodings.
   * @example new DerReader(Uint8Array.of(0x02, 0x01, 0xff)).readInteger() === -1n
   */
  readInteger(): bigint {
    const el = this.readExpected(Tag.INTEGER);
    return decodeInteger(el.contents, el.offset + el.header);
  }

  /**
   * Reads an INTEGER that must be >= 0.
   * @example new DerReader(Uint8Array.of(0x02, 0x01, 0x00)).readUnsignedInteger() === 0n
   */
  readUnsignedInteger(): bigint {
    const offset = this.offset;
    const v = this.readInteger();
    if (v < 0n) throw new DerError('INTEGER is negative where a non-negative value is required', offset);
    return v;
  }

  /**
   * Reads an INTEGER that must be > 0 (an RSA modulus, a serial number).
   * @example new DerReader(Uint8Array.of(0x02, 0x01, 0x03)).readPositiveInteger() === 3n
   */
  readPositiveInteger(): bigint {
    const offset = this.offset;
    const v = this.readInteger();
    if (v <= 0n) throw new DerError('INTEGER is not positive where a positive value is required', offset);
    return v;
  }

  /**
   * Reads an OBJECT IDENTIFIER as a dotted string (X.690 8.19).
   * @example new DerReader(Uint8Array.of(0x06, 0x03, 0x2b, 0x65, 0x70)).readOid() === '1.3.101.112'
   */
  readOid(): string {
    const el = this.readExpected(Tag.OID);
    return decodeOid(el.contents, el.offset + el.header);
  }

  /**
   * Reads a BIT STRING (X.690 8.6, 11.2). The bytes are a view into the input.
   * @example const { bytes, unusedBits } = r.readBitString();
   */
  readBitString(): DerBitString {
    const el = this.readExpected(Tag.BIT_STRING);
    return decodeBitString(el.contents, el.offset + el.header);
  }

  /**
   * Reads an OCTET STRING (primitive, X.690 8.7 and 10.2); returns a view into the input.
   * @example const extnValue = ext.readOctetString();
   */
  readOctetString(): Uint8Array {
    return this.readExpected(Tag.OCTET_STRING).contents;
  }

  /**
   * Reads a NULL, which must have empty contents (X.690 8.8.2).
   * @example new DerReader(Uint8Array.of(0x05, 0x00)).readNull()
   */
  readNull(): null {
    const el = this.readExpected(Tag.NULL);
    return decodeNull(el.contents, el.offset + el.header);
  }

  /**
   * Reads a BOOLEAN: 0x00 or 0xff only (X.690 11.1).
   * @example new DerReader(Uint8Array.of(0x01, 0x01, 0xff)).readBoolean() === true
   */
  readBoolean(): boolean {
    const el = this.readExpected(Tag.BOOLEAN);
    return decodeBoolean(el.contents, el.offset + el.header);
  }

  /**
   * Reads the next element if its identifier octet is `tag`, else consumes nothing.
   * @example const critical = ext.readOptional(Tag.BOOLEAN); // DerElement | undefined
   */
  readOptional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.readElement() : undefined;
  }

  /**
   * Reads a context-specific `[n]` element (X.690 8.14).
   * - `'explicit'`: the element must be constructed; returns a reader over its contents, which
   *   hold the complete inner encoding (read it, then call `end()`).
   * - `'implicit'`: the element replaces the inner type's tag; returns the element, whose
   *   contents decode with `decodeInteger` etc. `constructed` (default false) must match the
   *   inner type's form (true for an implicitly tagged SEQUENCE).
   * @example
   * const version = r.readContextSpecific(0, 'explicit'); const v = version.readInteger(); version.end();
   * const uid = decodeBitString(r.readContextSpecific(1, 'implicit').contents);
   */
  readContextSpecific(n: number, form: 'explicit'): DerReader;
  readContextSpecific(n: number, form: 'implicit', constructed?: boolean): DerElement;
  readContextSpecific(n: number, form: 'explicit' | 'implicit', constructed = false): DerReader | DerElement {
    if (form === 'explicit') {
      // X.690 8.14.2: explicit tagging always produces a constructed encoding.
      return this.enter(this.readExpected(contextTag(n, true)));
    }
    return this.readExpected(contextTag(n, constructed));
  }

  /**
   * Throws unless every byte of this reader's window has been read.
   * @example const seq = r.readSequence(); seq.readInteger(); seq.end();
   */
  end(): void {
    if (this.hasMore()) throw new DerError(`${this.remaining} unexpected trailing byte(s)`, this.offset);
  }

  /**
   * Same as {@link DerReader.end}.
   * @example r.assertEnd();
   */
  assertEnd(): void {
    this.end();
  }
}

/**
 * Parses a whole buffer with `parse` and rejects anything left over.
 * @example const n = parseDer(bytes, (r) => r.readInteger());
 */
export function parseDer<T>(der: Uint8Array, parse: (reader: DerReader) => T): T {
  const reader = new DerReader(der);
  const result = parse(reader);
  reader.end();
  return result;
}

/**
 * Parses a buffer holding exactly one element into a tree, descending into every constructed
 * element (at most {@link DER_MAX_DEPTH} deep). For structure checks and debugging dumps.
 * @example parseDerTree(Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x05)).children?.[0]?.tag === 0x02
 */
export function parseDerTree(der: Uint8Array): DerNode {
  return parseDer(der, (r) => _readNode(r));
}

function _readNode(r: DerReader): DerNode {
  const element = r.readElement();
  if (!element.constructed) return element;
  const sub = r.enter(element);
  const children: DerNode[] = [];
  while (sub.hasMore()) children.push(_readNode(sub));
  return { ...element, children };
}

// ---------------------------------------------------------------------------------------
// Encoders. They produce DER and throw RangeError when asked for something DER cannot say.
// ---------------------------------------------------------------------------------------

/**
 * Encodes a definite length in its shortest form (X.690 8.1.3, 10.1).
 * @example encodeLength(5) // [0x05]; encodeLength(300) // [0x82, 0x01, 0x2c]
 */
export function encodeLength(length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > DER_MAX_LENGTH) {
    throw new RangeError(`DER length ${length} out of range 0..${DER_MAX_LENGTH}`);
  }
  if (length < 0x80) return Uint8Array.of(length);
  if (length < 0x100) return Uint8Array.of(0x81, length);
  if (length < 0x10000) return Uint8Array.of(0x82, length >> 8, length & 0xff);
  return Uint8Array.of(0x83, length >> 16, (length >> 8) & 0xff, length & 0xff);
}

/**
 * Encodes one TLV from an identifier octet and contents.
 * @example encodeTlv(Tag.OCTET_STRING, Uint8Array.of(1, 2)) // [0x04, 0x02, 0x01, 0x02]
 */
export function encodeTlv(tag: number, contents: Uint8Array): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 0xff || (tag & 0x1f) === 0x1f) {
    throw new RangeError(`identifier octet ${tag} is not a low-tag-number identifier`);
  }
  return concatBytes(Uint8Array.of(tag), encodeLength(contents.length), contents);
}

/**
 * Encodes a SEQUENCE of already-encoded elements.
 * @example encodeSequence(encodeInteger(1n), encodeNull())
 */
export function encodeSequence(...elements: Uint8Array[]): Uint8Array {
  return encodeTlv(Tag.SEQUENCE, concatBytes(...elements));
}

/**
 * Encodes a SET OF, sorting the encoded elements as DER requires (X.690 11.6).
 * @example encodeSetOf([encodeSequence(encodeOid('2.5.4.3'), cn)])
 */
export function encodeSetOf(elements: readonly Uint8Array[]): Uint8Array {
  const sorted = [...elements].sort(_compareBytes);
  return encodeTlv(Tag.SET, concatBytes(...sorted));
}

function _compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length; // X.690 11.6: shorter octets padded with trailing zeros sort first
}

/**
 * Encodes an INTEGER in minimal two's complement (X.690 8.3).
 * @example encodeInteger(128n) // [0x02, 0x02, 0x00, 0x80]; encodeInteger(-1n) // [0x02, 0x01, 0xff]
 */
export function encodeInteger(value: bigint | number): Uint8Array {
  let v = BigInt(value);
  let length = 1;
  // Smallest n with -2^(8n-1) <= v < 2^(8n-1).
  while (v >= 1n << BigInt(8 * length - 1) || v < -(1n << BigInt(8 * length - 1))) length++;
  if (v < 0n) v += 1n << BigInt(8 * length);
  const hex = v.toString(16).padStart(length * 2, '0');
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return encodeTlv(Tag.INTEGER, out);
}

/**
 * Encodes a dotted OBJECT IDENTIFIER (X.690 8.19).
 * @example encodeOid('1.3.101.112') // [0x06, 0x03, 0x2b, 0x65, 0x70]
 */
export function encodeOid(dotted: string): Uint8Array {
  const parts = dotted.split('.');
  if (parts.length < 2 || parts.some((p) => !/^(0|[1-9][0-9]*)$/.test(p))) {
    throw new RangeError(`not a dotted OID: ${JSON.stringify(dotted)}`);
  }
  const arcs = parts.map((p) => BigInt(p));
  const x = arcs[0]!;
  const y = arcs[1]!;
  if (x > 2n || (x < 2n && y >= 40n)) throw new RangeError(`OID ${dotted} has an invalid first or second arc`);
  const bytes: number[] = [];
  for (const subid of [x * 40n + y, ...arcs.slice(2)]) {
    const groups: number[] = [Number(subid & 0x7fn)];
    for (let rest = subid >> 7n; rest > 0n; rest >>= 7n) groups.push(Number(rest & 0x7fn) | 0x80);
    for (let i = groups.length - 1; i >= 0; i--) bytes.push(groups[i]!);
  }
  return encodeTlv(Tag.OID, Uint8Array.from(bytes));
}

/**
 * Encodes an OCTET STRING.
 * @example encodeOctetString(Uint8Array.of(0xab)) // [0x04, 0x01, 0xab]
 */
export function encodeOctetString(bytes: Uint8Array): Uint8Array {
  return encodeTlv(Tag.OCTET_STRING, bytes);
}

/**
 * Encodes a BIT STRING; the `unusedBits` low bits of the last byte must already be zero.
 * @example encodeBitString(point) // [0x03, len, 0x00, ...point]
 */
export function encodeBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`invalid unused-bits count ${unusedBits} for ${bytes.length} bytes`);
  }
  if (unusedBits !== 0 && (bytes[bytes.length - 1]! & ((1 << unusedBits) - 1)) !== 0) {
    throw new RangeError('unused bits of a DER BIT STRING must be zero');
  }
  return encodeTlv(Tag.BIT_STRING, concatBytes(Uint8Array.of(unusedBits), bytes));
}

/**
 * Encodes NULL.
 * @example encodeNull() // [0x05, 0x00]
 */
export function encodeNull(): Uint8Array {
  return Uint8Array.of(Tag.NULL, 0x00);
}

/**
 * Encodes a BOOLEAN as 0x00 or 0xff (X.690 11.1).
 * @example encodeBoolean(true) // [0x01, 0x01, 0xff]
 */
export function encodeBoolean(value: boolean): Uint8Array {
  return Uint8Array.of(Tag.BOOLEAN, 0x01, value ? 0xff : 0x00);
}

/**
 * Encodes `[n] EXPLICIT` around one complete inner encoding (X.690 8.14.2).
 * @example encodeExplicit(0, encodeInteger(2n)) // [0xa0, 0x03, 0x02, 0x01, 0x02]
 */
export function encodeExplicit(n: number, inner: Uint8Array): Uint8Array {
  return encodeTlv(contextTag(n, true), inner);
}

/**
 * Encodes `[n] IMPLICIT` contents: the inner type's contents under a context tag (X.690 8.14.3).
 * @example encodeImplicit(2, new TextEncoder().encode('example.com')) // dNSName
 */
export function encodeImplicit(n: number, contents: Uint8Array, constructed = false): Uint8Array {
  return encodeTlv(contextTag(n, constructed), contents);
}
