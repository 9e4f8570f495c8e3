/**
 * Builds X.509 certificates field by field with the DER encoders, so tests can produce every
 * structural variant (good and bad) without openssl. Each field can be replaced by raw DER.
 */
import {
  contextTag,
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOid,
  encodeSequence,
  encodeSetOf,
  encodeTlv,
  Tag,
} from '../../src/x509/der.js';

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

import { concatBytes as concat } from '../../src/crypto/bytes.js';
import { CertificateError } from '../../src/x509/verify.js';
import { encodePem } from '../../src/x509/pem.js';

export { concat };

export const OIDS = {
  cn: '2.5.4.3',
  o: '2.5.4.10',
  ou: '2.5.4.11',
  c: '2.5.4.6',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  sha256Rsa: '1.2.840.113549.1.1.11',
  sha1Rsa: '1.2.840.113549.1.1.5',
  md5Rsa: '1.2.840.113549.1.1.4',
  pss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  ed25519: '1.3.101.112',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  san: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  aki: '2.5.29.35',
  ski: '2.5.29.14',
  certificatePolicies: '2.5.29.32',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** AlgorithmIdentifier with optional parameters. */
export const algId = (oid: string, params?: Uint8Array): Uint8Array =>
  params === undefined ? encodeSequence(encodeOid(oid)) : encodeSequence(encodeOid(oid), params);

/** RSASSA-PSS-params for a hash (RFC 4055 3.1), with overrides. */
export function pssParams(o: { hash?: string; mgfHash?: string; salt?: number; trailer?: number; omitHash?: boolean } = {}): Uint8Array {
  const hash = o.hash ?? OIDS.sha256;
  const parts: Uint8Array[] = [];
  if (!o.omitHash) parts.push(encodeExplicit(0, algId(hash, encodeNull())));
  parts.push(encodeExplicit(1, algId(OIDS.mgf1, algId(o.mgfHash ?? hash, encodeNull()))));
  if (o.salt !== undefined) parts.push(encodeExplicit(2, encodeInteger(o.salt)));
  if (o.trailer !== undefined) parts.push(encodeExplicit(3, encodeInteger(o.trailer)));
  return encodeSequence(...parts);
}

/** One AttributeTypeAndValue with a chosen string tag (default UTF8String). */
export const atv = (oid: string, value: string | Uint8Array, tag: number = Tag.UTF8_STRING): Uint8Array =>
  encodeSequence(encodeOid(oid), encodeTlv(tag, typeof value === 'string' ? utf8(value) : value));

/** A Name from RDNs, each a list of AttributeTypeAndValue encodings. */
export const name = (...rdns: Uint8Array[][]): Uint8Array => encodeSequence(...rdns.map((rdn) => encodeSetOf(rdn)));

/** A Name of one CN. */
export const cnName = (cn: string): Uint8Array => name([atv(OIDS.cn, cn)]);

export const utcTime = (s: string): Uint8Array => encodeTlv(Tag.UTC_TIME, ascii(s));
export const generalizedTime = (s: string): Uint8Array => encodeTlv(Tag.GENERALIZED_TIME, ascii(s));

/** An Extension; `critical: 'false'` encodes an explicit FALSE (not DER). */
export function ext(oid: string, value: Uint8Array, critical: boolean | 'false' = false): Uint8Array {
  const parts = [encodeOid(oid)];
  if (critical === true) parts.push(encodeBoolean(true));
  if (critical === 'false') parts.push(encodeBoolean(false));
  parts.push(encodeOctetString(value));
  return encodeSequence(...parts);
}

/** GeneralName encoders (RFC 5280 4.2.1.6, implicit tags). */
export const gn = {
  dns: (s: string) => encodeTlv(contextTag(2, false), ascii(s)),
  ip: (bytes: number[] | Uint8Array) => encodeTlv(contextTag(7, false), Uint8Array.from(bytes)),
  uri: (s: string) => encodeTlv(contextTag(6, false), ascii(s)),
  email: (s: string) => encodeTlv(contextTag(1, false), ascii(s)),
  dir: (nameDer: Uint8Array) => encodeTlv(contextTag(4, true), nameDer),
  registeredId: (oid: string) => encodeTlv(contextTag(8, false), encodeOid(oid).subarray(2)),
};

export const sanValue = (...names: Uint8Array[]): Uint8Array => encodeSequence(...names);

/** basicConstraints value. */
export function basicConstraintsValue(ca: boolean | 'false', pathLen?: number): Uint8Array {
  const parts: Uint8Array[] = [];
  if (ca === true) parts.push(encodeBoolean(true));
  if (ca === 'false') parts.push(encodeBoolean(false));
  if (pathLen !== undefined) parts.push(encodeInteger(pathLen));
  return encodeSequence(...parts);
}

/** keyUsage value from bit numbers, DER-minimal (X.690 11.2.2). */
export function keyUsageValue(bits: number[]): Uint8Array {
  if (bits.length === 0) return encodeBitString(new Uint8Array(0));
  const top = Math.max(...bits);
  const bytes = new Uint8Array((top >> 3) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return encodeBitString(bytes, 7 - (top & 7));
}

/** A GeneralSubtree with optional explicit minimum/maximum. */
export function subtree(base: Uint8Array, o: { minimum?: number; maximum?: number } = {}): Uint8Array {
  const parts = [base];
  if (o.minimum !== undefined) parts.push(encodeTlv(0x80, encodeInteger(o.minimum).subarray(2)));
  if (o.maximum !== undefined) parts.push(encodeTlv(0x81, encodeInteger(o.maximum).subarray(2)));
  return encodeSequence(...parts);
}

export function nameConstraintsValue(permitted?: Uint8Array[], excluded?: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  if (permitted) parts.push(encodeTlv(0xa0, concat(...permitted)));
  if (excluded) parts.push(encodeTlv(0xa1, concat(...excluded)));
  return encodeSequence(...parts);
}

export interface TbsFields {
  /** Explicit version INTEGER value; undefined omits the field (v1). Default 2 (v3). */
  version?: number | undefined;
  /** Serial: a number/bigint, or raw INTEGER contents. */
  serial?: bigint | number | Uint8Array;
  /** AlgorithmIdentifier DER in the TBS. */
  signature?: Uint8Array;
  issuer?: Uint8Array;
  notBefore?: Uint8Array;
  notAfter?: Uint8Array;
  subject?: Uint8Array;
  spki: Uint8Array;
  issuerUniqueId?: Uint8Array;
  subjectUniqueId?: Uint8Array;
  /** Extension DERs; undefined (or empty with `emptyExtensions`) omits [3]. */
  extensions?: Uint8Array[];
  emptyExtensions?: boolean;
  /** Raw bytes appended inside the TBS SEQUENCE. */
  tbsTrailer?: Uint8Array;
}

export function buildTbs(f: TbsFields): Uint8Array {
  const parts: Uint8Array[] = [];
  const version = 'version' in f ? f.version : 2;
  if (version !== undefined) parts.push(encodeExplicit(0, encodeInteger(version)));
  parts.push(f.serial instanceof Uint8Array ? encodeTlv(Tag.INTEGER, f.serial) : encodeInteger(BigInt(f.serial ?? 0x1234)));
  parts.push(f.signature ?? algId(OIDS.ecdsaSha256));
  parts.push(f.issuer ?? cnName('Test CA'));
  parts.push(encodeSequence(f.notBefore ?? utcTime('240101000000Z'), f.notAfter ?? utcTime('340101000000Z')));
  parts.push(f.subject ?? cnName('test.example'));
  parts.push(f.spki);
  if (f.issuerUniqueId) parts.push(encodeTlv(0x81, concat(Uint8Array.of(0), f.issuerUniqueId)));
  if (f.subjectUniqueId) parts.push(encodeTlv(0x82, concat(Uint8Array.of(0), f.subjectUniqueId)));
  if (f.emptyExtensions) parts.push(encodeExplicit(3, encodeSequence()));
  else if (f.extensions && f.extensions.length > 0) parts.push(encodeExplicit(3, encodeSequence(...f.extensions)));
  if (f.tbsTrailer) parts.push(f.tbsTrailer);
  return encodeSequence(...parts);
}

/** Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue } */
export function buildCertificate(tbs: Uint8Array, signatureAlgorithm: Uint8Array, signature: Uint8Array, unusedBits = 0): Uint8Array {
  return encodeSequence(tbs, signatureAlgorithm, encodeBitString(signature, unusedBits));
}

// ---------------------------------------------------------------------------------------------
// Whole certificates with real Ed25519 signatures, for path-validation tests (x509-profile).

/** Extensions by role in a chain; `null` leaves one out, a value replaces the default. */
export type ExtensionSlot = 'bc' | 'ku' | 'eku' | 'ski' | 'aki' | 'san' | 'nc';

/** authorityKeyIdentifier with a keyIdentifier (RFC 5280 4.2.1.1). */
export const akiValue = (keyId: Uint8Array): Uint8Array => encodeSequence(encodeTlv(0x80, keyId));

export interface IssueOptions {
  /** Which kind of certificate: sets the default extensions. */
  readonly role: 'root' | 'intermediate' | 'leaf';
  /** Seed (a small number) of this certificate's Ed25519 key, and of the key that signs it. */
  readonly key: number;
  readonly signer: number;
  /** Subject and issuer Name DER (default: CN=`role key`); pass `name()` for an empty Name. */
  readonly subject?: Uint8Array;
  readonly issuer?: Uint8Array;
  readonly serial?: bigint | number | Uint8Array;
  readonly notBefore?: Uint8Array;
  readonly notAfter?: Uint8Array;
  /** DNS names of a leaf's subjectAltName (default ['leaf.example']). */
  readonly dns?: readonly string[];
  /** Replace (a DER Extension) or drop (null) one of the default extensions. */
  readonly set?: Partial<Record<ExtensionSlot, Uint8Array | null>>;
  /** Extensions appended after the defaults. */
  readonly extra?: readonly Uint8Array[];
  /** v1 (no extensions at all). */
  readonly v1?: boolean;
}

/** The key identifier used for the key with this seed (any stable bytes will do). */
export const keyIdOf = (seed: number): Uint8Array => Uint8Array.of(0x4b, 0x49, seed & 0xff, (seed >> 8) & 0xff);

/** A deterministic Ed25519 seed from a small number. */
export function ed25519Seed(n: number): Uint8Array {
  return new Uint8Array(32).map((_, i) => (n * 31 + i * 7 + 1) & 0xff);
}

/** PKCS#8 DER of an Ed25519 private key (RFC 8410 7), for a TLS server or client identity. */
export function ed25519Pkcs8(seed: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20), seed);
}

