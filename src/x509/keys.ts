/**
 * Private keys from PEM or DER, in the three encodings servers are configured with:
 * - PKCS #8 `PRIVATE KEY` (RFC 5208 5, RFC 5958 2): RSA, EC on P-256/P-384 and the brainpool
 *   curves of RFC 8734, Ed25519 (RFC 8410 7);
 * - SEC 1 `EC PRIVATE KEY` (RFC 5915 3), which must name its curve;
 * - PKCS #1 `RSA PRIVATE KEY` (RFC 8017 A.1.2), two-prime (version 0) only.
 *
 * Encrypted PKCS #8 keys (`ENCRYPTED PRIVATE KEY`, RFC 5958 3) are decrypted with the
 * `passphrase` option (PBES2 with PBKDF2 and AES-CBC, see pbes2.ts); legacy PEM encryption
 * (`Proc-Type` headers) is refused with a clear error. RSA keys are validated by `rsaPrivateKey` (p * q = n, e * d ≡ 1,
 * CRT values); EC scalars are range-checked against the curve order. Errors are
 * {@link PrivateKeyError}s whose messages never contain key bytes.
 * @module
 */

import { WEIERSTRASS_ORDERS, type WeierstrassCurveName } from '../crypto/curves.js';
import { InvalidKeyError } from '../crypto/errors.js';
import { rsaPrivateKey } from '../crypto/rsa.js';
import type { PrivateKey, PublicKey, Signatures } from '../crypto/sig.js';
import { decodeBitString, decodeNull, decodeOid, DerError, DerReader, Tag, type DerElement } from './der.js';
import { PrivateKeyError } from './key-error.js';
import { decryptPrivateKeyInfo, type Passphrase } from './pbes2.js';
import { decodePem, PemError } from './pem.js';
import { curveOfOid, OID, readAlgorithmIdentifier } from './spki.js';
import type { Certificate } from './types.js';

export { PrivateKeyError } from './key-error.js';
export type { PrivateKeyErrorCode } from './key-error.js';

/** Options of {@link parsePrivateKey}. */
export interface ParsePrivateKeyOptions {
  /** Decrypts an `ENCRYPTED PRIVATE KEY` (PBES2); ignored for a key that is not encrypted, as node:tls ignores it. */
  readonly passphrase?: Passphrase;
}

/** The PEM labels of RFC 7468 10 (PKCS #8) and the legacy OpenSSL ones. */
const _LABELS = Object.freeze({
  pkcs8: 'PRIVATE KEY',
  sec1: 'EC PRIVATE KEY',
  pkcs1: 'RSA PRIVATE KEY',
  encrypted: 'ENCRYPTED PRIVATE KEY',
} as const);

type _Format = 'pkcs8' | 'sec1' | 'pkcs1' | 'encrypted';

const _OTHER_KEY_ALGORITHMS: Readonly<Record<string, string>> = Object.freeze({
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.113': 'Ed448',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS-restricted RSA (use an rsaEncryption key)',
  '1.2.840.10040.4.1': 'DSA',
});

/**
 * Parses a private key from PEM text (one `PRIVATE KEY`, `EC PRIVATE KEY` or `RSA PRIVATE KEY`
 * block; other blocks such as `EC PARAMETERS` or certificates are ignored) or from DER bytes
 * (the encoding is recognised from its structure). An `ENCRYPTED PRIVATE KEY` (or DER
 * EncryptedPrivateKeyInfo) is decrypted with `options.passphrase`; a wrong or missing one throws
 * a PrivateKeyError with code `ERR_OSSL_BAD_DECRYPT`.
 * @example
 * const key = parsePrivateKey(fs.readFileSync('server.key', 'utf8'));
 * engine.crypto.signatures.sign('ecdsa_secp256r1_sha256', key, message);
 * const encrypted = parsePrivateKey(encryptedPem, { passphrase: 'secret' });
 */
