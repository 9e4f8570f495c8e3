/**
 * Certification path building and validation for TLS (RFC 5280 6.1, as the web PKI profiles it
 * in rustls-webpki and browsers).
 *
 * Building is depth-first from the leaf. A certificate's candidate issuers are the trust
 * anchors and then the other presented certificates whose subject Name has exactly the DER of
 * its issuer Name (RFC 5280 4.1.2.4 and 7.1, with the binary comparison RFC 5280 6.1 permits
 * for names that were copied); the authority/subject key identifiers (RFC 5280 4.2.1.1, 4.2.1.2)
 * only order the candidates. Each candidate is tried in turn: its signature over the child, then
 * its own checks, then its issuers; on failure the builder backtracks and tries the next one, so
 * an expired cross-signed certificate does not hide a good alternative. When no path works,
 * the error reported is the one found deepest in the tree (a signature that does not verify
 * counts at the depth of the certificate it is on; ties go to the more specific reason, and
 * "no issuer found" is the least specific).
 *
 * Decisions, for the record:
 * - The profile of RFC 5280 is enforced on every certificate of a path, as pyca/cryptography
 *   does (OpenSSL 3.0 and webpki let most of it pass). The parser accepts these certificates, so
 *   a peer's chain stays inspectable; path validation refuses them, each with its reason:
 *   - a serial number that is zero or negative (4.1.2.2; the parser already refuses one longer
 *     than 20 octets) - 'invalid_serial_number';
 *   - a critical authorityKeyIdentifier or subjectKeyIdentifier (4.2.1.1, 4.2.1.2); a
 *     certificate that is not self-signed without an AKI keyIdentifier (4.2.1.1); a CA without a
 *     subjectKeyIdentifier (4.2.1.2); a CA whose basicConstraints is not critical (4.2.1.9); an
 *     end-entity certificate with nameConstraints (4.2.1.10); an empty subject with a
 *     subjectAltName that is missing or not critical, or a subject with a critical one (4.2.1.6;
 *     RFC 5280 says SHOULD for the latter, the CA/B Forum and pyca say MUST) - 'invalid_extension';
 *   - keyCertSign without cA (4.2.1.3, 4.2.1.9) - 'bad_key_usage';
 *   - a dNSName, in subjectAltName or in a name constraint, outside the preferred name syntax
 *     (4.2.1.6, 4.2.1.10): an empty label (so a leading dot: ".example.com" as a constraint,
 *     which Go, webpki and OpenSSL read as "subdomains only", is refused), an underscore, any
 *     character but letters, digits and '-'; a CA with an empty subject (4.1.2.6) - 'invalid_name';
 *   - a critical extension sandtls does not process: unknown ones, and also policyConstraints,
 *     inhibitAnyPolicy (no policy tree is built) and authorityInfoAccess (4.2: "MUST reject")
 *     - 'unsupported_critical_extension'.
 * - A trust anchor given as a certificate is held to the CA profile too (the stricter choice,
 *   pyca's; RFC 5280 6.1.1 (d) and rustls-webpki take only its name and key): it must be valid
 *   now, have critical basicConstraints with cA, a non-empty subject and keyCertSign if it has
 *   keyUsage, and meet the profile above. So a v1 root, or an expired one, anchors nothing. Two
 *   rules are not applied to anchors, because real root stores break them and they protect
 *   nothing there: the positive serial number (Mozilla's store has six roots with serial 0, Go
 *   Daddy's and Starfield's G2 roots among them) and the presence of key identifiers, which
 *   only help to find an issuer (TWCA Global Root CA has no subjectKeyIdentifier). Of the 144 roots Node 20 ships, the rules kept refuse one besides expired ones:
 *   Chunghwa Telecom's ePKI Root, whose basicConstraints is not critical. Checked only when the anchor is used, so one bad root among many costs
 *   nothing. Its pathLenConstraint and extKeyUsage are still not applied (RFC 5280 6.1, webpki);
 *   its nameConstraints are (as webpki does). A self-signed leaf that is itself the anchor (a
 *   pinned certificate, like RFC 8448's) vouches for nothing but itself and is checked as a leaf.
 * - Not enforced, deliberately: the empty dNSName constraint is allowed (every name satisfies
 *   it, as in Go and webpki; it is how a CA excludes all DNS names); the match between a
 *   child's AKI and its issuer's SKI (they only order candidates: RFC 5280 6.1 does not use
 *   them, and rollovers get them wrong); a leaf without subjectAltName (client certificates
 *   need none; for a server the name check fails anyway); certificatePolicies, which with
 *   RFC 5280 6.1's default inputs cannot change the outcome once policyConstraints and
 *   inhibitAnyPolicy are refused.
 * - The leaf must not be a CA (webpki's CaUsedAsEndEntity), its keyUsage, if present, must allow
 *   digitalSignature (it signs CertificateVerify in TLS 1.3), and its key must be one sandtls
 *   can use.
 * - extKeyUsage, if present on the leaf or on an intermediate, must list id-kp-serverAuth
 *   (or id-kp-clientAuth); anyExtendedKeyUsage does not count (as in webpki).
 * - Name constraints cover dNSName and iPAddress. A constraint of any other form fails closed
 *   as soon as a certificate below it has a name of that form (the subject counts as a
 *   directoryName, its emailAddress attributes as rfc822Names). The server name is checked too.
 * - Work is bounded: at most {@link VERIFY_LIMITS}.maxIntermediates intermediates per path,
 *   maxSignatureChecks signature verifications whose estimated cost (weighted by key type and
 *   RSA modulus size and exponent) stays within maxSignatureWork, and
 *   maxNameConstraintComparisons name comparisons per verification; running out of budget ends
 *   the search ('too_much_work'). RSA public exponents must be below 2^33 (rsa.ts), so no single
 *   check is a full-size exponentiation.
 * - Time is read once per verification (or taken from `options.now`); no randomness is used.
 * @module
 */
import type { WeierstrassCurveName } from '../crypto/curves.js';
import { InvalidKeyError } from '../crypto/errors.js';
import type { HashName } from '../crypto/hash.js';
import { bitLength, RSA_DEFAULT_MIN_BITS, RSA_MAX_PUBLIC_EXPONENT_BITS } from '../crypto/rsa.js';
import type { PublicKey, SignatureScheme, Signatures } from '../crypto/sig.js';
import type { Platform } from '../os/platform.js';
import { parseCertificate } from './cert.js';
import { matchesServerName, parseServerName, presentedDnsNameProblem, type ServerNameReference } from './hostname.js';
import { toDerList } from './pem.js';
import type { Certificate, GeneralSubtrees } from './types.js';
import { isoTime } from './time.js';

/**
 * Why a certificate chain was refused; {@link CertificateError.alert} maps each to a TLS alert.
 * @example
 * if (error.reason === 'name_mismatch') showWrongHostPage();
 */
export type CertificateErrorReason =
  | 'expired'
  | 'not_yet_valid'
  | 'unknown_issuer'
  | 'bad_signature'
  | 'unsupported_signature_algorithm'
  | 'name_mismatch'
  | 'not_a_ca'
  | 'ca_used_as_end_entity'
  | 'path_len_exceeded'
  | 'bad_key_usage'
  | 'bad_extended_key_usage'
  | 'unsupported_critical_extension'
  | 'name_constraint_violation'
  | 'bad_encoding'
  | 'path_too_long'
  | 'too_much_work'
  | 'empty_chain'
  | 'unsupported_key'
  | 'invalid_serial_number'
  | 'invalid_extension'
  | 'invalid_name';

/**
 * The TLS alerts (RFC 8446 6.2) a certificate failure is reported with.
 * @example
 * const alert: CertificateAlert = error.alert; // 'unknown_ca'
 */
