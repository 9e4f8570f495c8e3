/**
 * TLS 1.3 code points by their IANA names, both ways: `ALERT.decode_error === 50` and
 * `alertName(50) === 'decode_error'`.
 *
 * Every table is a frozen object from IANA name to code point. The reverse functions return
 * `undefined` for a code point they do not know: the codec keeps unknown code points as plain
 * numbers (RFC 8446 4.1.2, 4.2: unknown values are ignored, not errors), and only the layer that
 * must understand one decides what an unknown value means.
 *
 * Where the crypto layer implements an algorithm, a second lookup maps the code point to the
 * crypto layer's name (`supportedNamedGroup`, `supportedSignatureScheme`; for cipher suites,
 * `cipherSuiteByCode` in suites.ts).
 * Known-but-unsupported code points (secp521r1, rsa_pss_pss_*, ...) have
 * IANA names here but no crypto mapping.
 * @module
 */
import type { NamedGroup } from '../crypto/kx.js';
import type { SignatureScheme } from '../crypto/sig.js';
import type { CipherSuiteName } from './suites.js';

/** Builds the frozen number -> name table of a frozen name -> number table. */
function _reverse<N extends string>(table: Readonly<Record<N, number>>): Readonly<Record<number, N>> {
  const out: Record<number, N> = Object.create(null) as Record<number, N>;
  for (const name of Object.keys(table) as N[]) out[table[name]] = name;
  return Object.freeze(out);
}

// ---------------------------------------------------------------------------------------------
// Protocol versions
// ---------------------------------------------------------------------------------------------

/**
 * `uint16 ProtocolVersion;` (RFC 8446 4.1.2, 4.2.1). TLS 1.3 is 0x0304; the legacy_version
 * fields carry 0x0303 and the record layer's legacy_record_version 0x0301 or 0x0303 (RFC 8446 5.1).
 * @example
 * PROTOCOL_VERSION.TLSv1_3; // 0x0304
 */
export const PROTOCOL_VERSION = Object.freeze({
  TLSv1_0: 0x0301,
  TLSv1_1: 0x0302,
  TLSv1_2: 0x0303,
  TLSv1_3: 0x0304,
} as const);

/** RFC 8446 4.1.2: `ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 *\/` */
export const LEGACY_VERSION = PROTOCOL_VERSION.TLSv1_2;

// ---------------------------------------------------------------------------------------------
// ContentType (RFC 8446 5.1)
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * enum {
 *     invalid(0),
 *     change_cipher_spec(20),
 *     alert(21),
 *     handshake(22),
 *     application_data(23),
 *     (255)
 * } ContentType;
 * ```
 * heartbeat(24) is RFC 6520's and never valid in TLS 1.3; it is named for diagnostics.
 * @example
 * CONTENT_TYPE.handshake; // 22
 */
export const CONTENT_TYPE = Object.freeze({
  invalid: 0,
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
  heartbeat: 24,
} as const);

/** IANA name of a ContentType. */
export type ContentTypeName = keyof typeof CONTENT_TYPE;
const _CONTENT_TYPE_NAMES = _reverse<ContentTypeName>(CONTENT_TYPE);

/**
 * The IANA name of a ContentType code point, or `undefined`.
 * @example
 * contentTypeName(23); // 'application_data'
 */
export function contentTypeName(code: number): ContentTypeName | undefined {
  return _CONTENT_TYPE_NAMES[code];
}

// ---------------------------------------------------------------------------------------------
// HandshakeType (RFC 8446 4)
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * enum {
 *     client_hello(1),
 *     server_hello(2),
 *     new_session_ticket(4),
 *     end_of_early_data(5),
 *     encrypted_extensions(8),
 *     certificate(11),
 *     certificate_request(13),
 *     certificate_verify(15),
 *     finished(20),
 *     key_update(24),
 *     message_hash(254),
 *     (255)
 * } HandshakeType;
 * ```
 * plus compressed_certificate(25) (RFC 8879 4).
 * @example
 * HANDSHAKE_TYPE.finished; // 20
 */
