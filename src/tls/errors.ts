/**
 * The errors a TLS connection reports. Every failure of a connection is one `TlsAlertError`:
 * the alert that ended it (RFC 8446 6), which side sent it, and a `code` in node:tls's
 * vocabulary. Misuse of the API by the caller (sending before the handshake, after close) is a
 * `TlsStateError`, thrown synchronously; a configuration that cannot work is a `TlsConfigError`.
 *
 * The codes are the ones node:tls (OpenSSL underneath) gives the same failure, measured against
 * Node 20 with OpenSSL 3.0, so that code written for node:tls keeps working:
 * - a certificate this side refused: OpenSSL's verify result names (`CERT_HAS_EXPIRED`,
 *   `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `DEPTH_ZERO_SELF_SIGNED_CERT`, ...; see
 *   {@link certificateErrorCode}) and node's `ERR_TLS_CERT_ALTNAME_INVALID` for a wrong name;
 * - an alert received from the peer: OpenSSL's reason (`ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`,
 *   `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`, ...);
 * - a peer that does not speak TLS at all: `ERR_SSL_WRONG_VERSION_NUMBER` (an HTTP server on the
 *   port), `ERR_SSL_HTTP_REQUEST` (a plain HTTP client), `ERR_SSL_HTTPS_PROXY_REQUEST` (a CONNECT);
 * - a required client certificate that did not come: `ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE`;
 * - any other alert this side sends: sandtls's own `ERR_TLS_ALERT_<NAME>` (OpenSSL's reasons for
 *   protocol faults are too many and too internal to mirror one by one).
 * @module
 */
import { CapabilityDeniedError, type Capability } from '../os/platform.js';
import { isPlatformFailure } from '../crypto/random.js';
import { PrivateKeyError } from '../x509/key-error.js';
import type { Certificate } from '../x509/types.js';
import { CertificateError } from '../x509/verify.js';
import { TlsDecodeError, TlsEncodeError } from './codec.js';
import { alertName, type AlertName } from './enums.js';
import { RecordError, type NotTlsCode } from './record.js';

/**
 * node:tls's code for each alert received from the peer: OpenSSL's reason string for it, as
 * node turns it into a code (measured: Node 20, OpenSSL 3.0). Alerts without an entry (a fatal
 * close_notify, ech_required, unassigned values) get `ERR_TLS_ALERT_<NAME>`.
 */
const _PEER_ALERT_CODES = Object.freeze({
  10: 'ERR_SSL_SSLV3_ALERT_UNEXPECTED_MESSAGE',
  20: 'ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC',
  21: 'ERR_SSL_TLSV1_ALERT_DECRYPTION_FAILED',
  22: 'ERR_SSL_TLSV1_ALERT_RECORD_OVERFLOW',
  30: 'ERR_SSL_SSLV3_ALERT_DECOMPRESSION_FAILURE',
  40: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
  41: 'ERR_SSL_SSLV3_ALERT_NO_CERTIFICATE',
  42: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  43: 'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  44: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
  45: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  46: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  47: 'ERR_SSL_SSLV3_ALERT_ILLEGAL_PARAMETER',
  48: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  49: 'ERR_SSL_TLSV1_ALERT_ACCESS_DENIED',
  50: 'ERR_SSL_TLSV1_ALERT_DECODE_ERROR',
  51: 'ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR',
  60: 'ERR_SSL_TLSV1_ALERT_EXPORT_RESTRICTION',
  70: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  71: 'ERR_SSL_TLSV1_ALERT_INSUFFICIENT_SECURITY',
  80: 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR',
  86: 'ERR_SSL_TLSV1_ALERT_INAPPROPRIATE_FALLBACK',
  90: 'ERR_SSL_TLSV1_ALERT_USER_CANCELLED',
  100: 'ERR_SSL_TLSV1_ALERT_NO_RENEGOTIATION',
  109: 'ERR_SSL_TLSV13_ALERT_MISSING_EXTENSION',
  110: 'ERR_SSL_TLSV1_UNSUPPORTED_EXTENSION',
  111: 'ERR_SSL_TLSV1_CERTIFICATE_UNOBTAINABLE',
  112: 'ERR_SSL_TLSV1_UNRECOGNIZED_NAME',
  113: 'ERR_SSL_TLSV1_BAD_CERTIFICATE_STATUS_RESPONSE',
  114: 'ERR_SSL_TLSV1_BAD_CERTIFICATE_HASH_VALUE',
  115: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_PSK_IDENTITY',
  116: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  120: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
} as const);

/** node:tls's code for an alert received from the peer (see {@link TlsAlertError.code}). */
export type PeerAlertCode = (typeof _PEER_ALERT_CODES)[keyof typeof _PEER_ALERT_CODES];

