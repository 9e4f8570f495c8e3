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