export const HANDSHAKE_TYPE = Object.freeze({
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  compressed_certificate: 25,
  message_hash: 254,
} as const);

/** IANA name of a HandshakeType. */
export type HandshakeTypeName = keyof typeof HANDSHAKE_TYPE;
const _HANDSHAKE_TYPE_NAMES = _reverse<HandshakeTypeName>(HANDSHAKE_TYPE);

/**
 * The IANA name of a HandshakeType code point, or `undefined`.
 * @example
 * handshakeTypeName(8); // 'encrypted_extensions'
 */
export function handshakeTypeName(code: number): HandshakeTypeName | undefined {
  return _HANDSHAKE_TYPE_NAMES[code];
}

// ---------------------------------------------------------------------------------------------
// ExtensionType (RFC 8446 4.2 and the RFCs it cites)
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * enum {
 *     server_name(0),                             /* RFC 6066 *\/
 *     max_fragment_length(1),                     /* RFC 6066 *\/
 *     status_request(5),                          /* RFC 6066 *\/
 *     supported_groups(10),                       /* RFC 8422, 7919 *\/
 *     signature_algorithms(13),                   /* RFC 8446 *\/
 *     use_srtp(14),                               /* RFC 5764 *\/
 *     heartbeat(15),                              /* RFC 6520 *\/
 *     application_layer_protocol_negotiation(16), /* RFC 7301 *\/
 *     signed_certificate_timestamp(18),           /* RFC 6962 *\/
 *     client_certificate_type(19),                /* RFC 7250 *\/
 *     server_certificate_type(20),                /* RFC 7250 *\/
 *     padding(21),                                /* RFC 7685 *\/
 *     pre_shared_key(41),                         /* RFC 8446 *\/
 *     early_data(42),                             /* RFC 8446 *\/
 *     supported_versions(43),                     /* RFC 8446 *\/
 *     cookie(44),                                 /* RFC 8446 *\/
 *     psk_key_exchange_modes(45),                 /* RFC 8446 *\/
 *     certificate_authorities(47),                /* RFC 8446 *\/
 *     oid_filters(48),                            /* RFC 8446 *\/
 *     post_handshake_auth(49),                    /* RFC 8446 *\/
 *     signature_algorithms_cert(50),              /* RFC 8446 *\/
 *     key_share(51),                              /* RFC 8446 *\/
 *     (65535)
 * } ExtensionType;
 * ```
 * plus record_size_limit(28) (RFC 8449), compress_certificate(27) (RFC 8879),
 * delegated_credential(34) (RFC 9345), tls_flags(62) (draft-ietf-tls-tlsflags), trust_anchors
 * (draft-ietf-tls-trust-anchor-ids; 0xCA34 is the provisional code point BoringSSL and Chrome
 * use, not yet IANA-assigned) and, for diagnostics only, the TLS 1.2 extensions clients still
 * send (ec_point_formats, encrypt_then_mac, extended_master_secret, session_ticket,
 * renegotiation_info).
 * @example
 * EXTENSION_TYPE.key_share; // 51
 */
export const EXTENSION_TYPE = Object.freeze({
  server_name: 0,
  max_fragment_length: 1,
  status_request: 5,
  supported_groups: 10,
  ec_point_formats: 11,
  signature_algorithms: 13,
  use_srtp: 14,
  heartbeat: 15,
  application_layer_protocol_negotiation: 16,
  signed_certificate_timestamp: 18,
  client_certificate_type: 19,
  server_certificate_type: 20,
  padding: 21,
  encrypt_then_mac: 22,
  extended_master_secret: 23,
  compress_certificate: 27,
  record_size_limit: 28,
  delegated_credential: 34,
  session_ticket: 35,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  certificate_authorities: 47,
  oid_filters: 48,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  tls_flags: 62,
  trust_anchors: 0xca34,
  renegotiation_info: 0xff01,
} as const);

/** IANA name of an ExtensionType. */
export type ExtensionTypeName = keyof typeof EXTENSION_TYPE;
const _EXTENSION_TYPE_NAMES = _reverse<ExtensionTypeName>(EXTENSION_TYPE);

/**
 * The IANA name of an ExtensionType code point, or `undefined` (GREASE and unassigned values).
 * @example
 * extensionTypeName(43); // 'supported_versions'
 * extensionTypeName(0x0a0a); // undefined
 */
export function extensionTypeName(code: number): ExtensionTypeName | undefined {
  return _EXTENSION_TYPE_NAMES[code];
}

// ---------------------------------------------------------------------------------------------
// Alerts (RFC 8446 6)
// ---------------------------------------------------------------------------------------------

/**
 * `enum { warning(1), fatal(2), (255) } AlertLevel;` (RFC 8446 6). In TLS 1.3 the level is
 * implicit: everything but close_notify and user_canceled is fatal (RFC 8446 6.1, 6.2).
 * @example
 * ALERT_LEVEL.fatal; // 2
 */
export const ALERT_LEVEL = Object.freeze({ warning: 1, fatal: 2 } as const);

/**
 * AlertDescription (RFC 8446 6), without the RESERVED values TLS 1.3 never sends:
 * ```
 * enum {
 *     close_notify(0), unexpected_message(10), bad_record_mac(20), record_overflow(22),
 *     handshake_failure(40), bad_certificate(42), unsupported_certificate(43),
 *     certificate_revoked(44), certificate_expired(45), certificate_unknown(46),
 *     illegal_parameter(47), unknown_ca(48), access_denied(49), decode_error(50),
 *     decrypt_error(51), protocol_version(70), insufficient_security(71), internal_error(80),
 *     inappropriate_fallback(86), user_canceled(90), missing_extension(109),
 *     unsupported_extension(110), unrecognized_name(112), bad_certificate_status_response(113),
 *     unknown_psk_identity(115), certificate_required(116), no_application_protocol(120),
 *     (255)
 * } AlertDescription;
 * ```
 * @example
 * ALERT.decode_error; // 50
 */
export const ALERT = Object.freeze({
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const);

/** IANA name of an AlertDescription TLS 1.3 can send. */
export type AlertName = keyof typeof ALERT;
const _ALERT_NAMES = _reverse<AlertName>(ALERT);

/**
 * The IANA name of an AlertDescription code point, or `undefined` for RESERVED and unassigned
 * values.
 * @example
 * alertName(50); // 'decode_error'
 */
export function alertName(code: number): AlertName | undefined {
  return _ALERT_NAMES[code];
}

// ---------------------------------------------------------------------------------------------
// Cipher suites (RFC 8446 B.4)
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * +------------------------------+-------------+
 * | Description                  | Value       |
 * +------------------------------+-------------+
 * | TLS_AES_128_GCM_SHA256       | {0x13,0x01} |
 * | TLS_AES_256_GCM_SHA384       | {0x13,0x02} |
 * | TLS_CHACHA20_POLY1305_SHA256 | {0x13,0x03} |
 * | TLS_AES_128_CCM_SHA256       | {0x13,0x04} |
 * | TLS_AES_128_CCM_8_SHA256     | {0x13,0x05} |
 * +------------------------------+-------------+
 * ```
 * All five are implemented (the CCM ones off by default); suites.ts describes each (hash, AEAD,
 * key and IV lengths) and the `satisfies` below keeps both tables in step.
 * @example
 * CIPHER_SUITE.TLS_AES_128_GCM_SHA256; // 0x1301
 */
export const CIPHER_SUITE = Object.freeze({
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  TLS_AES_128_CCM_SHA256: 0x1304,
  TLS_AES_128_CCM_8_SHA256: 0x1305,
} as const satisfies Record<CipherSuiteName, number> & Readonly<Record<string, number>>);

/** IANA name of a TLS 1.3 cipher suite (implemented or not). */
export type KnownCipherSuiteName = keyof typeof CIPHER_SUITE;
const _CIPHER_SUITE_NAMES = _reverse<KnownCipherSuiteName>(CIPHER_SUITE);

/**
 * The IANA name of a TLS 1.3 cipher suite code point, or `undefined` (TLS 1.2 suites, GREASE).
 * The implemented suites, with their hash and AEAD, are `CIPHER_SUITES` and
 * `cipherSuiteByCode` in suites.ts.
 * @example
 * cipherSuiteName(0x1303); // 'TLS_CHACHA20_POLY1305_SHA256'
 */
export function cipherSuiteName(code: number): KnownCipherSuiteName | undefined {
  return _CIPHER_SUITE_NAMES[code];
}

// ---------------------------------------------------------------------------------------------
// Named groups (RFC 8446 4.2.7; RFC 8734 for brainpool; draft-ietf-tls-ecdhe-mlkem for the hybrids)
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * enum {
 *     /* Elliptic Curve Groups (ECDHE) *\/
 *     secp256r1(0x0017), secp384r1(0x0018), secp521r1(0x0019),
 *     x25519(0x001D), x448(0x001E),
 *     /* Finite Field Groups (DHE) *\/
 *     ffdhe2048(0x0100), ffdhe3072(0x0101), ffdhe4096(0x0102),
 *     ffdhe6144(0x0103), ffdhe8192(0x0104),
 *     (0xFFFF)
 * } NamedGroup;
 * ```
 * plus brainpoolP256r1tls13(0x001F), brainpoolP384r1tls13(0x0020) and
 * brainpoolP512r1tls13(0x0021) (RFC 8734 2), and the post-quantum hybrids
 * SecP256r1MLKEM768(0x11EB), X25519MLKEM768(0x11EC) and SecP384r1MLKEM1024(0x11ED). Only those
 * in the crypto layer's `NamedGroup` are implemented.
 * @example
 * NAMED_GROUP.X25519MLKEM768; // 0x11ec
 */
export const NAMED_GROUP = Object.freeze({
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  secp521r1: 0x0019,
  x25519: 0x001d,
  x448: 0x001e,
  brainpoolP256r1tls13: 0x001f,
  brainpoolP384r1tls13: 0x0020,
  brainpoolP512r1tls13: 0x0021,
  ffdhe2048: 0x0100,
  ffdhe3072: 0x0101,
  ffdhe4096: 0x0102,
  ffdhe6144: 0x0103,
  ffdhe8192: 0x0104,
  SecP256r1MLKEM768: 0x11eb,
  X25519MLKEM768: 0x11ec,
  SecP384r1MLKEM1024: 0x11ed,
} as const satisfies Record<NamedGroup, number> & Readonly<Record<string, number>>);

/** IANA name of a NamedGroup. */
export type NamedGroupName = keyof typeof NAMED_GROUP;
const _NAMED_GROUP_NAMES = _reverse<NamedGroupName>(NAMED_GROUP);
const _SUPPORTED_GROUPS: Readonly<Record<NamedGroupName, boolean>> = Object.freeze({
  secp256r1: true,
  secp384r1: true,
  secp521r1: false,
  x25519: true,
  x448: false,
  brainpoolP256r1tls13: true,
  brainpoolP384r1tls13: true,
  brainpoolP512r1tls13: true,
  ffdhe2048: false,
  ffdhe3072: false,
  ffdhe4096: false,
  ffdhe6144: false,
  ffdhe8192: false,
  SecP256r1MLKEM768: true,
  X25519MLKEM768: true,
  SecP384r1MLKEM1024: true,
});

/**
 * The IANA name of a NamedGroup code point, or `undefined` (GREASE, unassigned).
 * @example
 * namedGroupName(0x001d); // 'x25519'
 */
export function namedGroupName(code: number): NamedGroupName | undefined {
  return _NAMED_GROUP_NAMES[code];
}

/**
 * The crypto layer's name for a NamedGroup code point it implements, or `undefined`.
 * @example
 * supportedNamedGroup(0x0017); // 'secp256r1'
 * supportedNamedGroup(0x0019); // undefined (secp521r1 is known but not implemented)
 */
export function supportedNamedGroup(code: number): NamedGroup | undefined {
  const name = _NAMED_GROUP_NAMES[code];
  return name !== undefined && _SUPPORTED_GROUPS[name] ? (name as NamedGroup) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Signature schemes (RFC 8446 4.2.3)
// ---------------------------------------------------------------------------------------------

/**
 * ```
 * enum {
 *     /* RSASSA-PKCS1-v1_5 algorithms *\/
 *     rsa_pkcs1_sha256(0x0401), rsa_pkcs1_sha384(0x0501), rsa_pkcs1_sha512(0x0601),
 *     /* ECDSA algorithms *\/
 *     ecdsa_secp256r1_sha256(0x0403), ecdsa_secp384r1_sha384(0x0503),
 *     ecdsa_secp521r1_sha512(0x0603),
 *     /* RSASSA-PSS algorithms with public key OID rsaEncryption *\/
 *     rsa_pss_rsae_sha256(0x0804), rsa_pss_rsae_sha384(0x0805), rsa_pss_rsae_sha512(0x0806),
 *     /* EdDSA algorithms *\/
 *     ed25519(0x0807), ed448(0x0808),
 *     /* RSASSA-PSS algorithms with public key OID RSASSA-PSS *\/
 *     rsa_pss_pss_sha256(0x0809), rsa_pss_pss_sha384(0x080a), rsa_pss_pss_sha512(0x080b),
 *     /* Legacy algorithms *\/
 *     rsa_pkcs1_sha1(0x0201), ecdsa_sha1(0x0203),
 *     (0xFFFF)
 * } SignatureScheme;
 * ```
 * plus ecdsa_brainpoolP256r1tls13_sha256(0x081A), ecdsa_brainpoolP384r1tls13_sha384(0x081B) and
 * ecdsa_brainpoolP512r1tls13_sha512(0x081C) (RFC 8734 2).
 * ecdsa_secp521r1_sha512, ed448, rsa_pss_pss_* and the SHA-1 schemes are known but not
 * implemented by the crypto layer.
 * @example
 * SIGNATURE_SCHEME.ed25519; // 0x0807
 */
export const SIGNATURE_SCHEME = Object.freeze({
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
  ed448: 0x0808,
  rsa_pss_pss_sha256: 0x0809,
  rsa_pss_pss_sha384: 0x080a,
  rsa_pss_pss_sha512: 0x080b,
  ecdsa_brainpoolP256r1tls13_sha256: 0x081a,
  ecdsa_brainpoolP384r1tls13_sha384: 0x081b,
  ecdsa_brainpoolP512r1tls13_sha512: 0x081c,
  rsa_pkcs1_sha1: 0x0201,
  ecdsa_sha1: 0x0203,
} as const satisfies Record<SignatureScheme, number> & Readonly<Record<string, number>>);

/** IANA name of a SignatureScheme. */
export type SignatureSchemeName = keyof typeof SIGNATURE_SCHEME;
const _SIGNATURE_SCHEME_NAMES = _reverse<SignatureSchemeName>(SIGNATURE_SCHEME);
const _SUPPORTED_SCHEMES: Readonly<Record<SignatureSchemeName, boolean>> = Object.freeze({
  rsa_pkcs1_sha256: true,
  rsa_pkcs1_sha384: true,
  rsa_pkcs1_sha512: true,
  ecdsa_secp256r1_sha256: true,
  ecdsa_secp384r1_sha384: true,
  ecdsa_secp521r1_sha512: false,
  rsa_pss_rsae_sha256: true,
  rsa_pss_rsae_sha384: true,
  rsa_pss_rsae_sha512: true,
  ed25519: true,
  ed448: false,
  rsa_pss_pss_sha256: false,
  rsa_pss_pss_sha384: false,
  rsa_pss_pss_sha512: false,
  ecdsa_brainpoolP256r1tls13_sha256: true,
  ecdsa_brainpoolP384r1tls13_sha384: true,
  ecdsa_brainpoolP512r1tls13_sha512: true,
  rsa_pkcs1_sha1: false,
  ecdsa_sha1: false,
});

/**
 * The IANA name of a SignatureScheme code point, or `undefined`.
 * @example
 * signatureSchemeName(0x0804); // 'rsa_pss_rsae_sha256'
 */
export function signatureSchemeName(code: number): SignatureSchemeName | undefined {
  return _SIGNATURE_SCHEME_NAMES[code];
}

/**
 * The crypto layer's name for a SignatureScheme code point it implements, or `undefined`.
 * Note that rsa_pkcs1_* are valid only in certificates, never in CertificateVerify
 * (RFC 8446 4.2.3); that is the handshake's check, not this table's.
 * @example
 * supportedSignatureScheme(0x0403); // 'ecdsa_secp256r1_sha256'
 * supportedSignatureScheme(0x0809); // undefined (rsa_pss_pss_sha256: known, not implemented)
 */
export function supportedSignatureScheme(code: number): SignatureScheme | undefined {
  const name = _SIGNATURE_SCHEME_NAMES[code];
  return name !== undefined && _SUPPORTED_SCHEMES[name] ? (name as SignatureScheme) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Small enums of the handshake
// ---------------------------------------------------------------------------------------------

/**
 * `enum { psk_ke(0), psk_dhe_ke(1), (255) } PskKeyExchangeMode;` (RFC 8446 4.2.9)
 * @example
 * PSK_KEY_EXCHANGE_MODE.psk_dhe_ke; // 1
 */
export const PSK_KEY_EXCHANGE_MODE = Object.freeze({ psk_ke: 0, psk_dhe_ke: 1 } as const);

/**
 * `enum { update_not_requested(0), update_requested(1), (255) } KeyUpdateRequest;`
 * (RFC 8446 4.6.3)
 * @example
 * KEY_UPDATE_REQUEST.update_requested; // 1
 */
export const KEY_UPDATE_REQUEST = Object.freeze({ update_not_requested: 0, update_requested: 1 } as const);

/** IANA name of a KeyUpdateRequest. */
export type KeyUpdateRequestName = keyof typeof KEY_UPDATE_REQUEST;

/**
 * `enum { X509(0), RawPublicKey(2), (255) } CertificateType;` (RFC 8446 4.4.2, RFC 7250)
 * @example
 * CERTIFICATE_TYPE.RawPublicKey; // 2
 */
export const CERTIFICATE_TYPE = Object.freeze({ X509: 0, RawPublicKey: 2 } as const);

/** `enum { host_name(0), (255) } NameType;` (RFC 6066 3) */
export const SERVER_NAME_TYPE = Object.freeze({ host_name: 0 } as const);

// ---------------------------------------------------------------------------------------------
// GREASE (RFC 8701)
// ---------------------------------------------------------------------------------------------

/**
 * The sixteen reserved GREASE values for cipher suites, extensions, named groups, signature
 * algorithms and versions (RFC 8701 2): 0x0A0A, 0x1A1A, ..., 0xFAFA.
 * @example
 * GREASE_VALUES[0]; // 0x0a0a
 */
export const GREASE_VALUES: readonly number[] = Object.freeze(
  Array.from({ length: 16 }, (_, i) => ((i << 4) | 0x0a) * 0x0101),
);

/**
 * Whether a 16-bit code point is a GREASE value (RFC 8701 2): both bytes equal, each `0x?A`.
 * @example
 * isGrease(0x2a2a); // true
 * isGrease(0x1301); // false
 */
export function isGrease(n: number): boolean {
  return (n & 0x0f0f) === 0x0a0a && n >> 8 === (n & 0xff) && n <= 0xffff && n >= 0;
}

/**
 * Whether a PskKeyExchangeMode byte is a GREASE value (RFC 8701 2: 0x0B, 0x2A, 0x49, 0x68,
 * 0x87, 0xA6, 0xC5, 0xE4, i.e. 0x1F * N + 0x0B).
 * @example
 * isGreasePskKeyExchangeMode(0x2a); // true
 */
export function isGreasePskKeyExchangeMode(n: number): boolean {
  return Number.isInteger(n) && n >= 0x0b && n <= 0xe4 && (n - 0x0b) % 0x1f === 0;
}
