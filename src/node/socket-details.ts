/**
 * What node:tls's TLSSocket getters report, computed from sandtls's connection: key exchange
 * and signature algorithm names as OpenSSL (and so node:tls) spells them, this side's own
 * certificate, and the issuer chain of `getPeerCertificate(true)` completed from the trust
 * anchors as node:tls completes it.
 * @module
 */
import type * as tls from 'node:tls';
import {
  decodePem,
  parseCertificate,
  type Certificate,
  type CertificateInput,
  type NamedGroup,
  type SignatureSchemeName,
} from '../index.js';
import { SecureContext, type SecureContextOptions } from './options.js';

/**
 * What `setKeyCert()`, `server.addContext()` and `SNICallback` take: a sandtls
 * `createSecureContext()` result or `{ key, cert, ... }` options, typed to accept node:tls's
 * options too. A node:tls `SecureContext` (from node's `tls.createSecureContext()`) holds OpenSSL
 * state sandtls cannot use: it is refused at run time (TypeError).
 */
export type ContextInput = SecureContext | SecureContextOptions | tls.SecureContextOptions | tls.SecureContext;

/**
 * A sandtls SecureContext for a {@link ContextInput}.
 * @example
 * socket.setKeyCert(contextOf({ key, cert }));
 */
export function secureContextOf(input: ContextInput): SecureContext {
  if (input instanceof SecureContext) return input;
  if (typeof input !== 'object' || input === null || 'context' in input) {
    throw new TypeError('sandtls/node: pass a sandtls createSecureContext() result or { key, cert } (a node:tls SecureContext holds OpenSSL state sandtls cannot use)');
  }
  return new SecureContext(input as SecureContextOptions);
}

/** `getEphemeralKeyInfo()`: node:tls's `tls.EphemeralKeyInfo`. */
export interface EphemeralKeyInfo {
  /** `'ECDH'` for an (EC)DHE group; `'KEM'` for a hybrid ML-KEM group (sandtls's; OpenSSL 3.0 has none). */
  type: string;
  /** OpenSSL's name of the group: `X25519`, `prime256v1`, `secp384r1`, `brainpoolP256r1`, ... */
  name?: string;
  /** Key size in bits, as OpenSSL counts it (X25519: 253). */
  size: number;
}

/** OpenSSL's names and sizes of the groups (what node:tls's getEphemeralKeyInfo() prints). */
const _GROUPS: Readonly<Record<NamedGroup, EphemeralKeyInfo>> = Object.freeze({
  x25519: { type: 'ECDH', name: 'X25519', size: 253 },
  secp256r1: { type: 'ECDH', name: 'prime256v1', size: 256 },
  secp384r1: { type: 'ECDH', name: 'secp384r1', size: 384 },
  brainpoolP256r1tls13: { type: 'ECDH', name: 'brainpoolP256r1', size: 256 },
  brainpoolP384r1tls13: { type: 'ECDH', name: 'brainpoolP384r1', size: 384 },
  brainpoolP512r1tls13: { type: 'ECDH', name: 'brainpoolP512r1', size: 512 },
  // The hybrids by their IANA names (OpenSSL 3.5 uses the same); size: the ML-KEM parameter set.
  X25519MLKEM768: { type: 'KEM', name: 'X25519MLKEM768', size: 768 },
  SecP256r1MLKEM768: { type: 'KEM', name: 'SecP256r1MLKEM768', size: 768 },
  SecP384r1MLKEM1024: { type: 'KEM', name: 'SecP384r1MLKEM1024', size: 1024 },
});

/**
 * The client's `getEphemeralKeyInfo()` for a group: a fresh object; `{}` when the handshake used
 * none (a PSK-only resumption) or before it completed.
 * @example
 * ephemeralKeyInfo('x25519'); // { type: 'ECDH', name: 'X25519', size: 253 }
 */
export function ephemeralKeyInfo(group: NamedGroup | undefined): EphemeralKeyInfo | Record<string, never> {
  const known = group === undefined ? undefined : _GROUPS[group];
  return known ? { ...known } : {};
}

