/**
 * The shapes certificate parsing produces and path validation consumes.
 * @module
 */
import type { HashName } from '../crypto/hash.js';
import type { SpkiPublicKey } from './spki.js';

/** One AttributeTypeAndValue of a Name (RFC 5280 4.1.2.4). */
export interface NameAttribute {
  /** Dotted OID, e.g. '2.5.4.3' for commonName. */
  readonly type: string;
  /** The value decoded as text (UTF8String, PrintableString, IA5String, ...). */
  readonly value: string;
}

/** An X.501 Name: raw DER for exact comparison, plus a readable form. */
export interface Name {
  /** The complete DER encoding of the Name; issuer/subject chaining compares these bytes. */
  readonly raw: Uint8Array;
  /** RelativeDistinguishedNames in order, each a set of attributes. */
  readonly rdns: readonly (readonly NameAttribute[])[];
  /** Readable form like 'CN=example.com, O=Example' (RFC 4514 style, most significant first). */
  readonly text: string;
}

/** How a certificate (or CRL, or OCSP response) is signed. */
export type CertificateSignatureAlgorithm =
  | { readonly kind: 'rsa-pkcs1'; readonly hash: HashName }
  | { readonly kind: 'rsa-pss'; readonly hash: HashName } // MGF1 with the same hash, salt = hash length
  | { readonly kind: 'ecdsa'; readonly hash: 'SHA-256' | 'SHA-384' | 'SHA-512' }
  | { readonly kind: 'ed25519' }
  /** Recognised but refused (SHA-1, MD5, odd PSS parameters) or unknown; `oid` says which. */
  | { readonly kind: 'unsupported'; readonly oid: string; readonly reason: string };

/** GeneralNames as far as web PKI uses them (RFC 5280 4.2.1.6). */
export interface GeneralNames {
  /** dNSName entries, as written (IA5String). */
  readonly dns: readonly string[];
  /** iPAddress entries: 4 or 16 bytes. */
  readonly ip: readonly Uint8Array[];
  /** Every other GeneralName, kept as its raw DER element. */
  readonly other: readonly { readonly tag: number; readonly raw: Uint8Array }[];
}

/** GeneralSubtrees of nameConstraints (RFC 5280 4.2.1.10). */
export interface GeneralSubtrees {
  readonly dns: readonly string[];
  /** iPAddress constraints: address and mask, each 4 or 16 bytes. */
  readonly ip: readonly { readonly address: Uint8Array; readonly mask: Uint8Array }[];
  /** Other name forms, kept raw (a verifier that cannot check them must fail closed). */
  readonly other: readonly { readonly tag: number; readonly raw: Uint8Array }[];
}

export type KeyUsage =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** A raw extension (RFC 5280 4.1.2.9). */
export interface Extension {
  readonly oid: string;
  readonly critical: boolean;
  /** The contents of the extnValue OCTET STRING. */
  readonly value: Uint8Array;
}

/** A parsed X.509 v1/v3 certificate. */
export interface Certificate {
  /** The complete DER. */
  readonly raw: Uint8Array;
  /** The DER of TBSCertificate, the bytes the issuer signed. */
  readonly tbs: Uint8Array;
  readonly version: 1 | 2 | 3;
  /** serialNumber as its DER INTEGER contents (up to 20 octets; kept as bytes for comparison). */
  readonly serialNumber: Uint8Array;
  readonly signatureAlgorithm: CertificateSignatureAlgorithm;
  readonly signature: Uint8Array;
  readonly issuer: Name;
  readonly subject: Name;
  /** Validity, in milliseconds since the Unix epoch (UTC), inclusive at both ends. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** The raw SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** The key, or undefined when its algorithm is not one sandtls supports. */
  readonly publicKey: SpkiPublicKey | undefined;
  readonly extensions: readonly Extension[];
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  readonly keyUsage?: ReadonlySet<KeyUsage>;
  /** extKeyUsage purpose OIDs. */
  readonly extKeyUsage?: readonly string[];
  readonly subjectAltName?: GeneralNames;
  readonly nameConstraints?: { readonly permitted?: GeneralSubtrees; readonly excluded?: GeneralSubtrees };
  readonly authorityKeyIdentifier?: Uint8Array;
  readonly subjectKeyIdentifier?: Uint8Array;
  /** OIDs of critical extensions this parser does not understand: such a certificate is unusable. */
  readonly unsupportedCriticalExtensions: readonly string[];
}
