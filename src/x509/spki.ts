/**
 * SubjectPublicKeyInfo (RFC 5280 4.1.2.7) for the key types TLS 1.3 certificates carry:
 * ECDSA on P-256/P-384 (RFC 5480) and on brainpoolP256r1/P384r1/P512r1 (RFC 5639 4.1, RFC 8734),
 * Ed25519 (RFC 8410) and RSA (RFC 3279 2.3.1, RFC 8017 A.1).
 *
 * ```
 * SubjectPublicKeyInfo  ::=  SEQUENCE  {
 *      algorithm            AlgorithmIdentifier,
 *      subjectPublicKey     BIT STRING  }
 * AlgorithmIdentifier  ::=  SEQUENCE  {
 *      algorithm               OBJECT IDENTIFIER,
 *      parameters              ANY DEFINED BY algorithm OPTIONAL  }
 * ```
 *
 * Malformed DER throws {@link DerError}; well-formed input that names an unsupported
 * algorithm or curve, or carries a key of the wrong shape, throws {@link SpkiError}. Keys are
 * only checked for shape here: curve membership and RSA sizes are the crypto layer's job, except
 * that an RSA public exponent of 2^33 or more is refused at once (it only makes verification slow).
 * @module
 */

import { WEIERSTRASS_CURVES, WEIERSTRASS_ORDERS, type WeierstrassCurveName } from '../crypto/curves.js';
import { RSA_MAX_PUBLIC_EXPONENT_BITS } from '../crypto/rsa.js';
import {
  DerReader,
  decodeNull,
  decodeOid,
  encodeBitString,
  encodeInteger,
  encodeNull,
  encodeOid,
  encodeSequence,
  parseDer,
  Tag,
  type DerElement,
} from './der.js';

/** Object identifiers of the public-key algorithms and curves this module understands. */
export const OID = Object.freeze({
  /** id-ecPublicKey, RFC 5480 2.1.1 */
  ecPublicKey: '1.2.840.10045.2.1',
  /** secp256r1 (P-256), RFC 5480 2.1.1.1 */
  secp256r1: '1.2.840.10045.3.1.7',
  /** secp384r1 (P-384), RFC 5480 2.1.1.1 */
  secp384r1: '1.3.132.0.34',
  /** brainpoolP256r1, RFC 5639 4.1 */
  brainpoolP256r1: '1.3.36.3.3.2.8.1.1.7',
  /** brainpoolP384r1, RFC 5639 4.1 */
  brainpoolP384r1: '1.3.36.3.3.2.8.1.1.11',
  /** brainpoolP512r1, RFC 5639 4.1 */
  brainpoolP512r1: '1.3.36.3.3.2.8.1.1.13',
  /** id-Ed25519, RFC 8410 3 */
  ed25519: '1.3.101.112',
  /** rsaEncryption, RFC 8017 A.1 / RFC 3279 2.3.1 */
  rsaEncryption: '1.2.840.113549.1.1.1',
} as const);

/** A public key extracted from a SubjectPublicKeyInfo. */
export type SpkiPublicKey =
  | { kind: 'ec'; curve: WeierstrassCurveName; point: Uint8Array /* uncompressed SEC1 point, 0x04 || X || Y */ }
  | { kind: 'ed25519'; publicKey: Uint8Array /* 32 bytes */ }
  | { kind: 'rsa'; n: bigint; e: bigint };

/** Well-formed DER whose key is unsupported or invalid (algorithm, curve, parameters, shape). */
export class SpkiError extends Error {
  override readonly name = 'SpkiError';
}

/** An AlgorithmIdentifier (RFC 5280 4.1.1.2); `parameters` is the raw ANY, if present. */
export interface AlgorithmIdentifier {
  algorithm: string;
  parameters?: DerElement;
}

/** An OID for an error message, cut short: hostile OIDs can run to thousands of arcs. */
function _oidForMessage(oid: string): string {
  return oid.length <= 64 ? oid : `${oid.slice(0, 64)}...`;
}

