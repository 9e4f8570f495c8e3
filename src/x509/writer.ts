/**
 * Writes X.509 v3 certificates (RFC 5280) and PKCS #8 private keys: the other direction of
 * cert.ts and keys.ts, for `sandtls cert` (a local development CA and its leaves).
 *
 * ```
 * Certificate  ::=  SEQUENCE  {
 *      tbsCertificate       TBSCertificate,
 *      signatureAlgorithm   AlgorithmIdentifier,
 *      signatureValue       BIT STRING  }
 * TBSCertificate  ::=  SEQUENCE  {
 *      version         [0]  EXPLICIT Version DEFAULT v1,
 *      serialNumber         CertificateSerialNumber,
 *      signature            AlgorithmIdentifier,
 *      issuer               Name,
 *      validity             Validity,
 *      subject              Name,
 *      subjectPublicKeyInfo SubjectPublicKeyInfo,
 *      extensions      [3]  EXPLICIT Extensions OPTIONAL }
 * ```
 *
 * What it writes is what sandtls's own verifier and the web PKI expect: v3, a positive 20-octet
 * serial from the engine's RandomSource, UTCTime before 2050 and GeneralizedTime after, a
 * critical basicConstraints, keyUsage, subjectKeyIdentifier on every certificate and
 * authorityKeyIdentifier on every issued one, subjectAltName on leaves. Keys are ECDSA (P-256,
 * P-384) or Ed25519, generated and used through the engine, so every random byte comes from the
 * Platform. Invalid requests throw `CertificateWriteError` before anything is signed.
 * @module
 */
import { utf8Bytes } from '../crypto/bytes.js';
import { ecSecretFromSeed, ecSeedLength, WEIERSTRASS_ORDERS, type WeierstrassCurveName } from '../crypto/curves.js';
import type { Hashes } from '../crypto/provider.js';
import type { RandomSource } from '../crypto/random.js';
import type { PrivateKey, SignatureScheme, Signatures } from '../crypto/sig.js';
import {
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeImplicit,
  encodeInteger,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeSetOf,
  encodeTlv,
  Tag,
} from './der.js';
import { presentedDnsNameProblem } from './hostname.js';
import { encodeSpki, OID as KEY_OID, type SpkiPublicKey } from './spki.js';
import { utcFields } from './time.js';

/** A certificate or key that cannot be written as asked (a bad name, validity, serial, key). */
export class CertificateWriteError extends Error {
  override readonly name = 'CertificateWriteError';
}

/** The object identifiers written here (RFC 5280 4.2.1, RFC 5758 3.2, RFC 8410 3, X.520). */
const _OID = Object.freeze({
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
});

/** X.520 upper bounds (RFC 5280 Appendix A.1): ub-common-name, ub-organization-name, ub-organizational-unit-name. */
const _MAX_NAME_ATTRIBUTE = 64;

/** RFC 5280 4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than 20 octets." */
const _SERIAL_OCTETS = 20;

/** The CA/Browser Forum's former cap on leaf validity (what mkcert and browsers still accept for private roots). */
export const MAX_LEAF_VALIDITY_DAYS = 825;

const _MS_PER_DAY = 86_400_000;

/** Subject or issuer attributes, written most significant first: O, OU, CN, each one UTF8String. */
export interface NameFields {
  readonly organization?: string;
  readonly organizationalUnit?: string;
  readonly commonName?: string;
}

/** An ECDSA or Ed25519 key pair made by `generateKeyPair`. */
export interface KeyPair {
  readonly privateKey: PrivateKey;
  readonly publicKey: SpkiPublicKey;
}

/** What `generateKeyPair` needs from an engine (`engine.crypto`). */
export interface KeyGenDeps {
  readonly random: RandomSource;
  readonly signatures: Signatures;
}

/** Who signs a certificate: itself (a root) or an issuer certificate's key. */
export type CertificateSigner =
  | { readonly selfSigned: true; readonly privateKey: PrivateKey }
  | {
      readonly selfSigned?: false;
      /** The issuer's subject Name as DER (its certificate's `subject.raw`), copied byte for byte. */
      readonly name: Uint8Array;
      /** The issuer's subjectKeyIdentifier, written as this certificate's authorityKeyIdentifier. */
      readonly keyIdentifier: Uint8Array;
      readonly privateKey: PrivateKey;
    };