/** sandtls's code for an alert with no node:tls counterpart: `ERR_TLS_ALERT_` and the alert's name. */
export type AlertCode = `ERR_TLS_ALERT_${Uppercase<AlertName>}` | `ERR_TLS_ALERT_UNKNOWN_${number}`;

/**
 * Why this side refused the peer's certificate, in node:tls's words: OpenSSL's verify result
 * names (`X509_V_ERR_` dropped), and node's own code for a name mismatch.
 */
export type CertificateErrorCode =
  | 'CERT_HAS_EXPIRED'
  | 'CERT_NOT_YET_VALID'
  | 'DEPTH_ZERO_SELF_SIGNED_CERT'
  | 'SELF_SIGNED_CERT_IN_CHAIN'
  | 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'
  | 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'
  | 'UNABLE_TO_GET_ISSUER_CERT'
  | 'CERT_SIGNATURE_FAILURE'
  | 'ERR_TLS_CERT_ALTNAME_INVALID'
  | 'INVALID_CA'
  | 'PATH_LENGTH_EXCEEDED'
  | 'CERT_CHAIN_TOO_LONG'
  | 'INVALID_PURPOSE'
  | 'PERMITTED_SUBTREE_VIOLATION'
  | 'UNHANDLED_CRITICAL_EXTENSION'
  | 'INVALID_EXTENSION'
  | 'CERT_REJECTED';

/**
 * The `code` of a {@link TlsAlertError}: what node:tls reports for the same failure where it has
 * a code for it, else `ERR_TLS_ALERT_<NAME>`.
 */
export type TlsErrorCode =
  | CertificateErrorCode
  | PeerAlertCode
  | AlertCode
  | NotTlsCode
  | 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE';

/** Who sent the alert that ended a connection. */
export type AlertSender = 'local' | 'peer';

/**
 * A connection ended with a fatal alert. `alert` is its IANA name (`'bad_record_mac'`,
 * `'decode_error'`, ...; `'unknown(N)'` for a code point with no name), `sender` says whether
 * this side sent it (a local check failed: `cause` holds the underlying error) or the peer did.
 * Messages never contain key material.
 * @example
 * conn.receive(bytes);
 * if (conn.state === 'failed') console.log(conn.error?.alert, conn.error?.sender);
 */
export class TlsAlertError extends Error {
  override readonly name = 'TlsAlertError';
  readonly alert: AlertName | `unknown(${number})`;
  readonly sender: AlertSender;
  /**
   * node:tls's code for this failure (see the module comment): `CERT_HAS_EXPIRED` and friends for
   * a certificate this side refused, `ERR_SSL_..._ALERT_...` for an alert the peer sent,
   * `ERR_SSL_WRONG_VERSION_NUMBER` (or `ERR_SSL_HTTP_REQUEST`) for a peer that does not speak TLS,
   * else `ERR_TLS_ALERT_<NAME>`.
   */
  readonly code: TlsErrorCode;
  /** The Platform capability whose refusal caused this failure, if that is what happened. */
  readonly capability: Capability | undefined;
  constructor(
    alert: AlertName | `unknown(${number})`,
    sender: AlertSender,
    message: string,
    options: { cause?: unknown; code?: TlsErrorCode } = {},
  ) {
    super(`${alert} (${sender === 'local' ? 'sent' : 'received'}): ${message}`, 'cause' in options ? { cause: options.cause } : undefined);
    this.alert = alert;
    this.sender = sender;
    this.code = options.code ?? _defaultCode(alert, sender, options.cause);
    this.capability = _capabilityOf(options.cause);
  }
}

function _alertNumber(alert: AlertName | `unknown(${number})`): number | undefined {
  const unknown = /^unknown\((\d+)\)$/.exec(alert);
  if (unknown) return Number(unknown[1]);
  return _ALERT_NUMBERS[alert as AlertName];
}

const _ALERT_NUMBERS: Readonly<Partial<Record<AlertName, number>>> = Object.freeze(
  Object.fromEntries(Array.from({ length: 256 }, (_, n) => [alertName(n), n]).filter(([name]) => name !== undefined)),
);

/**
 * `ERR_TLS_ALERT_<NAME>` for an alert name.
 * @example
 * alertCode('unknown_ca'); // 'ERR_TLS_ALERT_UNKNOWN_CA'
 */
export function alertCode(alert: AlertName | `unknown(${number})`): AlertCode {
  const unknown = /^unknown\((\d+)\)$/.exec(alert);
  if (unknown) return `ERR_TLS_ALERT_UNKNOWN_${Number(unknown[1])}`;
  return `ERR_TLS_ALERT_${(alert as AlertName).toUpperCase() as Uppercase<AlertName>}`;
}

