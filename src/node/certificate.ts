/**
 * Certificates the way node:tls shows them: `getPeerCertificate()` objects built from sandtls's
 * own X.509 parser, trust anchors parsed once, and certificate failures as node-style
 * `authorizationError`s.
 * @module
 */
import type { NonSharedBuffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import { sha1 } from '@noble/hashes/legacy.js';
import {
  CertificateError,
  certificateErrorCode,
  decodePem,
  parseCertificate,
  TlsConfigError,
  verifyChain,
  type Certificate,
  type CertificateErrorCode,
  type CertificateErrorReason,
  type Engine,
  type Name,
  type WeierstrassCurveName,
} from '../index.js';
// The default roots (node:tls's, with NODE_EXTRA_CA_CERTS), shared with connectTls: one read per process.
import { runtimeRootCertificates } from '../index.js';

/** A subject or issuer as node:tls gives it: short attribute names, repeated ones as arrays. */
export type CertificateNameObject = Record<string, string | string[]>;

/**
 * The certificate object of `getPeerCertificate()`, in node:tls's shape (`tls.PeerCertificate`),
 * built by sandtls's X.509 parser.
 */
export interface PeerCertificate {
  /** Whether it is a CA certificate (basicConstraints cA). */
  ca: boolean;
  /** The DER encoding. */
  raw: NonSharedBuffer;
  subject: CertificateNameObject;
  issuer: CertificateNameObject;
  /** `DNS:example.com, IP Address:127.0.0.1`, as node:tls (and `tls.checkServerIdentity`) expect. */
  subjectaltname?: string;
  /** `Jan  1 00:00:00 2025 GMT` (OpenSSL's format). */
  valid_from: string;
  valid_to: string;
  /** Serial number, uppercase hex. */
  serialNumber: string;
  /** SHA-1, SHA-256 and SHA-512 of the DER, uppercase hex bytes joined by colons. */
  fingerprint: string;
  fingerprint256: string;
  fingerprint512: string;
  /** extKeyUsage purpose OIDs, when the extension is present. */
  ext_key_usage?: string[];
  /**
   * The public key as node:tls gives it: an RSA key's SubjectPublicKeyInfo DER, an EC key's point
   * (uncompressed, `04 || X || Y`); absent for Ed25519, as in node:tls.
   */
  pubkey?: NonSharedBuffer;
  /** Key size in bits (RSA modulus, EC field); absent for Ed25519, as in node:tls. */
  bits?: number;
  /** RSA modulus (uppercase hex) and exponent (`0x10001`). */
  modulus?: string;
  exponent?: string;
  /**
   * EC curve: `prime256v1` / `secp384r1` / `brainpoolP256r1` ... (ASN.1 names) and `P-256` / `P-384`
   * (NIST names; absent for the brainpool curves, as in node:tls).
   */
  asn1Curve?: string;
  nistCurve?: string;
}

/** `getPeerCertificate(true)`: each certificate links to its issuer; a self-issued last one to itself. */
export interface DetailedPeerCertificate extends PeerCertificate {
  issuerCertificate: DetailedPeerCertificate;
}

/**
 * Certificates as node:tls options take them: PEM (string or Buffer, one or many blocks) or DER
 * Buffers, one or many; sandtls also takes node:crypto `X509Certificate` objects.
 */
export type CertificatesOption = string | Uint8Array | X509Certificate | readonly (string | Uint8Array | X509Certificate)[];

// ---------------------------------------------------------------------------------------------
// Trust anchors
// ---------------------------------------------------------------------------------------------

/**
 * Parsed trust anchors by the option object that held them: Node's bundled roots (and any `ca`
 * array or Buffer reused across connections) are parsed once, not once per connection. Holding
 * this cache is the adapter's business; the core keeps no module-level state.
 */
const _anchorsByObject = new WeakMap<object, readonly Certificate[]>();
/** PEM strings are not objects: the last few distinct ones, parsed. */
const _anchorsByText = new Map<string, readonly Certificate[]>();
const _MAX_TEXT_ANCHORS = 16;

/**
 * Buffers from `fs.readFileSync(pem)` hold PEM text: hand those to the parser as text.
 * @example
 * pemOrDer(readFileSync('cert.pem')); // the PEM as a string; DER bytes are returned as they are
 */
export function pemOrDer(item: string | Uint8Array | X509Certificate): string | Uint8Array {
  if (typeof item === 'string') return item;
  if (item instanceof X509Certificate) return new Uint8Array(item.raw);
  if (!(item instanceof Uint8Array)) {
    const what = item === null ? 'null' : typeof item === 'object' ? `an instance of ${(item as object).constructor?.name ?? 'Object'}` : `type ${typeof item}`;
    throw new TlsConfigError(`a certificate must be a string, Buffer, TypedArray or X509Certificate. Received ${what}`, { code: 'ERR_INVALID_ARG_TYPE' });
  }
  let i = 0;
  while (i < item.length && (item[i] === 0x20 || item[i] === 0x09 || item[i] === 0x0a || item[i] === 0x0d)) i++;
  return item[i] === 0x2d /* '-' */ ? Buffer.from(item.buffer, item.byteOffset, item.length).toString('latin1') : item;
}

/**
 * Every certificate of a node:tls certificate option, parsed. Throws TlsConfigError:
 * `ERR_OSSL_PEM_NO_START_LINE` (as node:tls) for text without a CERTIFICATE block or a
 * certificate that does not parse, `ERR_INVALID_ARG_TYPE` for other values.
 * @example
 * const chain = parseCertificates(options.cert, 'cert'); // leaf first
 */
export function parseCertificates(input: CertificatesOption, what: string): Certificate[] {
  const items: readonly unknown[] = Array.isArray(input) ? input : [input];
  const out: Certificate[] = [];
  for (const item of items) {
    const value = pemOrDer(item as string);
    try {
      if (typeof value === 'string') {
        // A PEM bundle: every CERTIFICATE block (a root store file holds many).
        const blocks = decodePem(value, 'CERTIFICATE');
        if (blocks.length === 0) throw new TypeError('no PEM CERTIFICATE block found');
        for (const block of blocks) out.push(parseCertificate(block.der));
      } else {
        out.push(parseCertificate(value));
      }
    } catch (cause) {
      throw new TlsConfigError(`${what}: ${cause instanceof Error ? cause.message : 'unreadable'}`, { cause, code: 'ERR_OSSL_PEM_NO_START_LINE' });
    }
  }
  return out;
}

/**
 * The parsed trust anchors for a `ca` option; when it is undefined, node:tls's default roots:
 * the bundled Mozilla roots (`tls.rootCertificates`) and the certificates of the
 * `NODE_EXTRA_CA_CERTS` file, read once, at first use (see `runtimeRootCertificates()`).
 * @example
 * const anchors = trustAnchorsOf(options.ca);
 */
export function trustAnchorsOf(ca: CertificatesOption | undefined): readonly Certificate[] {
  const input = ca ?? runtimeRootCertificates() ?? tls.rootCertificates;
  if (typeof input === 'string') {
    const hit = _anchorsByText.get(input);
    if (hit) return hit;
    const parsed = Object.freeze(parseCertificates(input, 'ca'));
    if (_anchorsByText.size >= _MAX_TEXT_ANCHORS) _anchorsByText.delete(_anchorsByText.keys().next().value!);
    _anchorsByText.set(input, parsed);
    return parsed;
  }
  const hit = _anchorsByObject.get(input);
  if (hit) return hit;
  const parsed = Object.freeze(parseCertificates(input, 'ca'));
  _anchorsByObject.set(input, parsed);
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Verification outside the engine (rejectUnauthorized: false, checkServerIdentity, optional client certificates)
// ---------------------------------------------------------------------------------------------

/**
 * Why a peer is not authorized: node:tls's `authorizationError`. node:tls sets it to the code
 * string (`'CERT_HAS_EXPIRED'`); sandtls sets an Error carrying that `code` (so it is what
 * @types/node declares), whose string form is the code: `String(e)`, `${e}` and
 * `e == 'CERT_HAS_EXPIRED'` behave as with node:tls; `===` against a string needs `e.code`.
 * `reason` is sandtls's CertificateError reason and `alert` the TLS alert a verifying engine
 * would have sent.
 */
export class AuthorizationError extends Error {
  override readonly name = 'AuthorizationError';
  readonly code: CertificateErrorCode;
  readonly reason: CertificateErrorReason | 'no_certificate';
  readonly alert: string;
  constructor(code: CertificateErrorCode, reason: CertificateErrorReason | 'no_certificate', alert: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.reason = reason;
    this.alert = alert;
  }

  /** The code, as node:tls's `authorizationError` string is. */
  override toString(): string {
    return this.code;
  }

  [Symbol.toPrimitive](): string {
    return this.code;
  }
}

/**
 * Verifies a peer's chain (DER, leaf first) with the engine's signatures and clock; returns why
 * it is not authorized, or undefined when it is. `serverName` undefined skips the name check.
 * @example
 * const why = authorizationErrorOf(engine, info.peerCertificates, trustAnchorsOf(ca), 'server', 'example.com');
 * socket.authorized = why === undefined;
 */
export function authorizationErrorOf(
  engine: Engine,
  peerCertificates: readonly Uint8Array[],
  trustAnchors: readonly Certificate[],
  usage: 'server' | 'client',
  serverName: string | undefined,
): AuthorizationError | undefined {
  if (peerCertificates.length === 0) {
    // What node:tls reports for a client that sent none (measured: OpenSSL's verify result is never set).
    return new AuthorizationError('UNABLE_TO_GET_ISSUER_CERT', 'no_certificate', 'certificate_required', 'the peer sent no certificate');
  }
  let chain: Certificate[];
  try {
    chain = peerCertificates.map((der) => parseCertificate(der));
  } catch (cause) {
    return new AuthorizationError('CERT_REJECTED', 'bad_encoding', 'bad_certificate', 'the peer certificate does not parse', { cause });
  }
  try {
    verifyChain(
      { signatures: engine.crypto.signatures, now: () => engine.platform.clock.now() },
      { chain, trustAnchors, usage, ...(serverName === undefined ? {} : { serverName }) },
    );
    return undefined;
  } catch (cause) {
    if (!(cause instanceof CertificateError)) throw cause;
    return new AuthorizationError(certificateErrorCode(cause, chain), cause.reason, cause.alert, cause.message, { cause });
  }
}

// ---------------------------------------------------------------------------------------------
// getPeerCertificate()
// ---------------------------------------------------------------------------------------------

/** OpenSSL short names (what node:tls prints) of the attribute types certificates use. */
const _SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.44': 'generationQualifier',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '2.5.4.15': 'businessCategory',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

function _nameObject(name: Name): CertificateNameObject {
  const out: CertificateNameObject = Object.create(null);
  for (const rdn of name.rdns) {
    for (const { type, value } of rdn) {
      const key = _SHORT_NAMES[type] ?? type;
      const prior = out[key];
      out[key] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
    }
  }
  return out;
}

const _MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Jan  1 00:00:00 2025 GMT`: OpenSSL's ASN1_TIME_print, which node:tls uses. UTC only. */
function _opensslTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${_MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(
    d.getUTCSeconds(),
  )} ${d.getUTCFullYear()} GMT`;
}

function _colonHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function _ipText(address: Uint8Array): string {
  if (address.length === 4) return Array.from(address).join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < address.length; i += 2) groups.push(((address[i]! << 8) | address[i + 1]!).toString(16).toUpperCase());
  return groups.join(':');
}