/** What issueCertificate needs from an engine: Ed25519 signing and public keys. */
export interface Ed25519Signer {
  publicKeyOf(key: { kind: 'ed25519'; seed: Uint8Array }): { kind: string; publicKey?: Uint8Array };
  sign(scheme: 'ed25519', key: { kind: 'ed25519'; seed: Uint8Array }, message: Uint8Array): Uint8Array;
}

/** Ed25519 SubjectPublicKeyInfo (RFC 8410 4) of the key with this seed. */
export function ed25519Spki(signer: Ed25519Signer, key: number): Uint8Array {
  const pub = signer.publicKeyOf({ kind: 'ed25519', seed: ed25519Seed(key) }).publicKey!;
  return encodeSequence(encodeSequence(encodeOid(OIDS.ed25519)), encodeBitString(pub));
}

/**
 * A certificate signed for real with Ed25519. The defaults make a conforming chain:
 * - root: basicConstraints cA (critical), keyUsage keyCertSign + cRLSign (critical), SKI;
 * - intermediate: the same plus an AKI naming the signer's key;
 * - leaf: keyUsage digitalSignature (critical), extKeyUsage serverAuth + clientAuth, SKI, AKI,
 *   subjectAltName (non-critical) with `dns`.
 */
export function issueCertificate(signer: Ed25519Signer, o: IssueOptions): Uint8Array {
  const defaults: Record<ExtensionSlot, Uint8Array | null> = {
    bc: o.role === 'leaf' ? null : ext(OIDS.basicConstraints, basicConstraintsValue(true), true),
    ku: ext(OIDS.keyUsage, keyUsageValue(o.role === 'leaf' ? [0] : [5, 6]), true),
    eku: o.role === 'leaf' ? ext(OIDS.extKeyUsage, encodeSequence(encodeOid(OIDS.serverAuth), encodeOid(OIDS.clientAuth))) : null,
    ski: ext(OIDS.ski, encodeOctetString(keyIdOf(o.key))),
    aki: o.role === 'root' ? null : ext(OIDS.aki, akiValue(keyIdOf(o.signer))),
    san: o.role === 'leaf' ? ext(OIDS.san, sanValue(...(o.dns ?? ['leaf.example']).map(gn.dns))) : null,
    nc: null,
  };
  const slots = { ...defaults, ...o.set };
  const extensions = o.v1 ? [] : [...(Object.values(slots).filter((e) => e !== null) as Uint8Array[]), ...(o.extra ?? [])];
  const defaultName = cnName(`${o.role} ${o.key}`);
  const tbs = buildTbs({
    version: o.v1 ? undefined : 2,
    serial: o.serial ?? o.key,
    signature: algId(OIDS.ed25519),
    issuer: o.issuer ?? (o.role === 'root' ? (o.subject ?? defaultName) : cnName(`signer ${o.signer}`)),
    subject: o.subject ?? defaultName,
    spki: ed25519Spki(signer, o.key),
    extensions,
    ...(o.notBefore === undefined ? {} : { notBefore: o.notBefore }),
    ...(o.notAfter === undefined ? {} : { notAfter: o.notAfter }),
  });
  const signature = signer.sign('ed25519', { kind: 'ed25519', seed: ed25519Seed(o.signer) }, tbs);
  return buildCertificate(tbs, algId(OIDS.ed25519), signature);
}

