/**
 * AEADs (RFC 5116): AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305, and AES-128-CCM with a 16- or
 * 8-byte tag (RFC 5116 5.3 AEAD_AES_128_CCM, RFC 6655 AEAD_AES_128_CCM_8; CCM itself is RFC 3610
 * and NIST SP 800-38C).
 *
 * A key is bound once (`aeadKey(name, key)`) and then seals or opens any number of records; for
 * AES-GCM and AES-CCM the AES key schedule (and GCM's GHASH key H) is derived once per key instead
 * of once per record. Output is ciphertext || tag (16 bytes; 8 for AES-128-CCM-8). A failed open
 * is an `AeadTagError`.
 * @module
 */
import { unsafe as aesUnsafe } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { AeadTagError, CryptoParameterError } from './errors.js';

/** The AEAD algorithms of the TLS 1.3 cipher suites (RFC 8446 B.4). */
export type AeadName = 'AES-128-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305' | 'AES-128-CCM' | 'AES-128-CCM-8';

/** The tag length of every AEAD here but AES-128-CCM-8 (8 bytes; see `AEADS[name].tagLength`). */
export const AEAD_TAG_LENGTH = 16;

export interface AeadInfo {
  readonly name: AeadName;
  readonly keyLength: number;
  /** RFC 5116 N_MIN = N_MAX = 12 for all of them; TLS 1.3 derives 12-byte IVs (RFC 8446 5.3). */
  readonly nonceLength: number;
  readonly tagLength: number;
}

export const AEADS: Readonly<Record<AeadName, AeadInfo>> = Object.freeze({
  'AES-128-GCM': { name: 'AES-128-GCM', keyLength: 16, nonceLength: 12, tagLength: 16 },
  'AES-256-GCM': { name: 'AES-256-GCM', keyLength: 32, nonceLength: 12, tagLength: 16 },
  'CHACHA20-POLY1305': { name: 'CHACHA20-POLY1305', keyLength: 32, nonceLength: 12, tagLength: 16 },
  'AES-128-CCM': { name: 'AES-128-CCM', keyLength: 16, nonceLength: 12, tagLength: 16 },
  'AES-128-CCM-8': { name: 'AES-128-CCM-8', keyLength: 16, nonceLength: 12, tagLength: 8 },
});

/** An AEAD bound to one key. */
export interface AeadKey {
  readonly info: AeadInfo;
  /**
   * Returns ciphertext || tag. `output`, when given, is where the caller wants it: exactly
   * `plaintext.length + info.tagLength` bytes, either apart from `plaintext` or starting at its
   * first byte (sealing in place, as the record layer does). A key may write there and return
   * `output`, or ignore it and return a fresh array: the caller uses what is returned.
   */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, output?: Uint8Array): Uint8Array;
  /** Returns the plaintext or throws `AeadTagError`; no plaintext is produced before the tag checks. */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array;
  /** Wipes the expanded key material; the object is unusable afterwards. */
  destroy(): void;
}

/**
 * Binds an AEAD to a key.
 * @example
 * const key = aeadKey('CHACHA20-POLY1305', trafficKey);
 * const record = key.seal(nonce, plaintext, header);
 * key.open(nonce, record, header); // plaintext
 */
export function aeadKey(name: AeadName, key: Uint8Array): AeadKey {
  const info = AEADS[name];
  if (!info) throw new CryptoParameterError(`unsupported AEAD: ${String(name)}`);
  if (key.length !== info.keyLength) {
    throw new CryptoParameterError(`${name} needs a ${info.keyLength}-byte key, got ${key.length}`);
  }
  if (name === 'CHACHA20-POLY1305') return chachaKey(info, key);
  if (name === 'AES-128-CCM' || name === 'AES-128-CCM-8') return ccmKey(info, key);
  return gcmKey(info, key, { nonceLengths: [12] });
}