/** OpenSSL's "signature+hash" names, what node:tls's getSharedSigalgs() lists. */
const _SIGALGS: Readonly<Partial<Record<SignatureSchemeName, string>>> = Object.freeze({
  ecdsa_secp256r1_sha256: 'ECDSA+SHA256',
  ecdsa_secp384r1_sha384: 'ECDSA+SHA384',
  ecdsa_secp521r1_sha512: 'ECDSA+SHA512',
  ecdsa_brainpoolP256r1tls13_sha256: 'ECDSA+SHA256',
  ecdsa_brainpoolP384r1tls13_sha384: 'ECDSA+SHA384',
  ecdsa_brainpoolP512r1tls13_sha512: 'ECDSA+SHA512',
  ed25519: 'Ed25519+UNDEF',
  ed448: 'Ed448+UNDEF',
  rsa_pss_rsae_sha256: 'RSA-PSS+SHA256',
  rsa_pss_rsae_sha384: 'RSA-PSS+SHA384',
  rsa_pss_rsae_sha512: 'RSA-PSS+SHA512',
  rsa_pss_pss_sha256: 'RSA-PSS+SHA256',
  rsa_pss_pss_sha384: 'RSA-PSS+SHA384',
  rsa_pss_pss_sha512: 'RSA-PSS+SHA512',
  rsa_pkcs1_sha256: 'RSA+SHA256',
  rsa_pkcs1_sha384: 'RSA+SHA384',
  rsa_pkcs1_sha512: 'RSA+SHA512',
  rsa_pkcs1_sha1: 'RSA+SHA1',
  ecdsa_sha1: 'ECDSA+SHA1',
});

/**
 * Signature schemes in OpenSSL's spelling, as node:tls's `getSharedSigalgs()` gives them.
 * @example
 * opensslSigalgs(['ecdsa_secp256r1_sha256', 'ed25519']); // ['ECDSA+SHA256', 'Ed25519+UNDEF']
 */
export function opensslSigalgs(schemes: readonly SignatureSchemeName[]): string[] {
  return schemes.map((scheme) => _SIGALGS[scheme] ?? scheme);
}

/**
 * The leaf (first) certificate of an engine certificate input, as DER; undefined for none.
 * @example
 * leafCertificateDer(context.certificateChain); // Uint8Array of the leaf's DER
 */
export function leafCertificateDer(chain: CertificateInput | undefined): Uint8Array | undefined {
  const first = typeof chain === 'string' || chain instanceof Uint8Array || _isCertificate(chain) ? chain : chain?.[0];
  if (first === undefined) return undefined;
  if (typeof first === 'string') return decodePem(first, 'CERTIFICATE')[0]?.der;
  return first instanceof Uint8Array ? first : first.raw;
}

function _isCertificate(value: unknown): value is Certificate {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && 'raw' in value;
}

/** The longest issuer chain looked for (OpenSSL's default verify depth is 100; real chains are short). */
const _MAX_CHAIN = 16;

function _sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Whether `issuer` can have issued `cert`, by names and, when both carry them, key identifiers (as OpenSSL's X509_check_issued). */
function _issued(issuer: Certificate, cert: Certificate): boolean {
  if (!_sameBytes(issuer.subject.raw, cert.issuer.raw)) return false;
  const aki = cert.authorityKeyIdentifier;
  const ski = issuer.subjectKeyIdentifier;
  return aki === undefined || ski === undefined || _sameBytes(aki, ski);
}

/**
 * The peer's chain as node:tls's `getPeerCertificate(true)` links it: from the leaf, each
 * certificate's issuer taken from the certificates the peer sent, else from `trustAnchors`,
 * until a self-issued one (or none is found). Certificates the peer sent that are not on the
 * path are left out. DER, leaf first.
 * @example
 * issuerChain(info.peerCertificates, plan.trustAnchors); // [leaf, intermediate, root]
 */
export function issuerChain(presented: readonly Uint8Array[], trustAnchors: readonly Certificate[]): Uint8Array[] {
  if (presented.length === 0) return [];
  let parsed: Certificate[];
  try {
    parsed = presented.map((der) => parseCertificate(der));
  } catch {
    return [...presented]; // what does not parse is shown as sent
  }
  const chain = [parsed[0]!];
  const rest = parsed.slice(1);
  while (chain.length < _MAX_CHAIN) {
    const last = chain[chain.length - 1]!;
    if (_issued(last, last)) break;
    const at = rest.findIndex((candidate) => _issued(candidate, last));
    const next = at >= 0 ? rest.splice(at, 1)[0] : trustAnchors.find((anchor) => _issued(anchor, last));
    if (!next || chain.includes(next)) break;
    chain.push(next);
  }
  return chain.map((cert) => cert.raw);
}
