/**
 * Password-based encryption, as encrypted private keys and PKCS #12 files use it: PBKDF2 (RFC
 * 8018 5.2) over HMAC with SHA-1 or SHA-2, the PKCS #12 key derivation of RFC 7292 Appendix B.2
 * (for a PFX's integrity MAC), and AES-CBC decryption (NIST SP 800-38A 6.2) with the padding of
 * RFC 8018 6.1.1 / RFC 5652 6.3.
 *
 * Only decryption exists: sandtls reads keys people made with openssl or node, it never writes
 * encrypted ones. The iteration count is bounded ({@link MAX_PBE_ITERATIONS}), so a hostile file
 * cannot make a server spend minutes deriving a key. No randomness is used.
 * @module
 */
import { cbc } from '@noble/ciphers/aes.js';
import { hmac as nobleHmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2 as noblePbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';
import { CryptoParameterError } from './errors.js';

/** The PRFs of PBES2 (RFC 8018 B.1) and the MAC digests of PKCS #12 that openssl and node produce. */
export type PbeHashName = 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/**
 * The most PBKDF2 or PKCS #12 KDF iterations sandtls runs: one million. OpenSSL's default is
 * 2048 (Java's keytool 10,000), OWASP's 2023 advice for PBKDF2-HMAC-SHA256 600,000. In pure
 * JavaScript one iteration costs about 2 us with SHA-256 and 15 us with SHA-512 (measured on
 * Node 20), so a million is 2 to 15 seconds of CPU: the worst a hostile key file can cost.
 */
export const MAX_PBE_ITERATIONS = 1_000_000;

const _HASHES: Readonly<Record<PbeHashName, CHash>> = Object.freeze({
  'SHA-1': sha1,
  'SHA-224': sha224,
  'SHA-256': sha256,
  'SHA-384': sha384,
  'SHA-512': sha512,
});

function _hash(name: PbeHashName): CHash {
  const h = Object.hasOwn(_HASHES, name) ? _HASHES[name] : undefined;
  if (!h) throw new CryptoParameterError(`unsupported password-based encryption hash ${String(name)}`);
  return h;
}

function _checkIterations(iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_PBE_ITERATIONS) {
    throw new CryptoParameterError(`iteration count must be 1..${MAX_PBE_ITERATIONS}, got ${iterations}`);
  }
}

/**
 * PBKDF2 (RFC 8018 5.2) with HMAC over `hashName`.
 * @example
 * const key = pbkdf2('SHA-256', passwordBytes, salt, 2048, 32);
 */
export function pbkdf2(hashName: PbeHashName, password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array {
  _checkIterations(iterations);
  if (!Number.isSafeInteger(length) || length < 1 || length > 1024) throw new CryptoParameterError(`PBKDF2 output length ${length} is outside 1..1024`);
  return noblePbkdf2(_hash(hashName), password, salt, { c: iterations, dkLen: length });
}

/**
 * HMAC (RFC 2104) over any PBE hash, for a PKCS #12 MacData check.
 * @example
 * const mac = pbeHmac('SHA-256', macKey, authSafeContent);
 */
export function pbeHmac(hashName: PbeHashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return nobleHmac(_hash(hashName), key, data);
}

/**
 * The PKCS #12 key derivation (RFC 7292 B.2): `id` 1 for encryption keys, 2 for IVs, 3 for MAC
 * keys. `password` is already encoded as RFC 7292 B.1 says: a BMPString with two zero bytes at
 * the end (empty for no password).
 * @example
 * const macKey = pkcs12Kdf('SHA-256', bmpPassword, salt, 3, 2048, 32);
 */
export function pkcs12Kdf(hashName: PbeHashName, password: Uint8Array, salt: Uint8Array, id: 1 | 2 | 3, iterations: number, length: number): Uint8Array {
  _checkIterations(iterations);
  const h = _hash(hashName);
  const u = h.outputLen;
  const v = h.blockLen;
  const fill = (source: Uint8Array): Uint8Array => {
    const out = new Uint8Array(source.length === 0 ? 0 : v * Math.ceil(source.length / v));
    for (let i = 0; i < out.length; i++) out[i] = source[i % source.length]!;
    return out;
  };
  const d = new Uint8Array(v).fill(id);
  const i = new Uint8Array([...fill(salt), ...fill(password)]);
  const out = new Uint8Array(length);
  for (let at = 0; at < length; at += u) {
    let a = h.create().update(d).update(i).digest();
    for (let r = 1; r < iterations; r++) a = h(a);
    out.set(a.subarray(0, Math.min(u, length - at)), at);
    if (at + u >= length) break;
    // I_j = (I_j + B + 1) mod 2^(8v), B being A repeated to v bytes (RFC 7292 B.2 step 6 C).
    const b = fill(a);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry;
        i[j + k] = sum & 0xff;
        carry = sum >>> 8;
      }
    }
  }
  i.fill(0);
  return out;
}

/**
 * AES-CBC decryption with the padding check of RFC 8018 6.1.1 step 5: undefined when the last
 * block does not end in 1..16 bytes of the value of its count (so usually when the key, hence the
 * password, was wrong). The key is 16, 24 or 32 bytes; the IV 16.
 * @example
 * const plaintext = aesCbcDecrypt(key, iv, ciphertext) ?? failWrongPassword();
 */
export function aesCbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) throw new CryptoParameterError(`an AES key is 16, 24 or 32 bytes, not ${key.length}`);
  if (iv.length !== 16) throw new CryptoParameterError(`an AES-CBC IV is 16 bytes, not ${iv.length}`);
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) return undefined;
  const padded = cbc(key, iv, { disablePadding: true }).decrypt(ciphertext);
  const pad = padded[padded.length - 1]!;
  let bad = pad === 0 || pad > 16 ? 1 : 0;
  for (let k = 1; k <= 16; k++) {
    // Every byte of the padding must equal its length; checked without an early exit.
    if (k <= pad) bad |= padded[padded.length - k]! ^ pad;
  }
  if (bad !== 0) {
    padded.fill(0);
    return undefined;
  }
  const out = padded.slice(0, padded.length - pad);
  padded.fill(0);
  return out;
}
