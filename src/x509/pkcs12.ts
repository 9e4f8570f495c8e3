/**
 * PKCS #12 files (`.pfx`, `.p12`; RFC 7292) as OpenSSL 3 writes them by default
 * (`openssl pkcs12 -export`): the key in a pkcs8ShroudedKeyBag and the certificates in an
 * encryptedData, both PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC, and an HMAC-SHA-256
 * integrity MAC keyed by the PKCS #12 KDF. Unencrypted bags, other SHA-2 or SHA-1 MACs and other
 * PBES2 parameters (see pbes2.ts) are read too.
 *
 * Refused with a clear message: the legacy RC2/3DES/RC4 encryption of OpenSSL 1.x and Windows
 * (`openssl pkcs12 -legacy`), public-key integrity and privacy modes, BER indefinite lengths, and
 * files with more than one private key. A wrong passphrase fails the MAC check
 * (`ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE`); a file without a MAC fails to decrypt
 * (`ERR_OSSL_BAD_DECRYPT`). Certificates other than the key's are returned after it, in file
 * order, as the chain to send; none of them becomes a trust anchor.
 * @module
 */
import { MAX_PBE_ITERATIONS, pbeHmac, pkcs12Kdf, type PbeHashName } from '../crypto/pbe.js';
import type { PrivateKey } from '../crypto/sig.js';
import { DerError, DerReader, Tag, type DerElement } from './der.js';
import { PrivateKeyError } from './key-error.js';
import { parsePrivateKey } from './keys.js';
import { decryptPrivateKeyInfo, passphraseBytes, pbes2Decrypt, type Passphrase } from './pbes2.js';
import { readAlgorithmIdentifier } from './spki.js';

/** What a PKCS #12 file holds for a TLS endpoint. */
export interface Pkcs12Contents {
  readonly privateKey: PrivateKey;
  /** DER certificates: the key's own certificate first, then the others (its chain). */
  readonly certificateChain: readonly Uint8Array[];
}

const _OID = Object.freeze({
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  envelopedData: '1.2.840.113549.1.7.3',
  signedData: '1.2.840.113549.1.7.2',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
});

/** MacData digest algorithms (RFC 7292 B, RFC 9579 names the SHA-2 ones OpenSSL 3 uses). */
const _MAC_HASHES: Readonly<Record<string, PbeHashName>> = Object.freeze({
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
});

/** Nested SafeContents deeper than this are refused (RFC 7292 allows nesting; nobody needs much). */
const _MAX_NESTING = 4;

interface _Bags {
  readonly keys: { readonly pkcs8: Uint8Array; readonly localKeyId: Uint8Array | undefined }[];
  readonly certs: { readonly der: Uint8Array; readonly localKeyId: Uint8Array | undefined }[];
}

/** RFC 7292 B.1: the password as a BMPString (UTF-16 big-endian) with two zero bytes at the end. */
function _bmpPassword(passphrase: Passphrase): Uint8Array {
  const text = typeof passphrase === 'string' ? passphrase : _latin1(passphrase);
  const out = new Uint8Array(text.length * 2 + 2);
  for (let i = 0; i < text.length; i++) {
    out[2 * i] = text.charCodeAt(i) >> 8;
    out[2 * i + 1] = text.charCodeAt(i) & 0xff;
  }
  return out;
}

