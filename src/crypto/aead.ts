/**
 * AEADs (RFC 5116): AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
 *
 * A key is bound once (`aeadKey(name, key)`) and then seals or opens any number of records; for
 * AES-GCM the AES key schedule and the GHASH key H are derived once per key instead of once per
 * record. Output is ciphertext || 16-byte tag. A failed open is an `AeadTagError`.
 * @module
 */
import { unsafe as aesUnsafe } from '@noble/ciphers/aes.js';
import { ghash } from '@noble/ciphers/_polyval.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { AeadTagError, CryptoParameterError } from './errors.js';

/** The AEAD algorithms of the TLS 1.3 cipher suites (RFC 8446 B.4). */
export type AeadName = 'AES-128-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305';

/** Every AEAD here has a 16-byte tag. */
export const AEAD_TAG_LENGTH = 16;

export interface AeadInfo {
  readonly name: AeadName;
  readonly keyLength: number;
  /** RFC 5116 N_MIN = N_MAX = 12 for all three; TLS 1.3 derives 12-byte IVs (RFC 8446 5.3). */
  readonly nonceLength: number;
  readonly tagLength: number;
}

export const AEADS: Readonly<Record<AeadName, AeadInfo>> = Object.freeze({
  'AES-128-GCM': { name: 'AES-128-GCM', keyLength: 16, nonceLength: 12, tagLength: 16 },
  'AES-256-GCM': { name: 'AES-256-GCM', keyLength: 32, nonceLength: 12, tagLength: 16 },
  'CHACHA20-POLY1305': { name: 'CHACHA20-POLY1305', keyLength: 32, nonceLength: 12, tagLength: 16 },
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
  return name === 'CHACHA20-POLY1305' ? chachaKey(info, key) : gcmKey(info, key, { nonceLengths: [12] });
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
