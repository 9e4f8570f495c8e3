/**
 * X.509 v3 certificate parsing (RFC 5280 4.1) into the {@link Certificate} shape that path
 * validation consumes.
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
 *      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL, -- v2 or v3
 *      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL, -- v2 or v3
 *      extensions      [3]  EXPLICIT Extensions OPTIONAL        -- v3 }
 * ```
 *
 * Parsing is strict DER throughout (see der.ts) plus the profile rules of RFC 5280 that a
 * parser can check on its own. What the parser decides, and where it is deliberately lenient:
 * - serialNumber: kept as its INTEGER contents bytes. Zero and negative values parse (RFC 5280
 *   4.1.2.2 asks users to handle them gracefully, and a peer's certificate stays inspectable);
 *   path validation refuses them (verify.ts). The magnitude may not exceed 20 octets (so at
 *   most 21 contents octets, the 21st being the 0x00 sign octet): a bound on the parser's work.
 * - Profile rules about a whole certificate (which extensions must or must not be critical or
 *   present, DNS name syntax, key identifiers) are likewise left to path validation, which
 *   applies them only to the certificates of a path it is about to trust.
 * - sha*WithRSAEncryption parameters may be NULL or absent (RFC 4055 5: "Implementations MUST
 *   accept the parameters being absent as well as present"); anything else is `unsupported`.
 * - A recognised signature algorithm with parameters it must not have is `unsupported`, not a
 *   parse error: the certificate is well-formed, it just cannot be verified.
 * - An unsupported or unusable public key (another algorithm, another curve, a compressed
 *   point, RSA without NULL parameters) gives `publicKey: undefined`; only malformed DER fails.
 * - GeneralizedTime is accepted for years before 2050 (RFC 5280 4.1.2.5 says CAs must use
 *   UTCTime there, but the meaning is unambiguous).
 * - Multi-valued RDNs are not checked for DER SET OF ordering (CAs get it wrong; raw bytes are
 *   kept for comparison anyway). keyUsage is not checked for the DER trailing-zero rule of
 *   named bit lists (X.690 11.2.2), which CAs also get wrong; bits beyond decipherOnly are refused.
 *
 * Every failure is a {@link CertificateParseError} with a `reason`; a DerError, SpkiError or
 * PemError behind it is its `cause`.
 * @module
 */

import type { HashName } from '../crypto/hash.js';
import {
  decodeBitString,
  decodeBoolean,
  decodeInteger,
  decodeNull,
  decodeOid,
  DerError,
  DerReader,
  Tag,
  type DerElement,
} from './der.js';
import { PemError, toDerList } from './pem.js';
import { readAlgorithmIdentifier, readSpki, SpkiError, type AlgorithmIdentifier, type SpkiPublicKey } from './spki.js';
import type {
  Certificate,
  CertificateSignatureAlgorithm,
  Extension,
  GeneralNames,
  GeneralSubtrees,
  KeyUsage,
  Name,
  NameAttribute,
} from './types.js';

/** Largest certificate accepted, in bytes of DER. Real certificates are a few KiB. */
export const MAX_CERTIFICATE_BYTES = 64 * 1024;
/** Most extensions accepted in one certificate. */
export const MAX_EXTENSIONS = 64;
/** Most GeneralName entries accepted in a subjectAltName, and subtrees in a nameConstraints. */
export const MAX_GENERAL_NAMES = 1024;

/**
 * A certificate that could not be parsed. `reason` says what was wrong (and cites the rule);
 * `cause` is the DerError, SpkiError or PemError behind it, when there is one.
 * @example
 * try { parseCertificate(bytes); } catch (e) { if (e instanceof CertificateParseError) log(e.reason); }
 */
export class CertificateParseError extends Error {
  override readonly name = 'CertificateParseError';
  /** What was wrong, e.g. 'duplicate extension 2.5.29.19 (RFC 5280 4.2)'. */
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`certificate: ${reason}`, options);
    this.reason = reason;
  }
}

function _fail(reason: string): never {
  throw new CertificateParseError(reason);
}

/** Runs `parse`, turning a DerError into a CertificateParseError that says where it happened. */
function _within<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof DerError) throw new CertificateParseError(`${what}: ${error.message}`, { cause: error });
    if (error instanceof CertificateParseError && !error.reason.startsWith(what)) {
      throw new CertificateParseError(`${what}: ${error.reason}`, { cause: error.cause });
    }
    throw error;
  }
}

/** A dotted OID cut short for messages (hostile OIDs can run to thousands of arcs). */
function _oidText(oid: string): string {
  return oid.length <= 64 ? oid : `${oid.slice(0, 64)}...`;
}

/** A reader over a standalone value (an extnValue, a parameters element) at its absolute offset. */
function _readerOver(bytes: Uint8Array, offset: number): DerReader {
  return new DerReader(bytes, offset);
}

/** Absolute offset of an element's first contents octet. */
function _contentsOffset(el: DerElement): number {
  return el.offset + el.header;
}

// ---------------------------------------------------------------------------------------
// Object identifiers
// ---------------------------------------------------------------------------------------

const _SIG = Object.freeze({
  md2WithRSA: '1.2.840.113549.1.1.2',
  md5WithRSA: '1.2.840.113549.1.1.4',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha256WithRSA: '1.2.840.113549.1.1.11',
  sha384WithRSA: '1.2.840.113549.1.1.12',
  sha512WithRSA: '1.2.840.113549.1.1.13',
  sha224WithRSA: '1.2.840.113549.1.1.14',
  /** OIW sha1WithRSASignature, still seen in old roots. */
  sha1WithRSAOiw: '1.3.14.3.2.29',
  ecdsaSha1: '1.2.840.10045.4.1',
  ecdsaSha224: '1.2.840.10045.4.3.1',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  dsaSha1: '1.2.840.10040.4.3',
  dsaSha256: '2.16.840.1.101.3.4.3.2',
  ed25519: '1.3.101.112',
  ed448: '1.3.101.113',
} as const);

/** Hash algorithm OIDs (RFC 4055 2.1; RFC 3279 2.2.1 for SHA-1). */
const _HASH = Object.freeze({
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  sha224: '2.16.840.1.101.3.4.2.4',
} as const);

/** id-mgf1, RFC 4055 2.2 / RFC 8017 B.2.1. */
const _MGF1 = '1.2.840.113549.1.1.8';

const _HASH_BY_OID: Readonly<Record<string, { name: HashName; bytes: number }>> = Object.freeze({
  [_HASH.sha256]: { name: 'SHA-256', bytes: 32 },
  [_HASH.sha384]: { name: 'SHA-384', bytes: 48 },
  [_HASH.sha512]: { name: 'SHA-512', bytes: 64 },
});