/** The contents of a short primitive DER element (tag, length, contents) as latin1 text. */
function _primitiveText(raw: Uint8Array): string | undefined {
  if (raw.length < 2) return undefined;
  let length = raw[1]!;
  let at = 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 2 || raw.length < 2 + octets) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) length = (length << 8) | raw[2 + i]!;
    at = 2 + octets;
  }
  if (at + length !== raw.length) return undefined;
  return Buffer.from(raw.subarray(at)).toString('latin1');
}

function _subjectAltName(cert: Certificate): string | undefined {
  const san = cert.subjectAltName;
  if (!san) return undefined;
  const parts = [...san.dns.map((name) => `DNS:${name}`), ...san.ip.map((ip) => `IP Address:${_ipText(ip)}`)];
  for (const other of san.other) {
    // GeneralName [1] rfc822Name and [6] uniformResourceIdentifier (IA5String, implicit).
    const text = other.tag === 0x81 || other.tag === 0x86 ? _primitiveText(other.raw) : undefined;
    if (text !== undefined) parts.push(`${other.tag === 0x81 ? 'email' : 'URI'}:${text}`);
  }
  return parts.join(', ');
}

function _hexOf(value: bigint): string {
  return value.toString(16).toUpperCase();
}

/**
 * The node:tls-shaped object for one DER certificate.
 * @example
 * const cert = peerCertificateOf(engine, info.peerCertificates[0]);
 * cert.subject.CN; cert.fingerprint256; cert.subjectaltname; // 'DNS:localhost, IP Address:127.0.0.1'
 */