/** The CertificateError a verification call throws (fails the test if it returns or throws something else). */
export function certificateFailure(run: () => unknown): CertificateError {
  try {
    run();
  } catch (error) {
    if (error instanceof CertificateError) return error;
    throw error;
  }
  throw new Error('expected a CertificateError, but verification succeeded');
}

/** The PEM of an Ed25519 test key (PKCS #8) from its seed number. */
export const ed25519KeyPem = (seed: number): string => encodePem('PRIVATE KEY', ed25519Pkcs8(ed25519Seed(seed)));

/** A small Ed25519 PKI in PEM: Root (key 1) -> Inter (key 2) -> leaves for localhost (key 3). */
export interface SmallPki {
  readonly root: string;
  /** A root (key 9) that issued nothing here: an unknown CA. */
  readonly otherRoot: string;
  readonly inter: string;
  /** The leaf's private key. */
  readonly leafKey: string;
  /** A leaf for localhost issued by Inter (or self-signed); validity 2024-2044 unless given. */
  leaf(o?: { notBefore?: string; notAfter?: string; dns?: string[]; selfSigned?: boolean }): string;
}

/**
 * Builds a {@link SmallPki} whose CA names start with `prefix` (e.g. 'Options' gives
 * 'Options Root', 'Options Inter').
 */