export type CertificateAlert = 'certificate_expired' | 'unknown_ca' | 'unsupported_certificate' | 'bad_certificate';

/**
 * RFC 8446 6.2: certificate_expired "has expired or is not currently valid"; unknown_ca "the CA
 * certificate could not be located or could not be matched with a known trust anchor";
 * unsupported_certificate "of an unsupported type"; bad_certificate "corrupt, contained
 * signatures that did not verify correctly, etc.". rustls sends decrypt_error for bad
 * signatures; RFC 8446 names bad_certificate for them, which is what is used here.
 */
const _ALERTS: Readonly<Record<CertificateErrorReason, CertificateAlert>> = Object.freeze({
  expired: 'certificate_expired',
  not_yet_valid: 'certificate_expired',
  unknown_issuer: 'unknown_ca',
  bad_signature: 'bad_certificate',
  unsupported_signature_algorithm: 'unsupported_certificate',
  name_mismatch: 'bad_certificate',
  not_a_ca: 'bad_certificate',
  ca_used_as_end_entity: 'bad_certificate',
  path_len_exceeded: 'bad_certificate',
  bad_key_usage: 'bad_certificate',
  bad_extended_key_usage: 'unsupported_certificate',
  unsupported_critical_extension: 'bad_certificate',
  name_constraint_violation: 'bad_certificate',
  bad_encoding: 'bad_certificate',
  path_too_long: 'bad_certificate',
  too_much_work: 'bad_certificate',
  empty_chain: 'bad_certificate',
  unsupported_key: 'unsupported_certificate',
  invalid_serial_number: 'bad_certificate',
  invalid_extension: 'bad_certificate',
  invalid_name: 'bad_certificate',
});

/**
 * A certificate chain failed verification. `reason` says why, `alert` which TLS alert to send,
 * and `certificate` which certificate (0 = the leaf, 1 = its issuer, ... along the path being
 * built; for a parse failure, the position in the chain as received) when one is to blame.
 * @example
 * try { verifyChain(deps, options); } catch (e) {
 *   if (e instanceof CertificateError) queueAlert(e.alert); // e.g. 'certificate_expired'
 * }
 */