/** A certificate to write. */
export interface CertificateProfile {
  readonly subject: NameFields;
  readonly publicKey: SpkiPublicKey;
  /** Validity, in ms since the epoch, inclusive at both ends (RFC 5280 4.1.2.5). */
  readonly notBefore: number;
  readonly notAfter: number;
  /** Positive, at most 20 octets, as its INTEGER contents (default: 20 random octets). */
  readonly serialNumber?: Uint8Array;
  /**
   * `'ca'`: basicConstraints cA (with `pathLength`), keyUsage keyCertSign and cRLSign.
   * `'leaf'`: keyUsage digitalSignature, extKeyUsage, and a subjectAltName with the names
   * (at least one; a DNS name may be a `*.` wildcard), valid for at most 825 days.
   */
  readonly kind:
    | { readonly role: 'ca'; readonly pathLength?: number }
    | {
        readonly role: 'leaf';
        readonly dnsNames: readonly string[];
        /** 4 or 16 octets each (`parseIpAddress`). */
        readonly ipAddresses: readonly Uint8Array[];
        /** Default both: a development certificate serves TLS servers and clients. */
        readonly extendedKeyUsage?: readonly ('serverAuth' | 'clientAuth')[];
      };
}

/**
 * A fresh key pair, the private scalar drawn from the engine's RandomSource (purpose
 * `x509_key:<curve>` or `x509_key:ed25519`).
 * @example
 * const { privateKey, publicKey } = generateKeyPair(engine.crypto, 'secp256r1');
 */
export function generateKeyPair(deps: KeyGenDeps, type: WeierstrassCurveName | 'ed25519' = 'secp256r1'): KeyPair {
  if (type === 'ed25519') {
    const privateKey: PrivateKey = { kind: 'ed25519', seed: deps.random(32, 'x509_key:ed25519') };
    return { privateKey, publicKey: deps.signatures.publicKeyOf(privateKey) };
  }
  const field = WEIERSTRASS_ORDERS[type];
  if (!field) throw new CertificateWriteError(`unsupported key type ${String(type)}`);
  // FIPS 186-5 A.2.1: a seed half as long again as the order, reduced into [1, n-1], leaves no
  // usable bias (the length and reduction of noble's randomSecretKey, so the draws are the same).
  const seed = deps.random(ecSeedLength(type), `x509_key:${type}`);
  const secret = ecSecretFromSeed(seed, type);
  seed.fill(0); // the secret is derived; the seed would reveal it
  const privateKey: PrivateKey = { kind: 'ec', curve: type, secret };
  return { privateKey, publicKey: deps.signatures.publicKeyOf(privateKey) };
}

/**
 * A positive serial number of exactly 20 octets (RFC 5280 4.1.2.2), drawn from the RandomSource:
 * 158 random bits, the top bit clear (positive) and the next one set (no leading zero octet).
 */
export function randomSerialNumber(random: RandomSource): Uint8Array {
  const serial = random(_SERIAL_OCTETS, 'x509_serial');
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  return serial;
}

/**
 * The key identifier of a public key (RFC 7093 2, method 1): the leftmost 160 bits of the
 * SHA-256 hash of the subjectPublicKey BIT STRING's value.
 */
export function keyIdentifier(hashes: Pick<Hashes, 'hash'>, publicKey: SpkiPublicKey): Uint8Array {
  return hashes.hash('SHA-256').digest(_subjectPublicKeyBits(publicKey)).slice(0, 20);
}

/**
 * Encodes a Name (RFC 5280 4.1.2.4) of single-attribute RDNs, O then OU then CN, as UTF8String
 * (RFC 5280 4.1.2.6 "MUST use the UTF8String encoding" for new certificates).
 * @example encodeName({ organization: 'sandtls', commonName: 'localhost' })
 */