/**
 * AES-GCM (NIST SP 800-38D) with any AES key size (16, 24 or 32 bytes) and any non-empty IV.
 * TLS uses `aeadKey`, which admits only the RFC 5116 shapes; this wider form exists so the
 * general algorithm can be checked against the full Wycheproof set.
 * @example
 * aesGcmKey(key24).seal(iv, plaintext, aad);
 */
export function aesGcmKey(key: Uint8Array): AeadKey {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
    throw new CryptoParameterError(`AES needs a 16, 24 or 32-byte key, got ${key.length}`);
  }
  const name: AeadName = key.length === 32 ? 'AES-256-GCM' : 'AES-128-GCM';
  return gcmKey({ ...AEADS[name], keyLength: key.length }, key, { nonceLengths: 'any' });
}

const BLOCK = 16;

/**
 * GHASH (SP 800-38D 6.4) by tables of multiples of H (Shoup's method), in two sizes per key:
 *
 * - first a 4-bit table, the 16 products `n * H` of every nibble n (256 bytes): each block costs
 *   32 look-ups and 31 multiplications by x^4. Cheap to build, so the keys that protect only a
 *   few small records (the handshake keys, an idle connection's tickets) stay small and fast;
 * - once a key has hashed `_GHASH_WIDE_AFTER` bytes, an 8-bit table, the 256 products `b * H` of
 *   every byte value b (4 KiB): 16 look-ups and 15 multiplications by x^8 per block, about twice
 *   as fast, for bulk data. The 4-bit table is dropped then.
 *
 * Both are wiped with the key. noble's `ghash` builds a table on every call, which is what a
 * record layer that makes `gcm(key, nonce)` per record pays.
 *
 * Bit order is the specification's: the first bit of a block is the coefficient of x^0, so
 * multiplying by x is a right shift of the 128-bit big-endian value, with R = 0xE1 || 0^120
 * folded in when a 1 falls off the end. Shifting by s bits at once, the s-bit value n that falls
 * off comes back as n * R: `clmul(n, 0xE1) << (25 - s)` in the top word, where the carry-less
 * product with 0xE1 is `n ^ n << 5 ^ n << 6 ^ n << 7`. No table, and no look-up indexed by the
 * state, for the reduction.
 */
const _GHASH_WIDE_AFTER = 16 * 1024;

/**
 * The products `v * H` of every `bits`-bit value v (four big-endian words each; 4 or 8 bits) for
 * the GHASH key `h` = E_K(0^128).
 */
function _ghashTable(h: Uint8Array, bits: 4 | 8): Uint32Array {
  const size = 1 << bits;
  const t = new Uint32Array(size * 4);
  let v0 = _word(h, 0);
  let v1 = _word(h, 4);
  let v2 = _word(h, 8);
  let v3 = _word(h, 12);
  // The single bits: the top bit of the value is x^0 (H itself), the next x (H >> 1, reduced), ...
  for (let bit = size >>> 1; bit >= 1; bit >>>= 1) {
    t[bit * 4] = v0;
    t[bit * 4 + 1] = v1;
    t[bit * 4 + 2] = v2;
    t[bit * 4 + 3] = v3;
    const carry = v3 & 1;
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ (-carry & 0xe1000000);
  }
  // Multiplication distributes over XOR: (a ^ b) * H = a * H ^ b * H.
  for (let high = 2; high < size; high <<= 1) {
    for (let low = 1; low < high; low++) {
      for (let k = 0; k < 4; k++) t[(high + low) * 4 + k] = t[high * 4 + k]! ^ t[low * 4 + k]!;
    }
  }
  return t;
}