function _defaultCode(alert: AlertName | `unknown(${number})`, sender: AlertSender, cause: unknown): TlsErrorCode {
  if (sender === 'peer') {
    const n = _alertNumber(alert);
    const code = n === undefined ? undefined : (_PEER_ALERT_CODES as Readonly<Record<number, PeerAlertCode>>)[n];
    return code ?? alertCode(alert);
  }
  if (cause instanceof RecordError && cause.code !== undefined) return cause.code;
  if (alert === 'certificate_required') return 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE';
  return alertCode(alert);
}

const _CERTIFICATE_CODES: Readonly<Record<Exclude<CertificateError['reason'], 'unknown_issuer'>, CertificateErrorCode>> = Object.freeze({
  expired: 'CERT_HAS_EXPIRED',
  not_yet_valid: 'CERT_NOT_YET_VALID',
  bad_signature: 'CERT_SIGNATURE_FAILURE',
  unsupported_signature_algorithm: 'CERT_SIGNATURE_FAILURE',
  name_mismatch: 'ERR_TLS_CERT_ALTNAME_INVALID',
  not_a_ca: 'INVALID_CA',
  ca_used_as_end_entity: 'INVALID_CA',
  path_len_exceeded: 'PATH_LENGTH_EXCEEDED',
  bad_key_usage: 'INVALID_PURPOSE',
  bad_extended_key_usage: 'INVALID_PURPOSE',
  unsupported_critical_extension: 'UNHANDLED_CRITICAL_EXTENSION',
  name_constraint_violation: 'PERMITTED_SUBTREE_VIOLATION',
  bad_encoding: 'CERT_REJECTED',
  path_too_long: 'CERT_CHAIN_TOO_LONG',
  too_much_work: 'CERT_REJECTED',
  empty_chain: 'UNABLE_TO_GET_ISSUER_CERT',
  unsupported_key: 'CERT_REJECTED',
  invalid_serial_number: 'CERT_REJECTED',
  invalid_extension: 'INVALID_EXTENSION',
  invalid_name: 'CERT_REJECTED',
});

