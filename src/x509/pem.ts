/**
 * PEM textual encoding (RFC 7468): `-----BEGIN LABEL-----`, base64 of the DER, `-----END LABEL-----`.
 *
 * The reader follows RFC 7468's "lax" grammar (section 3), which is what files in the wild need:
 * explanatory text before, between and after blocks is ignored; whitespace (spaces, tabs, CR,
 * LF, VT, FF) anywhere inside the base64 is ignored. It is strict about everything else:
 * the END label must repeat the BEGIN label, the body may hold only base64 characters
 * (so RFC 1421 headers such as `Proc-Type:` are refused, RFC 7468 2), the base64 must be
 * canonical (correct padding, zero pad bits), and a block must be closed. Problems throw a
 * {@link PemError} whose `code` says which rule was broken.
 *
 * The base64 codec is this module's own: `atob` and `Buffer` are ambient and not available to
 * the core.
 * @module
 */

/** What was wrong with a PEM input. */
export type PemErrorCode =
  /** No block (with the wanted label) in the input. */
  | 'no-block'
  /** A BEGIN or END line that does not follow RFC 7468 3 (`-----BEGIN label-----`). */
  | 'bad-boundary'
  /** The END label differs from the BEGIN label, or a BEGIN appears inside a block. */
  | 'label-mismatch'
  /** The input ended inside a block. */
  | 'unterminated'
  /** RFC 1421-style `Name: value` header lines inside a block (legacy encrypted keys). */
  | 'headers'
  /** A character inside a block that is neither base64 nor whitespace. */
  | 'bad-character'
  /** Base64 with wrong length, misplaced padding or non-zero pad bits. */
  | 'bad-base64'
  /** A block with nothing between its boundaries. */
  | 'empty';

/**
 * Malformed PEM text. `code` names the rule that was broken.
 * @example
 * try { decodePem(text); } catch (e) { if (e instanceof PemError && e.code === 'headers') askForUnencryptedKey(); }
 */