function _word(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

/**
 * GHASH state: Y as four big-endian words, carried from one segment (A, C, the lengths block) to
 * the next. Per call, never shared.
 */
type _GhashState = Int32Array;

/**
 * Y = (Y ^ X) * H for each whole 16-byte block X of `bytes` before `end` (SP 800-38D 6.4, step 4).
 * Horner's rule inside each block, from the last byte or nibble (the highest powers of x) to the
 * first: multiply what is there by x^8 (x^4), then add that byte's (nibble's) product with H from
 * the table, whichever `t` is (64 words: 4-bit, 1024: 8-bit).
 */
function _ghashBlocks(t: Uint32Array, y: _GhashState, bytes: Uint8Array, end: number): void {
  if (t.length === 64) _ghashBlocks4(t, y, bytes, end);
  else _ghashBlocks8(t, y, bytes, end);
}

/** {@link _ghashBlocks} with the 8-bit table: per block, byte by byte from the last. */
function _ghashBlocks8(t: Uint32Array, y: _GhashState, bytes: Uint8Array, end: number): void {
  let y0 = y[0]!;
  let y1 = y[1]!;
  let y2 = y[2]!;
  let y3 = y[3]!;
  for (let at = 0; at + BLOCK <= end; at += BLOCK) {
    const x0 = y0 ^ _word(bytes, at);
    const x1 = y1 ^ _word(bytes, at + 4);
    const x2 = y2 ^ _word(bytes, at + 8);
    const x3 = y3 ^ _word(bytes, at + 12);
    let i = (x3 & 0xff) << 2;
    let z0 = t[i]!;
    let z1 = t[i + 1]!;
    let z2 = t[i + 2]!;
    let z3 = t[i + 3]!;
    for (let n = 1; n < 16; n++) {
      const word = n < 4 ? x3 : n < 8 ? x2 : n < 12 ? x1 : x0;
      const out = z3 & 0xff;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ ((out ^ (out << 5) ^ (out << 6) ^ (out << 7)) << 17);
      i = ((word >>> ((n & 3) * 8)) & 0xff) << 2;
      z0 ^= t[i]!;
      z1 ^= t[i + 1]!;
      z2 ^= t[i + 2]!;
      z3 ^= t[i + 3]!;
    }
    y0 = z0;
    y1 = z1;
    y2 = z2;
    y3 = z3;
  }
  y[0] = y0;
  y[1] = y1;
  y[2] = y2;
  y[3] = y3;
}

/** {@link _ghashBlocks} with the 4-bit table: per block, nibble by nibble from the last. */
function _ghashBlocks4(t: Uint32Array, y: _GhashState, bytes: Uint8Array, end: number): void {
  let y0 = y[0]!;
  let y1 = y[1]!;
  let y2 = y[2]!;
  let y3 = y[3]!;
  for (let at = 0; at + BLOCK <= end; at += BLOCK) {
    const x0 = y0 ^ _word(bytes, at);
    const x1 = y1 ^ _word(bytes, at + 4);
    const x2 = y2 ^ _word(bytes, at + 8);
    const x3 = y3 ^ _word(bytes, at + 12);
    let i = (x3 & 0xf) << 2;
    let z0 = t[i]!;
    let z1 = t[i + 1]!;
    let z2 = t[i + 2]!;
    let z3 = t[i + 3]!;
    for (let n = 1; n < 32; n++) {
      const word = n < 8 ? x3 : n < 16 ? x2 : n < 24 ? x1 : x0;
      const out = z3 & 0xf;
      z3 = (z3 >>> 4) | (z2 << 28);
      z2 = (z2 >>> 4) | (z1 << 28);
      z1 = (z1 >>> 4) | (z0 << 28);
      z0 = (z0 >>> 4) ^ ((out ^ (out << 5) ^ (out << 6) ^ (out << 7)) << 21);
      i = ((word >>> ((n & 7) * 4)) & 0xf) << 2;
      z0 ^= t[i]!;
      z1 ^= t[i + 1]!;
      z2 ^= t[i + 2]!;
      z3 ^= t[i + 3]!;
    }
    y0 = z0;
    y1 = z1;
    y2 = z2;
    y3 = z3;
  }
  y[0] = y0;
  y[1] = y1;
  y[2] = y2;
  y[3] = y3;
}

/** Absorbs `bytes`, the last partial block zero-padded (SP 800-38D 7.1: A || 0^v, C || 0^u). */
function _ghashPadded(t: Uint32Array, y: _GhashState, bytes: Uint8Array): void {
  const whole = bytes.length - (bytes.length % BLOCK);
  _ghashBlocks(t, y, bytes, whole);
  if (whole < bytes.length) {
    const last = new Uint8Array(BLOCK);
    last.set(bytes.subarray(whole));
    _ghashBlocks(t, y, last, BLOCK);
    last.fill(0);
  }
}

/** Absorbs the lengths block: [len(A)]_64 || [len(C)]_64, in bits. */
function _ghashLengths(t: Uint32Array, y: _GhashState, aadLength: number, textLength: number): void {
  const block = new Uint8Array(BLOCK);
  const view = new DataView(block.buffer);
  // Byte lengths below 2^53 / 8: the bit count is exact as a double; split into 32-bit halves.
  const aadBits = aadLength * 8;
  const textBits = textLength * 8;
  view.setUint32(0, Math.floor(aadBits / 0x100000000), false);
  view.setUint32(4, aadBits >>> 0, false);
  view.setUint32(8, Math.floor(textBits / 0x100000000), false);
  view.setUint32(12, textBits >>> 0, false);
  _ghashBlocks(t, y, block, BLOCK);
}

function _stateBytes(y: _GhashState): Uint8Array {
  const out = new Uint8Array(BLOCK);
  for (let k = 0; k < 4; k++) {
    out[4 * k] = y[k]! >>> 24;
    out[4 * k + 1] = y[k]! >>> 16;
    out[4 * k + 2] = y[k]! >>> 8;
    out[4 * k + 3] = y[k]!;
  }
  return out;
}

/**
 * AES-GCM under one key: the AES key schedule and H made once, the GHASH table on first use.
 * A class, not closures: a record layer makes four of these per handshake.
 */
class _GcmKey implements AeadKey {
  readonly info: AeadInfo;
  readonly #anyNonce: boolean;
  #xk: Uint32Array | undefined;
  /** H = E_K(0^128), the GHASH key (SP 800-38D 7.1 step 1). */
  readonly #h: Uint8Array;
  /** The 4-bit table, then the 8-bit one (see `_GHASH_WIDE_AFTER`); undefined until first used. */
  #table: Uint32Array | undefined;
  /** Bytes hashed under the 4-bit table so far. */
  #hashed = 0;

  constructor(info: AeadInfo, key: Uint8Array, anyNonce: boolean) {
    this.info = info;
    this.#anyNonce = anyNonce;
    this.#xk = aesUnsafe.expandKeyLE(key);
    this.#h = aesUnsafe.encryptBlock(this.#xk, new Uint8Array(BLOCK));
  }

  #schedule(): Uint32Array {
    if (!this.#xk) throw new CryptoParameterError('AEAD key was destroyed');
    return this.#xk;
  }

  /** The table to hash `length` more bytes with: 4-bit at first, 8-bit once this key has hashed enough. */
  #ghash(length: number): Uint32Array {
    this.#schedule(); // a destroyed key has no table either
    const table = this.#table;
    if (table !== undefined && table.length !== 64) return table;
    this.#hashed += length;
    if (this.#hashed < _GHASH_WIDE_AFTER) return (this.#table ??= _ghashTable(this.#h, 4));
    table?.fill(0);
    return (this.#table = _ghashTable(this.#h, 8));
  }

  #checkNonce(nonce: Uint8Array): void {
    const ok = this.#anyNonce ? nonce.length > 0 : nonce.length === 12;
    if (!ok) throw new CryptoParameterError(`${this.info.name}: invalid nonce length ${nonce.length}`);
  }

  /** J0 (SP 800-38D 7.1 step 2): nonce || 0^31 || 1 for 96-bit nonces, else GHASH of the padded nonce and its length. */
  #preCounterBlock(nonce: Uint8Array): Uint8Array {
    if (nonce.length === 12) {
      const j0 = new Uint8Array(BLOCK);
      j0.set(nonce);
      j0[15] = 1;
      return j0;
    }
    const t = this.#ghash(nonce.length);
    const y: _GhashState = new Int32Array(4);
    _ghashPadded(t, y, nonce);
    _ghashLengths(t, y, 0, nonce.length);
    return _stateBytes(y);
  }

  /** The tag: GHASH(A, C) xor E_K(J0) (SP 800-38D 7.1 steps 5-6). */
  #tag(aad: Uint8Array, ciphertext: Uint8Array, tagMask: Uint8Array): Uint8Array {
    const t = this.#ghash(aad.length + ciphertext.length);
    const y: _GhashState = new Int32Array(4);
    _ghashPadded(t, y, aad);
    _ghashPadded(t, y, ciphertext);
    _ghashLengths(t, y, aad.length, ciphertext.length);
    const tag = _stateBytes(y);
    for (let i = 0; i < BLOCK; i++) tag[i]! ^= tagMask[i]!;
    return tag;
  }

  #start(nonce: Uint8Array): { counter: Uint8Array; tagMask: Uint8Array } {
    const counter = this.#preCounterBlock(nonce);
    const tagMask = aesUnsafe.ctr32(this.#schedule(), false, counter, new Uint8Array(BLOCK));
    return { counter, tagMask };
  }

  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, output?: Uint8Array): Uint8Array {
    this.#checkNonce(nonce);
    // GCTR from inc32(J0): ctr32 advanced `counter` past J0 while producing E_K(J0).
    const { counter, tagMask } = this.#start(nonce);
    const out = _alignedOutput(output, plaintext.length + BLOCK);
    const body = out.subarray(0, plaintext.length);
    aesUnsafe.ctr32(this.#schedule(), false, counter, aligned(plaintext), body);
    out.set(this.#tag(aad, body, tagMask), plaintext.length);
    return out;
  }

  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
    this.#checkNonce(nonce);
    if (sealed.length < BLOCK) throw new AeadTagError();
    const { counter, tagMask } = this.#start(nonce);
    const ciphertext = sealed.subarray(0, sealed.length - BLOCK);
    const expected = this.#tag(aad, ciphertext, tagMask);
    if (!equalBytes(expected, sealed.subarray(sealed.length - BLOCK))) throw new AeadTagError();
    // An unaligned ciphertext is copied once, then decrypted in that copy.
    const src = aligned(ciphertext);
    return aesUnsafe.ctr32(this.#schedule(), false, counter, src, src === ciphertext ? undefined : src);
  }

  destroy(): void {
    // The schedule, H and the table all derive from the key: wipe them with it.
    this.#xk?.fill(0);
    this.#h.fill(0);
    this.#table?.fill(0);
    this.#xk = undefined;
    this.#table = undefined;
  }
}

function gcmKey(info: AeadInfo, key: Uint8Array, policy: { nonceLengths: number[] | 'any' }): AeadKey {
  return new _GcmKey(info, key, policy.nonceLengths === 'any');
}

/**
 * CCM's length field is L = 15 - 12 = 3 bytes (RFC 5116 5.3), so a message is below 2^24 bytes;
 * the associated data is bounded too, to the 2- and 6-byte encodings of RFC 3610 2.2.
 */
const CCM_MAX_PAYLOAD = 2 ** 24 - 1;
const CCM_MAX_AAD = 2 ** 32 - 1;

/**
 * AES-CCM (RFC 3610, NIST SP 800-38C) with a 12-byte nonce (L = 3) and an M-byte tag: CBC-MAC over
 * B_0 || encoded AAD || payload, then CTR from A_1 for the payload and A_0 for the tag. Opening
 * decrypts first (the MAC is over the plaintext) and wipes that plaintext if the tag differs.
 */
function ccmKey(info: AeadInfo, key: Uint8Array): AeadKey {
  let xk: Uint32Array | undefined = aesUnsafe.expandKeyLE(key);
  const tagLength = info.tagLength;
  const schedule = () => {
    if (!xk) throw new CryptoParameterError('AEAD key was destroyed');
    return xk;
  };
  const check = (nonce: Uint8Array, payloadLength: number, aad: Uint8Array) => {
    if (nonce.length !== 12) throw new CryptoParameterError(`${info.name}: invalid nonce length ${nonce.length}`);
    if (payloadLength > CCM_MAX_PAYLOAD) throw new CryptoParameterError(`${info.name}: a message is at most 2^24 - 1 bytes`);
    if (aad.length > CCM_MAX_AAD) throw new CryptoParameterError(`${info.name}: associated data is at most 2^32 - 1 bytes`);
  };
  /** A_i (RFC 3610 2.3): flags = L - 1 = 2, the nonce, then the 3-byte counter i. */
  const counterBlock = (nonce: Uint8Array, i: number) => {
    const a = new Uint8Array(BLOCK);
    a[0] = 2;
    a.set(nonce, 1);
    a[15] = i;
    return a;
  };
  /** The CBC-MAC T (RFC 3610 2.2), first M bytes of X_n. */
  const cbcMac = (nonce: Uint8Array, aad: Uint8Array, payload: Uint8Array): Uint8Array => {
    const b0 = new Uint8Array(BLOCK);
    // Flags: Adata (bit 6), M' = (M - 2) / 2 (bits 3-5), L' = L - 1 = 2 (bits 0-2).
    b0[0] = (aad.length > 0 ? 0x40 : 0) | (((tagLength - 2) / 2) << 3) | 2;
    b0.set(nonce, 1);
    b0[13] = payload.length >>> 16;
    b0[14] = (payload.length >>> 8) & 0xff;
    b0[15] = payload.length & 0xff;
    const x = new DataView(new ArrayBuffer(BLOCK));
    const s = [0, 0, 0, 0];
    const k = schedule();
    /** X_{i+1} = E(K, X_i XOR B_{i+1}), over `bytes` zero-padded to whole blocks. */
    const absorb = (bytes: Uint8Array) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const whole = bytes.length - (bytes.length % BLOCK);
      for (let at = 0; at < bytes.length; at += BLOCK) {
        if (at < whole) {
          for (let w = 0; w < 4; w++) s[w]! ^= view.getUint32(at + 4 * w, true);
        } else {
          const last = new Uint8Array(BLOCK);
          last.set(bytes.subarray(at));
          const lastView = new DataView(last.buffer);
          for (let w = 0; w < 4; w++) s[w]! ^= lastView.getUint32(4 * w, true);
          last.fill(0);
        }
        const e = aesUnsafe.encrypt(k, s[0]!, s[1]!, s[2]!, s[3]!);
        s[0] = e.s0;
        s[1] = e.s1;
        s[2] = e.s2;
        s[3] = e.s3;
      }
    };
    absorb(b0);
    if (aad.length > 0) {
      // RFC 3610 2.2: l(a) as 2 bytes below 2^16 - 2^8, else 0xfffe || 4 bytes; then a, zero-padded.
      const short = aad.length < 0xff00;
      const encoded = new Uint8Array((short ? 2 : 6) + aad.length);
      const view = new DataView(encoded.buffer);
      if (short) view.setUint16(0, aad.length, false);
      else {
        view.setUint16(0, 0xfffe, false);
        view.setUint32(2, aad.length, false);
      }
      encoded.set(aad, short ? 2 : 6);
      absorb(encoded);
    }
    absorb(payload);
    for (let w = 0; w < 4; w++) x.setUint32(4 * w, s[w]!, true);
    s.fill(0);
    const mac = new Uint8Array(x.buffer);
    const t = mac.slice(0, tagLength);
    mac.fill(0);
    return t;
  };
  /** U = T XOR first M bytes of S_0 = E(K, A_0). */
  const maskTag = (nonce: Uint8Array, t: Uint8Array) => {
    const s0 = aesUnsafe.encryptBlock(schedule(), counterBlock(nonce, 0));
    for (let i = 0; i < tagLength; i++) t[i]! ^= s0[i]!;
    s0.fill(0);
    return t;
  };
  /**
   * CTR from A_1. noble's ctr32 increments the last four bytes; the counter is the last three,
   * and a payload below 2^24 bytes needs at most 2^20 blocks, so no carry reaches the nonce.
   */
  const ctr = (nonce: Uint8Array, src: Uint8Array, dst?: Uint8Array) => aesUnsafe.ctr32(schedule(), false, counterBlock(nonce, 1), src, dst);

  return {
    info,
    seal(nonce, plaintext, aad, output) {
      check(nonce, plaintext.length, aad);
      // The MAC is over the plaintext: computed before an in-place `output` overwrites it.
      const tag = maskTag(nonce, cbcMac(nonce, aad, plaintext));
      const out = _alignedOutput(output, plaintext.length + tagLength);
      // out is aligned; the body is encrypted straight into it.
      ctr(nonce, aligned(plaintext), out.subarray(0, plaintext.length));
      out.set(tag, plaintext.length);
      tag.fill(0);
      return out;
    },
    open(nonce, sealed, aad) {
      if (sealed.length < tagLength) throw new AeadTagError();
      check(nonce, sealed.length - tagLength, aad);
      const ciphertext = sealed.subarray(0, sealed.length - tagLength);
      const src = aligned(ciphertext);
      const plaintext = ctr(nonce, src, src === ciphertext ? undefined : src);
      const expected = maskTag(nonce, cbcMac(nonce, aad, plaintext));
      const ok = equalBytes(expected, sealed.subarray(sealed.length - tagLength));
      expected.fill(0);
      if (!ok) {
        plaintext.fill(0); // decrypted only to check the MAC: never released unauthenticated
        throw new AeadTagError();
      }
      return plaintext;
    },
    destroy() {
      xk?.fill(0);
      xk = undefined;
    },
  };
}