export function encodeName(fields: NameFields): Uint8Array {
  const rdns: Uint8Array[] = [];
  const attribute = (oid: string, label: string, value: string | undefined) => {
    if (value === undefined) return;
    if (value.length === 0 || value.length > _MAX_NAME_ATTRIBUTE) {
      throw new CertificateWriteError(`${label} must be 1 to ${_MAX_NAME_ATTRIBUTE} characters, not ${value.length}`);
    }
    // AttributeTypeAndValue ::= SEQUENCE { type, value }, alone in its RelativeDistinguishedName SET.
    rdns.push(encodeSetOf([encodeSequence(encodeOid(oid), encodeTlv(Tag.UTF8_STRING, utf8Bytes(value)))]));
  };
  attribute(_OID.organizationName, 'organization', fields.organization);
  attribute(_OID.organizationalUnitName, 'organizational unit', fields.organizationalUnit);
  attribute(_OID.commonName, 'common name', fields.commonName);
  return encodeSequence(...rdns);
}

/**
 * Writes and signs a certificate; returns its DER.
 * @example
 * const ca = generateKeyPair(engine.crypto);
 * const caDer = writeCertificate(engine.crypto, {
 *   subject: { commonName: 'dev CA' }, publicKey: ca.publicKey, notBefore, notAfter,
 *   kind: { role: 'ca', pathLength: 0 },
 * }, { selfSigned: true, privateKey: ca.privateKey });
 */
export function writeCertificate(
  deps: { readonly random: RandomSource; readonly signatures: Signatures; readonly hash: Hashes['hash'] },
  profile: CertificateProfile,
  signer: CertificateSigner,
): Uint8Array {
  const serial = profile.serialNumber ?? randomSerialNumber(deps.random);
  _checkSerial(serial);
  _checkValidity(profile);
  const subject = encodeName(profile.subject);
  const subjectKeyId = keyIdentifier(deps, profile.publicKey);
  if (signer.selfSigned === true) {
    // A root signs its own certificate: the key must be the subject's.
    const own = deps.signatures.publicKeyOf(signer.privateKey);
    if (!_sameBytes(_subjectPublicKeyBits(own), _subjectPublicKeyBits(profile.publicKey))) {
      throw new CertificateWriteError('a self-signed certificate must be signed with its own key');
    }
  }
  const { scheme, algorithm } = _signatureAlgorithm(signer.privateKey);
  const extensions = [
    // RFC 5280 4.2.1.9: basicConstraints "MUST appear as a critical extension in all CA
    // certificates"; critical on leaves too, as Go and mkcert write it.
    _extension(_OID.basicConstraints, true, _basicConstraints(profile.kind)),
    // RFC 5280 4.2.1.3: "When present, conforming CAs SHOULD mark this extension as critical."
    _extension(_OID.keyUsage, true, _keyUsage(profile.kind.role === 'ca' ? [5, 6] : [0])),
    ...(profile.kind.role === 'leaf'
      ? [
          _extension(_OID.extKeyUsage, false, _extendedKeyUsage(profile.kind.extendedKeyUsage ?? ['serverAuth', 'clientAuth'])),
          // RFC 5280 4.2.1.6: critical only when the subject is empty.
          _extension(_OID.subjectAltName, subject.length === 2, _subjectAltName(profile.kind.dnsNames, profile.kind.ipAddresses)),
        ]
      : []),
    // RFC 5280 4.2.1.2: on every CA certificate (MUST) and end-entity certificate (SHOULD).
    _extension(_OID.subjectKeyIdentifier, false, encodeOctetString(subjectKeyId)),
    // RFC 5280 4.2.1.1: on every certificate but a self-signed one. AuthorityKeyIdentifier ::=
    // SEQUENCE { keyIdentifier [0] IMPLICIT KeyIdentifier OPTIONAL, ... }
    ...(signer.selfSigned === true
      ? []
      : [_extension(_OID.authorityKeyIdentifier, false, encodeSequence(encodeImplicit(0, signer.keyIdentifier)))]),
  ];
  const tbs = encodeSequence(
    encodeExplicit(0, encodeInteger(2)), // v3
    encodeTlv(Tag.INTEGER, serial),
    algorithm,
    signer.selfSigned === true ? subject : signer.name,
    encodeSequence(_time(profile.notBefore), _time(profile.notAfter)),
    subject,
    encodeSpki(profile.publicKey),
    encodeExplicit(3, encodeSequence(...extensions)),
  );
  const signature = deps.signatures.sign(scheme, signer.privateKey, tbs);
  return encodeSequence(tbs, algorithm, encodeBitString(signature));
}