function _latin1(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

function _equal(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ContentInfo ::= SEQUENCE { contentType OID, content [0] EXPLICIT ANY OPTIONAL } */
function _contentInfo(reader: DerReader): { type: string; content: DerReader } {
  const seq = reader.readSequence();
  const type = seq.readOid();
  const content = seq.readContextSpecific(0, 'explicit');
  seq.end();
  return { type, content };
}

/** The octets of a `data` ContentInfo's content: one primitive OCTET STRING (DER). */
function _dataOctets(content: DerReader): Uint8Array {
  if (content.peekTag() !== Tag.OCTET_STRING) throw new DerError('data content must be a primitive OCTET STRING (BER constructed strings are not supported)', content.offset);
  const octets = content.readOctetString();
  content.end();
  return octets;
}

/**
 * Reads a PKCS #12 file (DER bytes) and returns its private key and certificates. Throws
 * PrivateKeyError (`ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE` for a wrong passphrase,
 * `ERR_OSSL_BAD_DECRYPT`, or `ERR_OSSL_UNSUPPORTED` for what sandtls does not read).
 * @example
 * const { privateKey, certificateChain } = parsePkcs12(readFileSync('server.pfx'), 'passphrase');
 * engine.server({ privateKey, certificateChain });
 */
export function parsePkcs12(der: Uint8Array, passphrase: Passphrase | undefined): Pkcs12Contents {
  if (!(der instanceof Uint8Array)) throw new PrivateKeyError('a PKCS #12 file is DER bytes');
  const pass = passphrase ?? '';
  const utf8 = passphraseBytes(pass);
  const bmp = _bmpPassword(pass);
  let bags: _Bags;
  try {
    bags = _read(der, utf8, bmp);
  } catch (error) {
    if (error instanceof DerError) throw new PrivateKeyError(`malformed PKCS #12: ${error.message}`, { cause: error });
    throw error;
  } finally {
    utf8.fill(0);
    bmp.fill(0);
  }
  try {
    if (bags.keys.length === 0) throw new PrivateKeyError('the PKCS #12 file holds no private key');
    if (bags.keys.length > 1) throw new PrivateKeyError(`the PKCS #12 file holds ${bags.keys.length} private keys; sandtls uses one key per context`);
    if (bags.certs.length === 0) throw new PrivateKeyError('the PKCS #12 file holds no certificate');
    const key = bags.keys[0]!;
    let privateKey: PrivateKey;
    try {
      privateKey = parsePrivateKey(key.pkcs8);
    } catch (error) {
      if (error instanceof PrivateKeyError && error.code === 'ERR_OSSL_UNSUPPORTED' && !_isDer(key.pkcs8)) {
        // A file without a MAC decrypted with a wrong passphrase (padding right by chance).
        throw new PrivateKeyError('bad decrypt: wrong passphrase (or damaged data)', { code: 'ERR_OSSL_BAD_DECRYPT' });
      }
      throw error;
    }
    // The key's certificate: the one with the key's localKeyId (RFC 7292 4.2), else the first.
    const leafIndex = Math.max(0, bags.certs.findIndex((c) => _equal(c.localKeyId, key.localKeyId)));
    const ordered = [bags.certs[leafIndex]!, ...bags.certs.filter((_, i) => i !== leafIndex)];
    return Object.freeze({ privateKey, certificateChain: Object.freeze(ordered.map((c) => c.der)) });
  } finally {
    for (const key of bags.keys) key.pkcs8.fill(0);
  }
}

function _isDer(bytes: Uint8Array): boolean {
  try {
    return new DerReader(bytes).readElement().raw.length === bytes.length;
  } catch {
    return false;
  }
}

/**
 * ```
 * PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
 * MacData ::= SEQUENCE { mac DigestInfo, macSalt OCTET STRING, iterations INTEGER DEFAULT 1 }
 * ```
 */
function _read(der: Uint8Array, utf8: Uint8Array, bmp: Uint8Array): _Bags {
  const outer = new DerReader(der);
  const pfx = outer.readSequence();
  outer.end();
  if (pfx.readInteger() !== 3n) throw new PrivateKeyError('unsupported PKCS #12 version (RFC 7292 4 requires v3)');
  const authSafe = _contentInfo(pfx);
  if (authSafe.type === _OID.signedData) throw new PrivateKeyError('PKCS #12 public-key integrity mode (signedData) is not supported');
  if (authSafe.type !== _OID.data) throw new PrivateKeyError('the PKCS #12 authSafe is not a data ContentInfo');
  const authenticated = _dataOctets(authSafe.content);
  if (pfx.hasMore()) _checkMac(pfx.readSequence(), authenticated, bmp);
  pfx.end();
  const bags: _Bags = { keys: [], certs: [] };
  // AuthenticatedSafe ::= SEQUENCE OF ContentInfo
  const safe = new DerReader(authenticated);
  const list = safe.readSequence();
  safe.end();
  while (list.hasMore()) {
    const info = _contentInfo(list);
    if (info.type === _OID.data) {
      _safeContents(_dataOctets(info.content), bags, utf8, 0);
    } else if (info.type === _OID.encryptedData) {
      const plaintext = _encryptedData(info.content, utf8);
      try {
        _safeContents(plaintext, bags, utf8, 0);
      } catch (error) {
        // A wrong passphrase on a file without a MAC decrypts to garbage.
        if (error instanceof DerError) throw new PrivateKeyError('bad decrypt: wrong passphrase (or damaged data)', { code: 'ERR_OSSL_BAD_DECRYPT' });
        throw error;
      } finally {
        plaintext.fill(0);
      }
    } else if (info.type === _OID.envelopedData) {
      throw new PrivateKeyError('PKCS #12 public-key privacy mode (envelopedData) is not supported');
    } else {
      throw new PrivateKeyError('unsupported PKCS #12 ContentInfo type');
    }
  }
  return bags;
}

function _checkMac(macData: DerReader, authenticated: Uint8Array, bmp: Uint8Array): void {
  const digestInfo = macData.readSequence();
  const { algorithm } = readAlgorithmIdentifier(digestInfo);
  const mac = digestInfo.readOctetString();
  digestInfo.end();
  const salt = macData.readOctetString();
  const iterations = macData.hasMore() ? macData.readPositiveInteger() : 1n;
  macData.end();
  const hashName = _MAC_HASHES[algorithm];
  if (hashName === undefined) throw new PrivateKeyError('unsupported PKCS #12 MAC algorithm (PBMAC1 and others are not read)');
  if (iterations > BigInt(MAX_PBE_ITERATIONS)) {
    throw new PrivateKeyError(`the PKCS #12 MAC asks for ${iterations} iterations, more than sandtls runs (${MAX_PBE_ITERATIONS})`);
  }
  // RFC 7292 B.1: an empty password may be encoded as empty or as the two-byte terminator;
  // OpenSSL accepts either, and so does this.
  const candidates = bmp.length === 2 ? [bmp, new Uint8Array(0)] : [bmp];
  for (const password of candidates) {
    const key = pkcs12Kdf(hashName, password, salt, 3, Number(iterations), mac.length);
    const expected = pbeHmac(hashName, key, authenticated);
    key.fill(0);
    if (expected.length === mac.length && _constantTimeEqual(expected, mac)) return;
  }
  throw new PrivateKeyError('mac verify failure: wrong passphrase (or a damaged file)', { code: 'ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE' });
}

function _constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * ```
 * EncryptedData ::= SEQUENCE { version INTEGER, encryptedContentInfo EncryptedContentInfo }
 * EncryptedContentInfo ::= SEQUENCE {
 *   contentType ContentType, contentEncryptionAlgorithm AlgorithmIdentifier,
 *   encryptedContent [0] IMPLICIT OCTET STRING OPTIONAL }
 * ```
 */
function _encryptedData(content: DerReader, utf8: Uint8Array): Uint8Array {
  const encryptedData = content.readSequence();
  content.end();
  encryptedData.readInteger();
  const info = encryptedData.readSequence();
  encryptedData.end();
  info.readOid();
  const algorithm: { algorithm: string; parameters?: DerElement } = readAlgorithmIdentifier(info);
  _refuseLegacy(algorithm.algorithm);
  if (info.peekTag() !== 0x80) throw new DerError('encryptedContent must be a primitive [0] OCTET STRING (BER constructed strings are not supported)', info.offset);
  const encrypted = info.readContextSpecific(0, 'implicit').contents;
  info.end();
  return pbes2Decrypt(algorithm, encrypted, utf8);
}

/** SafeContents ::= SEQUENCE OF SafeBag; SafeBag ::= SEQUENCE { bagId, bagValue [0] EXPLICIT, bagAttributes SET OF OPTIONAL } */
function _safeContents(der: Uint8Array, bags: _Bags, utf8: Uint8Array, depth: number): void {
  if (depth > _MAX_NESTING) throw new DerError(`SafeContents nested more than ${_MAX_NESTING} deep`, 0);
  const outer = new DerReader(der);
  const list = outer.readSequence();
  outer.end();
  while (list.hasMore()) {
    const bag = list.readSequence();
    const bagId = bag.readOid();
    const value = bag.readContextSpecific(0, 'explicit');
    const localKeyId = bag.hasMore() ? _localKeyId(bag.readSet()) : undefined;
    bag.end();
    switch (bagId) {
      case _OID.keyBag:
        bags.keys.push({ pkcs8: value.readElement().raw.slice(), localKeyId });
        break;
      case _OID.shroudedKeyBag: {
        const encrypted = value.readElement().raw;
        // EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm, encryptedData }
        _refuseLegacy(readAlgorithmIdentifier(new DerReader(encrypted).readSequence()).algorithm);
        bags.keys.push({ pkcs8: decryptPrivateKeyInfo(encrypted, utf8), localKeyId });
        break;
      }
      case _OID.certBag: {
        // CertBag ::= SEQUENCE { certId OID, certValue [0] EXPLICIT OCTET STRING }
        const certBag = value.readSequence();
        const certId = certBag.readOid();
        const certValue = certBag.readContextSpecific(0, 'explicit');
        certBag.end();
        if (certId === _OID.x509Certificate) bags.certs.push({ der: certValue.readOctetString().slice(), localKeyId });
        break;
      }
      case _OID.safeContentsBag:
        _safeContents(value.readElement().raw, bags, utf8, depth + 1);
        break;
      default:
        // CRL and secret bags carry nothing a TLS endpoint uses.
        break;
    }
  }
}

/** The PKCS #12 v1 schemes (RFC 7292 C) of `openssl pkcs12 -legacy`, OpenSSL 1.x and older Windows. */
function _refuseLegacy(oid: string): void {
  if (oid.startsWith('1.2.840.113549.1.12.1.') || oid.startsWith('1.2.840.113549.1.5.')) {
    if (oid === '1.2.840.113549.1.5.13') return; // PBES2
    throw new PrivateKeyError(
      'legacy PKCS #12 encryption (RC2, RC4 or 3DES, as OpenSSL 1.x, `openssl pkcs12 -legacy` and older Windows write) is not supported: re-export it with OpenSSL 3 (`openssl pkcs12 -export`, which uses PBES2 with AES-256-CBC)',
    );
  }
}

/** The localKeyId attribute (PKCS #9) among a bag's attributes: SET OF SEQUENCE { OID, SET OF value }. */
function _localKeyId(attributes: DerReader): Uint8Array | undefined {
  let id: Uint8Array | undefined;
  while (attributes.hasMore()) {
    const attribute = attributes.readSequence();
    const type = attribute.readOid();
    const values = attribute.readSet();
    if (type === _OID.localKeyId && values.peekTag() === Tag.OCTET_STRING) id = values.readOctetString();
  }
  return id;
}