export class PemError extends Error {
  override readonly name = 'PemError';
  readonly code: PemErrorCode;
  constructor(code: PemErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN ` and `-----`, e.g. 'CERTIFICATE'. */
  readonly label: string;
  /** The decoded base64 body. */
  readonly der: Uint8Array;
}

const _ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 character code -> 6-bit value, -1 for anything else (built once, never mutated). */
const _DECODE_TABLE: readonly number[] = Object.freeze(
  Array.from({ length: 128 }, (_, code) => _ALPHABET.indexOf(String.fromCharCode(code))),
);

/** RFC 7468 3: W = WSP / CR / LF / HTAB / VT / FF. */
function _isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0b || code === 0x0c || code === 0x0d;
}

/** A label for an error message: shown only if short and printable, never the body. */
function _quoteLabel(label: string): string {
  return /^[\x20-\x7e]{0,64}$/.test(label) ? JSON.stringify(label) : '(unprintable label)';
}

/**
 * Decodes canonical base64 (RFC 4648 4) after whitespace has been removed: length a multiple of
 * four, `=` only as one or two final characters, and pad bits zero (RFC 4648 3.5).
 */
function _decodeBase64(text: string, label: string): Uint8Array {
  if (text.length % 4 !== 0) {
    throw new PemError('bad-base64', `PEM ${_quoteLabel(label)}: base64 length ${text.length} is not a multiple of 4 (RFC 4648 4)`);
  }
  let padding = 0;
  if (text.endsWith('==')) padding = 2;
  else if (text.endsWith('=')) padding = 1;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    let group = 0;
    for (let j = 0; j < 4; j++) {
      const code = text.charCodeAt(i + j);
      // '=' is allowed only as the final padding of the final group.
      if (code === 0x3d && last && j >= 4 - padding) {
        group <<= 6;
        continue;
      }
      const value = code < 128 ? _DECODE_TABLE[code]! : -1;
      if (value < 0) {
        throw new PemError('bad-base64', `PEM ${_quoteLabel(label)}: misplaced '=' or invalid base64 character (RFC 4648 4)`);
      }
      group = (group << 6) | value;
    }
    if (last && padding > 0) {
      // RFC 4648 3.5: the pad bits must be zero, so each byte string has one encoding.
      const padBits = padding === 2 ? 0xffff : 0xff;
      if ((group & padBits) !== 0) throw new PemError('bad-base64', `PEM ${_quoteLabel(label)}: non-zero base64 pad bits (RFC 4648 3.5)`);
    }
    out[o++] = (group >> 16) & 0xff;
    if (o < out.length) out[o++] = (group >> 8) & 0xff;
    if (o < out.length) out[o++] = group & 0xff;
  }
  return out;
}

/**
 * Encodes bytes as base64 (RFC 4648 4) with padding.
 * @example encodeBase64(Uint8Array.of(0x66, 0x6f)) === 'Zm8='
 */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1];
    const b2 = bytes[i + 2];
    const group = (b0 << 16) | ((b1 ?? 0) << 8) | (b2 ?? 0);
    out += _ALPHABET[(group >> 18) & 63]! + _ALPHABET[(group >> 12) & 63]!;
    out += b1 === undefined ? '=' : _ALPHABET[(group >> 6) & 63]!;
    out += b2 === undefined ? '=' : _ALPHABET[group & 63]!;
  }
  return out;
}

/** RFC 7468 3: labelchar = %x21-2C / %x2E-7E; label = [ labelchar *( ["-" / SP] labelchar ) ]. */
const _LABEL = /^(?:[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?$/;

/** Parses a boundary line (already trimmed) `-----BEGIN label-----` / `-----END label-----`. */
function _boundaryLabel(line: string, kind: 'BEGIN' | 'END'): string {
  const prefix = `-----${kind} `;
  if (!line.startsWith(prefix) || !line.endsWith('-----') || line.length < prefix.length + 5) {
    throw new PemError('bad-boundary', `PEM: malformed ${kind} line (RFC 7468 3: "-----${kind} label-----")`);
  }
  const label = line.slice(prefix.length, line.length - 5);
  if (!_LABEL.test(label)) throw new PemError('bad-boundary', `PEM: invalid label ${_quoteLabel(label)} (RFC 7468 3)`);
  return label;
}

/**
 * Decodes every PEM block in `text` (RFC 7468). Text outside blocks is ignored. With `label`
 * (one or several), blocks with other labels are still checked but left out of the result.
 * Throws {@link PemError} for a malformed block; an input without any block gives `[]`.
 * @example
 * const [cert] = decodePem(pemText, 'CERTIFICATE'); // { label: 'CERTIFICATE', der: Uint8Array }
 * const all = decodePem(bundle); // every block, in order
 */
export function decodePem(text: string, label?: string | readonly string[]): PemBlock[] {
  const wanted = label === undefined ? undefined : typeof label === 'string' ? [label] : label;
  const blocks: PemBlock[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  let open: string | undefined;
  let body: string[] = [];
  for (const rawLine of lines) {
    // RFC 7468 3: whitespace may surround the encapsulation boundaries.
    const line = rawLine.replace(/^[ \t\v\f]+|[ \t\v\f]+$/g, '');
    if (open === undefined) {
      if (line.startsWith('-----BEGIN')) {
        open = _boundaryLabel(line, 'BEGIN');
        body = [];
      } else if (line.startsWith('-----END')) {
        throw new PemError('bad-boundary', 'PEM: END line without a matching BEGIN (RFC 7468 2)');
      }
      continue; // explanatory text (RFC 7468 2: parsers must not malfunction on it)
    }
    if (line.startsWith('-----BEGIN')) {
      throw new PemError('label-mismatch', `PEM: BEGIN inside the unterminated ${_quoteLabel(open)} block (RFC 7468 2)`);
    }
    if (line.startsWith('-----END')) {
      const endLabel = _boundaryLabel(line, 'END');
      // RFC 7468 2: the label of the post-encapsulation boundary must match the pre-encapsulation one.
      if (endLabel !== open) {
        throw new PemError('label-mismatch', `PEM: END label ${_quoteLabel(endLabel)} does not match BEGIN label ${_quoteLabel(open)} (RFC 7468 2)`);
      }
      const compact = body.join('');
      if (compact.length === 0) throw new PemError('empty', `PEM ${_quoteLabel(open)}: empty body`);
      const der = _decodeBase64(compact, open);
      if (wanted === undefined || wanted.includes(open)) blocks.push({ label: open, der });
      open = undefined;
      continue;
    }
    // RFC 7468 2: "textual encoding does *not* define or permit headers" (RFC 1421 Proc-Type etc.).
    if (/^[A-Za-z][A-Za-z0-9-]*:/.test(line)) {
      throw new PemError('headers', `PEM ${_quoteLabel(open)}: RFC 1421 header lines (e.g. Proc-Type/DEK-Info of legacy encrypted keys) are not supported (RFC 7468 2)`);
    }
    let compactLine = '';
    for (let i = 0; i < line.length; i++) {
      const code = line.charCodeAt(i);
      if (_isWhitespace(code)) continue;
      // RFC 7468 3: base64char = ALPHA / DIGIT / "+" / "/", plus "=" padding.
      if (code >= 128 || (_DECODE_TABLE[code]! < 0 && code !== 0x3d)) {
        throw new PemError('bad-character', `PEM ${_quoteLabel(open)}: character that is not base64 inside the block (RFC 7468 3)`);
      }
      compactLine += line[i];
    }
    body.push(compactLine);
  }
  if (open !== undefined) throw new PemError('unterminated', `PEM ${_quoteLabel(open)}: no END line (RFC 7468 2)`);
  return blocks;
}

/**
 * Encodes DER as one PEM block with 64-character lines (RFC 7468 2, the generator's form).
 * @example encodePem('CERTIFICATE', der) // '-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n'
 */
export function encodePem(label: string, der: Uint8Array): string {
  if (!_LABEL.test(label)) throw new PemError('bad-boundary', `PEM: invalid label ${_quoteLabel(label)} (RFC 7468 3)`);
  const base64 = encodeBase64(der);
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < base64.length; i += 64) out += `${base64.slice(i, i + 64)}\n`;
  return `${out}-----END ${label}-----\n`;
}

/** Whether bytes look like ASCII PEM text (optional whitespace, then `-----BEGIN`). */
function _looksLikePemBytes(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && _isWhitespace(bytes[i]!)) i++;
  const marker = '-----BEGIN';
  if (bytes.length - i < marker.length) return false;
  for (let j = 0; j < marker.length; j++) if (bytes[i + j] !== marker.charCodeAt(j)) return false;
  return true;
}

/** Bytes as Latin-1 text; PEM is ASCII, and any byte above 0x7f is then refused as non-base64. */
function _latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    out += String.fromCharCode(...bytes.subarray(i, Math.min(i + 4096, bytes.length)));
  }
  return out;
}

/**
 * Normalises the ways callers hand over DER objects into a list of DER buffers:
 * - a string is PEM text that may hold several blocks; those labelled `label` are returned,
 *   and a string without any such block is a {@link PemError} (`no-block`);
 * - a Uint8Array is DER, unless it starts (after ASCII whitespace) with `-----BEGIN`, in which
 *   case it is PEM text in ASCII, read as above;
 * - an array may mix both; the results are concatenated in order.
 * @example
 * const anchors = toDerList([fs.readFileSync('ca-bundle.pem', 'utf8'), rootDer], 'CERTIFICATE');
 */
export function toDerList(input: string | Uint8Array | readonly (string | Uint8Array)[], label: string | readonly string[]): Uint8Array[] {
  const items = typeof input === 'string' || input instanceof Uint8Array ? [input] : input;
  const out: Uint8Array[] = [];
  for (const item of items) {
    if (typeof item !== 'string' && !(item instanceof Uint8Array)) {
      throw new TypeError('toDerList: expected PEM strings or DER Uint8Arrays');
    }
    if (item instanceof Uint8Array && !_looksLikePemBytes(item)) {
      out.push(item);
      continue;
    }
    const blocks = decodePem(typeof item === 'string' ? item : _latin1(item), label);
    if (blocks.length === 0) {
      const names = typeof label === 'string' ? label : label.join('/');
      throw new PemError('no-block', `PEM: no ${_quoteLabel(names)} block found`);
    }
    for (const block of blocks) out.push(block.der);
  }
  return out;
}