export function parsePrivateKey(pemOrDer: string | Uint8Array, options: ParsePrivateKeyOptions = {}): PrivateKey {
  let der: Uint8Array;
  let format: _Format | undefined;
  if (pemOrDer instanceof Uint8Array && pemOrDer[0] === Tag.SEQUENCE) {
    der = pemOrDer;
  } else if (typeof pemOrDer === 'string' || pemOrDer instanceof Uint8Array) {
    const block = _pemBlock(typeof pemOrDer === 'string' ? pemOrDer : _latin1(pemOrDer));
    der = block.der;
    format = block.format;
  } else {
    throw new PrivateKeyError('parsePrivateKey: expected PEM text or DER bytes');
  }
  let decrypted: Uint8Array | undefined;
  try {
    const kind = format ?? _sniff(der);
    if (kind === 'encrypted') {
      decrypted = decryptPrivateKeyInfo(der, options?.passphrase);
      try {
        return _parseDer(decrypted, 'pkcs8');
      } catch (error) {
        // Padding that happened to look right under a wrong key (1 time in 256) leaves garbage,
        // not a key: only a well-formed SEQUENCE means the passphrase was right.
        if (error instanceof DerError || !_isOneSequence(decrypted)) {
          throw new PrivateKeyError('bad decrypt: wrong passphrase (or damaged data)', { code: 'ERR_OSSL_BAD_DECRYPT' });
        }
        throw error;
      }
    }
    return _parseDer(der, kind);
  } catch (error) {
    if (error instanceof PrivateKeyError) throw error;
    if (error instanceof DerError) throw new PrivateKeyError(`malformed private key DER: ${error.message}`, { cause: error });
    // Not reachable for any input (the fuzz test checks no message starts with this); kept so
    // that callers only ever see PrivateKeyError.
    throw new PrivateKeyError(`internal error: ${error instanceof Error ? error.name : typeof error}`, { cause: error });
  } finally {
    // The decoded PEM body and the decrypted key are our own copies of the secret: do not leave
    // them for the collector.
    if (der !== pemOrDer) der.fill(0);
    decrypted?.fill(0);
  }
}

function _isOneSequence(der: Uint8Array): boolean {
  try {
    new DerReader(der).readSequence();
    return new DerReader(der).readElement().raw.length === der.length;
  } catch {
    return false;
  }
}