function _bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * node:tls's code for a refused certificate chain (`chain` as the peer sent it, leaf first).
 * For a chain that reaches no trust anchor it follows OpenSSL's chain building: issuers are
 * looked up among the presented certificates by name (and key identifier, when both have one);
 * a chain that ends in a self-signed certificate is `DEPTH_ZERO_SELF_SIGNED_CERT` (the leaf
 * itself) or `SELF_SIGNED_CERT_IN_CHAIN`, one that ends without an issuer
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE` (the leaf alone) or `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`.
 * @example
 * certificateErrorCode(error, chain); // 'CERT_HAS_EXPIRED'
 */
export function certificateErrorCode(error: CertificateError, chain: readonly Certificate[]): CertificateErrorCode {
  if (error.reason !== 'unknown_issuer') return _CERTIFICATE_CODES[error.reason];
  const leaf = chain[0];
  if (leaf === undefined) return 'UNABLE_TO_GET_ISSUER_CERT';
  const built = [leaf];
  const unused = new Set(chain.slice(1));
  for (let last = leaf; !_bytesEqual(last.subject.raw, last.issuer.raw); ) {
    const child = last;
    const issuer = [...unused].find(
      (candidate) =>
        _bytesEqual(candidate.subject.raw, child.issuer.raw) &&
        (child.authorityKeyIdentifier === undefined || candidate.subjectKeyIdentifier === undefined || _bytesEqual(child.authorityKeyIdentifier, candidate.subjectKeyIdentifier)),
    );
    if (issuer === undefined) break;
    unused.delete(issuer);
    built.push(issuer);
    last = issuer;
  }
  const top = built[built.length - 1]!;
  if (_bytesEqual(top.subject.raw, top.issuer.raw)) return built.length === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN';
  return built.length === 1 ? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
}

/**
 * The caller used a connection in a way its state does not allow: `send()` before the
 * handshake completed or after `close()`, `exportKeyingMaterial()` too early, a failed
 * connection. Not a protocol failure: nothing is sent.
 * @example
 * try { conn.send(data); } catch (e) { if (e instanceof TlsStateError) queueForLater(data); }
 */
export class TlsStateError extends Error {
  override readonly name = 'TlsStateError';
}

/**
 * What is wrong with a configuration, named after node:tls's code for the same mistake where it
 * has one:
 * - `ERR_OSSL_X509_KEY_VALUES_MISMATCH`: the private key is not the certificate's;
 * - `ERR_OSSL_PEM_NO_START_LINE`: a certificate that is neither PEM nor DER that parses;
 * - `ERR_OSSL_BAD_DECRYPT`, `ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE`, `ERR_OSSL_UNSUPPORTED`: a private
 *   key (or PKCS #12 file) that cannot be decrypted or used (see `PrivateKeyError`);
 * - `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`: an option of the wrong type or value, or one
 *   sandtls refuses;
 * - `ERR_SSL_NO_CIPHER_MATCH`, `ERR_SSL_NO_PROTOCOLS_AVAILABLE`, `ERR_TLS_INVALID_PROTOCOL_VERSION`,
 *   `ERR_TLS_INVALID_PROTOCOL_METHOD`, `ERR_TLS_PROTOCOL_VERSION_CONFLICT`, `ERR_TLS_INVALID_CONTEXT`,
 *   `ERR_CRYPTO_OPERATION_FAILED`: as node:tls uses them (sandtls/node);
 * - `ERR_TLS_INVALID_CONFIG`: anything else (sandtls's own).
 */
export type TlsConfigErrorCode =
  | 'ERR_OSSL_X509_KEY_VALUES_MISMATCH'
  | 'ERR_OSSL_PEM_NO_START_LINE'
  | 'ERR_OSSL_BAD_DECRYPT'
  | 'ERR_OSSL_PKCS12_MAC_VERIFY_FAILURE'
  | 'ERR_OSSL_UNSUPPORTED'
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_SSL_NO_CIPHER_MATCH'
  | 'ERR_SSL_NO_PROTOCOLS_AVAILABLE'
  | 'ERR_TLS_INVALID_PROTOCOL_VERSION'
  | 'ERR_TLS_INVALID_PROTOCOL_METHOD'
  | 'ERR_TLS_PROTOCOL_VERSION_CONFLICT'
  | 'ERR_TLS_INVALID_CONTEXT'
  | 'ERR_CRYPTO_OPERATION_FAILED'
  | 'ERR_TLS_INVALID_CONFIG';

/**
 * A client or server configuration that cannot work: a key that does not match its
 * certificate, no trust anchors, an unknown cipher suite, an option sandtls/node refuses. Thrown
 * synchronously by `engine.client()` and `engine.server()` and by sandtls/node's `connect()`,
 * `createServer()` and `createSecureContext()`. A TypeError, as node:tls's errors for bad options
 * are; `code` says what is wrong. Messages never contain keys or passphrases.
 * @example
 * try { createServer({ key, cert }); } catch (e) { if (e instanceof TlsConfigError && e.code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') pickOtherKey(); }
 */
export class TlsConfigError extends TypeError {
  override readonly name = 'TlsConfigError';
  readonly code: TlsConfigErrorCode;
  constructor(message: string, options: { cause?: unknown; code?: TlsConfigErrorCode } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = options.code ?? _configCodeOf(options.cause);
  }
}

/** A PrivateKeyError's code carries over; everything else is sandtls's generic code. */
function _configCodeOf(cause: unknown): TlsConfigErrorCode {
  return cause instanceof PrivateKeyError ? cause.code : 'ERR_TLS_INVALID_CONFIG';
}

/** Builds the error for an alert received from the peer. */
export function _peerAlert(code: number): TlsAlertError {
  const name = alertName(code) ?? (`unknown(${code})` as const);
  return new TlsAlertError(name, 'peer', 'the peer ended the connection');
}

/** An alert this side must send, with its reason (and the code, when the default is not it). */
export function _localAlert(alert: AlertName, message: string, cause?: unknown, code?: TlsErrorCode): TlsAlertError {
  return new TlsAlertError(alert, 'local', message, { ...(cause === undefined ? {} : { cause }), ...(code === undefined ? {} : { code }) });
}

/**
 * Maps anything thrown while processing the peer's bytes to the alert this side sends:
 * codec and record errors carry theirs, certificate errors theirs (RFC 8446 6.2), a refused
 * Platform capability or any other fault is internal_error.
 */
export function _toLocalAlert(error: unknown): TlsAlertError {
  if (error instanceof TlsAlertError) return error;
  if (error instanceof TlsDecodeError || error instanceof RecordError) {
    return _localAlert(error.alert, error.message.replace(/^[a-z_]+: /, ''), error);
  }
  // Without the chain no OpenSSL-style code can be told for a missing issuer; verifyPeerChain
  // (auth.ts) throws the TlsAlertError with it, so this is for other callers.
  if (error instanceof CertificateError) return _localAlert(error.alert, error.message, error, certificateErrorCode(error, []));
  if (error instanceof TlsEncodeError) return _localAlert('internal_error', error.message, error);
  if (isPlatformFailure(error)) {
    const what = error instanceof CapabilityDeniedError ? `the platform refused ${error.capability}` : 'the platform failed';
    return _localAlert('internal_error', what, error);
  }
  const why = error instanceof Error ? `${error.name}: ${error.message}` : 'unexpected failure';
  return _localAlert('internal_error', why, error);
}

function _capabilityOf(cause: unknown): Capability | undefined {
  for (let e = cause, depth = 0; e instanceof Error && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof CapabilityDeniedError) return e.capability;
  }
  return undefined;
}