export class CertificateError extends Error {
  override readonly name = 'CertificateError';
  readonly reason: CertificateErrorReason;
  readonly certificate: number | undefined;
  constructor(reason: CertificateErrorReason, message: string, options: { certificate?: number; cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.reason = reason;
    this.certificate = options.certificate;
  }

  /** The TLS alert description for this failure (RFC 8446 6.2). */
  get alert(): CertificateAlert {
    return _ALERTS[this.reason];
  }
}

/**
 * The bounds on one verification's work.
 * @example
 * if (error.reason === 'too_much_work') log(`gave up after ${VERIFY_LIMITS.maxSignatureChecks} signature checks`);
 */
export const VERIFY_LIMITS = Object.freeze({
  /** Intermediates between the leaf and the anchor (rustls-webpki allows 6, Go and browsers more). */
  maxIntermediates: 8,
  /** Signature verifications per verification, across every path tried. */
  maxSignatureChecks: 100,
  /**
   * Estimated cost of those verifications, in units of one modular multiplication with a
   * 2048-bit modulus (about 10 us): an ECDSA P-256 check counts 500, P-384 1100, Ed25519 350,
   * and an RSA check (bits(e) - 1 + popcount(e)) * (modulus bits / 2048)^2 (e.g. 19 for
   * RSA-2048 with e = 65537, 304 for RSA-8192). The budget is about 100 ECDSA P-256 checks,
   * half a second of CPU at worst: far beyond any valid chain (a handful of checks), and the
   * bound whatever mix of keys a hostile peer sends.
   */
  maxSignatureWork: 50_000,
  /** Name-versus-constraint comparisons per verification (webpki uses the same bound). */
  maxNameConstraintComparisons: 250_000,
});

/** Extensions whose presence or criticality the profile checks look at (RFC 5280 4.2.1). */
const _OID = Object.freeze({
  authorityKeyIdentifier: '2.5.29.35',
  subjectKeyIdentifier: '2.5.29.14',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
} as const);
/** id-kp-serverAuth and id-kp-clientAuth (RFC 5280 4.2.1.12). */
const _EKU = Object.freeze({ server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2' } as const);
/** pkcs-9 emailAddress (RFC 5280 4.1.2.6, 4.2.1.10). */
const _EMAIL_ADDRESS = '1.2.840.113549.1.9.1';
/** GeneralName tag numbers (RFC 5280 4.2.1.6) of the forms checked or failed closed here. */
const _GN_RFC822 = 1;
const _GN_DIRECTORY = 4;
/**
 * RSA modulus sizes the crypto layer verifies with: 2048..8192 bits by default; a caller may lower
 * the floor (`minRsaBits`) to 1024, never further.
 */
const _RSA_FLOOR_BITS = 1024;
const _RSA_MAX_BITS = 8192;

const _HASH_SUFFIX: Readonly<Record<HashName, 'sha256' | 'sha384' | 'sha512'>> = Object.freeze({
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
});

/**
 * What verifyChain needs from an engine: signature verification and (maybe) the time.
 * @example
 * const deps: VerifyDeps = { signatures: engine.crypto.signatures, now: () => engine.platform.clock.now() };
 */
export interface VerifyDeps {
  readonly signatures: Signatures;
  /** Milliseconds since the epoch; called once per verification unless `options.now` is given. */
  readonly now: () => number;
}

/**
 * What to verify.
 * @example
 * const options: VerifyChainOptions = { chain: [leaf, intermediate], trustAnchors: roots, serverName: 'example.com', usage: 'server' };
 */
export interface VerifyChainOptions {
  /** The leaf first; the rest are untrusted candidate intermediates in any order. */
  readonly chain: readonly Certificate[];
  readonly trustAnchors: readonly Certificate[];
  /** The reference identity for usage 'server' (a DNS name or an IP literal). */
  readonly serverName?: string;
  /** Which extended key usage the leaf must allow: id-kp-serverAuth or id-kp-clientAuth. */
  readonly usage: 'server' | 'client';
  /** Verification time in milliseconds since the epoch; default: `deps.now()`. */
  readonly now?: number;
  /**
   * The smallest RSA modulus accepted anywhere in the path, in bits: 2048 by default (the web
   * PKI floor, as in rustls-webpki); 1024 at the lowest, as BoringSSL and Go still accept from
   * peers (RFC 8448's certificates have 1024-bit keys).
   */
  readonly minRsaBits?: number;
}

/**
 * A validated path.
 * @example
 * const { path, anchor } = verifyChain(deps, options); // path[0] is the leaf, path.at(-1) === anchor
 */
export interface VerifiedChain {
  /** The leaf, the intermediates used, and the anchor last. */
  readonly path: Certificate[];
  readonly anchor: Certificate;
}

/** Per-verification search state: budgets and the best error so far. */
interface _Search {
  readonly now: number;
  readonly signatures: Signatures;
  readonly usage: 'server' | 'client';
  readonly minRsaBits: number;
  /** The server name, for name constraints (RFC 5280 4.2.1.10 is about the names we rely on). */
  readonly reference: ServerNameReference | undefined;
  readonly intermediates: readonly Certificate[];
  readonly anchors: readonly Certificate[];
  signatureChecks: number;
  /** Estimated work of the signature checks so far (see VERIFY_LIMITS.maxSignatureWork). */
  signatureWork: number;
  nameComparisons: number;
  best: { error: CertificateError; depth: number } | undefined;
}

/**
 * Finds and validates a certification path from `options.chain[0]` (the leaf) to one of
 * `options.trustAnchors`, using the other chain entries as candidate intermediates in any order,
 * and checks the leaf against `serverName` (usage 'server'). Returns the path; throws
 * {@link CertificateError} naming the reason and the TLS alert otherwise.
 * @example
 * const { path, anchor } = verifyChain(
 *   { signatures: engine.crypto.signatures, now: () => engine.platform.clock.now() },
 *   { chain: [leaf, intermediate], trustAnchors: [root], serverName: 'example.com', usage: 'server' },
 * );
 */
export function verifyChain(deps: VerifyDeps, options: VerifyChainOptions): VerifiedChain {
  const leaf = options.chain[0];
  if (leaf === undefined) throw new CertificateError('empty_chain', 'no certificate was presented');
  // One clock read per verification, and none when the caller fixed the time.
  const now = options.now ?? deps.now();
  const minRsaBits = options.minRsaBits ?? RSA_DEFAULT_MIN_BITS;
  if (!Number.isSafeInteger(minRsaBits) || minRsaBits < _RSA_FLOOR_BITS || minRsaBits > _RSA_MAX_BITS) {
    throw new RangeError(`verifyChain: minRsaBits must be an integer ${_RSA_FLOOR_BITS}..${_RSA_MAX_BITS}, got ${minRsaBits}`);
  }
  const reference =
    options.usage === 'server' && options.serverName !== undefined ? parseServerName(options.serverName) : undefined;
  const search: _Search = {
    now,
    signatures: deps.signatures,
    usage: options.usage,
    minRsaBits,
    reference,
    intermediates: options.chain.slice(1),
    anchors: options.trustAnchors,
    signatureChecks: 0,
    signatureWork: 0,
    nameComparisons: 0,
    best: undefined,
  };

  _checkLeaf(search, leaf);
  const path = _extend(search, [leaf]);
  if (path === undefined) {
    throw search.best?.error ?? new CertificateError('unknown_issuer', `no issuer found for ${_describe(leaf, 0)}`, { certificate: 0 });
  }

  // RFC 9525 6: the leaf must name the server the client meant to reach. Checked once a path is
  // known, so an untrusted certificate reports unknown_ca rather than a name problem.
  if (options.usage === 'server' && options.serverName !== undefined && !matchesServerName(leaf, options.serverName)) {
    throw new CertificateError(
      'name_mismatch',
      `${_describe(leaf, 0)} is not valid for ${JSON.stringify(options.serverName)}` +
        ` (it names ${_presentedNames(leaf)}; RFC 9525 6: subjectAltName only)`,
      { certificate: 0 },
    );
  }
  return { path, anchor: path[path.length - 1]! };
}

/** Options of `verifyCertificateChain`: certificates as DER or PEM (PEM strings may hold many). */
export interface VerifyCertificateChainOptions {
  /** Leaf first; the rest are untrusted intermediates in any order. */
  readonly chain: readonly (Uint8Array | string)[] | string;
  readonly trustAnchors: readonly (Uint8Array | string)[] | string;
  readonly serverName?: string;
  readonly usage: 'server' | 'client';
  /** Verification time in epoch ms; when absent the Platform clock is read once. */
  readonly now?: number;
  /** The smallest RSA modulus accepted, in bits (default 2048, at least 1024): see {@link VerifyChainOptions}. */
  readonly minRsaBits?: number;
}

/**
 * Parses a presented chain and trust anchors (PEM text with any number of CERTIFICATE blocks,
 * DER, or a mix) and verifies them with {@link verifyChain} on the engine's signatures and
 * clock. A chain that does not parse is a 'bad_encoding' {@link CertificateError} with the
 * parser's error as `cause`; trust anchors that do not parse are the caller's configuration
 * error and throw the parser's error unchanged.
 * @example
 * const engine = init({ platform: defaultPlatform() });
 * const { path } = verifyCertificateChain(engine, {
 *   chain: serverPem, trustAnchors: rootsPem, serverName: 'example.com', usage: 'server',
 * });
 */
export function verifyCertificateChain(
  engine: { readonly platform: Platform; readonly crypto: { readonly signatures: Signatures } },
  options: VerifyCertificateChainOptions,
): VerifiedChain {
  const chain = _parseChain(options.chain);
  const trustAnchors = toDerList(options.trustAnchors, 'CERTIFICATE').map((der) => parseCertificate(der));
  return verifyChain(
    { signatures: engine.crypto.signatures, now: () => engine.platform.clock.now() },
    {
      chain,
      trustAnchors,
      usage: options.usage,
      ...(options.serverName === undefined ? {} : { serverName: options.serverName }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.minRsaBits === undefined ? {} : { minRsaBits: options.minRsaBits }),
    },
  );
}

function _parseChain(input: readonly (Uint8Array | string)[] | string): Certificate[] {
  let ders: Uint8Array[];
  try {
    ders = toDerList(input, 'CERTIFICATE');
  } catch (cause) {
    throw new CertificateError('bad_encoding', 'the certificate chain is neither DER nor PEM certificates', { cause });
  }
  return ders.map((der, i) => {
    try {
      return parseCertificate(der);
    } catch (cause) {
      const why = cause instanceof Error ? `: ${cause.message}` : '';
      throw new CertificateError('bad_encoding', `certificate ${i} of the chain does not parse${why}`, { certificate: i, cause });
    }
  });
}

// ---------------------------------------------------------------------------------------
// Path building.
// ---------------------------------------------------------------------------------------

/**
 * Extends `path` (leaf first; its last certificate already checked) to a trust anchor, trying
 * every candidate issuer depth-first. Returns the complete path, or undefined after recording
 * why nothing worked. Budget exhaustion ('too_much_work') is thrown straight out.
 */
function _extend(s: _Search, path: readonly Certificate[]): Certificate[] | undefined {
  const childIndex = path.length - 1;
  const child = path[childIndex]!;
  const issuerIndex = path.length;
  let tried = 0;
  for (const { cert: issuer, anchor } of _candidates(s, child)) {
    // A certificate, or the same subject and key under another serial, never appears twice
    // in a path: that is how loops (A signs B signs A) end.
    if (!anchor && path.some((p) => _sameCertificate(p, issuer))) continue;
    tried++;
    let linkChecked = false;
    try {
      if (!anchor && issuerIndex > VERIFY_LIMITS.maxIntermediates) {
        throw new CertificateError(
          'path_too_long',
          `no path within ${VERIFY_LIMITS.maxIntermediates} intermediates (reached ${_describe(child, childIndex)})`,
          { certificate: issuerIndex },
        );
      }
      // RFC 5280 4.2.1.1: only a self-signed certificate may omit the AKI key identifier.
      if (!(_selfIssued(child) && _bytesEqual(child.spki, issuer.spki))) _checkHasAuthorityKeyIdentifier(child, childIndex);
      _checkSignature(s, child, childIndex, issuer, issuerIndex);
      linkChecked = true;
      if (anchor) _checkAnchor(s, issuer, issuerIndex, child);
      else _checkIntermediate(s, path, issuer, issuerIndex);
      _checkNameConstraints(s, path, issuer, issuerIndex);
    } catch (error) {
      if (!(error instanceof CertificateError) || error.reason === 'too_much_work') throw error;
      // A signature that does not verify says the candidate is not the child's issuer: it
      // ranks at the child's depth, below a real issuer's own failure one level up. So does a
      // missing key identifier on the child.
      const link = !linkChecked && error.certificate === childIndex;
      _record(s, error, link ? childIndex : issuerIndex);
      continue;
    }
    if (anchor) return [...path, issuer];
    const found = _extend(s, [...path, issuer]);
    if (found !== undefined) return found;
  }
  if (tried === 0) {
    // RFC 5280 6.1: no certificate whose subject is this issuer (or only ones already used).
    _record(
      s,
      new CertificateError('unknown_issuer', `no trusted issuer found for ${_describe(child, childIndex)} (issuer ${child.issuer.text})`, {
        certificate: childIndex,
      }),
      childIndex,
    );
  }
  return undefined;
}

/** Keeps the error from the deepest attempt; at equal depth the more specific reason. */
function _record(s: _Search, error: CertificateError, depth: number): void {
  const best = s.best;
  if (best === undefined || depth > best.depth || (depth === best.depth && _specificity(error) > _specificity(best.error))) {
    s.best = { error, depth };
  }
}

function _specificity(error: CertificateError): number {
  if (error.reason === 'unknown_issuer') return 0;
  if (error.reason === 'path_too_long') return 1;
  return 2;
}

/** Candidate issuers of `child` during a search: {@link candidateIssuers} over its anchors and intermediates. */
function _candidates(s: _Search, child: Certificate): IssuerCandidate[] {
  return candidateIssuers(child, s.anchors, s.intermediates);
}

/**
 * A certificate path building may try as an issuer, and whether it is a trust anchor.
 * @example
 * const candidate: IssuerCandidate = { cert: root, anchor: true };
 */
export interface IssuerCandidate {
  readonly cert: Certificate;
  readonly anchor: boolean;
}

/**
 * The candidate issuers of `child`, in the order path building tries them: the trust anchors,
 * then the presented intermediates, whose subject Name has exactly the DER of `child`'s issuer
 * Name (RFC 5280 4.1.2.4, 7.1); each group ordered by the key identifier hint: a matching SKI
 * first, an absent one next, a different one last (RFC 5280 4.2.1.1: the AKI helps find the
 * issuer, it does not decide).
 * @example
 * candidateIssuers(leaf, roots, chain.slice(1)).map((c) => c.cert.subject.text);
 */
export function candidateIssuers(child: Certificate, trustAnchors: readonly Certificate[], intermediates: readonly Certificate[]): IssuerCandidate[] {
  const issuerName = child.issuer.raw;
  const byHint = (list: readonly Certificate[], anchor: boolean) =>
    list
      .filter((c) => _bytesEqual(c.subject.raw, issuerName))
      .map((cert, order) => ({ cert, anchor, order, hint: _keyIdHint(child, cert) }))
      .sort((a, b) => a.hint - b.hint || a.order - b.order)
      .map(({ cert: c, anchor: a }) => ({ cert: c, anchor: a }));
  return [...byHint(trustAnchors, true), ...byHint(intermediates, false)];
}

function _keyIdHint(child: Certificate, candidate: Certificate): number {
  const aki = child.authorityKeyIdentifier;
  const ski = candidate.subjectKeyIdentifier;
  if (aki === undefined || ski === undefined) return 1;
  return _bytesEqual(aki, ski) ? 0 : 2;
}

function _sameCertificate(a: Certificate, b: Certificate): boolean {
  return _bytesEqual(a.raw, b.raw) || (_bytesEqual(a.subject.raw, b.subject.raw) && _bytesEqual(a.spki, b.spki));
}

/** RFC 5280 6.1: self-issued means issuer and subject are the same name. */
function _selfIssued(cert: Certificate): boolean {
  return _bytesEqual(cert.issuer.raw, cert.subject.raw);
}

// ---------------------------------------------------------------------------------------
// Per-certificate checks.
// ---------------------------------------------------------------------------------------

/** Checks that do not depend on the path: the leaf's own (RFC 5280 6.1.3, 6.1.5; RFC 8446 4.4.2.2). */
function _checkLeaf(s: _Search, leaf: Certificate): void {
  _checkProfile(leaf, 0);
  // RFC 5280 4.2.1.10: "The name constraints extension, which MUST be used only in a CA certificate".
  if (_extension(leaf, _OID.nameConstraints) !== undefined) {
    throw new CertificateError('invalid_extension', `${_describe(leaf, 0)} is an end-entity certificate with nameConstraints (RFC 5280 4.2.1.10)`, {
      certificate: 0,
    });
  }
  _checkValidity(s, leaf, 0);
  // webpki's CaUsedAsEndEntity: a CA certificate is not a server or client identity.
  if (leaf.basicConstraints?.ca === true) {
    throw new CertificateError('ca_used_as_end_entity', `${_describe(leaf, 0)} is a CA certificate (basicConstraints cA) used as an end entity`, {
      certificate: 0,
    });
  }
  // RFC 5280 4.2.1.3 and RFC 8446 4.4.2.2: the key signs CertificateVerify, so if keyUsage is
  // present it must assert digitalSignature.
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.has('digitalSignature')) {
    throw new CertificateError('bad_key_usage', `${_describe(leaf, 0)} keyUsage does not allow digitalSignature (RFC 5280 4.2.1.3)`, {
      certificate: 0,
    });
  }
  _checkExtendedKeyUsage(s, leaf, 0);
  // The leaf's key verifies CertificateVerify later; refuse now what could never be used.
  _checkKeyUsable(s.minRsaBits, leaf, 0);
}

/** An intermediate CA's own checks, given the certificates below it (RFC 5280 6.1.3, 6.1.4). */
function _checkIntermediate(s: _Search, below: readonly Certificate[], ca: Certificate, index: number): void {
  _checkIsCa(ca, index);
  _checkProfile(ca, index, 'intermediate');
  _checkValidity(s, ca, index);
  _checkCaProfile(ca, index);
  // RFC 5280 6.1.4 (l), (m) and 4.2.1.9: pathLenConstraint bounds the non-self-issued
  // intermediates that follow this certificate in the path (the leaf does not count).
  const pathLen = ca.basicConstraints!.pathLen;
  if (pathLen !== undefined) {
    let count = 0;
    for (let i = 1; i < below.length; i++) if (!_selfIssued(below[i]!)) count++;
    if (count > pathLen) {
      throw new CertificateError(
        'path_len_exceeded',
        `${_describe(ca, index)} has pathLenConstraint ${pathLen} but ${count} intermediate(s) follow it (RFC 5280 4.2.1.9)`,
        { certificate: index },
      );
    }
  }
  // extKeyUsage on a CA restricts what it may issue for (as webpki and Chrome enforce it).
  _checkExtendedKeyUsage(s, ca, index);
}

/**
 * A trust anchor given as a certificate, about to vouch for `child` (RFC 5280 6.1.1 (d) would take
 * just its name and key; sandtls holds the certificate to the CA profile as well, as pyca/cryptography
 * does): its profile, its validity now, and the CA rules (basicConstraints critical with cA,
 * keyCertSign if keyUsage is present, a non-empty subject), except the serial number rule and
 * the presence of key identifiers (hints for finding issuers; an anchor is not searched for),
 * which real roots break.
 * pathLenConstraint and extKeyUsage on an anchor are not applied (RFC 5280 6.1 and webpki leave
 * them out; browsers do too). A self-signed leaf that is itself the anchor (a pinned certificate,
 * such as RFC 8448's) issues nothing but itself: it was checked as a leaf and is not a CA.
 */
function _checkAnchor(s: _Search, anchor: Certificate, index: number, child: Certificate): void {
  if (index === 1 && _bytesEqual(anchor.raw, child.raw)) return;
  _checkIsCa(anchor, index);
  _checkProfile(anchor, index, 'anchor');
  _checkValidity(s, anchor, index);
  _checkCaProfile(anchor, index, 'anchor');
}

/**
 * RFC 5280 6.1.4 (k): an issuer must be a CA: basicConstraints present with cA TRUE (so a v1 or
 * v2 certificate, which cannot carry extensions, is never a CA here), with a subject name.
 * Checked before anything else about an issuer: these are the most telling reasons.
 */
function _checkIsCa(ca: Certificate, index: number): void {
  if (ca.basicConstraints?.ca !== true) {
    const why = ca.version < 3 ? `a v${ca.version} certificate` : ca.basicConstraints === undefined ? 'no basicConstraints' : 'basicConstraints cA is not TRUE';
    throw new CertificateError('not_a_ca', `${_describe(ca, index)} issued a certificate but is not a CA (${why}; RFC 5280 6.1.4 (k))`, {
      certificate: index,
    });
  }
  // RFC 5280 4.1.2.6: a CA's subject "MUST be populated with a non-empty distinguished name".
  if (ca.subject.rdns.length === 0) {
    throw new CertificateError('invalid_name', `${_describe(ca, index)} is a CA with an empty subject (RFC 5280 4.1.2.6)`, { certificate: index });
  }
}

/**
 * The CA certificate rules shared by intermediates and anchor certificates, after
 * {@link _checkIsCa} (RFC 5280 6.1.4 and the profile of 4.1.2.6, 4.2.1.2, 4.2.1.3, 4.2.1.9, 4.2.1.10).
 */
function _checkCaProfile(ca: Certificate, index: number, role: 'intermediate' | 'anchor' = 'intermediate'): void {
  // RFC 5280 4.2.1.9: CAs "MUST mark the extension as critical in such certificates".
  if (_extension(ca, _OID.basicConstraints)?.critical !== true) {
    throw new CertificateError('invalid_extension', `${_describe(ca, index)} is a CA whose basicConstraints is not critical (RFC 5280 4.2.1.9)`, {
      certificate: index,
    });
  }
  // RFC 5280 6.1.4 (n) and 4.2.1.3: keyUsage, if present, must assert keyCertSign.
  if (ca.keyUsage !== undefined && !ca.keyUsage.has('keyCertSign')) {
    throw new CertificateError('bad_key_usage', `${_describe(ca, index)} keyUsage does not allow keyCertSign (RFC 5280 6.1.4 (n))`, {
      certificate: index,
    });
  }
  // RFC 5280 4.2.1.2: the subject key identifier "MUST appear in all conforming CA certificates".
  // Not asked of an anchor: it only helps find issuers, and a root the user chose needs no
  // finding (Mozilla's store, as Node 20 ships it, has a root without one: TWCA Global Root CA).
  if (ca.subjectKeyIdentifier === undefined && role !== 'anchor') {
    throw new CertificateError('invalid_extension', `${_describe(ca, index)} is a CA without a subjectKeyIdentifier (RFC 5280 4.2.1.2)`, {
      certificate: index,
    });
  }
  // RFC 5280 4.2.1.10: dNSName constraints are DNS names ("host.example.com"), not ".example.com".
  const nc = ca.nameConstraints;
  for (const [kind, subtrees] of [['permitted', nc?.permitted], ['excluded', nc?.excluded]] as const) {
    for (const constraint of subtrees?.dns ?? []) {
      const problem = presentedDnsNameProblem(constraint, 'constraint');
      if (problem !== undefined) {
        throw new CertificateError(
          'invalid_name',
          `${_describe(ca, index)} has a ${kind} dNSName constraint ${_quoted(constraint)} that is not a DNS name: ${problem} (RFC 5280 4.2.1.10)`,
          { certificate: index },
        );
      }
    }
  }
}

/**
 * The profile rules every certificate of a path must meet, whatever its place (RFC 5280 4.1 and
 * 4.2, where pyca/cryptography enforces them): no critical extension sandtls does not process, a
 * positive serial number, non-critical key identifiers, keyCertSign only with cA, a subjectAltName
 * that is critical exactly when the subject is empty, and dNSNames in the preferred name syntax.
 */
function _checkProfile(cert: Certificate, index: number, role: 'leaf' | 'intermediate' | 'anchor' = 'leaf'): void {
  _checkCriticalExtensions(cert, index);
  // RFC 5280 4.1.2.2: "The serial number MUST be a positive integer" (the parser has already
  // bounded it to 20 octets). Kept as DER INTEGER contents: minimal, two's complement. Not asked
  // of an anchor: a root's serial number identifies it to nobody (no issuer revokes it), and
  // Mozilla's store has six roots with serial 0, Go Daddy's and Starfield's G2 roots among them.
  const serial = cert.serialNumber;
  if (role !== 'anchor' && ((serial.length === 1 && serial[0] === 0) || (serial[0]! & 0x80) !== 0)) {
    const what = (serial[0]! & 0x80) !== 0 ? 'negative' : 'zero';
    throw new CertificateError('invalid_serial_number', `${_describe(cert, index)} has a ${what} serial number; it must be positive (RFC 5280 4.1.2.2)`, {
      certificate: index,
    });
  }
  // RFC 5280 4.2.1.1 and 4.2.1.2: "Conforming CAs MUST mark this extension as non-critical."
  for (const [oid, what, section] of [
    [_OID.authorityKeyIdentifier, 'authorityKeyIdentifier', '4.2.1.1'],
    [_OID.subjectKeyIdentifier, 'subjectKeyIdentifier', '4.2.1.2'],
  ] as const) {
    if (_extension(cert, oid)?.critical === true) {
      throw new CertificateError('invalid_extension', `${_describe(cert, index)} marks ${what} critical (RFC 5280 ${section})`, { certificate: index });
    }
  }
  // RFC 5280 4.2.1.9: "If the cA boolean is not asserted, then the keyCertSign bit in the key
  // usage extension MUST NOT be asserted."
  if (cert.keyUsage?.has('keyCertSign') === true && cert.basicConstraints?.ca !== true) {
    throw new CertificateError('bad_key_usage', `${_describe(cert, index)} asserts keyCertSign without basicConstraints cA (RFC 5280 4.2.1.9)`, {
      certificate: index,
    });
  }
  // RFC 5280 4.2.1.6: with an empty subject the subjectAltName MUST be present and critical;
  // with a non-empty one it SHOULD be non-critical (a MUST in the CA/B Forum profile, and pyca's rule).
  const san = _extension(cert, _OID.subjectAltName);
  const emptySubject = cert.subject.rdns.length === 0;
  if (emptySubject && san?.critical !== true) {
    const why = san === undefined ? 'no subjectAltName' : 'a non-critical subjectAltName';
    throw new CertificateError('invalid_extension', `${_describe(cert, index)} has an empty subject and ${why} (RFC 5280 4.2.1.6: it MUST be critical)`, {
      certificate: index,
    });
  }
  if (!emptySubject && san?.critical === true) {
    throw new CertificateError('invalid_extension', `${_describe(cert, index)} has a subject and a critical subjectAltName (RFC 5280 4.2.1.6)`, {
      certificate: index,
    });
  }
  for (const name of cert.subjectAltName?.dns ?? []) {
    const problem = presentedDnsNameProblem(name, 'san');
    if (problem !== undefined) {
      throw new CertificateError('invalid_name', `${_describe(cert, index)} has a subjectAltName dNSName ${_quoted(name)} that is not a DNS name: ${problem} (RFC 5280 4.2.1.6)`, {
        certificate: index,
      });
    }
  }
}

/**
 * RFC 5280 4.2.1.1: "The keyIdentifier field of the authorityKeyIdentifier extension MUST be
 * included in all certificates generated by conforming CAs", except a self-signed certificate.
 * The caller decides the exception (it knows the issuer's key).
 */
function _checkHasAuthorityKeyIdentifier(cert: Certificate, index: number): void {
  if (cert.authorityKeyIdentifier !== undefined) return;
  const why = _extension(cert, _OID.authorityKeyIdentifier) === undefined ? 'no authorityKeyIdentifier' : 'an authorityKeyIdentifier without keyIdentifier';
  throw new CertificateError('invalid_extension', `${_describe(cert, index)} is not self-signed and has ${why} (RFC 5280 4.2.1.1)`, {
    certificate: index,
  });
}

function _extension(cert: Certificate, oid: string): { readonly critical: boolean } | undefined {
  return cert.extensions.find((e) => e.oid === oid);
}

/** A name from a certificate for a message: JSON-quoted (so control characters show), cut short. */
function _quoted(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

/** RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it encounters a
 * critical extension it does not recognize". */
function _checkCriticalExtensions(cert: Certificate, index: number): void {
  if (cert.unsupportedCriticalExtensions.length > 0) {
    throw new CertificateError(
      'unsupported_critical_extension',
      `${_describe(cert, index)} has unsupported critical extension(s) ${cert.unsupportedCriticalExtensions.join(', ')} (RFC 5280 4.2)`,
      { certificate: index },
    );
  }
}

/** RFC 5280 6.1.3 (a)(2) and 4.1.2.5: the time must lie within notBefore..notAfter, inclusive. */
function _checkValidity(s: _Search, cert: Certificate, index: number): void {
  if (s.now > cert.notAfter) {
    throw new CertificateError('expired', `${_describe(cert, index)} expired at ${isoTime(cert.notAfter)} (now ${isoTime(s.now)})`, {
      certificate: index,
    });
  }
  if (s.now < cert.notBefore) {
    throw new CertificateError('not_yet_valid', `${_describe(cert, index)} is not valid before ${isoTime(cert.notBefore)} (now ${isoTime(s.now)})`, {
      certificate: index,
    });
  }
}

/**
 * RFC 5280 4.2.1.12: if extKeyUsage is present, the certificate may be used only for the
 * purposes listed. anyExtendedKeyUsage is not accepted in place of the TLS purpose (webpki).
 */
function _checkExtendedKeyUsage(s: _Search, cert: Certificate, index: number): void {
  const eku = cert.extKeyUsage;
  if (eku === undefined || eku.includes(_EKU[s.usage])) return;
  const wanted = s.usage === 'server' ? 'id-kp-serverAuth' : 'id-kp-clientAuth';
  throw new CertificateError(
    'bad_extended_key_usage',
    `${_describe(cert, index)} extKeyUsage [${eku.join(', ')}] does not include ${wanted} (RFC 5280 4.2.1.12)`,
    { certificate: index },
  );
}

/** A key sandtls cannot use: unknown algorithm or curve, or an RSA modulus out of range. */
function _checkKeyUsable(minRsaBits: number, cert: Certificate, index: number): void {
  const key = cert.publicKey;
  if (key === undefined) {
    throw new CertificateError('unsupported_key', `${_describe(cert, index)} has a public key algorithm sandtls does not support`, {
      certificate: index,
    });
  }
  if (key.kind === 'rsa') {
    const bits = bitLength(key.n);
    if (bits < minRsaBits || bits > _RSA_MAX_BITS) {
      throw new CertificateError(
        'unsupported_key',
        `${_describe(cert, index)} has a ${bits}-bit RSA key; ${minRsaBits} to ${_RSA_MAX_BITS} bits are supported`,
        { certificate: index },
      );
    }
    // The parser already refuses such keys (spki.ts); a Certificate built by hand is held to it too.
    if (key.e >> BigInt(RSA_MAX_PUBLIC_EXPONENT_BITS) !== 0n) {
      throw new CertificateError(
        'unsupported_key',
        `${_describe(cert, index)} has an RSA public exponent of ${bitLength(key.e)} bits; below 2^${RSA_MAX_PUBLIC_EXPONENT_BITS} is supported`,
        { certificate: index },
      );
    }
  }
}

/**
 * RFC 5280 6.1.3 (a)(1): the child's signature verifies with the issuer's key, under the
 * child's signatureAlgorithm (RFC 4055 for RSA-PSS, RFC 5758 for ECDSA, RFC 8410 for Ed25519).
 */
function _checkSignature(s: _Search, child: Certificate, childIndex: number, issuer: Certificate, issuerIndex: number): void {
  _checkSignable(s.minRsaBits, child, childIndex, issuer, issuerIndex);
  const alg = child.signatureAlgorithm as Exclude<Certificate['signatureAlgorithm'], { kind: 'unsupported' }>;
  const key = issuer.publicKey!;
  if (++s.signatureChecks > VERIFY_LIMITS.maxSignatureChecks) {
    throw new CertificateError('too_much_work', `path building gave up after ${VERIFY_LIMITS.maxSignatureChecks} signature checks`, {
      certificate: childIndex,
    });
  }
  // Counted before the work is done, so the budget bounds what is spent, not what was.
  s.signatureWork += _signatureCost(key);
  if (s.signatureWork > VERIFY_LIMITS.maxSignatureWork) {
    throw new CertificateError(
      'too_much_work',
      `path building gave up after ${s.signatureChecks - 1} signature checks: the next would exceed the work budget (VERIFY_LIMITS.maxSignatureWork)`,
      { certificate: childIndex },
    );
  }
  let valid: boolean;
  try {
    if (alg.kind === 'ecdsa' && key.kind === 'ec') {
      // ECDSA in certificates may pair either curve with either hash (RFC 5758 3.2).
      valid = s.signatures.ecdsaVerify(key.curve, alg.hash, key.point, child.tbs, child.signature);
    } else {
      valid = s.signatures.verify(_certificateScheme(alg, key)!, key, child.tbs, child.signature, { minRsaBits: s.minRsaBits });
    }
  } catch (cause) {
    // An issuer key that is not a valid point (or otherwise malformed): the issuer is corrupt.
    if (!(cause instanceof InvalidKeyError)) throw cause;
    throw new CertificateError('bad_encoding', `${_describe(issuer, issuerIndex)} has an invalid public key: ${cause.message}`, {
      certificate: issuerIndex,
      cause,
    });
  }
  if (!valid) {
    throw new CertificateError('bad_signature', `the signature on ${_describe(child, childIndex)} does not verify with the key of ${_describe(issuer, issuerIndex)}`, {
      certificate: childIndex,
    });
  }
}

/**
 * What makes a link fail before any signature is verified: an algorithm sandtls does not
 * support, an issuer key it cannot use or that cannot make such a signature, ECDSA with SHA-512
 * on P-256 or P-384.
 */
function _checkSignable(minRsaBits: number, child: Certificate, childIndex: number, issuer: Certificate, issuerIndex: number): void {
  const alg = child.signatureAlgorithm;
  if (alg.kind === 'unsupported') {
    throw new CertificateError(
      'unsupported_signature_algorithm',
      `${_describe(child, childIndex)} is signed with an unsupported algorithm ${alg.oid} (${alg.reason})`,
      { certificate: childIndex },
    );
  }
  _checkKeyUsable(minRsaBits, issuer, issuerIndex);
  const key = issuer.publicKey!;
  const expectedKey = alg.kind === 'ecdsa' ? 'ec' : alg.kind === 'ed25519' ? 'ed25519' : 'rsa';
  if (key.kind !== expectedKey) {
    throw new CertificateError(
      'bad_signature',
      `${_describe(child, childIndex)} is signed with ${alg.kind}, which a ${key.kind} key of ${_describe(issuer, issuerIndex)} cannot make`,
      { certificate: childIndex },
    );
  }
  if (alg.kind === 'ecdsa' && alg.hash === 'SHA-512' && (key.kind !== 'ec' || key.curve === 'secp256r1' || key.curve === 'secp384r1')) {
    // Like webpki: P-256 and P-384 pair with SHA-256 or SHA-384 only. The brainpool curves take
    // any of the three (brainpoolP512r1 certificates are signed with SHA-512, RFC 8734 2's pairing).
    throw new CertificateError('unsupported_signature_algorithm', `${_describe(child, childIndex)} is signed with ECDSA and SHA-512 on ${key.kind === 'ec' ? key.curve : key.kind}`, {
      certificate: childIndex,
    });
  }
}

/**
 * RFC 8446 4.2.3's ECDSA schemes, each fixing its curve and hash: the certificate signatures they
 * verify. The brainpool schemes (RFC 8734, opt-in) are not listed: no WebCrypto has them, and
 * their curve, built on its first use, draws from the Platform where path building would; so
 * path building verifies them itself.
 * @example
 * CERTIFICATE_ECDSA_SCHEMES.secp384r1?.['SHA-384']; // 'ecdsa_secp384r1_sha384'
 */
export const CERTIFICATE_ECDSA_SCHEMES: Readonly<Partial<Record<WeierstrassCurveName, Partial<Record<HashName, SignatureScheme>>>>> = Object.freeze({
  secp256r1: Object.freeze({ 'SHA-256': 'ecdsa_secp256r1_sha256' }),
  secp384r1: Object.freeze({ 'SHA-384': 'ecdsa_secp384r1_sha384' }),
});

/**
 * The TLS 1.3 signature scheme (RFC 8446 4.2.3) that verifies exactly what a certificate
 * signature with `alg` by `key` means, or undefined when there is none: RSA-PSS (whose RFC 4055
 * parameters the parser narrowed to MGF1 with the signature's hash and a salt as long as the
 * hash) is rsa_pss_rsae_*, PKCS #1 v1.5 rsa_pkcs1_*, Ed25519 ed25519; ECDSA only with
 * {@link CERTIFICATE_ECDSA_SCHEMES} (a P-384 key with SHA-256, which RFC 5758 allows, has no
 * scheme).
 */
function _certificateScheme(alg: Certificate['signatureAlgorithm'], key: NonNullable<Certificate['publicKey']>): SignatureScheme | undefined {
  switch (alg.kind) {
    case 'ed25519':
      return 'ed25519';
    case 'rsa-pss':
      return `rsa_pss_rsae_${_HASH_SUFFIX[alg.hash]}`;
    case 'rsa-pkcs1':
      return `rsa_pkcs1_${_HASH_SUFFIX[alg.hash]}`;
    case 'ecdsa':
      return key.kind === 'ec' ? CERTIFICATE_ECDSA_SCHEMES[key.curve]?.[alg.hash] : undefined;
    case 'unsupported':
      return undefined;
  }
}

/**
 * One certificate signature path building may verify, as a TLS 1.3 signature scheme: `child`'s
 * signature over its tbsCertificate, with `issuer`'s key.
 * @example
 * const valid = signatures.verify(check.scheme, check.key, check.message, check.signature, { minRsaBits: check.minRsaBits });
 */
export interface CertificateSignatureCheck {
  readonly scheme: SignatureScheme;
  /** The issuer's key, and the SubjectPublicKeyInfo DER it was parsed from. */
  readonly key: PublicKey;
  readonly spki: Uint8Array;
  /** The child's tbsCertificate DER. */
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly minRsaBits: number;
}

/**
 * The certificate signatures path building from `chain[0]` to `trustAnchors` could verify, for
 * checking ahead of it (an asynchronous provider verifies them concurrently, then path building
 * answers from the results). Breadth-first from the leaf over the same candidate issuers as
 * {@link verifyChain} (see {@link candidateIssuers}), leaving out the links path building
 * refuses before verifying (an unsupported algorithm or key, a non-self-signed child without an
 * authority key identifier, a path longer than VERIFY_LIMITS.maxIntermediates), the ones that
 * have no TLS 1.3 scheme here (path building verifies those itself) and duplicates; a presented copy
 * of a trust anchor is not searched above. Bounded by the same budgets as path building:
 * at most VERIFY_LIMITS.maxSignatureChecks checks whose cost stays within maxSignatureWork, so a
 * hostile chain cannot make this do more work than path building could.
 * @example
 * const checks = chainSignatureChecks([leaf, intermediate], roots, 2048);
 */
export function chainSignatureChecks(chain: readonly Certificate[], trustAnchors: readonly Certificate[], minRsaBits: number = RSA_DEFAULT_MIN_BITS): CertificateSignatureCheck[] {
  const leaf = chain[0];
  if (leaf === undefined) return [];
  const intermediates = chain.slice(1);
  const checks: CertificateSignatureCheck[] = [];
  let work = 0;
  // Each child with its depth (the leaf 0): an issuer at depth > maxIntermediates is path_too_long.
  const queue: { cert: Certificate; depth: number }[] = [{ cert: leaf, depth: 0 }];
  const queued = new Set<Certificate>([leaf]);
  for (let next = 0; next < queue.length; next++) {
    const { cert: child, depth } = queue[next]!;
    for (const { cert: issuer, anchor } of candidateIssuers(child, trustAnchors, intermediates)) {
      if (!anchor && (depth + 1 > VERIFY_LIMITS.maxIntermediates || _sameCertificate(child, issuer))) continue;
      try {
        if (!(_selfIssued(child) && _bytesEqual(child.spki, issuer.spki))) _checkHasAuthorityKeyIdentifier(child, depth);
        _checkSignable(minRsaBits, child, depth, issuer, depth + 1);
      } catch (error) {
        if (error instanceof CertificateError) continue;
        throw error;
      }
      const key = issuer.publicKey!;
      const scheme = _certificateScheme(child.signatureAlgorithm, key);
      const duplicate = (c: CertificateSignatureCheck) => c.scheme === scheme && _bytesEqual(c.spki, issuer.spki) && _bytesEqual(c.message, child.tbs) && _bytesEqual(c.signature, child.signature);
      if (scheme !== undefined && !checks.some(duplicate)) {
        const cost = _signatureCost(key);
        if (checks.length + 1 > VERIFY_LIMITS.maxSignatureChecks || work + cost > VERIFY_LIMITS.maxSignatureWork) return checks;
        work += cost;
        checks.push({ scheme, key, spki: issuer.spki, message: child.tbs, signature: child.signature, minRsaBits });
      }
      // Path building goes on above an intermediate (not above a presented copy of an anchor:
      // the anchor itself is tried first and ends the path).
      if (!anchor && !queued.has(issuer) && !trustAnchors.some((a) => _bytesEqual(a.raw, issuer.raw))) {
        queued.add(issuer);
        queue.push({ cert: issuer, depth: depth + 1 });
      }
    }
  }
  return checks;
}

/** Relative cost of one ECDSA verification per curve (measured: P-256 about 1.4x Ed25519). */
const _EC_VERIFY_COST: Readonly<Record<WeierstrassCurveName, number>> = Object.freeze({
  secp256r1: 500,
  secp384r1: 1100,
  brainpoolP256r1: 500,
  brainpoolP384r1: 1100,
  brainpoolP512r1: 2000,
});

/** Relative cost of one signature check with `key` (the units of VERIFY_LIMITS.maxSignatureWork). */
function _signatureCost(key: NonNullable<Certificate['publicKey']>): number {
  switch (key.kind) {
    case 'ec':
      return _EC_VERIFY_COST[key.curve];
    case 'ed25519':
      return 350;
    case 'rsa': {
      // Square-and-multiply: one squaring per bit of e after the first, one multiplication per
      // set bit; schoolbook multiplication grows with the square of the modulus (an overestimate
      // for large moduli, which only makes the budget more careful).
      let ones = 0;
      for (let e = key.e; e > 0n; e >>= 1n) if ((e & 1n) === 1n) ones++;
      const ops = bitLength(key.e) - 1 + ones;
      const bits = bitLength(key.n);
      return Math.max(1, Math.ceil((ops * bits * bits) / (2048 * 2048)));
    }
  }
}

// ---------------------------------------------------------------------------------------
// Name constraints (RFC 5280 4.2.1.10, 6.1.3 (b), (c)).
// ---------------------------------------------------------------------------------------

/** The names of one certificate that name constraints apply to. */
interface _Names {
  readonly dns: readonly string[];
  readonly ip: readonly Uint8Array[];
  /** GeneralName tag numbers of every other name form present. */
  readonly otherForms: ReadonlySet<number>;
}

/**
 * Applies `ca`'s nameConstraints to every certificate below it in `path`: RFC 5280 6.1.3 (b),
 * (c) skip self-issued intermediates, but never the leaf. The leaf's names include the server
 * name being verified.
 */
function _checkNameConstraints(s: _Search, path: readonly Certificate[], ca: Certificate, caIndex: number): void {
  const constraints = ca.nameConstraints;
  if (constraints === undefined) return;
  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    if (i > 0 && _selfIssued(cert)) continue;
    const names = _namesOf(cert, i === 0 ? s.reference : undefined);
    const fail = (what: string) =>
      new CertificateError('name_constraint_violation', `${_describe(cert, i)}: ${what}, under the name constraints of ${_describe(ca, caIndex)} (RFC 5280 4.2.1.10)`, {
        certificate: i,
      });
    const { permitted, excluded } = constraints;
    if (permitted !== undefined) {
      _failClosedOnOtherForms(permitted, names, fail);
      if (permitted.dns.length > 0) {
        for (const name of names.dns) {
          if (!permitted.dns.some((c) => _count(s) && _dnsWithin(name, c))) throw fail(`DNS name ${name} is outside the permitted subtrees`);
        }
      }
      if (permitted.ip.length > 0) {
        for (const ip of names.ip) {
          if (!permitted.ip.some((c) => _count(s) && _ipWithin(ip, c))) throw fail(`IP address ${_ipText(ip)} is outside the permitted subtrees`);
        }
      }
    }
    if (excluded !== undefined) {
      _failClosedOnOtherForms(excluded, names, fail);
      for (const name of names.dns) {
        if (excluded.dns.some((c) => _count(s) && _dnsMayFallWithin(name, c))) throw fail(`DNS name ${name} is in an excluded subtree`);
      }
      for (const ip of names.ip) {
        if (excluded.ip.some((c) => _count(s) && _ipMayFallWithin(ip, c))) throw fail(`IP address ${_ipText(ip)} is in an excluded subtree`);
      }
    }
  }
}

/** Counts one comparison; throws 'too_much_work' past the budget. Always true otherwise. */
function _count(s: _Search): boolean {
  if (++s.nameComparisons > VERIFY_LIMITS.maxNameConstraintComparisons) {
    throw new CertificateError('too_much_work', `name constraint checking gave up after ${VERIFY_LIMITS.maxNameConstraintComparisons} comparisons`);
  }
  return true;
}

/**
 * A constraint of a form this verifier does not evaluate (otherName, rfc822Name, x400Address,
 * directoryName, ediPartyName, URI, registeredID) applies whenever the certificate has a name
 * of that form ("restrictions apply only when the specified name form is present"), and then
 * the verifier cannot show the name is allowed: fail closed.
 */
function _failClosedOnOtherForms(subtrees: GeneralSubtrees, names: _Names, fail: (what: string) => CertificateError): void {
  for (const constraint of subtrees.other) {
    const form = constraint.tag & 0x1f;
    if (names.otherForms.has(form)) throw fail(`it has a name of form [${form}], whose constraints sandtls cannot evaluate`);
  }
}

function _namesOf(cert: Certificate, reference: ServerNameReference | undefined): _Names {
  const dns: string[] = [];
  const ip: Uint8Array[] = [];
  const otherForms = new Set<number>();
  const san = cert.subjectAltName;
  if (san !== undefined) {
    // DNS names compare case-insensitively (RFC 5280 7.2); the parser admits only ASCII.
    for (const name of san.dns) dns.push(_asciiLower(name));
    ip.push(...san.ip);
    for (const other of san.other) otherForms.add(other.tag & 0x1f);
  }
  // RFC 5280 4.2.1.10: directoryName constraints apply to the subject name; rfc822Name
  // constraints apply to emailAddress attributes of the subject (the RFC says when there is no
  // SAN; counting them always only fails closed more often).
  if (cert.subject.rdns.length > 0) otherForms.add(_GN_DIRECTORY);
  if (cert.subject.rdns.some((rdn) => rdn.some((attr) => attr.type === _EMAIL_ADDRESS))) otherForms.add(_GN_RFC822);
  if (reference?.kind === 'dns') dns.push(reference.name);
  if (reference?.kind === 'ip') ip.push(reference.address);
  return { dns, ip, otherForms };
}

/** Folds A-Z only (String.prototype.toLowerCase would also fold non-ASCII look-alikes). */
function _asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0x20));
}