/**
 * A private key as PKCS #8 DER (RFC 5958 2): an EC key carries its RFC 5915 ECPrivateKey (with
 * the public key, as OpenSSL writes it), an Ed25519 key its CurvePrivateKey (RFC 8410 7). The
 * caller should wipe the result (`fill(0)`) once written out.
 * @example
 * const pem = encodePem('PRIVATE KEY', encodePrivateKeyPkcs8(privateKey, publicKey));
 */
export function encodePrivateKeyPkcs8(privateKey: PrivateKey, publicKey: SpkiPublicKey): Uint8Array {
  switch (privateKey.kind) {
    case 'ec': {
      if (publicKey.kind !== 'ec') throw new CertificateWriteError('the public key is not an EC key');
      // ECPrivateKey ::= SEQUENCE { version INTEGER { ecPrivkeyVer1(1) }, privateKey OCTET STRING,
      //   parameters [0] ECParameters OPTIONAL, publicKey [1] BIT STRING OPTIONAL }
      // The curve is named in the PKCS #8 AlgorithmIdentifier, so [0] is left out (RFC 5915 3).
      const inner = encodeSequence(encodeInteger(1), encodeOctetString(privateKey.secret), encodeExplicit(1, encodeBitString(publicKey.point)));
      const out = encodeSequence(
        encodeInteger(0),
        encodeSequence(encodeOid(KEY_OID.ecPublicKey), encodeOid(KEY_OID[privateKey.curve])),
        encodeOctetString(inner),
      );
      inner.fill(0);
      return out;
    }
    case 'ed25519': {
      // CurvePrivateKey ::= OCTET STRING, itself inside the PrivateKeyInfo's privateKey OCTET STRING.
      const inner = encodeOctetString(privateKey.seed);
      const out = encodeSequence(encodeInteger(0), encodeSequence(encodeOid(KEY_OID.ed25519)), encodeOctetString(inner));
      inner.fill(0);
      return out;
    }
    case 'rsa':
      throw new CertificateWriteError('writing RSA private keys is not supported');
  }
}

// ---------------------------------------------------------------------------------------------

function _extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }:
  // DER leaves a default value out (X.690 11.5).
  return critical ? encodeSequence(encodeOid(oid), encodeBoolean(true), encodeOctetString(value)) : encodeSequence(encodeOid(oid), encodeOctetString(value));
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } */
function _basicConstraints(kind: CertificateProfile['kind']): Uint8Array {
  if (kind.role === 'leaf') return encodeSequence();
  const pathLength = kind.pathLength;
  if (pathLength === undefined) return encodeSequence(encodeBoolean(true));
  if (!Number.isInteger(pathLength) || pathLength < 0) throw new CertificateWriteError(`pathLength must be a non-negative integer, not ${pathLength}`);
  return encodeSequence(encodeBoolean(true), encodeInteger(pathLength));
}

