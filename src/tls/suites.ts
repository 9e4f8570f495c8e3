/**
 * The TLS 1.3 cipher suites (RFC 8446 B.4): an AEAD for the record layer and a hash for HKDF
 * and the transcript. Nothing else is negotiated by a TLS 1.3 cipher suite.
 * @module
 */
import { AEADS, type AeadName } from '../crypto/aead.js';
import { HASH_LENGTHS, type HashName } from '../crypto/hash.js';

/** IANA names of the cipher suites sandtls implements. */
export type CipherSuiteName =
  | 'TLS_AES_128_GCM_SHA256'
  | 'TLS_AES_256_GCM_SHA384'
  | 'TLS_CHACHA20_POLY1305_SHA256'
  | 'TLS_AES_128_CCM_SHA256'
  | 'TLS_AES_128_CCM_8_SHA256';

/** One TLS 1.3 cipher suite. */
export interface CipherSuite {
  readonly name: CipherSuiteName;
  /** The CipherSuite code point on the wire (RFC 8446 B.4). */
  readonly code: number;
  readonly aead: AeadName;
  readonly hash: HashName;
  /** Traffic key length in bytes (RFC 8446 7.3: the AEAD's key length). */
  readonly keyLength: number;
  /** Traffic IV length in bytes: max(8, N_MIN) = 12 for all five (RFC 8446 5.3). */
  readonly ivLength: number;
  /** Hash.length: the size of every secret in the key schedule. */
  readonly hashLength: number;
}

function suite(name: CipherSuiteName, code: number, aead: AeadName, hashName: HashName): CipherSuite {
  const info = AEADS[aead];
  return Object.freeze({
    name,
    code,
    aead,
    hash: hashName,
    keyLength: info.keyLength,
    ivLength: Math.max(8, info.nonceLength),
    hashLength: HASH_LENGTHS[hashName],
  });
}

/**
 * The five suites of RFC 8446 B.4. The two CCM suites are implemented but off by default (see
 * `DEFAULT_CIPHER_SUITES`): TLS_AES_128_CCM_8_SHA256 has a 64-bit tag and IANA marks it not
 * recommended.
 * @example
 * CIPHER_SUITES.TLS_AES_128_GCM_SHA256.code; // 0x1301
 */
export const CIPHER_SUITES: Readonly<Record<CipherSuiteName, CipherSuite>> = Object.freeze({
  TLS_AES_128_GCM_SHA256: suite('TLS_AES_128_GCM_SHA256', 0x1301, 'AES-128-GCM', 'SHA-256'),
  TLS_AES_256_GCM_SHA384: suite('TLS_AES_256_GCM_SHA384', 0x1302, 'AES-256-GCM', 'SHA-384'),
  TLS_CHACHA20_POLY1305_SHA256: suite('TLS_CHACHA20_POLY1305_SHA256', 0x1303, 'CHACHA20-POLY1305', 'SHA-256'),
  TLS_AES_128_CCM_SHA256: suite('TLS_AES_128_CCM_SHA256', 0x1304, 'AES-128-CCM', 'SHA-256'),
  TLS_AES_128_CCM_8_SHA256: suite('TLS_AES_128_CCM_8_SHA256', 0x1305, 'AES-128-CCM-8', 'SHA-256'),
});

/** Every suite sandtls implements, by code point (not the default list: see `DEFAULT_CIPHER_SUITES`). */
export const CIPHER_SUITE_NAMES: readonly CipherSuiteName[] = Object.freeze([
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_CCM_SHA256',
  'TLS_AES_128_CCM_8_SHA256',
]);

/**
 * The suite with a given wire code point, or `undefined` for a code sandtls does not implement
 * (an unknown code is not an error until one must be used).
 * @example
 * cipherSuiteByCode(0x1303)?.name; // 'TLS_CHACHA20_POLY1305_SHA256'
 * cipherSuiteByCode(0xc02f);       // undefined (a TLS 1.2 suite)
 */
export function cipherSuiteByCode(code: number): CipherSuite | undefined {
  for (const name of CIPHER_SUITE_NAMES) {
    const s = CIPHER_SUITES[name];
    if (s.code === code) return s;
  }
  return undefined;
}