/**
 * RFC 5280 4.2.1.10: "Any DNS name that can be constructed by simply adding zero or more labels
 * to the left-hand side of the name satisfies the name constraint." The empty constraint matches
 * all. (A leading '.', which Go, webpki and OpenSSL read as "subdomains only", is not RFC 5280
 * syntax: _checkCaProfile refuses such a CA before its constraints are used.) A wildcard name
 * `*.x` is within a subtree when `x`'s subdomains are.
 */
function _dnsWithin(name: string, constraint: string): boolean {
  const c = _asciiLower(constraint);
  if (c === '') return true;
  return name === c || name.endsWith(`.${c}`);
}

/**
 * Excluded subtrees must also catch wildcards that could match an excluded host: `*.example.com`
 * would be presented for bad.example.com, so it falls within an exclusion of bad.example.com.
 */
function _dnsMayFallWithin(name: string, constraint: string): boolean {
  if (_dnsWithin(name, constraint)) return true;
  if (!name.startsWith('*.')) return false;
  const base = _asciiLower(constraint);
  const dot = base.indexOf('.');
  return dot > 0 && base.slice(dot + 1) === name.slice(2);
}

/** RFC 5280 4.2.1.10: an address is within address/mask when it agrees on the mask's bits. */
function _ipWithin(ip: Uint8Array, constraint: { readonly address: Uint8Array; readonly mask: Uint8Array }): boolean {
  const { address, mask } = constraint;
  if (ip.length !== address.length || mask.length !== address.length) return false;
  for (let i = 0; i < ip.length; i++) if ((ip[i]! & mask[i]!) !== (address[i]! & mask[i]!)) return false;
  return true;
}

