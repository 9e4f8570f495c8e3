/**
 * zlib (RFC 1950) around DEFLATE (RFC 1951), for RFC 8879 certificate compression: an inflater
 * bounded by the length the peer declared, and a small compressor (LZ77 over a bounded hash
 * chain, fixed Huffman codes) for our own certificate chains.
 *
 * Work and memory are bounded by the input and the declared output length: the output buffer
 * is allocated once at that length, and decoding stops with a {@link ZlibError} the moment a
 * block would write past it (a "bomb"), reads past the input, or breaks any rule of the RFCs.
 * @module
 */

/** Malformed or oversized zlib data. The message says what was wrong. */
export class ZlibError extends Error {
  override readonly name = 'ZlibError';
}

/** RFC 1951 3.2.5: base lengths and extra bits of length codes 257..285. */
const _LENGTH_BASE = Object.freeze([3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]);
const _LENGTH_EXTRA = Object.freeze([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]);
/** RFC 1951 3.2.5: base distances and extra bits of distance codes 0..29. */
const _DIST_BASE = Object.freeze([
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
]);
const _DIST_EXTRA = Object.freeze([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]);
/** RFC 1951 3.2.7: the order code length code lengths are sent in. */
const _CLEN_ORDER = Object.freeze([16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]);
const _MAX_BITS = 15;

/** A canonical Huffman code (RFC 1951 3.2.2): how many codes of each length, symbols in code order. */
interface _Huffman {
  readonly counts: Uint16Array;
  readonly symbols: Uint16Array;
}

/** Builds the decoding table of a code from its code lengths; an over-subscribed set is refused. */
function _huffman(lengths: ArrayLike<number>, what: string): _Huffman {
  const counts = new Uint16Array(_MAX_BITS + 1);
  for (let i = 0; i < lengths.length; i++) counts[lengths[i]!]!++;
  counts[0] = 0;
  // RFC 1951 3.2.2: the codes of each length follow those of the shorter ones; more codes than
  // a length has room for cannot be a prefix code.
  let left = 1;
  for (let len = 1; len <= _MAX_BITS; len++) {
    left = left * 2 - counts[len]!;
    if (left < 0) throw new ZlibError(`${what}: over-subscribed Huffman code`);
  }
  const offsets = new Uint16Array(_MAX_BITS + 2);
  for (let len = 1; len <= _MAX_BITS; len++) offsets[len + 1] = offsets[len]! + counts[len]!;
  const symbols = new Uint16Array(lengths.length);
  for (let symbol = 0; symbol < lengths.length; symbol++) {
    const len = lengths[symbol]!;
    if (len !== 0) symbols[offsets[len]!++] = symbol;
  }
  return { counts, symbols };
}

/** RFC 1951 3.2.6: the fixed literal/length and distance codes. */
function _fixedCodes(): { readonly lit: _Huffman; readonly dist: _Huffman } {
  const lit = new Uint8Array(288);
  lit.fill(8, 0, 144).fill(9, 144, 256).fill(7, 256, 280).fill(8, 280, 288);
  return { lit: _huffman(lit, 'fixed'), dist: _huffman(new Uint8Array(30).fill(5), 'fixed') };
}
const _FIXED = Object.freeze(_fixedCodes());

/** Reads bits least significant first (RFC 1951 3.1.1), refusing to read past the end. */
class _BitReader {
  #at = 0;
  #bits = 0;
  #count = 0;
  readonly #input: Uint8Array;

  constructor(input: Uint8Array, start: number) {
    this.#input = input;
    this.#at = start;
  }