export function peerCertificateOf(engine: Engine, der: Uint8Array): PeerCertificate {
  const cert = parseCertificate(der);
  const digest = (name: 'SHA-256' | 'SHA-512') => _colonHex(engine.crypto.hash(name).digest(cert.raw));
  let serial = cert.serialNumber;
  if (serial.length > 1 && serial[0] === 0) serial = serial.subarray(1);
  const out: PeerCertificate = {
    ca: cert.basicConstraints?.ca === true,
    raw: Buffer.from(cert.raw),
    subject: _nameObject(cert.subject),
    issuer: _nameObject(cert.issuer),
    valid_from: _opensslTime(cert.notBefore),
    valid_to: _opensslTime(cert.notAfter),
    serialNumber: Buffer.from(serial).toString('hex').toUpperCase(),
    fingerprint: _colonHex(sha1(cert.raw)),
    fingerprint256: digest('SHA-256'),
    fingerprint512: digest('SHA-512'),
  };
  const san = _subjectAltName(cert);
  if (san !== undefined) out.subjectaltname = san;
  if (cert.extKeyUsage) out.ext_key_usage = [...cert.extKeyUsage];
  const key = cert.publicKey;
  if (key?.kind === 'rsa') {
    out.bits = key.n.toString(2).length;
    out.modulus = _hexOf(key.n);
    out.exponent = `0x${key.e.toString(16)}`;
    out.pubkey = Buffer.from(cert.spki);
  } else if (key?.kind === 'ec') {
    const curve = _EC_CURVE_NAMES[key.curve];
    out.bits = curve.bits;
    out.pubkey = Buffer.from(key.point);
    out.asn1Curve = curve.asn1;
    if (curve.nist !== undefined) out.nistCurve = curve.nist;
  }
  // node:tls reports neither bits nor pubkey for an Ed25519 key.
  return out;
}

