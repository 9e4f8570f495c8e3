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
import { ghash } from '@noble/ciphers/_polyval.js';
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
  /** Returns ciphertext || tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
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

function gcmKey(info: AeadInfo, key: Uint8Array, policy: { nonceLengths: number[] | 'any' }): AeadKey {
  let xk: Uint32Array | undefined = aesUnsafe.expandKeyLE(key);
  // H = E_K(0^128), the GHASH key (SP 800-38D 7.1 step 1).
  const h = aesUnsafe.encryptBlock(xk, new Uint8Array(BLOCK));

  const schedule = () => {
    if (!xk) throw new CryptoParameterError('AEAD key was destroyed');
    return xk;
  };
  const checkNonce = (nonce: Uint8Array) => {
    const ok = policy.nonceLengths === 'any' ? nonce.length > 0 : policy.nonceLengths.includes(nonce.length);
    if (!ok) throw new CryptoParameterError(`${info.name}: invalid nonce length ${nonce.length}`);
  };
  /** J0 (SP 800-38D 7.1 step 2): IV || 0^31 || 1 for 96-bit IVs, else GHASH(IV || pad || [len(IV)]64). */
  const preCounterBlock = (nonce: Uint8Array): Uint8Array => {
    const j0 = new Uint8Array(BLOCK);
    if (nonce.length === 12) {
      j0.set(nonce);
      j0[15] = 1;
      return j0;
    }
    const lengthBlock = new Uint8Array(BLOCK);
    new DataView(lengthBlock.buffer).setBigUint64(8, BigInt(nonce.length) * 8n, false);
    return ghash.create(h).update(nonce).update(lengthBlock).digest();
  };
  /** The tag: GHASH over A and C (each zero-padded by update) and [len(A)]64 || [len(C)]64, masked by E_K(J0). */
  const tagFor = (aad: Uint8Array, ciphertext: Uint8Array, tagMask: Uint8Array): Uint8Array => {
    const lengths = new Uint8Array(BLOCK);
    const view = new DataView(lengths.buffer);
    view.setBigUint64(0, BigInt(aad.length) * 8n, false);
    view.setBigUint64(8, BigInt(ciphertext.length) * 8n, false);
    const tag = ghash.create(h, aad.length + ciphertext.length).update(aad).update(ciphertext).update(lengths).digest();
    for (let i = 0; i < BLOCK; i++) tag[i]! ^= tagMask[i]!;
    return tag;
  };
  /** GCTR from inc32(J0): ctr32 advances `counter` past J0 while producing E_K(J0). */
  const start = (nonce: Uint8Array) => {
    const counter = preCounterBlock(nonce);
    const tagMask = aesUnsafe.ctr32(schedule(), false, counter, new Uint8Array(BLOCK));
    return { counter, tagMask };
  };

  return {
    info,
    seal(nonce, plaintext, aad) {
      checkNonce(nonce);
      const { counter, tagMask } = start(nonce);
      const out = new Uint8Array(plaintext.length + BLOCK);
      const body = out.subarray(0, plaintext.length);
      aesUnsafe.ctr32(schedule(), false, counter, aligned(plaintext), body);
      out.set(tagFor(aad, body, tagMask), plaintext.length);
      return out;
    },
    open(nonce, sealed, aad) {
      checkNonce(nonce);
      if (sealed.length < BLOCK) throw new AeadTagError();
      const { counter, tagMask } = start(nonce);
      const ciphertext = sealed.subarray(0, sealed.length - BLOCK);
      const expected = tagFor(aad, ciphertext, tagMask);
      if (!equalBytes(expected, sealed.subarray(sealed.length - BLOCK))) throw new AeadTagError();
      // An unaligned ciphertext is copied once, then decrypted in that copy.
      const src = aligned(ciphertext);
      return aesUnsafe.ctr32(schedule(), false, counter, src, src === ciphertext ? undefined : src);
    },
    destroy() {
      xk?.fill(0);
      h.fill(0);
      xk = undefined;
    },
  };
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
    seal(nonce, plaintext, aad) {
      check(nonce, plaintext.length, aad);
      const out = new Uint8Array(plaintext.length + tagLength);
      const tag = maskTag(nonce, cbcMac(nonce, aad, plaintext));
      // out is fresh (aligned); the body is encrypted straight into it.
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
  let k: Uint8Array | undefined = key.slice();
  const bound = () => {
    if (!k) throw new CryptoParameterError('AEAD key was destroyed');
    return k;
  };
  const checkNonce = (nonce: Uint8Array) => {
    if (nonce.length !== 12) throw new CryptoParameterError(`${info.name}: invalid nonce length ${nonce.length}`);
  };
  return {
    info,
    seal(nonce, plaintext, aad) {
      checkNonce(nonce);
      return chacha20poly1305(bound(), nonce, aad).encrypt(plaintext);
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
function aligned(bytes: Uint8Array): Uint8Array {
  // Uint8Array's slice, a copy: a Buffer's own slice() would return an equally unaligned view.
  return bytes.byteOffset % 4 === 0 ? bytes : Uint8Array.prototype.slice.call(bytes);
}