  bits(n: number): number {
    while (this.#count < n) {
      if (this.#at >= this.#input.length) throw new ZlibError('truncated deflate stream');
      this.#bits |= this.#input[this.#at++]! << this.#count;
      this.#count += 8;
    }
    const value = this.#bits & ((1 << n) - 1);
    this.#bits >>>= n;
    this.#count -= n;
    return value;
  }

  /** RFC 1951 3.2.4: a stored block starts on a byte boundary. */
  alignToByte(): void {
    this.#bits = 0;
    this.#count = 0;
  }

  /** The byte position once aligned. */
  get position(): number {
    return this.#at;
  }

  skip(n: number): void {
    if (this.#at + n > this.#input.length) throw new ZlibError('truncated stored block');
    this.#at += n;
  }

  /** Decodes one symbol, a code bit at a time (codes are packed most significant bit first). */
  decode(h: _Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= _MAX_BITS; len++) {
      code |= this.bits(1);
      const count = h.counts[len]!;
      if (code - first < count) return h.symbols[index + code - first]!;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new ZlibError('invalid Huffman code');
  }
}

/**
 * RFC 1950 8.2: Adler-32 of `data`.
 * @example
 * adler32(new TextEncoder().encode('Wikipedia')); // 0x11e60398
 */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  // 5552 bytes is the most that can be summed before b needs reducing (RFC 1950 9).
  for (let at = 0; at < data.length; ) {
    const end = Math.min(data.length, at + 5552);
    for (; at < end; at++) {
      a += data[at]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/**
 * Inflates a zlib stream (RFC 1950) that must decompress to exactly `expectedLength` bytes and
 * hold nothing after its Adler-32 trailer. Output beyond `expectedLength` stops decoding at once;
 * so does any malformed input. Throws {@link ZlibError}.
 * @example
 * const body = zlibInflate(compressed, uncompressedLength);
 */
export function zlibInflate(input: Uint8Array, expectedLength: number): Uint8Array {
  if (!Number.isSafeInteger(expectedLength) || expectedLength < 0) throw new ZlibError('bad expected length');
  // RFC 1950 2.2: CMF (method 8 = deflate, window 2^(CINFO+8) <= 32 KiB) and FLG.
  if (input.length < 2) throw new ZlibError('truncated zlib header');
  const cmf = input[0]!;
  const flg = input[1]!;
  if ((cmf & 0x0f) !== 8) throw new ZlibError(`compression method ${cmf & 0x0f} is not deflate`);
  if (cmf >> 4 > 7) throw new ZlibError(`window size 2^${(cmf >> 4) + 8} is not allowed`);
  if (((cmf << 8) | flg) % 31 !== 0) throw new ZlibError('zlib header check bits are wrong');
  if (flg & 0x20) throw new ZlibError('a preset dictionary is not available');
  const windowSize = 1 << ((cmf >> 4) + 8);
  const out = new Uint8Array(expectedLength);
  let n = 0;
  const r = new _BitReader(input, 2);
  const overflow = () => new ZlibError(`output exceeds the declared ${expectedLength} bytes`);
  for (let last = 0; !last; ) {
    last = r.bits(1);
    const type = r.bits(2);
    if (type === 0) {
      // RFC 1951 3.2.4: LEN and its ones' complement NLEN, then LEN raw bytes.
      r.alignToByte();
      const at = r.position;
      r.skip(4);
      const len = input[at]! | (input[at + 1]! << 8);
      const nlen = input[at + 2]! | (input[at + 3]! << 8);
      if (len !== (~nlen & 0xffff)) throw new ZlibError('stored block length does not match its complement');
      r.skip(len);
      if (n + len > expectedLength) throw overflow();
      out.set(input.subarray(at + 4, at + 4 + len), n);
      n += len;
      continue;
    }
    let lit: _Huffman;
    let dist: _Huffman;
    if (type === 1) {
      ({ lit, dist } = _FIXED);
    } else if (type === 2) {
      ({ lit, dist } = _dynamicCodes(r));
    } else {
      throw new ZlibError('reserved block type 3');
    }
    for (;;) {
      const symbol = r.decode(lit);
      if (symbol < 256) {
        if (n >= expectedLength) throw overflow();
        out[n++] = symbol;
      } else if (symbol === 256) {
        break;
      } else {
        const li = symbol - 257;
        if (li >= 29) throw new ZlibError(`invalid length code ${symbol}`);
        const length = _LENGTH_BASE[li]! + r.bits(_LENGTH_EXTRA[li]!);
        const di = r.decode(dist);
        if (di >= 30) throw new ZlibError(`invalid distance code ${di}`);
        const distance = _DIST_BASE[di]! + r.bits(_DIST_EXTRA[di]!);
        if (distance > n || distance > windowSize) throw new ZlibError('distance reaches before the start of the output');
        if (n + length > expectedLength) throw overflow();
        // Byte by byte: a match may overlap the bytes it produces (RFC 1951 3.2.3).
        for (let i = 0; i < length; i++, n++) out[n] = out[n - distance]!;
      }
    }
  }
  if (n !== expectedLength) throw new ZlibError(`output is ${n} bytes, ${expectedLength} were declared`);
  // RFC 1950 2.2: ADLER32, most significant byte first, right after the last block.
  r.alignToByte();
  const at = r.position;
  if (at + 4 > input.length) throw new ZlibError('truncated Adler-32 checksum');
  const checksum = ((input[at]! << 24) | (input[at + 1]! << 16) | (input[at + 2]! << 8) | input[at + 3]!) >>> 0;
  if (checksum !== adler32(out)) throw new ZlibError('Adler-32 checksum mismatch');
  if (at + 4 !== input.length) throw new ZlibError(`${input.length - at - 4} bytes after the zlib stream`);
  return out;
}

/** RFC 1951 3.2.7: the code lengths of a dynamic block, themselves Huffman coded. */
function _dynamicCodes(r: _BitReader): { lit: _Huffman; dist: _Huffman } {
  const hlit = r.bits(5) + 257;
  const hdist = r.bits(5) + 1;
  const hclen = r.bits(4) + 4;
  if (hlit > 286 || hdist > 30) throw new ZlibError('too many literal/length or distance codes');
  const clen = new Uint8Array(19);
  for (let i = 0; i < hclen; i++) clen[_CLEN_ORDER[i]!] = r.bits(3);
  const codeLengthCode = _huffman(clen, 'code length code');
  const lengths = new Uint8Array(hlit + hdist);
  for (let i = 0; i < lengths.length; ) {
    const symbol = r.decode(codeLengthCode);
    if (symbol < 16) {
      lengths[i++] = symbol;
      continue;
    }
    let value = 0;
    let repeat: number;
    if (symbol === 16) {
      if (i === 0) throw new ZlibError('repeat of a code length with none before');
      value = lengths[i - 1]!;
      repeat = 3 + r.bits(2);
    } else if (symbol === 17) {
      repeat = 3 + r.bits(3);
    } else {
      repeat = 11 + r.bits(7);
    }
    if (i + repeat > lengths.length) throw new ZlibError('code lengths overrun the table');
    lengths.fill(value, i, i + repeat);
    i += repeat;
  }
  // RFC 1951 3.2.7: a block must be able to end.
  if (lengths[256] === 0) throw new ZlibError('no end-of-block code');
  return { lit: _huffman(lengths.subarray(0, hlit), 'literal/length code'), dist: _huffman(lengths.subarray(hlit), 'distance code') };
}

// ---------------------------------------------------------------------------------------------
// Compression
// ---------------------------------------------------------------------------------------------

/** Writes bits least significant first (RFC 1951 3.1.1) into a growing buffer. */
class _BitWriter {
  #out: Uint8Array;
  #n = 0;
  #bits = 0;
  #count = 0;

  constructor(capacity: number) {
    this.#out = new Uint8Array(Math.max(64, capacity));
  }

  bits(value: number, n: number): void {
    this.#bits |= value << this.#count;
    this.#count += n;
    while (this.#count >= 8) {
      this.#byte(this.#bits & 0xff);
      this.#bits >>>= 8;
      this.#count -= 8;
    }
  }

  /** A Huffman code: its bits go most significant first, so they are reversed here. */
  code(code: number, length: number): void {
    let reversed = 0;
    for (let i = 0; i < length; i++) reversed |= ((code >> i) & 1) << (length - 1 - i);
    this.bits(reversed, length);
  }

  #byte(b: number): void {
    if (this.#n === this.#out.length) {
      const bigger = new Uint8Array(this.#out.length * 2);
      bigger.set(this.#out);
      this.#out = bigger;
    }
    this.#out[this.#n++] = b;
  }

  /** Pads to a byte boundary, then appends whole bytes. */
  finish(trailer: readonly number[]): Uint8Array {
    if (this.#count > 0) this.bits(0, 8 - this.#count);
    for (const b of trailer) this.#byte(b);
    return this.#out.slice(0, this.#n);
  }
}

/** RFC 1951 3.2.6: a literal/length symbol in the fixed code. */
function _fixedLiteral(w: _BitWriter, symbol: number): void {
  if (symbol < 144) w.code(0x30 + symbol, 8);
  else if (symbol < 256) w.code(0x190 + symbol - 144, 9);
  else if (symbol < 280) w.code(symbol - 256, 7);
  else w.code(0xc0 + symbol - 280, 8);
}

/** The code whose base is the largest not above `value` in a base table. */
function _codeFor(bases: readonly number[], value: number): number {
  let i = bases.length - 1;
  while (bases[i]! > value) i--;
  return i;
}

const _WINDOW = 32768;
const _HASH_BITS = 15;
const _MIN_MATCH = 3;
const _MAX_MATCH = 258;
/** How many earlier positions with the same hash each match search looks at (bounds the work). */
const _MAX_CHAIN = 64;

/**
 * Compresses `data` into a zlib stream (RFC 1950): one final DEFLATE block with the fixed
 * Huffman codes (RFC 1951 3.2.6) and greedy LZ77 matches found through a hash chain of at most
 * 64 candidates per position. Deterministic: the same input always gives the same output.
 * @example
 * const compressed = zlibDeflate(certificateMessageBody);
 */
export function zlibDeflate(data: Uint8Array): Uint8Array {
  const w = new _BitWriter(data.length / 2 + 16);
  // RFC 1950 2.2: CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (check bits; level 0, no dictionary).
  w.bits(0x78, 8);
  w.bits(0x01, 8);
  w.bits(1, 1); // BFINAL
  w.bits(1, 2); // BTYPE 01: fixed Huffman codes
  const head = new Int32Array(1 << _HASH_BITS).fill(-1);
  const prev = new Int32Array(_WINDOW);
  const hash = (at: number) => ((data[at]! << 10) ^ (data[at + 1]! << 5) ^ data[at + 2]!) & ((1 << _HASH_BITS) - 1);
  const insert = (at: number) => {
    if (at + _MIN_MATCH > data.length) return;
    const h = hash(at);
    prev[at & (_WINDOW - 1)] = head[h]!;
    head[h] = at;
  };
  for (let at = 0; at < data.length; ) {
    let bestLength = 0;
    let bestDistance = 0;
    if (at + _MIN_MATCH <= data.length) {
      const limit = Math.min(_MAX_MATCH, data.length - at);
      let candidate = head[hash(at)]!;
      for (let chain = 0; candidate >= 0 && at - candidate <= _WINDOW && chain < _MAX_CHAIN; chain++) {
        let length = 0;
        while (length < limit && data[candidate + length] === data[at + length]) length++;
        if (length > bestLength) {
          bestLength = length;
          bestDistance = at - candidate;
          if (length === limit) break;
        }
        const next = prev[candidate & (_WINDOW - 1)]!;
        if (next >= candidate) break; // the slot was reused by a newer position
        candidate = next;
      }
    }
    if (bestLength >= _MIN_MATCH) {
      const li = _codeFor(_LENGTH_BASE, bestLength);
      _fixedLiteral(w, 257 + li);
      w.bits(bestLength - _LENGTH_BASE[li]!, _LENGTH_EXTRA[li]!);
      const di = _codeFor(_DIST_BASE, bestDistance);
      w.code(di, 5);
      w.bits(bestDistance - _DIST_BASE[di]!, _DIST_EXTRA[di]!);
      for (let i = 0; i < bestLength; i++) insert(at + i);
      at += bestLength;
    } else {
      _fixedLiteral(w, data[at]!);
      insert(at);
      at++;
    }
  }
  _fixedLiteral(w, 256);
  const checksum = adler32(data);
  return w.finish([checksum >>> 24, (checksum >>> 16) & 0xff, (checksum >>> 8) & 0xff, checksum & 0xff]);
}