function chachaKey(info: AeadInfo, key: Uint8Array): AeadKey {
  // A copy even when `key` is a Buffer (whose slice() is a view): destroy() wipes only ours.
  let k: Uint8Array | undefined = new Uint8Array(key);
  const bound = () => {
    if (!k) throw new CryptoParameterError('AEAD key was destroyed');
    return k;
  };
  const checkNonce = (nonce: Uint8Array) => {
    if (nonce.length !== 12) throw new CryptoParameterError(`${info.name}: invalid nonce length ${nonce.length}`);
  };
  return {
    info,
    seal(nonce, plaintext, aad, output) {
      checkNonce(nonce);
      const out = output?.length === plaintext.length + info.tagLength ? output : undefined;
      return chacha20poly1305(bound(), nonce, aad).encrypt(plaintext, out);
    },
    open(nonce, sealed, aad) {
      checkNonce(nonce);
      if (sealed.length < info.tagLength) throw new AeadTagError();
      try {
        return chacha20poly1305(bound(), nonce, aad).decrypt(sealed);
      } catch {
        throw new AeadTagError();
      }
    },
    destroy() {
      k?.fill(0);
      k = undefined;
    },
  };
}

/** noble's CTR reads 32-bit words, so input must start on a 4-byte boundary. */
/** `output` if it has `length` bytes and starts on a 4-byte boundary (AES's word-wise CTR writes through a Uint32Array view), else a fresh array. */
function _alignedOutput(output: Uint8Array | undefined, length: number): Uint8Array {
  return output !== undefined && output.length === length && output.byteOffset % 4 === 0 ? output : new Uint8Array(length);
}

function aligned(bytes: Uint8Array): Uint8Array {
  // Uint8Array's slice, a copy: a Buffer's own slice() would return an equally unaligned view.
  return bytes.byteOffset % 4 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
}