/** KeyUsage ::= BIT STRING, named bits (digitalSignature (0), keyCertSign (5), cRLSign (6)), DER-minimal (X.690 11.2.2). */
function _keyUsage(bits: readonly number[]): Uint8Array {
  const top = Math.max(...bits);
  const bytes = new Uint8Array((top >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return encodeBitString(bytes, 7 - (top & 7));
}

/** ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
function _extendedKeyUsage(purposes: readonly ('serverAuth' | 'clientAuth')[]): Uint8Array {
  if (purposes.length === 0) throw new CertificateWriteError('extendedKeyUsage needs at least one purpose');
  return encodeSequence(...purposes.map((purpose) => encodeOid(_OID[purpose])));
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName; dNSName [2] IA5String, iPAddress [7] OCTET STRING. */
function _subjectAltName(dnsNames: readonly string[], ipAddresses: readonly Uint8Array[]): Uint8Array {
  if (dnsNames.length + ipAddresses.length === 0) throw new CertificateWriteError('a leaf certificate needs at least one DNS name or IP address');
  const names: Uint8Array[] = [];
  for (const name of dnsNames) {
    const problem = presentedDnsNameProblem(name, 'san');
    if (problem !== undefined) throw new CertificateWriteError(`${JSON.stringify(name)} is not a DNS name: ${problem}`);
    // RFC 9525 6.3 and the CA/Browser Forum: a wildcard needs two labels under it.
    if (name.startsWith('*.') && name.split('.').length < 3) throw new CertificateWriteError(`${JSON.stringify(name)}: a wildcard needs at least two labels after it`);
    names.push(encodeImplicit(2, Uint8Array.from(name.toLowerCase(), (c) => c.charCodeAt(0))));
  }
  for (const address of ipAddresses) {
    if (address.length !== 4 && address.length !== 16) throw new CertificateWriteError(`an IP address is 4 or 16 octets, not ${address.length}`);
    names.push(encodeImplicit(7, address));
  }
  return encodeSequence(...names);
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; both with seconds and 'Z'. */
function _time(ms: number): Uint8Array {
  const t = utcFields(ms);
  if (t.year < 1950 || t.year > 9999) throw new CertificateWriteError(`a certificate time must fall in 1950..9999, not ${t.year}`);
  const two = (n: number) => String(n).padStart(2, '0');
  const rest = `${two(t.month)}${two(t.day)}${two(t.hour)}${two(t.minute)}${two(t.second)}Z`;
  const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
  return t.year < 2050 ? encodeTlv(Tag.UTC_TIME, ascii(`${two(t.year % 100)}${rest}`)) : encodeTlv(Tag.GENERALIZED_TIME, ascii(`${t.year}${rest}`));
}

function _checkSerial(serial: Uint8Array): void {
  // INTEGER contents: minimal (X.690 8.3.2) and positive (RFC 5280 4.1.2.2).
  if (serial.length === 0 || serial.length > _SERIAL_OCTETS) throw new CertificateWriteError(`a serial number is 1 to ${_SERIAL_OCTETS} octets, not ${serial.length}`);
  if ((serial[0]! & 0x80) !== 0) throw new CertificateWriteError('a serial number must be positive');
  if (serial.length > 1 && serial[0] === 0 && (serial[1]! & 0x80) === 0) throw new CertificateWriteError('a serial number must be minimally encoded');
  if (serial.every((b) => b === 0)) throw new CertificateWriteError('a serial number must not be zero');
}

function _checkValidity(profile: CertificateProfile): void {
  const { notBefore, notAfter } = profile;
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter) || notAfter <= notBefore) {
    throw new CertificateWriteError('notAfter must come after notBefore');
  }
  if (profile.kind.role === 'leaf' && notAfter - notBefore > MAX_LEAF_VALIDITY_DAYS * _MS_PER_DAY) {
    throw new CertificateWriteError(`a leaf certificate may be valid for at most ${MAX_LEAF_VALIDITY_DAYS} days`);
  }
}

/** The signature scheme an issuer key signs certificates with, and its AlgorithmIdentifier. */
function _signatureAlgorithm(key: PrivateKey): { scheme: SignatureScheme; algorithm: Uint8Array } {
  switch (key.kind) {
    // RFC 5758 3.2: the ecdsa-with-SHA* AlgorithmIdentifiers have no parameters.
    case 'ec':
      return key.curve === 'secp256r1'
        ? { scheme: 'ecdsa_secp256r1_sha256', algorithm: encodeSequence(encodeOid(_OID.ecdsaWithSha256)) }
        : { scheme: 'ecdsa_secp384r1_sha384', algorithm: encodeSequence(encodeOid(_OID.ecdsaWithSha384)) };
    // RFC 8410 3: "the parameters MUST be absent".
    case 'ed25519':
      return { scheme: 'ed25519', algorithm: encodeSequence(encodeOid(KEY_OID.ed25519)) };
    case 'rsa':
      throw new CertificateWriteError('signing certificates with RSA keys is not supported');
  }
}

/** The subjectPublicKey BIT STRING's value (without the unused-bits octet). */
function _subjectPublicKeyBits(key: SpkiPublicKey): Uint8Array {
  switch (key.kind) {
    case 'ec':
      return key.point;
    case 'ed25519':
      return key.publicKey;
    case 'rsa':
      // RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
      return encodeSequence(encodeInteger(key.n), encodeInteger(key.e));
  }
}

function _sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
