/**
 * Password-encrypted private keys: PKCS #8 EncryptedPrivateKeyInfo (RFC 5958 3, the
 * `ENCRYPTED PRIVATE KEY` PEM label of RFC 7468 11) with PBES2 (RFC 8018 6.2): PBKDF2 with
 * HMAC-SHA-1/224/256/384/512 and AES-128/192/256-CBC. That is what `openssl genpkey -aes-256-cbc`,
 * `openssl pkcs8 -topk8 -v2 ...`, node's `generateKeyPair({ cipher })` and OpenSSL 3's PKCS #12
 * files produce.
 *
 * Refused with a clear message: PKCS #5 v1.5 and PKCS #12 v1 schemes (DES, RC2, RC4, 3DES: broken
 * or obsolete), DES-EDE3-CBC and scrypt under PBES2, and iteration counts above
 * {@link MAX_PBE_ITERATIONS}. A wrong passphrase shows as bad padding or as plaintext that is not
 * a private key: both are `ERR_OSSL_BAD_DECRYPT`. Messages never contain the passphrase or key
 * bytes.
 * @module
 */
import { utf8Bytes } from '../crypto/bytes.js';
import { aesCbcDecrypt, MAX_PBE_ITERATIONS, pbkdf2, type PbeHashName } from '../crypto/pbe.js';
import { DerError, DerReader, Tag, type DerElement } from './der.js';
import { PrivateKeyError } from './key-error.js';
import { readAlgorithmIdentifier } from './spki.js';

export { MAX_PBE_ITERATIONS };

/** A passphrase: text (encoded as UTF-8, as openssl and node encode it) or the bytes themselves. */
export type Passphrase = string | Uint8Array;

/** RFC 8018 A.2, A.4, B.1.1-B.1.2 and B.2.5; NIST's AES-CBC OIDs. */
const _OID = Object.freeze({
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  scrypt: '1.3.6.1.4.1.11591.4.11',
  desEde3Cbc: '1.2.840.113549.3.7',
});

const _PRFS: Readonly<Record<string, PbeHashName>> = Object.freeze({
  '1.2.840.113549.2.7': 'SHA-1',
  '1.2.840.113549.2.8': 'SHA-224',
  '1.2.840.113549.2.9': 'SHA-256',
  '1.2.840.113549.2.10': 'SHA-384',
  '1.2.840.113549.2.11': 'SHA-512',
});

/** AES-CBC-Pad (RFC 8018 B.2.5 refers to NIST's aes*-CBC with a 16-byte IV parameter): key lengths. */
const _AES_CBC: Readonly<Record<string, number>> = Object.freeze({
  '2.16.840.1.101.3.4.1.2': 16,
  '2.16.840.1.101.3.4.1.22': 24,
  '2.16.840.1.101.3.4.1.42': 32,
});

/** Obsolete password-based schemes people still meet, by OID, for the refusal message. */
const _LEGACY: Readonly<Record<string, string>> = Object.freeze({
  '1.2.840.113549.1.5.1': 'PKCS #5 v1.5 pbeWithMD2AndDES-CBC',
  '1.2.840.113549.1.5.3': 'PKCS #5 v1.5 pbeWithMD5AndDES-CBC',
  '1.2.840.113549.1.5.4': 'PKCS #5 v1.5 pbeWithMD2AndRC2-CBC',
  '1.2.840.113549.1.5.6': 'PKCS #5 v1.5 pbeWithMD5AndRC2-CBC',
  '1.2.840.113549.1.5.10': 'PKCS #5 v1.5 pbeWithSHA1AndDES-CBC',
  '1.2.840.113549.1.5.11': 'PKCS #5 v1.5 pbeWithSHA1AndRC2-CBC',
  '1.2.840.113549.1.12.1.1': 'PKCS #12 pbeWithSHAAnd128BitRC4',
  '1.2.840.113549.1.12.1.2': 'PKCS #12 pbeWithSHAAnd40BitRC4',
  '1.2.840.113549.1.12.1.3': 'PKCS #12 pbeWithSHAAnd3-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.4': 'PKCS #12 pbeWithSHAAnd2-KeyTripleDES-CBC',
  '1.2.840.113549.1.12.1.5': 'PKCS #12 pbeWithSHAAnd128BitRC2-CBC',
  '1.2.840.113549.1.12.1.6': 'PKCS #12 pbeWithSHAAnd40BitRC2-CBC',
});