function _latin1(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

function _pemBlock(text: string): { der: Uint8Array; format: _Format } {
  let blocks;
  try {
    blocks = decodePem(text, Object.values(_LABELS));
  } catch (error) {
    if (error instanceof PemError && error.code === 'headers') {
      throw new PrivateKeyError('encrypted keys are not supported (legacy PEM Proc-Type/DEK-Info encryption)', { cause: error });
    }
    if (error instanceof PemError) throw new PrivateKeyError(`bad PEM: ${error.message}`, { cause: error });
    throw error;
  }
  if (blocks.length === 0) {
    throw new PrivateKeyError('no PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block found');
  }
  if (blocks.length > 1) {
    for (const b of blocks) b.der.fill(0);
    throw new PrivateKeyError(`expected one private key, found ${blocks.length} key blocks`);
  }
  const block = blocks[0]!;
  const format: _Format =
    block.label === _LABELS.pkcs8 ? 'pkcs8' : block.label === _LABELS.sec1 ? 'sec1' : block.label === _LABELS.encrypted ? 'encrypted' : 'pkcs1';
  return { der: block.der, format };
}

/** Recognises DER by its second element: PKCS #8 has an AlgorithmIdentifier, PKCS #1 an INTEGER, SEC 1 an OCTET STRING. */
function _sniff(der: Uint8Array): _Format {
  const seq = new DerReader(der).readSequence();
  const first = seq.peekTag();
  // RFC 5958 3: EncryptedPrivateKeyInfo ::= SEQUENCE { encryptionAlgorithm, encryptedData }
  if (first === Tag.SEQUENCE) return 'encrypted';
  seq.readExpected(Tag.INTEGER);
  const second = seq.peekTag();
  if (second === Tag.SEQUENCE) return 'pkcs8';
  if (second === Tag.INTEGER) return 'pkcs1';
  if (second === Tag.OCTET_STRING) return 'sec1';
  throw new PrivateKeyError('DER is not a PKCS #8, SEC 1 or PKCS #1 private key');
}

function _parseDer(der: Uint8Array, format: Exclude<_Format, 'encrypted'> | undefined): PrivateKey {
  switch (format ?? _sniff(der)) {
    case 'encrypted':
      throw new PrivateKeyError('an encrypted key inside an encrypted key');
    case 'pkcs8':
      return _pkcs8(der);
    case 'sec1':
      return _sec1(der, undefined);
    case 'pkcs1':
      return _pkcs1(der);
  }
}

/**
 * RFC 5958 2 (RFC 5208 5 is its v1):
 * ```
 * OneAsymmetricKey ::= SEQUENCE {
 *   version                   Version,            -- v1(0) or v2(1)
 *   privateKeyAlgorithm       PrivateKeyAlgorithmIdentifier,
 *   privateKey                PrivateKey,         -- OCTET STRING
 *   attributes            [0] Attributes OPTIONAL,
 *   ...,
 *   [[2: publicKey        [1] PublicKey OPTIONAL ]],
 *   ... }
 * ```
 */
function _pkcs8(der: Uint8Array): PrivateKey {
  const outer = new DerReader(der);
  const seq = outer.readSequence();
  outer.end();
  const version = seq.readInteger();
  if (version !== 0n && version !== 1n) throw new PrivateKeyError('PKCS #8 version must be v1(0) or v2(1) (RFC 5958 2)');
  const { algorithm, parameters } = readAlgorithmIdentifier(seq);
  const privateKey = seq.readOctetString();
  seq.readOptional(0xa0); // attributes [0] IMPLICIT SET OF Attribute: not used
  const publicKey = seq.readOptional(0x81);
  if (publicKey !== undefined) {
    // RFC 5958 2: "version MUST be v2 if publicKey is present".
    if (version !== 1n) throw new PrivateKeyError('PKCS #8 publicKey in a v1 structure (RFC 5958 2)');
    decodeBitString(publicKey.contents, publicKey.offset + publicKey.header);
  }
  seq.end();

  switch (algorithm) {
    case OID.rsaEncryption:
      // RFC 8017 A.1: rsaEncryption parameters are NULL; absent is tolerated for private keys.
      if (parameters !== undefined) _expectNull(parameters, 'rsaEncryption');
      return _pkcs1(privateKey);
    case OID.ecPublicKey:
      // RFC 5915 1 / RFC 5480 2.1.1: the curve is in the AlgorithmIdentifier parameters.
      if (parameters === undefined) throw new PrivateKeyError('EC key without curve parameters (RFC 5480 2.1.1)');
      return _sec1(privateKey, _namedCurve(parameters));
    case OID.ed25519: {
      // RFC 8410 3: "the parameters MUST be absent".
      if (parameters !== undefined) throw new PrivateKeyError('Ed25519 AlgorithmIdentifier parameters must be absent (RFC 8410 3)');
      // RFC 8410 7: CurvePrivateKey ::= OCTET STRING, itself inside the privateKey OCTET STRING.
      const inner = new DerReader(privateKey);
      const seed = inner.readOctetString();
      inner.end();
      if (seed.length !== 32) throw new PrivateKeyError(`Ed25519 private key of ${seed.length} bytes, expected 32 (RFC 8410 7)`);
      return Object.freeze({ kind: 'ed25519', seed: seed.slice() });
    }
    default: {
      const name = _OTHER_KEY_ALGORITHMS[algorithm];
      const shown = algorithm.length <= 64 ? algorithm : `${algorithm.slice(0, 64)}...`;
      throw new PrivateKeyError(`unsupported private key algorithm ${name === undefined ? shown : `${name} (${shown})`}`);
    }
  }
}

function _expectNull(parameters: DerElement, what: string): void {
  if (parameters.tag !== Tag.NULL) throw new PrivateKeyError(`${what} parameters must be NULL (RFC 8017 A.1)`);
  decodeNull(parameters.contents, parameters.offset + parameters.header);
}

/** RFC 5480 2.1.1: ECParameters must be a namedCurve OID; sandtls supports P-256, P-384 and brainpool P256r1/P384r1/P512r1. */
function _namedCurve(parameters: DerElement): WeierstrassCurveName {
  if (parameters.tag !== Tag.OID) {
    throw new PrivateKeyError('EC parameters must be a namedCurve OID; implicit and specified curves are not allowed (RFC 5480 2.1.1)');
  }
  const oid = decodeOid(parameters.contents, parameters.offset + parameters.header);
  const curve = curveOfOid(oid);
  if (curve === undefined) throw new PrivateKeyError(`unsupported EC curve ${oid.length <= 64 ? oid : `${oid.slice(0, 64)}...`}`);
  return curve;
}

/**
 * RFC 5915 3:
 * ```
 * ECPrivateKey ::= SEQUENCE {
 *   version        INTEGER { ecPrivkeyVer1(1) } (ecPrivkeyVer1),
 *   privateKey     OCTET STRING,
 *   parameters [0] ECParameters {{ NamedCurve }} OPTIONAL,
 *   publicKey  [1] BIT STRING OPTIONAL }
 * ```
 * `outerCurve` is the curve named by an enclosing PKCS #8 AlgorithmIdentifier.
 */
function _sec1(der: Uint8Array, outerCurve: WeierstrassCurveName | undefined): PrivateKey {
  const outer = new DerReader(der);
  const seq = outer.readSequence();
  outer.end();
  if (seq.readInteger() !== 1n) throw new PrivateKeyError('ECPrivateKey version must be 1 (RFC 5915 3)');
  const scalar = seq.readOctetString();
  let innerCurve: WeierstrassCurveName | undefined;
  if (seq.peekTag() === 0xa0) {
    const wrapper = seq.readContextSpecific(0, 'explicit');
    innerCurve = _namedCurve(wrapper.readElement());
    wrapper.end();
  }
  if (seq.peekTag() === 0xa1) {
    const wrapper = seq.readContextSpecific(1, 'explicit');
    wrapper.readBitString();
    wrapper.end();
  }
  seq.end();
  if (outerCurve !== undefined && innerCurve !== undefined && outerCurve !== innerCurve) {
    throw new PrivateKeyError('ECPrivateKey parameters name a different curve than the PKCS #8 AlgorithmIdentifier (RFC 5915 3)');
  }
  const curve = outerCurve ?? innerCurve;
  // RFC 5915 3: outside PKCS #8, "implementations that conform to this document MUST always
  // include the parameters field" -- without it the curve is unknown.
  if (curve === undefined) throw new PrivateKeyError('EC PRIVATE KEY without a named curve (RFC 5915 3)');
  // Curve sizes and group orders n (SEC 2 v2 2.4.2 and 2.5.1, RFC 5639 3.4, 3.6, 3.7).
  const { bytes, order } = WEIERSTRASS_ORDERS[curve];
  // RFC 5915 3: the privateKey octet string has length ceiling(log2(n)/8); shorter encodings
  // (leading zeros dropped by some encoders) are left-padded.
  if (scalar.length === 0 || scalar.length > bytes) {
    throw new PrivateKeyError(`${curve} private key of ${scalar.length} bytes, expected at most ${bytes} (RFC 5915 3)`);
  }
  const secret = new Uint8Array(bytes);
  secret.set(scalar, bytes - scalar.length);
  let d = 0n;
  for (const b of secret) d = (d << 8n) | BigInt(b);
  // SEC 1 v2 3.2.1: the private key d is an integer in [1, n - 1].
  if (d === 0n || d >= order) {
    secret.fill(0);
    throw new PrivateKeyError(`${curve} private key is not in [1, n - 1] (SEC 1 3.2.1)`);
  }
  return Object.freeze({ kind: 'ec', curve, secret });
}

/**
 * RFC 8017 A.1.2:
 * ```
 * RSAPrivateKey ::= SEQUENCE {
 *     version           Version,  -- two-prime(0), multi(1)
 *     modulus           INTEGER,  -- n
 *     publicExponent    INTEGER,  -- e
 *     privateExponent   INTEGER,  -- d
 *     prime1            INTEGER,  -- p
 *     prime2            INTEGER,  -- q
 *     exponent1         INTEGER,  -- d mod (p-1)
 *     exponent2         INTEGER,  -- d mod (q-1)
 *     coefficient       INTEGER,  -- (inverse of q) mod p
 *     otherPrimeInfos   OtherPrimeInfos OPTIONAL }
 * ```
 */
function _pkcs1(der: Uint8Array): PrivateKey {
  const outer = new DerReader(der);
  const seq = outer.readSequence();
  outer.end();
  const version = seq.readInteger();
  // RFC 8017 A.1.2: version is 0 for two-prime keys; 1 announces otherPrimeInfos.
  if (version === 1n) throw new PrivateKeyError('multi-prime RSA keys are not supported (RFC 8017 A.1.2 version 1)');
  if (version !== 0n) throw new PrivateKeyError('RSAPrivateKey version must be 0 (RFC 8017 A.1.2)');
  const n = seq.readInteger();
  const e = seq.readInteger();
  const d = seq.readInteger();
  const p = seq.readInteger();
  const q = seq.readInteger();
  const dp = seq.readInteger();
  const dq = seq.readInteger();
  const qInv = seq.readInteger();
  if (seq.hasMore()) throw new PrivateKeyError('otherPrimeInfos in a version 0 RSAPrivateKey (RFC 8017 A.1.2)');
  seq.end();
  try {
    return Object.freeze({ kind: 'rsa', key: rsaPrivateKey({ n, e, d, p, q, dp, dq, qInv }) });
  } catch (error) {
    // rsaPrivateKey names the failed check and never the values.
    if (error instanceof InvalidKeyError) throw new PrivateKeyError(`invalid RSA private key: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Whether two public keys are the same key: same kind, curve and point bytes; same Ed25519
 * bytes; same RSA n and e.
 * @example publicKeysEqual(signatures.publicKeyOf(key), cert.publicKey!) // true for a matching pair
 */
export function publicKeysEqual(a: PublicKey, b: PublicKey): boolean {
  switch (a.kind) {
    case 'ec':
      return b.kind === 'ec' && a.curve === b.curve && _bytesEqual(a.point, b.point);
    case 'ed25519':
      return b.kind === 'ed25519' && _bytesEqual(a.publicKey, b.publicKey);
    case 'rsa':
      return b.kind === 'rsa' && a.n === b.n && a.e === b.e;
    default:
      return false;
  }
}

function _bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether `key` is the private half of the certificate's public key: false when they differ,
 * when the certificate's key is of an unsupported kind, or when the private key is invalid.
 * Catches the classic misconfiguration of a server given the wrong key file.
 * @example
 * if (!keyMatchesCertificate(engine.crypto.signatures, key, cert)) throw new Error('key does not match certificate');
 */
export function keyMatchesCertificate(signatures: Signatures, key: PrivateKey, cert: Certificate): boolean {
  if (cert.publicKey === undefined) return false;
  let derived: PublicKey;
  try {
    derived = signatures.publicKeyOf(key);
  } catch (error) {
    if (error instanceof InvalidKeyError) return false;
    throw error;
  }
  return publicKeysEqual(derived, cert.publicKey);
}