export function smallPki(signer: Ed25519Signer, prefix: string): SmallPki {
  const certPem = (der: Uint8Array) => encodePem('CERTIFICATE', der);
  const valid = { notBefore: utcTime('240101000000Z'), notAfter: utcTime('440101000000Z') };
  const rootName = cnName(`${prefix} Root`);
  const interName = cnName(`${prefix} Inter`);
  return {
    root: certPem(issueCertificate(signer, { role: 'root', key: 1, signer: 1, subject: rootName, ...valid })),
    otherRoot: certPem(issueCertificate(signer, { role: 'root', key: 9, signer: 9, subject: cnName(`${prefix} Other Root`), ...valid })),
    inter: certPem(issueCertificate(signer, { role: 'intermediate', key: 2, signer: 1, subject: interName, issuer: rootName, ...valid })),
    leafKey: ed25519KeyPem(3),
    leaf: (o = {}) =>
      certPem(
        issueCertificate(signer, {
          role: 'leaf',
          key: 3,
          signer: o.selfSigned ? 3 : 2,
          subject: cnName('localhost'),
          issuer: o.selfSigned ? cnName('localhost') : interName,
          notBefore: utcTime(o.notBefore ?? '240101000000Z'),
          notAfter: utcTime(o.notAfter ?? '440101000000Z'),
          dns: o.dns ?? ['localhost'],
          ...(o.selfSigned ? { set: { aki: null } } : {}),
        }),
      ),
  };
}