/** Extension OIDs (RFC 5280 4.2.1 and 4.2.2, RFC 6962 3.3). */
const _EXT = Object.freeze({
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
} as const);

/**
 * Extensions recognised without being interpreted: a critical one of these does not make a
 * certificate unusable. certificatePolicies is informational here: with the default inputs of
 * RFC 5280 6.1 (any-policy, no explicit policy required) it cannot change the outcome unless a
 * policyConstraints or inhibitAnyPolicy extension asks for more, and those are refused when
 * critical (below). Revocation and CT data are likewise not acted on. Each is still checked to
 * be a single DER element of the right outer type.
 */
export const UNDERSTOOD_UNINTERPRETED_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({
  [_EXT.certificatePolicies]: 'certificatePolicies (RFC 5280 4.2.1.4)',
  [_EXT.crlDistributionPoints]: 'cRLDistributionPoints (RFC 5280 4.2.1.13)',
  [_EXT.sctList]: 'signedCertificateTimestampList (RFC 6962 3.3)',
});

/**
 * Extensions whose shape is checked but which sandtls does not process: a critical one lands in
 * `unsupportedCriticalExtensions` like an unknown one. Policy constraints (RFC 5280 6.1.4 (i),
 * (j)) would need the policy tree sandtls does not build, so a CA that makes them critical cannot
 * be honoured; authorityInfoAccess "MUST" be non-critical (RFC 5280 4.2.2.1), so a critical one
 * is a nonconforming certificate either way.
 */
export const UNPROCESSED_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({
  [_EXT.policyConstraints]: 'policyConstraints (RFC 5280 4.2.1.11)',
  [_EXT.inhibitAnyPolicy]: 'inhibitAnyPolicy (RFC 5280 4.2.1.14)',
  [_EXT.authorityInfoAccess]: 'authorityInfoAccess (RFC 5280 4.2.2.1)',
});

const _UNDERSTOOD_OUTER_TAG: Readonly<Record<string, number>> = Object.freeze({
  [_EXT.certificatePolicies]: Tag.SEQUENCE,
  [_EXT.policyConstraints]: Tag.SEQUENCE,
  [_EXT.inhibitAnyPolicy]: Tag.INTEGER,
  [_EXT.crlDistributionPoints]: Tag.SEQUENCE,
  [_EXT.authorityInfoAccess]: Tag.SEQUENCE,
  [_EXT.sctList]: Tag.OCTET_STRING,
});

// ---------------------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------------------

/**
 * Parses one certificate from DER bytes or from PEM text holding exactly one `CERTIFICATE`
 * block (RFC 7468 5.1). The input is copied; the result shares no memory with it.
 * Throws {@link CertificateParseError} for anything malformed, and nothing else.
 * @example
 * const cert = parseCertificate(pemText);
 * cert.subject.text;              // 'CN=example.com, O=Example'
 * cert.subjectAltName?.dns;       // ['example.com', 'www.example.com']
 * cert.signatureAlgorithm.kind;   // 'ecdsa'
 */
export function parseCertificate(derOrPem: Uint8Array | string): Certificate {
  try {
    return _parseCertificate(_certificateBytes(derOrPem));
  } catch (error) {
    if (error instanceof CertificateParseError) throw error;
    if (error instanceof DerError) throw new CertificateParseError(`malformed DER: ${error.message}`, { cause: error });
    if (error instanceof PemError) throw new CertificateParseError(`bad PEM: ${error.message}`, { cause: error });
    if (error instanceof SpkiError) throw new CertificateParseError(`subjectPublicKeyInfo: ${error.message}`, { cause: error });
    // Not reachable for any input (the fuzz test checks that no reason starts with this);
    // kept so that the documented contract "only CertificateParseError" holds regardless.
    throw new CertificateParseError(`internal error: ${error instanceof Error ? error.name : typeof error}`, { cause: error });
  }
}

function _certificateBytes(derOrPem: Uint8Array | string): Uint8Array {
  if (typeof derOrPem !== 'string' && !(derOrPem instanceof Uint8Array)) {
    _fail('input must be DER bytes (Uint8Array) or PEM text (string)');
  }
  const list = toDerList(derOrPem, 'CERTIFICATE');
  if (list.length !== 1) _fail(`expected exactly one CERTIFICATE block, found ${list.length}`);
  const der = list[0]!;
  if (der.length > MAX_CERTIFICATE_BYTES) _fail(`${der.length} bytes exceeds the ${MAX_CERTIFICATE_BYTES}-byte limit`);
  // A private copy: every view in the result points into it, never into the caller's buffer.
  return der.slice();
}