/** Field-element sizes in bytes of the supported curves (each the size of its order, too). */
function _fieldBytes(curve: WeierstrassCurveName): number {
  return WEIERSTRASS_ORDERS[curve].bytes;
}

/**
 * Reads an AlgorithmIdentifier SEQUENCE (RFC 5280 4.1.1.2): an OID and at most one
 * parameters element, returned undecoded since its type depends on the algorithm.
 * @example const sigAlg = readAlgorithmIdentifier(certReader); sigAlg.algorithm === '1.2.840.10045.4.3.2'
 */
export function readAlgorithmIdentifier(reader: DerReader): AlgorithmIdentifier {
  const seq = reader.readSequence();
  const algorithm = seq.readOid();
  const parameters = seq.hasMore() ? seq.readElement() : undefined;
  seq.end();
  return parameters === undefined ? { algorithm } : { algorithm, parameters };
}

/**
 * Parses a DER SubjectPublicKeyInfo that makes up the whole of `der`.
 * @example
 * const key = parseSpki(spkiDer);
 * if (key.kind === 'ec') verifyWith(key.curve, key.point);
 */
export function parseSpki(der: Uint8Array): SpkiPublicKey {
  return parseDer(der, readSpki);
}

/**
 * Reads a SubjectPublicKeyInfo from a reader (inside a TBSCertificate, say).
 * @example const spkiEl = tbs.readExpected(Tag.SEQUENCE); const key = parseSpki(spkiEl.raw);
 */
export function readSpki(reader: DerReader): SpkiPublicKey {
  const spki = reader.readSequence();
  const { algorithm, parameters } = readAlgorithmIdentifier(spki);
  const subjectPublicKey = spki.readBitString();
  spki.end();

  // Every supported key is a whole number of octets.
  if (subjectPublicKey.unusedBits !== 0) {
    throw new SpkiError(`subjectPublicKey has ${subjectPublicKey.unusedBits} unused bits; keys are whole octets`);
  }
  const keyBytes = subjectPublicKey.bytes;

  switch (algorithm) {
    case OID.ecPublicKey: {
      const curve = _namedCurve(parameters);
      // RFC 5480 2.2: the ECPoint OCTET STRING maps directly to the BIT STRING contents;
      // SEC1 2.3.3 forms: 0x04 || X || Y uncompressed, 0x02/0x03 || X compressed.
      const fieldBytes = _fieldBytes(curve);
      const prefix = keyBytes[0];
      if ((prefix === 0x02 || prefix === 0x03) && keyBytes.length === 1 + fieldBytes) {
        throw new SpkiError(`compressed ${curve} points are not supported (TLS 1.3 uses the uncompressed form)`);
      }
      if (prefix !== 0x04 || keyBytes.length !== 1 + 2 * fieldBytes) {
        throw new SpkiError(
          `${curve} public key must be an uncompressed point of ${1 + 2 * fieldBytes} bytes starting 0x04 ` +
            `(got ${keyBytes.length} bytes${prefix === undefined ? '' : ` starting 0x${prefix.toString(16).padStart(2, '0')}`})`,
        );
      }
      return { kind: 'ec', curve, point: keyBytes.slice() };
    }

    case OID.ed25519: {
      // RFC 8410 3: "For all of the OIDs, the parameters MUST be absent."
      if (parameters !== undefined) throw new SpkiError('Ed25519 AlgorithmIdentifier parameters must be absent (RFC 8410 3)');
      // RFC 8410 4: the public key is the 32-byte RFC 8032 encoding, unwrapped.
      if (keyBytes.length !== 32) throw new SpkiError(`Ed25519 public key of ${keyBytes.length} bytes, expected 32 (RFC 8410 4)`);
      return { kind: 'ed25519', publicKey: keyBytes.slice() };
    }

    case OID.rsaEncryption: {
      // RFC 3279 2.3.1: "the parameters field MUST have ASN.1 type NULL for this algorithm identifier."
      if (parameters === undefined) throw new SpkiError('rsaEncryption parameters are absent; they must be NULL (RFC 3279 2.3.1)');
      if (parameters.tag !== Tag.NULL) throw new SpkiError('rsaEncryption parameters must be NULL (RFC 3279 2.3.1)');
      decodeNull(parameters.contents, parameters.offset + parameters.header);
      // RFC 8017 A.1.1: RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
      const inner = new DerReader(keyBytes, subjectPublicKey.offset);
      const rsaPublicKey = inner.readSequence();
      const n = rsaPublicKey.readInteger();
      const e = rsaPublicKey.readInteger();
      rsaPublicKey.end();
      inner.end();
      if (n <= 0n) throw new SpkiError('RSA modulus is not positive (RFC 8017 A.1.1)');
      if (e <= 0n) throw new SpkiError('RSA public exponent is not positive (RFC 8017 A.1.1)');
      // A bound on verification work (see RSA_MAX_PUBLIC_EXPONENT_BITS): such a key is unusable.
      if (e >> BigInt(RSA_MAX_PUBLIC_EXPONENT_BITS) !== 0n) {
        throw new SpkiError(`RSA public exponent of ${e.toString(2).length} bits; sandtls accepts exponents below 2^${RSA_MAX_PUBLIC_EXPONENT_BITS}`);
      }
      return { kind: 'rsa', n, e };
    }

    default:
      throw new SpkiError(`unsupported public key algorithm ${_oidForMessage(algorithm)}`);
  }
}