/** For exclusions, a constraint too malformed to evaluate counts as a match (fail closed). */
function _ipMayFallWithin(ip: Uint8Array, constraint: { readonly address: Uint8Array; readonly mask: Uint8Array }): boolean {
  const { address, mask } = constraint;
  if (mask.length !== address.length || (address.length !== 4 && address.length !== 16)) return true;
  return _ipWithin(ip, constraint);
}

// ---------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------

function _bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function _describe(cert: Certificate, index: number): string {
  const subject = cert.subject.text.length > 120 ? `${cert.subject.text.slice(0, 120)}...` : cert.subject.text;
  return `certificate ${index} (${subject || 'empty subject'})`;
}

function _presentedNames(cert: Certificate): string {
  const san = cert.subjectAltName;
  if (san === undefined) return 'no subjectAltName';
  const names = [...san.dns.slice(0, 8), ...san.ip.slice(0, 8).map(_ipText)];
  return names.length === 0 ? 'no DNS or IP names' : names.join(', ');
}

function _ipText(ip: Uint8Array): string {
  if (ip.length === 4) return Array.from(ip).join('.');
  const groups: string[] = [];
  for (let i = 0; i + 1 < ip.length; i += 2) groups.push(((ip[i]! << 8) | ip[i + 1]!).toString(16));
  return groups.join(':');
}