function _parseCertificate(der: Uint8Array): Certificate {
  const outer = new DerReader(der);
  const certEl = _within('Certificate', () => {
    const el = outer.readExpected(Tag.SEQUENCE);
    outer.end(); // nothing may follow the certificate
    return el;
  });
  const cert = outer.enter(certEl);
  const { tbsEl, sigAlgEl, signatureValue } = _within('Certificate', () => {
    const tbs = cert.readExpected(Tag.SEQUENCE);
    const alg = cert.readExpected(Tag.SEQUENCE);
    const sig = cert.readBitString();
    cert.end();
    return { tbsEl: tbs, sigAlgEl: alg, signatureValue: sig };
  });

  // Signatures of every algorithm here are octet strings; a partial octet means corruption.
  if (signatureValue.unusedBits !== 0) _fail(`signatureValue has ${signatureValue.unusedBits} unused bits`);

  const tbs = cert.enter(tbsEl);

  // RFC 5280 4.1.2.1: version [0] EXPLICIT Version DEFAULT v1.
  let version: 1 | 2 | 3 = 1;
  if (tbs.peekTag() === 0xa0) {
    const v = _within('version', () => {
      const wrapper = tbs.readContextSpecific(0, 'explicit');
      const value = wrapper.readInteger();
      wrapper.end();
      return value;
    });
    // X.690 11.5: a DER encoding omits a component equal to its DEFAULT value.
    if (v === 0n) _fail('version v1 encoded explicitly; DER requires the DEFAULT to be omitted (X.690 11.5, RFC 5280 4.1)');
    if (v === 1n) version = 2;
    else if (v === 2n) version = 3;
    else _fail(`unknown version (INTEGER ${v >= 0n && v < 1000n ? String(v) : 'out of range'}; RFC 5280 4.1.2.1 defines 0..2)`);
  }

  // RFC 5280 4.1.2.2: CertificateSerialNumber ::= INTEGER.
  const serialNumber = _within('serialNumber', () => {
    const el = tbs.readExpected(Tag.INTEGER);
    const contents = el.contents;
    const magnitude = contents[0] === 0x00 && contents.length > 1 ? contents.length - 1 : contents.length;
    // RFC 5280 4.1.2.2: "Conforming CAs MUST NOT use serialNumber values longer than 20 octets."
    // Checked first, so a huge INTEGER is refused before any arithmetic on it.
    if (magnitude > 20) _fail(`serialNumber of ${magnitude} octets exceeds 20 (RFC 5280 4.1.2.2)`);
    decodeInteger(contents, _contentsOffset(el)); // non-empty, minimal (X.690 8.3)
    return contents;
  });

  const tbsSigAlgEl = _within('signature', () => tbs.readExpected(Tag.SEQUENCE));
  // RFC 5280 4.1.1.2: signatureAlgorithm "MUST contain the same algorithm identifier as the
  // signature field in the sequence tbsCertificate" -- compared byte for byte.
  if (!_bytesEqual(tbsSigAlgEl.raw, sigAlgEl.raw)) {
    _fail('signatureAlgorithm differs from the TBSCertificate signature field (RFC 5280 4.1.1.2)');
  }
  const signatureAlgorithm = _within('signatureAlgorithm', () => {
    const r = _readerOver(sigAlgEl.raw, sigAlgEl.offset);
    const alg = readAlgorithmIdentifier(r);
    r.end();
    return _signatureAlgorithm(alg);
  });

  const issuer = _within('issuer', () => _readName(tbs));
  const { notBefore, notAfter } = _within('validity', () => {
    // RFC 5280 4.1.2.5: Validity ::= SEQUENCE { notBefore Time, notAfter Time }
    const validity = tbs.readSequence();
    const nb = _readTime(validity);
    const na = _readTime(validity);
    validity.end();
    return { notBefore: nb, notAfter: na };
  });
  const subject = _within('subject', () => _readName(tbs));

  // RFC 5280 4.1.2.7. Structure first (malformed DER fails); then the key itself, where an
  // algorithm or shape sandtls does not support only leaves publicKey undefined.
  const spkiEl = _within('subjectPublicKeyInfo', () => {
    const el = tbs.readExpected(Tag.SEQUENCE);
    const spki = tbs.enter(el);
    readAlgorithmIdentifier(spki);
    spki.readBitString();
    spki.end();
    return el;
  });
  const publicKey = _within('subjectPublicKeyInfo', (): SpkiPublicKey | undefined => {
    try {
      const r = _readerOver(spkiEl.raw, spkiEl.offset);
      const key = readSpki(r);
      r.end();
      return key;
    } catch (error) {
      if (error instanceof SpkiError) return undefined;
      throw error;
    }
  });

  // RFC 5280 4.1.2.8: unique identifiers "MUST only appear if the version is 2 or 3". Skipped.
  for (const [n, name] of [[1, 'issuerUniqueID'], [2, 'subjectUniqueID']] as const) {
    if (tbs.peekTag() === 0x80 + n) {
      if (version === 1) _fail(`${name} in a v1 certificate (RFC 5280 4.1.2.8)`);
      _within(name, () => {
        const el = tbs.readContextSpecific(n, 'implicit');
        decodeBitString(el.contents, _contentsOffset(el));
      });
    }
  }

  let extensions: _Extensions | undefined;
  if (tbs.peekTag() === 0xa3) {
    // RFC 5280 4.1.2.9: "This field MUST only appear if the version is 3."
    if (version !== 3) _fail(`extensions in a v${version} certificate (RFC 5280 4.1.2.9)`);
    const list = _within('extensions', () => {
      const wrapper = tbs.readContextSpecific(3, 'explicit');
      const seq = wrapper.readSequence();
      wrapper.end();
      return seq;
    });
    extensions = _readExtensions(list);
  }
  _within('TBSCertificate', () => tbs.end());

  const ext = extensions ?? _NO_EXTENSIONS;
  const result: Certificate = {
    raw: der,
    tbs: tbsEl.raw,
    version,
    serialNumber,
    signatureAlgorithm,
    signature: signatureValue.bytes,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: spkiEl.raw,
    publicKey,
    extensions: ext.list,
    ...(ext.basicConstraints === undefined ? {} : { basicConstraints: ext.basicConstraints }),
    ...(ext.keyUsage === undefined ? {} : { keyUsage: ext.keyUsage }),
    ...(ext.extKeyUsage === undefined ? {} : { extKeyUsage: ext.extKeyUsage }),
    ...(ext.subjectAltName === undefined ? {} : { subjectAltName: ext.subjectAltName }),
    ...(ext.nameConstraints === undefined ? {} : { nameConstraints: ext.nameConstraints }),
    ...(ext.authorityKeyIdentifier === undefined ? {} : { authorityKeyIdentifier: ext.authorityKeyIdentifier }),
    ...(ext.subjectKeyIdentifier === undefined ? {} : { subjectKeyIdentifier: ext.subjectKeyIdentifier }),
    unsupportedCriticalExtensions: ext.unsupportedCritical,
  };
  return Object.freeze(result);
}

function _bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------
// Signature algorithms
// ---------------------------------------------------------------------------------------

function _unsupported(oid: string, reason: string): CertificateSignatureAlgorithm {
  return Object.freeze({ kind: 'unsupported', oid, reason });
}

function _isNullOrAbsent(parameters: DerElement | undefined): boolean {
  if (parameters === undefined) return true;
  if (parameters.tag !== Tag.NULL) return false;
  decodeNull(parameters.contents, _contentsOffset(parameters)); // NULL with contents is malformed DER
  return true;
}