/** How to re-encrypt a key so that sandtls can read it (shown in refusals). */
const _REENCRYPT = 'use PBES2 with AES, e.g. `openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256`';


/** The passphrase as bytes (a copy, so the caller may wipe it). */
export function passphraseBytes(passphrase: Passphrase): Uint8Array {
  if (typeof passphrase === 'string') return utf8Bytes(passphrase);
  if (passphrase instanceof Uint8Array) return passphrase.slice();
  throw new PrivateKeyError('passphrase must be a string or bytes');
}

function _oidText(oid: string): string {
  return oid.length <= 64 ? oid : `${oid.slice(0, 64)}...`;
}

function _unsupported(message: string): PrivateKeyError {
  return new PrivateKeyError(message, { code: 'ERR_OSSL_UNSUPPORTED' });
}

/** The parameters of PBES2 (RFC 8018 A.4) and PBKDF2 (A.2), read and checked. */
interface _Pbes2 {
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly prf: PbeHashName;
  readonly keyLength: number;
  readonly iv: Uint8Array;
}

/**
 * ```
 * PBES2-params ::= SEQUENCE {
 *   keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
 *   encryptionScheme  AlgorithmIdentifier {{PBES2-Encs}} }
 * PBKDF2-params ::= SEQUENCE {
 *   salt CHOICE { specified OCTET STRING, otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}} },
 *   iterationCount INTEGER (1..MAX),
 *   keyLength INTEGER (1..MAX) OPTIONAL,
 *   prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
 * ```
 */
function _pbes2Params(parameters: DerElement | undefined): _Pbes2 {
  if (parameters === undefined || parameters.tag !== Tag.SEQUENCE) throw new DerError('PBES2 parameters must be a SEQUENCE', parameters?.offset ?? 0);
  const params = new DerReader(parameters.raw).readSequence();
  const kdf = readAlgorithmIdentifier(params);
  const enc = readAlgorithmIdentifier(params);
  params.end();
  if (kdf.algorithm === _OID.scrypt) throw _unsupported(`scrypt-encrypted keys are not supported; ${_REENCRYPT}`);
  if (kdf.algorithm !== _OID.pbkdf2) throw _unsupported(`unsupported PBES2 key derivation ${_oidText(kdf.algorithm)}; ${_REENCRYPT}`);
  const keyLength = _AES_CBC[enc.algorithm];
  if (keyLength === undefined) {
    const what = enc.algorithm === _OID.desEde3Cbc ? 'DES-EDE3-CBC' : _oidText(enc.algorithm);
    throw _unsupported(`unsupported PBES2 cipher ${what}; ${_REENCRYPT}`);
  }
  if (enc.parameters === undefined || enc.parameters.tag !== Tag.OCTET_STRING || enc.parameters.contents.length !== 16) {
    throw new DerError('the AES-CBC parameter must be a 16-byte IV OCTET STRING (RFC 8018 B.2.5)', enc.parameters?.offset ?? 0);
  }
  if (kdf.parameters === undefined || kdf.parameters.tag !== Tag.SEQUENCE) throw new DerError('PBKDF2 parameters must be a SEQUENCE', 0);
  const p = new DerReader(kdf.parameters.raw).readSequence();
  if (p.peekTag() !== Tag.OCTET_STRING) throw _unsupported('PBKDF2 with a salt from otherSource is not supported (RFC 8018 A.2)');
  const salt = p.readOctetString();
  const count = p.readPositiveInteger();
  // Checked before any work: a hostile file must not make us spin (RFC 8018 4.2 leaves the bound to us).
  if (count > BigInt(MAX_PBE_ITERATIONS)) {
    throw _unsupported(`the key asks for ${count} PBKDF2 iterations, more than sandtls runs (${MAX_PBE_ITERATIONS}); re-encrypt it with fewer`);
  }
  let stated: bigint | undefined;
  if (p.peekTag() === Tag.INTEGER) stated = p.readPositiveInteger();
  let prf: PbeHashName = 'SHA-1';
  if (p.hasMore()) {
    const alg = readAlgorithmIdentifier(p);
    const name = _PRFS[alg.algorithm];
    if (name === undefined) throw _unsupported(`unsupported PBKDF2 PRF ${_oidText(alg.algorithm)}; ${_REENCRYPT}`);
    if (alg.parameters !== undefined && alg.parameters.tag !== Tag.NULL) throw new DerError('PBKDF2 PRF parameters must be NULL or absent', alg.parameters.offset);
    prf = name;
  }
  p.end();
  if (stated !== undefined && stated !== BigInt(keyLength)) {
    throw new DerError(`PBKDF2 keyLength ${stated} does not match the cipher's ${keyLength}-byte key`, 0);
  }
  return { salt, iterations: Number(count), prf, keyLength, iv: enc.parameters.contents };
}