/** RFC 5480 2.1.1: ECParameters must be the namedCurve choice in PKIX. */
function _namedCurve(parameters: DerElement | undefined): WeierstrassCurveName {
  // ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, implicitCurve NULL, specifiedCurve SpecifiedECDomain }
  if (parameters === undefined) {
    throw new SpkiError('id-ecPublicKey parameters are absent; RFC 5480 2.1.1 requires them (namedCurve)');
  }
  if (parameters.tag === Tag.NULL) {
    throw new SpkiError('implicitCurve (NULL) parameters MUST NOT be used (RFC 5480 2.1.1)');
  }
  if (parameters.tag === Tag.SEQUENCE) {
    throw new SpkiError('specifiedCurve (explicit curve) parameters MUST NOT be used (RFC 5480 2.1.1)');
  }
  if (parameters.tag !== Tag.OID) {
    throw new SpkiError(`ECParameters of tag 0x${parameters.tag.toString(16)} is not a namedCurve OID (RFC 5480 2.1.1)`);
  }
  const oid = decodeOid(parameters.contents, parameters.offset + parameters.header);
  const curve = curveOfOid(oid);
  if (curve === undefined) throw new SpkiError(`unsupported named curve ${_oidForMessage(oid)}`);
  return curve;
}

/**
 * The curve a namedCurve OID names, or `undefined` for a curve sandtls does not implement.
 * @example curveOfOid('1.3.36.3.3.2.8.1.1.7') // 'brainpoolP256r1'
 */
export function curveOfOid(oid: string): WeierstrassCurveName | undefined {
  return WEIERSTRASS_CURVES.find((curve) => OID[curve] === oid);
}

/**
 * Encodes a public key as a DER SubjectPublicKeyInfo (the inverse of {@link parseSpki}); used
 * for raw public keys (RFC 7250) and to build test certificates.
 * @example parseSpki(encodeSpki({ kind: 'ed25519', publicKey })) // { kind: 'ed25519', publicKey }
 */
export function encodeSpki(key: SpkiPublicKey): Uint8Array {
  switch (key.kind) {
    case 'ec':
      return encodeSequence(
        encodeSequence(encodeOid(OID.ecPublicKey), encodeOid(OID[key.curve])),
        encodeBitString(key.point),
      );
    case 'ed25519':
      return encodeSequence(encodeSequence(encodeOid(OID.ed25519)), encodeBitString(key.publicKey));
    case 'rsa':
      return encodeSequence(
        encodeSequence(encodeOid(OID.rsaEncryption), encodeNull()),
        encodeBitString(encodeSequence(encodeInteger(key.n), encodeInteger(key.e))),
      );
  }
}