/** Maps a signature AlgorithmIdentifier to what sandtls can verify (RFC 5280 4.1.1.2). */
function _signatureAlgorithm(alg: AlgorithmIdentifier): CertificateSignatureAlgorithm {
  const { algorithm: oid, parameters } = alg;
  switch (oid) {
    case _SIG.sha256WithRSA:
    case _SIG.sha384WithRSA:
    case _SIG.sha512WithRSA: {
      // RFC 4055 5: "the parameters MUST be NULL. Implementations MUST accept the parameters
      // being absent as well as present."
      if (!_isNullOrAbsent(parameters)) return _unsupported(oid, 'PKCS #1 v1.5 parameters must be NULL or absent (RFC 4055 5)');
      const hash: HashName = oid === _SIG.sha256WithRSA ? 'SHA-256' : oid === _SIG.sha384WithRSA ? 'SHA-384' : 'SHA-512';
      return Object.freeze({ kind: 'rsa-pkcs1', hash });
    }
    case _SIG.rsassaPss:
      return _pssAlgorithm(oid, parameters);
    case _SIG.ecdsaSha256:
    case _SIG.ecdsaSha384:
    case _SIG.ecdsaSha512: {
      // RFC 5758 3.2: "the encoding MUST omit the parameters field".
      if (parameters !== undefined) return _unsupported(oid, 'ECDSA parameters must be absent (RFC 5758 3.2)');
      const hash = oid === _SIG.ecdsaSha256 ? 'SHA-256' : oid === _SIG.ecdsaSha384 ? 'SHA-384' : 'SHA-512';
      return Object.freeze({ kind: 'ecdsa', hash });
    }
    case _SIG.ed25519:
      // RFC 8410 3: "For all of the OIDs, the parameters MUST be absent."
      if (parameters !== undefined) return _unsupported(oid, 'Ed25519 parameters must be absent (RFC 8410 3)');
      return Object.freeze({ kind: 'ed25519' });
    case _SIG.sha1WithRSA:
    case _SIG.sha1WithRSAOiw:
    case _SIG.ecdsaSha1:
    case _SIG.dsaSha1:
      return _unsupported(oid, 'weak hash (SHA-1)');
    case _SIG.md5WithRSA:
      return _unsupported(oid, 'weak hash (MD5)');
    case _SIG.md2WithRSA:
      return _unsupported(oid, 'weak hash (MD2)');
    case _SIG.sha224WithRSA:
    case _SIG.ecdsaSha224:
      return _unsupported(oid, 'SHA-224 is not supported');
    case _SIG.dsaSha256:
      return _unsupported(oid, 'DSA is not supported');
    case _SIG.ed448:
      return _unsupported(oid, 'Ed448 is not supported');
    default:
      return _unsupported(oid, 'unknown signature algorithm');
  }
}

/**
 * RSASSA-PSS (RFC 4055 3.1) restricted to what TLS 1.3 and sandtls's RSA code do: hash
 * SHA-256/384/512, MGF1 with the same hash, salt length equal to the hash length, trailer 1.
 * ```
 * RSASSA-PSS-params  ::=  SEQUENCE  {
 *     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
 *     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
 *     saltLength         [2] INTEGER DEFAULT 20,
 *     trailerField       [3] INTEGER DEFAULT trailerFieldBC(1) }
 * ```
 */
function _pssAlgorithm(oid: string, parameters: DerElement | undefined): CertificateSignatureAlgorithm {
  // RFC 4055 3.1: in signatureAlgorithm the parameters MUST be present (the SEQUENCE may be
  // empty, which means all defaults, i.e. SHA-1).
  if (parameters === undefined || parameters.tag !== Tag.SEQUENCE) {
    return _unsupported(oid, 'RSASSA-PSS parameters must be an RSASSA-PSS-params SEQUENCE (RFC 4055 3.1)');
  }
  const r = _readerOver(parameters.raw, parameters.offset);
  const params = r.readSequence();
  r.end();
  let hashOid: string = _HASH.sha1;
  let hashParamsOk = true;
  if (params.peekTag() === 0xa0) {
    const wrapper = params.readContextSpecific(0, 'explicit');
    const hashAlg = readAlgorithmIdentifier(wrapper);
    wrapper.end();
    hashOid = hashAlg.algorithm;
    // RFC 4055 2.1: hash parameters may be NULL or absent, "legal and equivalent encodings".
    hashParamsOk = _isNullOrAbsent(hashAlg.parameters);
  }
  let mgfOid: string = _MGF1;
  let mgfHashOid: string = _HASH.sha1;
  let mgfHashParamsOk = true;
  if (params.peekTag() === 0xa1) {
    const wrapper = params.readContextSpecific(1, 'explicit');
    const mgf = readAlgorithmIdentifier(wrapper);
    wrapper.end();
    mgfOid = mgf.algorithm;
    if (mgfOid === _MGF1) {
      // RFC 4055 2.2: the MGF1 parameter is the hash AlgorithmIdentifier.
      if (mgf.parameters === undefined || mgf.parameters.tag !== Tag.SEQUENCE) {
        return _unsupported(oid, 'RSASSA-PSS MGF1 parameters must be a hash AlgorithmIdentifier (RFC 4055 2.2)');
      }
      const inner = _readerOver(mgf.parameters.raw, mgf.parameters.offset);
      const mgfHash = readAlgorithmIdentifier(inner);
      inner.end();
      mgfHashOid = mgfHash.algorithm;
      mgfHashParamsOk = _isNullOrAbsent(mgfHash.parameters);
    }
  }
  let saltLength = 20n;
  if (params.peekTag() === 0xa2) {
    const wrapper = params.readContextSpecific(2, 'explicit');
    saltLength = wrapper.readInteger();
    wrapper.end();
  }
  let trailerField = 1n;
  if (params.peekTag() === 0xa3) {
    const wrapper = params.readContextSpecific(3, 'explicit');
    trailerField = wrapper.readInteger();
    wrapper.end();
  }
  params.end();

  if (hashOid === _HASH.sha1) return _unsupported(oid, 'weak hash (SHA-1)');
  const hash = _HASH_BY_OID[hashOid];
  if (hash === undefined || !hashParamsOk) return _unsupported(oid, 'RSASSA-PSS hash must be SHA-256, SHA-384 or SHA-512');
  if (mgfOid !== _MGF1) return _unsupported(oid, 'RSASSA-PSS mask generation function must be MGF1 (RFC 4055 3.1)');
  if (mgfHashOid !== hashOid || !mgfHashParamsOk) return _unsupported(oid, 'RSASSA-PSS MGF1 hash must equal the message hash (RFC 8446 4.2.3)');
  if (saltLength !== BigInt(hash.bytes)) return _unsupported(oid, 'RSASSA-PSS salt length must equal the hash length (RFC 8446 4.2.3)');
  // RFC 4055 3.1: trailerField "MUST be 1" (0xbc).
  if (trailerField !== 1n) return _unsupported(oid, 'RSASSA-PSS trailerField must be 1 (RFC 4055 3.1)');
  return Object.freeze({ kind: 'rsa-pss', hash: hash.name });
}

// ---------------------------------------------------------------------------------------
// Names (RFC 5280 4.1.2.4)
// ---------------------------------------------------------------------------------------

/** Short names for the readable form (RFC 4514 3, plus the ones OpenSSL and browsers show). */
const _SHORT_NAMES: Readonly<Record<string, string>> = Object.freeze({
  '2.5.4.3': 'CN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
});