/** node:tls's names and sizes of each EC curve (OpenSSL's short names). */
const _EC_CURVE_NAMES: Readonly<Record<WeierstrassCurveName, { bits: number; asn1: string; nist?: string }>> = Object.freeze({
  secp256r1: { bits: 256, asn1: 'prime256v1', nist: 'P-256' },
  secp384r1: { bits: 384, asn1: 'secp384r1', nist: 'P-384' },
  brainpoolP256r1: { bits: 256, asn1: 'brainpoolP256r1' },
  brainpoolP384r1: { bits: 384, asn1: 'brainpoolP384r1' },
  brainpoolP512r1: { bits: 512, asn1: 'brainpoolP512r1' },
});

/**
 * `getPeerCertificate(true)`: the chain as presented, each linked to the next; the last one links
 * to itself when it is self-issued (as node:tls does for a root).
 * @example
 * detailedCertificateChain(engine, info.peerCertificates)?.issuerCertificate.subject.CN;
 */
export function detailedCertificateChain(engine: Engine, chain: readonly Uint8Array[]): DetailedPeerCertificate | undefined {
  const certs = chain.map((der) => peerCertificateOf(engine, der) as DetailedPeerCertificate);
  certs.forEach((cert, i) => {
    const next = certs[i + 1];
    if (next) cert.issuerCertificate = next;
    else if (_sameNameObject(cert.subject, cert.issuer)) cert.issuerCertificate = cert;
  });
  return certs[0];
}

function _sameNameObject(a: CertificateNameObject, b: CertificateNameObject): boolean {
  return JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b));
}