/**
 * Decrypts data protected by the password-based scheme `algorithm` (an AlgorithmIdentifier: PBES2
 * with PBKDF2 and AES-CBC). Returns the plaintext (the caller wipes it), throws PrivateKeyError:
 * `ERR_OSSL_BAD_DECRYPT` when the padding is wrong (a wrong password, almost always),
 * `ERR_OSSL_UNSUPPORTED` for other schemes and excessive iteration counts.
 * @example
 * const plaintext = pbes2Decrypt({ algorithm, parameters }, encryptedData, passphraseBytes('pw'));
 */
export function pbes2Decrypt(algorithm: { readonly algorithm: string; readonly parameters?: DerElement }, encrypted: Uint8Array, password: Uint8Array): Uint8Array {
  if (algorithm.algorithm !== _OID.pbes2) {
    const legacy = _LEGACY[algorithm.algorithm];
    throw _unsupported(
      legacy !== undefined
        ? `${legacy} encryption is obsolete and not supported; ${_REENCRYPT}`
        : `unsupported password-based encryption ${_oidText(algorithm.algorithm)}; ${_REENCRYPT}`,
    );
  }
  let params: _Pbes2;
  try {
    params = _pbes2Params(algorithm.parameters);
  } catch (error) {
    if (error instanceof DerError) throw _unsupported(`malformed PBES2 parameters: ${error.message}`);
    throw error;
  }
  const key = pbkdf2(params.prf, password, params.salt, params.iterations, params.keyLength);
  try {
    const plaintext = aesCbcDecrypt(key, params.iv, encrypted);
    if (plaintext === undefined) throw new PrivateKeyError('bad decrypt: wrong passphrase (or damaged data)', { code: 'ERR_OSSL_BAD_DECRYPT' });
    return plaintext;
  } finally {
    // The derived key opens the private key: do not leave it for the collector.
    key.fill(0);
  }
}

/**
 * Decrypts a PKCS #8 EncryptedPrivateKeyInfo (RFC 5958 3) to the PrivateKeyInfo DER inside:
 * ```
 * EncryptedPrivateKeyInfo ::= SEQUENCE {
 *   encryptionAlgorithm  EncryptionAlgorithmIdentifier,
 *   encryptedData        EncryptedData }   -- OCTET STRING
 * ```
 * Without a passphrase it throws `ERR_OSSL_BAD_DECRYPT` saying one is needed.
 * @example
 * const pkcs8 = decryptPrivateKeyInfo(encryptedDer, 'passphrase');
 */
export function decryptPrivateKeyInfo(der: Uint8Array, passphrase: Passphrase | undefined): Uint8Array {
  let algorithm: { algorithm: string; parameters?: DerElement };
  let encrypted: Uint8Array;
  try {
    const outer = new DerReader(der);
    const seq = outer.readSequence();
    outer.end();
    algorithm = readAlgorithmIdentifier(seq);
    encrypted = seq.readOctetString();
    seq.end();
  } catch (error) {
    if (error instanceof DerError) throw _unsupported(`malformed EncryptedPrivateKeyInfo: ${error.message}`);
    throw error;
  }
  if (passphrase === undefined || passphrase === null) {
    throw new PrivateKeyError('the private key is encrypted: a passphrase is needed', { code: 'ERR_OSSL_BAD_DECRYPT' });
  }
  const password = passphraseBytes(passphrase);
  try {
    return pbes2Decrypt(algorithm, encrypted, password);
  } finally {
    password.fill(0);
  }
}