/**
 * Reads a Name:
 * ```
 * Name ::= CHOICE { rdnSequence  RDNSequence }
 * RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type AttributeType, value AttributeValue }
 * ```
 */
function _readName(reader: DerReader): Name {
  const el = reader.readExpected(Tag.SEQUENCE);
  const seq = reader.enter(el);
  const rdns: (readonly NameAttribute[])[] = [];
  while (seq.hasMore()) {
    const set = seq.readSet();
    // RFC 5280 4.1.2.4: RelativeDistinguishedName ::= SET SIZE (1..MAX).
    if (!set.hasMore()) _fail('empty RelativeDistinguishedName (RFC 5280 4.1.2.4: SET SIZE (1..MAX))');
    const attributes: NameAttribute[] = [];
    while (set.hasMore()) {
      const atv = set.readSequence();
      const type = atv.readOid();
      const value = atv.readElement();
      atv.end();
      attributes.push(Object.freeze({ type, value: _attributeValueText(value) }));
    }
    rdns.push(Object.freeze(attributes));
  }
  return Object.freeze({ raw: el.raw, rdns: Object.freeze(rdns), text: _nameText(rdns) });
}

/**
 * The value of an attribute as text. DirectoryString choices (RFC 5280 4.1.2.4) and the ASCII
 * string types are decoded; any other type is shown as '#' and the hex of its DER (RFC 4514 2.4).
 */
function _attributeValueText(el: DerElement): string {
  const at = _contentsOffset(el);
  const text = _decodeString(el.tag, el.contents);
  if (text === null) {
    let hex = '#';
    for (const b of el.raw) hex += b.toString(16).padStart(2, '0');
    return hex;
  }
  if (text === undefined) _fail(`attribute value at offset ${at} is not valid for its string type (tag 0x${el.tag.toString(16)})`);
  return text;
}

/**
 * Decodes the string types of X.509 names: text, `undefined` for bytes invalid for the type,
 * `null` for a tag that is not a string type.
 */
function _decodeString(tag: number, bytes: Uint8Array): string | undefined | null {
  switch (tag) {
    case Tag.UTF8_STRING:
      return _decodeUtf8(bytes);
    case 0x12: // NumericString
    case Tag.PRINTABLE_STRING:
    case 0x1a: // VisibleString
      // Printable ASCII only. PrintableString's own set (X.680 41.4) is narrower, but CAs put
      // '*', '@', '&' and '_' in it; the raw DER is what comparisons use anyway.
      return _decodeAscii(bytes, 0x20, 0x7e);
    case Tag.IA5_STRING:
      return _decodeAscii(bytes, 0x00, 0x7f);
    case Tag.T61_STRING:
      // TeletexString (T.61) is read as Latin-1, as every other implementation does.
      return _decodeLatin1(bytes);
    case Tag.BMP_STRING:
      return _decodeUtf16be(bytes);
    case Tag.UNIVERSAL_STRING:
      return _decodeUtf32be(bytes);
    default:
      return null;
  }
}

/** RFC 4514 2.1: RDNs from last to first, joined by ','; multi-valued RDNs joined by '+'. */
function _nameText(rdns: readonly (readonly NameAttribute[])[]): string {
  const parts: string[] = [];
  for (let i = rdns.length - 1; i >= 0; i--) {
    parts.push(rdns[i]!.map((a) => `${_SHORT_NAMES[a.type] ?? _oidText(a.type)}=${_escapeValue(a.value)}`).join('+'));
  }
  return parts.join(', ');
}

/** RFC 4514 2.4 escaping; control characters are hex-escaped too, so the text is safe to log. */
function _escapeValue(value: string): string {
  if (/^#[0-9a-f]*$/.test(value) && value.length > 1) return value; // a hex-encoded value (RFC 4514 2.4)
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const code = value.charCodeAt(i);
    if ('"+,;<>\\'.includes(c) || (i === 0 && (c === '#' || c === ' ')) || (i === value.length - 1 && c === ' ')) {
      out += `\\${c}`;
    } else if (code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).padStart(2, '0')}`;
    } else {
      out += c;
    }
  }
  return out;
}

function _decodeAscii(bytes: Uint8Array, min: number, max: number): string | undefined {
  let out = '';
  for (const b of bytes) {
    if (b < min || b > max) return undefined;
    out += String.fromCharCode(b);
  }
  return out;
}

function _decodeLatin1(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/**
 * Strict UTF-8 (RFC 3629 4): no overlong forms, no surrogates, nothing above U+10FFFF, no
 * truncated sequences. Returns undefined for invalid input.
 * @example _decodeUtf8(Uint8Array.of(0xc3, 0xa9)) === 'é'
 */
function _decodeUtf8(bytes: Uint8Array): string | undefined {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      out += String.fromCharCode(b0);
      i++;
      continue;
    }
    let count: number;
    let min: number;
    let cp: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) [count, min, cp] = [1, 0x80, b0 & 0x1f];
    else if (b0 >= 0xe0 && b0 <= 0xef) [count, min, cp] = [2, 0x800, b0 & 0x0f];
    else if (b0 >= 0xf0 && b0 <= 0xf4) [count, min, cp] = [3, 0x10000, b0 & 0x07];
    else return undefined; // continuation byte first, or 0xc0/0xc1/0xf5.. (RFC 3629 4)
    for (let j = 1; j <= count; j++) {
      const b = bytes[i + j];
      if (b === undefined || (b & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
    i += count + 1;
  }
  return out;
}

/** BMPString: UTF-16BE code units (surrogate pairs accepted, unpaired ones refused). */
function _decodeUtf16be(bytes: Uint8Array): string | undefined {
  if (bytes.length % 2 !== 0) return undefined;
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = (bytes[i]! << 8) | bytes[i + 1]!;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = i + 3 < bytes.length ? (bytes[i + 2]! << 8) | bytes[i + 3]! : -1;
      if (next < 0xdc00 || next > 0xdfff) return undefined;
      out += String.fromCharCode(unit, next);
      i += 2;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return undefined;
    } else {
      out += String.fromCharCode(unit);
    }
  }
  return out;
}

/** UniversalString: UCS-4 big-endian; code points above U+10FFFF and surrogates refused. */
function _decodeUtf32be(bytes: Uint8Array): string | undefined {
  if (bytes.length % 4 !== 0) return undefined;
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const cp = bytes[i]! * 0x1000000 + ((bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Time (RFC 5280 4.1.2.5)
// ---------------------------------------------------------------------------------------

const _MS_PER_DAY = 86_400_000;

/**
 * Days from 1970-01-01 to the given proleptic Gregorian date. Counts from 0000-03-01 so that
 * the leap day is the last day of its year; (153 * m + 2) / 5 is the number of days before
 * month m in that March-based year (month lengths 31,30,31,30,31 repeat).
 */
function _daysSinceEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const m = month <= 2 ? month + 9 : month - 3; // March = 0 ... February = 11
  const dayOfYear = Math.floor((153 * m + 2) / 5) + day - 1;
  const days = y * 365 + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + dayOfYear;
  return days - 719_468; // the same count for 1970-01-01
}

function _isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function _daysInMonth(year: number, month: number): number {
  if (month === 2) return _isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Reads a Time (RFC 5280 4.1.2.5) as milliseconds since the Unix epoch.
 * - UTCTime: exactly YYMMDDHHMMSSZ; YY >= 50 means 19YY, YY < 50 means 20YY (4.1.2.5.1).
 * - GeneralizedTime: exactly YYYYMMDDHHMMSSZ, no fractional seconds (4.1.2.5.2).
 */
function _readTime(reader: DerReader): number {
  const tag = reader.peekTag();
  if (tag !== Tag.UTC_TIME && tag !== Tag.GENERALIZED_TIME) {
    // Let the reader produce the usual "expected ..., found ..." error with its offset.
    reader.readExpected(Tag.UTC_TIME);
  }
  const el = reader.readElement();
  const s = el.contents;
  const utc = el.tag === Tag.UTC_TIME;
  const kind = utc ? 'UTCTime' : 'GeneralizedTime';
  const length = utc ? 13 : 15;
  // RFC 5280 4.1.2.5.1/4.1.2.5.2: "MUST be expressed in Greenwich Mean Time (Zulu) and MUST
  // include seconds", and GeneralizedTime "MUST NOT include fractional seconds".
  if (s.length !== length || s[length - 1] !== 0x5a /* Z */) {
    _fail(`${kind} at offset ${el.offset} is not ${utc ? 'YYMMDDHHMMSSZ' : 'YYYYMMDDHHMMSSZ'} (RFC 5280 ${utc ? '4.1.2.5.1' : '4.1.2.5.2'})`);
  }
  const digits: number[] = [];
  for (let i = 0; i < length - 1; i++) {
    const d = s[i]! - 0x30;
    if (d < 0 || d > 9) _fail(`${kind} at offset ${el.offset} has a non-digit character`);
    digits.push(d);
  }
  const two = (i: number): number => digits[i]! * 10 + digits[i + 1]!;
  let year: number;
  let p: number;
  if (utc) {
    const yy = two(0);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280 4.1.2.5.1
    p = 2;
  } else {
    year = two(0) * 100 + two(2);
    p = 4;
  }
  const month = two(p);
  const day = two(p + 2);
  const hour = two(p + 4);
  const minute = two(p + 6);
  const second = two(p + 8);
  if (month < 1 || month > 12 || day < 1 || day > _daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    _fail(`${kind} at offset ${el.offset} is not a valid date and time`);
  }
  return _daysSinceEpoch(year, month, day) * _MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
}

// ---------------------------------------------------------------------------------------
// Extensions (RFC 5280 4.1.2.9, 4.2)
// ---------------------------------------------------------------------------------------

interface _Extensions {
  list: readonly Extension[];
  basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  keyUsage?: ReadonlySet<KeyUsage>;
  extKeyUsage?: readonly string[];
  subjectAltName?: GeneralNames;
  nameConstraints?: { readonly permitted?: GeneralSubtrees; readonly excluded?: GeneralSubtrees };
  authorityKeyIdentifier?: Uint8Array;
  subjectKeyIdentifier?: Uint8Array;
  unsupportedCritical: readonly string[];
}

const _NO_EXTENSIONS: _Extensions = Object.freeze({ list: Object.freeze([]), unsupportedCritical: Object.freeze([]) });

/**
 * ```
 * Extensions  ::=  SEQUENCE SIZE (1..MAX) OF Extension
 * Extension  ::=  SEQUENCE  {
 *      extnID      OBJECT IDENTIFIER,
 *      critical    BOOLEAN DEFAULT FALSE,
 *      extnValue   OCTET STRING }
 * ```
 */
function _readExtensions(list: DerReader): _Extensions {
  if (!list.hasMore()) _fail('empty Extensions sequence (RFC 5280 4.1: SEQUENCE SIZE (1..MAX))');
  const out: _Extensions = { list: [], unsupportedCritical: [] };
  const extensions: Extension[] = [];
  const unsupportedCritical: string[] = [];
  const seen = new Set<string>();
  while (list.hasMore()) {
    if (extensions.length === MAX_EXTENSIONS) _fail(`more than ${MAX_EXTENSIONS} extensions`);
    const { oid, criticalEl, valueEl } = _within('extensions', () => {
      const ext = list.readSequence();
      const extnId = ext.readOid();
      const criticalBoolean = ext.readOptional(Tag.BOOLEAN);
      const extnValue = ext.readExpected(Tag.OCTET_STRING);
      ext.end();
      return { oid: extnId, criticalEl: criticalBoolean, valueEl: extnValue };
    });
    let critical = false;
    if (criticalEl !== undefined) {
      critical = _within(`extension ${_oidText(oid)}`, () => decodeBoolean(criticalEl.contents, _contentsOffset(criticalEl)));
      // X.690 11.5: DEFAULT FALSE must be omitted, so an encoded FALSE is not DER.
      if (!critical) _fail(`extension ${_oidText(oid)}: critical encoded as FALSE; DER omits the DEFAULT (X.690 11.5)`);
    }
    // RFC 5280 4.2: "A certificate MUST NOT include more than one instance of a particular extension."
    if (seen.has(oid)) _fail(`duplicate extension ${_oidText(oid)} (RFC 5280 4.2)`);
    seen.add(oid);
    const value = valueEl.contents;
    extensions.push(Object.freeze({ oid, critical, value }));
    const understood = _within(`extension ${_oidText(oid)}`, () => _decodeExtension(out, oid, value, _contentsOffset(valueEl)));
    // RFC 5280 4.2: a system "MUST reject the certificate if it encounters a critical extension
    // it does not recognize"; the verifier does that from this list.
    if (critical && !understood) unsupportedCritical.push(oid);
  }
  out.list = Object.freeze(extensions);
  out.unsupportedCritical = Object.freeze(unsupportedCritical);
  return out;
}

/** Decodes one extension into `out`; returns whether the OID is one sandtls understands. */
function _decodeExtension(out: _Extensions, oid: string, value: Uint8Array, offset: number): boolean {
  const r = _readerOver(value, offset);
  switch (oid) {
    case _EXT.basicConstraints:
      out.basicConstraints = _basicConstraints(r);
      break;
    case _EXT.keyUsage:
      out.keyUsage = _keyUsage(r);
      break;
    case _EXT.extKeyUsage:
      out.extKeyUsage = _extKeyUsage(r);
      break;
    case _EXT.subjectAltName:
      out.subjectAltName = _subjectAltName(r);
      break;
    case _EXT.nameConstraints:
      out.nameConstraints = _nameConstraints(r);
      break;
    case _EXT.authorityKeyIdentifier: {
      const keyIdentifier = _authorityKeyIdentifier(r);
      if (keyIdentifier !== undefined) out.authorityKeyIdentifier = keyIdentifier;
      break;
    }
    case _EXT.subjectKeyIdentifier:
      // RFC 5280 4.2.1.2: SubjectKeyIdentifier ::= KeyIdentifier ::= OCTET STRING
      out.subjectKeyIdentifier = r.readOctetString();
      break;
    default: {
      const tag = _UNDERSTOOD_OUTER_TAG[oid];
      if (tag === undefined) return false; // not understood; its bytes stay in `extensions`
      r.readExpected(tag);
      r.end();
      return !(oid in UNPROCESSED_EXTENSIONS);
    }
  }
  r.end();
  return true;
}

/**
 * RFC 5280 4.2.1.9:
 * ```
 * BasicConstraints ::= SEQUENCE {
 *      cA                      BOOLEAN DEFAULT FALSE,
 *      pathLenConstraint       INTEGER (0..MAX) OPTIONAL }
 * ```
 */
function _basicConstraints(r: DerReader): { readonly ca: boolean; readonly pathLen?: number } {
  const seq = r.readSequence();
  let ca = false;
  const caEl = seq.readOptional(Tag.BOOLEAN);
  if (caEl !== undefined) {
    ca = decodeBoolean(caEl.contents, _contentsOffset(caEl));
    if (!ca) _fail('basicConstraints cA encoded as FALSE; DER omits the DEFAULT (X.690 11.5)');
  }
  let pathLen: number | undefined;
  if (seq.hasMore()) {
    const v = seq.readInteger();
    if (v < 0n) _fail('basicConstraints pathLenConstraint is negative (RFC 5280 4.2.1.9: INTEGER (0..MAX))');
    // Any value this large is unlimited in practice; no chain is that long.
    pathLen = v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  seq.end();
  return Object.freeze(pathLen === undefined ? { ca } : { ca, pathLen });
}

/** RFC 5280 4.2.1.3 named bits, in bit order. */
const _KEY_USAGE_BITS: readonly KeyUsage[] = Object.freeze([
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
]);

/** RFC 5280 4.2.1.3: KeyUsage ::= BIT STRING { digitalSignature (0), ..., decipherOnly (8) } */
function _keyUsage(r: DerReader): ReadonlySet<KeyUsage> {
  const { bytes, unusedBits } = r.readBitString();
  const bitCount = bytes.length * 8 - unusedBits;
  const usages = new Set<KeyUsage>();
  for (let bit = 0; bit < bitCount; bit++) {
    if ((bytes[bit >> 3]! & (0x80 >> (bit & 7))) === 0) continue;
    const usage = _KEY_USAGE_BITS[bit];
    if (usage === undefined) _fail(`keyUsage bit ${bit} is not defined (RFC 5280 4.2.1.3)`);
    usages.add(usage);
  }
  // RFC 5280 4.2.1.3: "When the keyUsage extension appears in a certificate, at least one of
  // the bits MUST be set to 1."
  if (usages.size === 0) _fail('keyUsage with no bits set (RFC 5280 4.2.1.3)');
  return usages;
}

/** RFC 5280 4.2.1.12: ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId (an OID). */
function _extKeyUsage(r: DerReader): readonly string[] {
  const seq = r.readSequence();
  if (!seq.hasMore()) _fail('empty extKeyUsage (RFC 5280 4.2.1.12: SEQUENCE SIZE (1..MAX))');
  const purposes: string[] = [];
  while (seq.hasMore()) {
    if (purposes.length === MAX_GENERAL_NAMES) _fail(`more than ${MAX_GENERAL_NAMES} extKeyUsage purposes`);
    purposes.push(seq.readOid());
  }
  return Object.freeze(purposes);
}

/** One GeneralName, checked for its CHOICE alternative's encoding. */
interface _GeneralName {
  tag: number;
  raw: Uint8Array;
  contents: Uint8Array;
}

/**
 * Reads one GeneralName (RFC 5280 4.2.1.6; the module uses IMPLICIT tags):
 * ```
 * GeneralName ::= CHOICE {
 *      otherName                 [0]  OtherName,
 *      rfc822Name                [1]  IA5String,
 *      dNSName                   [2]  IA5String,
 *      x400Address               [3]  ORAddress,
 *      directoryName             [4]  Name,
 *      ediPartyName              [5]  EDIPartyName,
 *      uniformResourceIdentifier [6]  IA5String,
 *      iPAddress                 [7]  OCTET STRING,
 *      registeredID              [8]  OBJECT IDENTIFIER }
 * ```
 */
function _readGeneralName(r: DerReader): _GeneralName {
  const el = r.readElement();
  const at = _contentsOffset(el);
  switch (el.tag) {
    case 0xa0: {
      // OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
      const other = r.enter(el);
      other.readOid();
      const value = other.readContextSpecific(0, 'explicit');
      value.readElement();
      value.end();
      other.end();
      break;
    }
    case 0x81: // rfc822Name
    case 0x82: // dNSName
    case 0x86: // uniformResourceIdentifier
      if (_decodeAscii(el.contents, 0x00, 0x7f) === undefined) _fail(`GeneralName at offset ${el.offset}: IA5String with a non-ASCII byte`);
      break;
    case 0xa4: {
      // directoryName [4] Name: EXPLICIT, as Name is a CHOICE (X.680 31.2.7).
      const inner = r.enter(el);
      _readName(inner);
      inner.end();
      break;
    }
    case 0xa3: // x400Address, kept raw
    case 0xa5: // ediPartyName, kept raw
    case 0x87: // iPAddress: length checked by the caller, which knows the context
      break;
    case 0x88: // registeredID
      decodeOid(el.contents, at);
      break;
    default:
      _fail(`GeneralName at offset ${el.offset} has tag 0x${el.tag.toString(16)}, not one of [0]..[8] (RFC 5280 4.2.1.6)`);
  }
  return { tag: el.tag, raw: el.raw, contents: el.contents };
}

/** RFC 5280 4.2.1.6: GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName */
function _subjectAltName(r: DerReader): GeneralNames {
  const seq = r.readSequence();
  if (!seq.hasMore()) _fail('empty subjectAltName (RFC 5280 4.2.1.6: GeneralNames ::= SEQUENCE SIZE (1..MAX))');
  const dns: string[] = [];
  const ip: Uint8Array[] = [];
  const other: { tag: number; raw: Uint8Array }[] = [];
  let count = 0;
  while (seq.hasMore()) {
    if (++count > MAX_GENERAL_NAMES) _fail(`more than ${MAX_GENERAL_NAMES} subjectAltName entries`);
    const name = _readGeneralName(seq);
    if (name.tag === 0x82) {
      dns.push(_decodeAscii(name.contents, 0x00, 0x7f)!);
    } else if (name.tag === 0x87) {
      // RFC 5280 4.2.1.6: "four octets" for IPv4, "16 octets" for IPv6.
      if (name.contents.length !== 4 && name.contents.length !== 16) {
        _fail(`subjectAltName iPAddress of ${name.contents.length} octets, expected 4 or 16 (RFC 5280 4.2.1.6)`);
      }
      ip.push(name.contents);
    } else {
      other.push(Object.freeze({ tag: name.tag, raw: name.raw }));
    }
  }
  return Object.freeze({ dns: Object.freeze(dns), ip: Object.freeze(ip), other: Object.freeze(other) });
}

/**
 * RFC 5280 4.2.1.10:
 * ```
 * NameConstraints ::= SEQUENCE {
 *      permittedSubtrees       [0]     GeneralSubtrees OPTIONAL,
 *      excludedSubtrees        [1]     GeneralSubtrees OPTIONAL }
 * GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree
 * GeneralSubtree ::= SEQUENCE {
 *      base                    GeneralName,
 *      minimum         [0]     BaseDistance DEFAULT 0,
 *      maximum         [1]     BaseDistance OPTIONAL }
 * ```
 */
function _nameConstraints(r: DerReader): { readonly permitted?: GeneralSubtrees; readonly excluded?: GeneralSubtrees } {
  const seq = r.readSequence();
  const budget = { left: MAX_GENERAL_NAMES };
  let permitted: GeneralSubtrees | undefined;
  let excluded: GeneralSubtrees | undefined;
  if (seq.peekTag() === 0xa0) permitted = _generalSubtrees(seq.enter(seq.readElement()), budget);
  if (seq.peekTag() === 0xa1) excluded = _generalSubtrees(seq.enter(seq.readElement()), budget);
  seq.end();
  // RFC 5280 4.2.1.10: "either the permittedSubtrees field or the excludedSubtrees MUST be present."
  if (permitted === undefined && excluded === undefined) _fail('nameConstraints with neither permitted nor excluded subtrees (RFC 5280 4.2.1.10)');
  return Object.freeze({
    ...(permitted === undefined ? {} : { permitted }),
    ...(excluded === undefined ? {} : { excluded }),
  });
}

function _generalSubtrees(r: DerReader, budget: { left: number }): GeneralSubtrees {
  if (!r.hasMore()) _fail('empty GeneralSubtrees (RFC 5280 4.2.1.10: SEQUENCE SIZE (1..MAX))');
  const dns: string[] = [];
  const ip: { address: Uint8Array; mask: Uint8Array }[] = [];
  const other: { tag: number; raw: Uint8Array }[] = [];
  while (r.hasMore()) {
    if (--budget.left < 0) _fail(`more than ${MAX_GENERAL_NAMES} name constraint subtrees`);
    const subtree = r.readSequence();
    const base = _readGeneralName(subtree);
    const minimum = subtree.readOptional(0x80);
    // RFC 5280 4.2.1.10: "the minimum MUST be zero, and maximum MUST be absent."
    if (minimum !== undefined && decodeInteger(minimum.contents, _contentsOffset(minimum)) !== 0n) {
      _fail('GeneralSubtree minimum must be 0 (RFC 5280 4.2.1.10)');
    }
    if (subtree.peekTag() === 0x81) _fail('GeneralSubtree maximum must be absent (RFC 5280 4.2.1.10)');
    subtree.end();
    if (base.tag === 0x82) {
      dns.push(_decodeAscii(base.contents, 0x00, 0x7f)!);
    } else if (base.tag === 0x87) {
      // RFC 5280 4.2.1.10: IPv4 is 8 octets (address then mask), IPv6 32 octets.
      const n = base.contents.length;
      if (n !== 8 && n !== 32) _fail(`name constraint iPAddress of ${n} octets, expected 8 or 32 (RFC 5280 4.2.1.10)`);
      const address = base.contents.subarray(0, n / 2);
      const mask = base.contents.subarray(n / 2);
      // The mask is a CIDR prefix (RFC 4632 3.1): ones, then zeros.
      if (!_isPrefixMask(mask)) _fail('name constraint iPAddress mask is not a contiguous prefix (RFC 5280 4.2.1.10, RFC 4632)');
      ip.push(Object.freeze({ address, mask }));
    } else {
      other.push(Object.freeze({ tag: base.tag, raw: base.raw }));
    }
  }
  return Object.freeze({ dns: Object.freeze(dns), ip: Object.freeze(ip), other: Object.freeze(other) });
}

function _isPrefixMask(mask: Uint8Array): boolean {
  let zeros = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = ((byte >> bit) & 1) === 1;
      if (one && zeros) return false;
      if (!one) zeros = true;
    }
  }
  return true;
}

/**
 * RFC 5280 4.2.1.1:
 * ```
 * AuthorityKeyIdentifier ::= SEQUENCE {
 *      keyIdentifier             [0] KeyIdentifier           OPTIONAL,
 *      authorityCertIssuer       [1] GeneralNames            OPTIONAL,
 *      authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL  }
 * ```
 */
function _authorityKeyIdentifier(r: DerReader): Uint8Array | undefined {
  const seq = r.readSequence();
  const keyIdentifier = seq.readOptional(0x80)?.contents;
  if (seq.peekTag() === 0xa1) {
    const names = seq.enter(seq.readElement());
    if (!names.hasMore()) _fail('empty authorityCertIssuer (GeneralNames ::= SEQUENCE SIZE (1..MAX))');
    let count = 0;
    while (names.hasMore()) {
      if (++count > MAX_GENERAL_NAMES) _fail(`more than ${MAX_GENERAL_NAMES} authorityCertIssuer names`);
      _readGeneralName(names);
    }
  }
  const serial = seq.readOptional(0x82);
  if (serial !== undefined) decodeInteger(serial.contents, _contentsOffset(serial));
  seq.end();
  return keyIdentifier;
}
