/**
 * Extensions (RFC 8446 4.2), typed per message context.
 *
 * ```
 * struct {
 *     ExtensionType extension_type;
 *     opaque extension_data<0..2^16-1>;
 * } Extension;
 * ```
 *
 * An extension block decodes to a list in wire order (so re-encoding is byte-exact). Extensions
 * this codec parses appear as objects whose `type` is the IANA name (`{ type: 'key_share',
 * clientShares }`); every other extension (unknown, GREASE, or known but not parsed here) is an
 * {@link OpaqueExtension} whose `type` is the number.
 *
 * Checks made while decoding any extension block:
 * - no extension type appears twice (RFC 8446 4.2) -> decode_error in a ClientHello or
 *   EncryptedExtensions, illegal_parameter in the other messages (the RFC names no alert; these
 *   are BoringSSL's, which BoGo checks: see {@link duplicateExtensionAlert});
 * - a recognized extension in a message where RFC 8446 4.2's table does not allow it
 *   -> illegal_parameter (see {@link EXTENSION_CONTEXTS}).
 *
 * There is no count limit: a block holds as many extensions as its bytes allow, and every check
 * is linear in its size (RFC-valid ClientHellos carry 80 and more extensions).
 *
 * Unsolicited extensions in a response (RFC 8446 4.2: unsupported_extension) depend on what was
 * sent; {@link checkSolicited} does that check for the state machines.
 * @module
 */
import { asciiToBytes, bytesToAscii, Reader, TlsDecodeError, TlsEncodeError, vectorBounds, Writer, type VectorBounds } from '../codec.js';
import { EXTENSION_TYPE, extensionTypeName, type ExtensionTypeName } from '../enums.js';
import type { DecodeOptions } from './handshake.js';

// ---------------------------------------------------------------------------------------------
// Contexts
// ---------------------------------------------------------------------------------------------

/**
 * The messages that carry extensions (RFC 8446 4.2's CH, SH, HRR, EE, CT, CR, NST). For
 * `certificate` the block is a CertificateEntry's.
 */
export type ExtensionContext =
  | 'client_hello'
  | 'server_hello'
  | 'hello_retry_request'
  | 'encrypted_extensions'
  | 'certificate'
  | 'certificate_request'
  | 'new_session_ticket';

const CH = 'client_hello';
const SH = 'server_hello';
const HRR = 'hello_retry_request';
const EE = 'encrypted_extensions';
const CT = 'certificate';
const CR = 'certificate_request';
const NST = 'new_session_ticket';
const _ctx = (...contexts: ExtensionContext[]): readonly ExtensionContext[] => Object.freeze(contexts);

/**
 * Where each recognized extension may appear in TLS 1.3: RFC 8446 4.2's table, plus
 * record_size_limit (RFC 8449 4: CH, EE), compress_certificate (RFC 8879 3: CH, CR),
 * delegated_credential (RFC 9345 4.1: CH, CR, CT) and trust_anchors
 * (draft-ietf-tls-trust-anchor-ids: CH, EE, CT). tls_flags (draft-ietf-tls-tlsflags) may appear
 * in every message that carries extensions, so it has no entry.
 * ```
 * +--------------------------------------------------+-------------+
 * | Extension                                        |     TLS 1.3 |
 * +--------------------------------------------------+-------------+
 * | server_name [RFC6066]                            |      CH, EE |
 * | max_fragment_length [RFC6066]                    |      CH, EE |
 * | status_request [RFC6066]                         |  CH, CR, CT |
 * | supported_groups [RFC7919]                       |      CH, EE |
 * | signature_algorithms (RFC 8446)                  |      CH, CR |
 * | use_srtp [RFC5764]                               |      CH, EE |
 * | heartbeat [RFC6520]                              |      CH, EE |
 * | application_layer_protocol_negotiation [RFC7301] |      CH, EE |
 * | signed_certificate_timestamp [RFC6962]           |  CH, CR, CT |
 * | client_certificate_type [RFC7250]                |      CH, EE |
 * | server_certificate_type [RFC7250]                |      CH, EE |
 * | padding [RFC7685]                                |          CH |
 * | key_share (RFC 8446)                             | CH, SH, HRR |
 * | pre_shared_key (RFC 8446)                        |      CH, SH |
 * | psk_key_exchange_modes (RFC 8446)                |          CH |
 * | early_data (RFC 8446)                            | CH, EE, NST |
 * | cookie (RFC 8446)                                |     CH, HRR |
 * | supported_versions (RFC 8446)                    | CH, SH, HRR |
 * | certificate_authorities (RFC 8446)               |      CH, CR |
 * | oid_filters (RFC 8446)                           |          CR |
 * | post_handshake_auth (RFC 8446)                   |          CH |
 * | signature_algorithms_cert (RFC 8446)             |      CH, CR |
 * +--------------------------------------------------+-------------+
 * ```
 * TLS 1.2-only extensions a client may still send (ec_point_formats, extended_master_secret,
 * session_ticket, renegotiation_info, ...) are deliberately absent: in a ClientHello they are
 * simply unknown to TLS 1.3, and elsewhere they are unsolicited.
 */
export const EXTENSION_CONTEXTS: Readonly<Partial<Record<ExtensionTypeName, readonly ExtensionContext[]>>> = Object.freeze({
  server_name: _ctx(CH, EE),
  max_fragment_length: _ctx(CH, EE),
  status_request: _ctx(CH, CR, CT),
  supported_groups: _ctx(CH, EE),
  signature_algorithms: _ctx(CH, CR),
  use_srtp: _ctx(CH, EE),
  heartbeat: _ctx(CH, EE),
  application_layer_protocol_negotiation: _ctx(CH, EE),
  signed_certificate_timestamp: _ctx(CH, CR, CT),
  client_certificate_type: _ctx(CH, EE),
  server_certificate_type: _ctx(CH, EE),
  padding: _ctx(CH),
  compress_certificate: _ctx(CH, CR),
  record_size_limit: _ctx(CH, EE),
  delegated_credential: _ctx(CH, CR, CT),
  trust_anchors: _ctx(CH, EE, CT),
  key_share: _ctx(CH, SH, HRR),
  pre_shared_key: _ctx(CH, SH),
  psk_key_exchange_modes: _ctx(CH),
  early_data: _ctx(CH, EE, NST),
  cookie: _ctx(CH, HRR),
  supported_versions: _ctx(CH, SH, HRR),
  certificate_authorities: _ctx(CH, CR),
  oid_filters: _ctx(CR),
  post_handshake_auth: _ctx(CH),
  signature_algorithms_cert: _ctx(CH, CR),
});

/**
 * Whether RFC 8446 4.2 allows extension `code` in `context`. Extensions this codec does not
 * recognize are allowed everywhere (ignored in a ClientHello; unsolicited elsewhere).
 * @example
 * extensionAllowedIn(EXTENSION_TYPE.cookie, 'server_hello'); // false
 */
export function extensionAllowedIn(code: number, context: ExtensionContext): boolean {
  const name = extensionTypeName(code);
  const allowed = name === undefined ? undefined : EXTENSION_CONTEXTS[name];
  return allowed === undefined || allowed.includes(context);
}

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/**
 * An extension this codec keeps as bytes: unknown or GREASE code points, and known extensions
 * it does not parse (status_request, client_certificate_type, ...).
 */
export interface OpaqueExtension {
  readonly type: number;
  readonly data: Uint8Array;
}

/**
 * A ServerName (RFC 6066 3). host_name is decoded to an ASCII string; any other name_type is
 * kept as its number and bytes.
 */
export type ServerName =
  | { readonly nameType: 'host_name'; readonly hostName: string }
  | { readonly nameType: number; readonly name: Uint8Array };

/** `struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;` (RFC 8446 4.2.8) */
export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

/** `struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity;` (RFC 8446 4.2.11) */
export interface PskIdentity {
  readonly identity: Uint8Array;
  readonly obfuscatedTicketAge: number;
}

/** server_name in a ClientHello: `ServerNameList` (RFC 6066 3). */
export interface ServerNameExtension {
  readonly type: 'server_name';
  readonly serverNameList: readonly ServerName[];
}
/** server_name in EncryptedExtensions: empty extension_data (RFC 6066 3). */
export interface ServerNameAckExtension {
  readonly type: 'server_name';
}
/** `NamedGroup named_group_list<2..2^16-1>;` (RFC 8446 4.2.7) */
export interface SupportedGroupsExtension {
  readonly type: 'supported_groups';
  readonly namedGroupList: readonly number[];
}
/** `SignatureScheme supported_signature_algorithms<2..2^16-2>;` (RFC 8446 4.2.3) */
export interface SignatureAlgorithmsExtension {
  readonly type: 'signature_algorithms';
  readonly supportedSignatureAlgorithms: readonly number[];
}
/** Same wire form as signature_algorithms, for certificates (RFC 8446 4.2.3). */
export interface SignatureAlgorithmsCertExtension {
  readonly type: 'signature_algorithms_cert';
  readonly supportedSignatureAlgorithms: readonly number[];
}
/** `struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;` (RFC 8446 4.2.8) */
export interface KeyShareClientHelloExtension {
  readonly type: 'key_share';
  readonly clientShares: readonly KeyShareEntry[];
}
/** `struct { KeyShareEntry server_share; } KeyShareServerHello;` (RFC 8446 4.2.8) */
export interface KeyShareServerHelloExtension {
  readonly type: 'key_share';
  readonly serverShare: KeyShareEntry;
}
/** `struct { NamedGroup selected_group; } KeyShareHelloRetryRequest;` (RFC 8446 4.2.8) */
export interface KeyShareHelloRetryRequestExtension {
  readonly type: 'key_share';
  readonly selectedGroup: number;
}
/** `ProtocolVersion versions<2..254>;` (RFC 8446 4.2.1) */
export interface SupportedVersionsClientHelloExtension {
  readonly type: 'supported_versions';
  readonly versions: readonly number[];
}
/** `ProtocolVersion selected_version;` in ServerHello and HelloRetryRequest (RFC 8446 4.2.1) */
export interface SupportedVersionsServerHelloExtension {
  readonly type: 'supported_versions';
  readonly selectedVersion: number;
}
/** `PskKeyExchangeMode ke_modes<1..255>;` (RFC 8446 4.2.9) */
export interface PskKeyExchangeModesExtension {
  readonly type: 'psk_key_exchange_modes';
  readonly keModes: readonly number[];
}
/** `OfferedPsks` in a ClientHello (RFC 8446 4.2.11); always the last extension. */
export interface OfferedPsksExtension {
  readonly type: 'pre_shared_key';
  readonly identities: readonly PskIdentity[];
  readonly binders: readonly Uint8Array[];
}
/** `uint16 selected_identity;` in a ServerHello (RFC 8446 4.2.11) */
export interface SelectedPskExtension {
  readonly type: 'pre_shared_key';
  readonly selectedIdentity: number;
}
/** early_data in ClientHello or EncryptedExtensions: `struct {} Empty;` (RFC 8446 4.2.10) */
export interface EarlyDataIndicationExtension {
  readonly type: 'early_data';
}
/** early_data in NewSessionTicket: `uint32 max_early_data_size;` (RFC 8446 4.2.10) */
export interface EarlyDataTicketExtension {
  readonly type: 'early_data';
  readonly maxEarlyDataSize: number;
}
/** `struct { opaque cookie<1..2^16-1>; } Cookie;` (RFC 8446 4.2.2) */
export interface CookieExtension {
  readonly type: 'cookie';
  readonly cookie: Uint8Array;
}
/** `ProtocolName protocol_name_list<2..2^16-1>` offered by the client (RFC 7301 3.1) */
export interface AlpnExtension {
  readonly type: 'application_layer_protocol_negotiation';
  readonly protocolNameList: readonly Uint8Array[];
}
/** The server's choice: a ProtocolNameList of exactly one name (RFC 7301 3.1) */
export interface AlpnSelectedExtension {
  readonly type: 'application_layer_protocol_negotiation';
  readonly protocolName: Uint8Array;
}
/** `DistinguishedName authorities<3..2^16-1>;` (RFC 8446 4.2.4) */
export interface CertificateAuthoritiesExtension {
  readonly type: 'certificate_authorities';
  readonly authorities: readonly Uint8Array[];
}
/** `struct {} PostHandshakeAuth;` (RFC 8446 4.2.6) */
export interface PostHandshakeAuthExtension {
  readonly type: 'post_handshake_auth';
}
/** `paddingLength` zero bytes (RFC 7685 3). */
export interface PaddingExtension {
  readonly type: 'padding';
  readonly paddingLength: number;
}
/** `uint16 RecordSizeLimit;` (RFC 8449 4) */
export interface RecordSizeLimitExtension {
  readonly type: 'record_size_limit';
  readonly recordSizeLimit: number;
}
/**
 * `CertificateCompressionAlgorithm algorithms<2..2^8-2>;` (RFC 8879 3), in a ClientHello or a
 * CertificateRequest: the algorithms the sender can decompress (sandtls implements zlib), read
 * strictly.
 */
export interface CompressCertificateExtension {
  readonly type: 'compress_certificate';
  /** CertificateCompressionAlgorithm code points, in the sender's order, no duplicates. */
  readonly algorithms: readonly number[];
}
/**
 * `uint8 flags<1..255>` (draft-ietf-tls-tlsflags): a bit string, flag N in bit N % 8 of byte
 * N / 8, with no trailing zero byte. Read in a CertificateRequest and a NewSessionTicket (where
 * unknown flags are allowed and ignored); sandtls defines no flag.
 */
export interface TlsFlagsExtension {
  readonly type: 'tls_flags';
  /** The flag bytes as received (first byte holds flags 0..7). */
  readonly flags: Uint8Array;
}
/**
 * `TrustAnchorIdentifier trust_anchors<0..2^16-1>;` with `opaque TrustAnchorIdentifier<1..2^8-1>;`
 * (draft-ietf-tls-trust-anchor-ids) in a ClientHello. sandtls does not select certificates by
 * trust anchor, but reads the list strictly.
 */
export interface TrustAnchorsExtension {
  readonly type: 'trust_anchors';
  readonly trustAnchors: readonly Uint8Array[];
}

/** Extensions of a ClientHello. */
export type ClientHelloExtension =
  | ServerNameExtension
  | SupportedGroupsExtension
  | SignatureAlgorithmsExtension
  | SignatureAlgorithmsCertExtension
  | KeyShareClientHelloExtension
  | SupportedVersionsClientHelloExtension
  | PskKeyExchangeModesExtension
  | OfferedPsksExtension
  | EarlyDataIndicationExtension
  | CookieExtension
  | AlpnExtension
  | CertificateAuthoritiesExtension
  | PostHandshakeAuthExtension
  | PaddingExtension
  | RecordSizeLimitExtension
  | CompressCertificateExtension
  | TrustAnchorsExtension
  | OpaqueExtension;

/** Extensions of a ServerHello. */
export type ServerHelloExtension =
  | KeyShareServerHelloExtension
  | SupportedVersionsServerHelloExtension
  | SelectedPskExtension
  | OpaqueExtension;

/** Extensions of a HelloRetryRequest. */
export type HelloRetryRequestExtension =
  | KeyShareHelloRetryRequestExtension
  | SupportedVersionsServerHelloExtension
  | CookieExtension
  | OpaqueExtension;

/** Extensions of EncryptedExtensions. */
export type EncryptedExtensionsExtension =
  | ServerNameAckExtension
  | SupportedGroupsExtension
  | EarlyDataIndicationExtension
  | AlpnSelectedExtension
  | RecordSizeLimitExtension
  | OpaqueExtension;

/** Extensions of a CertificateRequest. */
export type CertificateRequestExtension =
  | SignatureAlgorithmsExtension
  | SignatureAlgorithmsCertExtension
  | CertificateAuthoritiesExtension
  | CompressCertificateExtension
  | TlsFlagsExtension
  | OpaqueExtension;

/** Extensions of a CertificateEntry (status_request, signed_certificate_timestamp: kept opaque). */
export type CertificateEntryExtension = OpaqueExtension;

/** Extensions of a NewSessionTicket. */
export type NewSessionTicketExtension = EarlyDataTicketExtension | TlsFlagsExtension | OpaqueExtension;

/** Any extension of any context. */
export type AnyExtension =
  | ClientHelloExtension
  | ServerHelloExtension
  | HelloRetryRequestExtension
  | EncryptedExtensionsExtension
  | CertificateRequestExtension
  | NewSessionTicketExtension;

/**
 * The code point of an extension, typed or opaque.
 * @example
 * extensionCode({ type: 'cookie', cookie }); // 44
 * extensionCode({ type: 0x0a0a, data }); // 0x0a0a
 */
export function extensionCode(ext: { readonly type: ExtensionTypeName | number }): number {
  return typeof ext.type === 'number' ? ext.type : EXTENSION_TYPE[ext.type];
}

/**
 * The first extension of a given (parsed) type in a list, narrowed to its type.
 * @example
 * const ks = findExtension(clientHello.extensions, 'key_share'); // KeyShareClientHelloExtension | undefined
 */
export function findExtension<E extends { readonly type: string | number }, T extends Extract<E['type'], string>>(
  extensions: readonly E[],
  type: T,
): Extract<E, { readonly type: T }> | undefined {
  return extensions.find((e): e is Extract<E, { readonly type: T }> => e.type === type);
}

/**
 * RFC 8446 4.2: "Implementations MUST NOT send extension responses if the remote endpoint did
 * not send the corresponding extension requests, with the exception of the "cookie" extension
 * in the HelloRetryRequest. Upon receiving such an extension, an endpoint MUST abort the
 * handshake with an "unsupported_extension" alert." Throws unless every extension in
 * `received` was among `sent` (cookie exempt in a HelloRetryRequest).
 * @example
 * checkSolicited(encryptedExtensions.extensions, sentTypes, 'encrypted_extensions');
 */
export function checkSolicited<E extends { readonly type: ExtensionTypeName | number }>(
  received: readonly E[],
  sent: Iterable<number>,
  context: ExtensionContext,
): void {
  const offered = new Set(sent);
  for (const ext of received) {
    const code = extensionCode(ext);
    if (offered.has(code)) continue;
    if (context === HRR && code === EXTENSION_TYPE.cookie) continue;
    const name = extensionTypeName(code) ?? `extension ${code}`;
    throw new TlsDecodeError('unsupported_extension', `${context}: unsolicited ${name} (RFC 8446 4.2)`);
  }
}

/**
 * The alert for an extension type that appears twice in one block. RFC 8446 4.2 says only "There
 * MUST NOT be more than one extension of the same type in a given extension block" and names no
 * alert, so sandtls sends what BoringSSL sends and BoGo expects: decode_error in a ClientHello
 * and in EncryptedExtensions (BoGo DuplicateExtensionServer/Client), illegal_parameter in a
 * ServerHello, HelloRetryRequest, CertificateRequest, CertificateEntry and NewSessionTicket
 * (BoGo HelloRetryRequest-DuplicateCurve/-DuplicateCookie, TLS13-DuplicateTicketEarlyDataSupport).
 * @example
 * duplicateExtensionAlert('client_hello'); // 'decode_error'
 */
export function duplicateExtensionAlert(context: ExtensionContext): 'decode_error' | 'illegal_parameter' {
  return context === CH || context === EE ? 'decode_error' : 'illegal_parameter';
}

// ---------------------------------------------------------------------------------------------
// Bounds, declared once (RFC 8446 3.4)
// ---------------------------------------------------------------------------------------------

/** `opaque extension_data<0..2^16-1>;` */
const EXTENSION_DATA = vectorBounds('extension_data', 0, 0xffff);
/** `opaque HostName<1..2^16-1>;` and, by assumption, any other name_type's name (RFC 6066 3) */
const HOST_NAME = vectorBounds('HostName', 1, 0xffff);
/** `ServerName server_name_list<1..2^16-1>` (RFC 6066 3) */
const SERVER_NAME_LIST = vectorBounds('server_name_list', 1, 0xffff);
/** `NamedGroup named_group_list<2..2^16-1>;` (RFC 8446 4.2.7) */
const NAMED_GROUP_LIST = vectorBounds('named_group_list', 2, 0xffff);
/** `SignatureScheme supported_signature_algorithms<2..2^16-2>;` (RFC 8446 4.2.3) */
const SIGNATURE_ALGORITHMS = vectorBounds('supported_signature_algorithms', 2, 0xfffe);
/** `opaque key_exchange<1..2^16-1>;` (RFC 8446 4.2.8) */
const KEY_EXCHANGE = vectorBounds('key_exchange', 1, 0xffff);
/** `KeyShareEntry client_shares<0..2^16-1>;` (RFC 8446 4.2.8) */
const CLIENT_SHARES = vectorBounds('client_shares', 0, 0xffff);
/** `ProtocolVersion versions<2..254>;` (RFC 8446 4.2.1) */
const VERSIONS = vectorBounds('versions', 2, 254);
/** `PskKeyExchangeMode ke_modes<1..255>;` (RFC 8446 4.2.9) */
const KE_MODES = vectorBounds('ke_modes', 1, 255);
/** `opaque identity<1..2^16-1>;` (RFC 8446 4.2.11) */
const PSK_IDENTITY = vectorBounds('identity', 1, 0xffff);
/** `PskIdentity identities<7..2^16-1>;` (RFC 8446 4.2.11) */
const PSK_IDENTITIES = vectorBounds('identities', 7, 0xffff);
/** `opaque PskBinderEntry<32..255>;` (RFC 8446 4.2.11) */
const PSK_BINDER_ENTRY = vectorBounds('PskBinderEntry', 32, 255);
/** `PskBinderEntry binders<33..2^16-1>;` (RFC 8446 4.2.11) */
const PSK_BINDERS = vectorBounds('binders', 33, 0xffff);
/** `opaque cookie<1..2^16-1>;` (RFC 8446 4.2.2) */
const COOKIE = vectorBounds('cookie', 1, 0xffff);
/** `opaque ProtocolName<1..2^8-1>;` (RFC 7301 3.1) */
const PROTOCOL_NAME = vectorBounds('ProtocolName', 1, 0xff);
/** `ProtocolName protocol_name_list<2..2^16-1>` (RFC 7301 3.1) */
const PROTOCOL_NAME_LIST = vectorBounds('protocol_name_list', 2, 0xffff);
/** `opaque DistinguishedName<1..2^16-1>;` (RFC 8446 4.2.4) */
const DISTINGUISHED_NAME = vectorBounds('DistinguishedName', 1, 0xffff);
/** `DistinguishedName authorities<3..2^16-1>;` (RFC 8446 4.2.4) */
const AUTHORITIES = vectorBounds('authorities', 3, 0xffff);
/** `CertificateCompressionAlgorithm algorithms<2..2^8-2>;` (RFC 8879 3) */
const COMPRESSION_ALGORITHMS = vectorBounds('algorithms', 2, 0xfe);
/**
 * `uint8 flags<1..255>` (draft-ietf-tls-tlsflags, as BoringSSL reads it: any non-empty
 * one-byte-prefixed vector, so flags up to 2039 exist).
 */
const TLS_FLAGS = vectorBounds('flags', 1, 0xff);
/** `opaque TrustAnchorIdentifier<1..2^8-1>;` (draft-ietf-tls-trust-anchor-ids) */
const TRUST_ANCHOR_IDENTIFIER = vectorBounds('TrustAnchorIdentifier', 1, 0xff);
/** `TrustAnchorIdentifier trust_anchors<0..2^16-1>;` (draft-ietf-tls-trust-anchor-ids) */
const TRUST_ANCHORS = vectorBounds('trust_anchors', 0, 0xffff);

/** RFC 8449 4: "Endpoints MUST NOT send a "record_size_limit" extension with a value smaller than 64." */
export const MIN_RECORD_SIZE_LIMIT = 64;

// ---------------------------------------------------------------------------------------------
// Body codecs shared between contexts
// ---------------------------------------------------------------------------------------------

/**
 * A vector of fixed-size code points (RFC 8446 3.4: length a multiple of the element size). Its
 * length is bounded by its bytes only: tlsfuzzer sends 32,000 signature schemes, and peers must
 * take them.
 */
function _readCodePoints(r: Reader, bounds: VectorBounds, size: 1 | 2): number[] {
  const v = r.vector(bounds);
  if (v.remaining % size !== 0) {
    throw new TlsDecodeError('decode_error', `${bounds.name}: length ${v.remaining} is not a multiple of ${size}`);
  }
  const out: number[] = [];
  while (!v.isEmpty) out.push(size === 1 ? v.u8() : v.u16());
  return out;
}

function _writeCodePoints(w: Writer, bounds: VectorBounds, size: 1 | 2, list: readonly number[]): void {
  w.lengthPrefixed(bounds, (w) => {
    for (const c of list) if (size === 1) w.u8(c); else w.u16(c);
  });
}

/**
 * ```
 * struct {
 *     NameType name_type;
 *     select (name_type) {
 *         case host_name: HostName;
 *     } name;
 * } ServerName;
 *
 * enum { host_name(0), (255) } NameType;
 * opaque HostName<1..2^16-1>;
 *
 * struct {
 *     ServerName server_name_list<1..2^16-1>
 * } ServerNameList;
 * ```
 * (RFC 6066 3.) RFC 6066 defines no other name_type; one is read as an opaque<1..2^16-1> like
 * HostName, the only encoding a future type could share with today's parsers.
 */
function _readServerNameList(r: Reader): ServerName[] {
  const list = r.vector(SERVER_NAME_LIST);
  const out: ServerName[] = [];
  const seen = new Set<number>();
  while (!list.isEmpty) {
    const nameType = list.u8('name_type');
    const name = list.opaque(HOST_NAME);
    // RFC 6066 3: "The ServerNameList MUST NOT contain more than one name of the same name_type."
    if (seen.has(nameType)) throw new TlsDecodeError('illegal_parameter', `server_name: two names of name_type ${nameType}`);
    seen.add(nameType);
    if (nameType === 0) out.push({ nameType: 'host_name', hostName: _decodeHostName(name) });
    else out.push({ nameType, name });
  }
  return out;
}

function _writeServerNameList(w: Writer, list: readonly ServerName[]): void {
  w.lengthPrefixed(SERVER_NAME_LIST, (w) => {
    for (const sn of list) {
      if (sn.nameType === 'host_name') {
        const checked = _checkHostName(asciiToBytes(sn.hostName));
        if (typeof checked !== 'string') throw new TlsEncodeError(`server_name: ${checked.problem}`);
        w.u8(0).opaque(HOST_NAME, asciiToBytes(checked));
      } else {
        w.u8(sn.nameType).opaque(HOST_NAME, sn.name);
      }
    }
  });
}

function _checkHostName(bytes: Uint8Array): string | { problem: string } {
  const text = bytesToAscii(bytes);
  // RFC 6066 3: "The hostname is represented as a byte string using ASCII encoding without a
  // trailing dot." Controls and spaces cannot be part of a DNS name either.
  if (text === undefined || !/^[\x21-\x7e]+$/.test(text)) return { problem: 'host_name is not printable ASCII' };
  if (text.endsWith('.')) return { problem: 'host_name has a trailing dot' };
  return text;
}

function _decodeHostName(bytes: Uint8Array): string {
  const checked = _checkHostName(bytes);
  if (typeof checked !== 'string') throw new TlsDecodeError('illegal_parameter', `server_name: ${checked.problem} (RFC 6066 3)`);
  return checked;
}

/** `opaque key_exchange<1..2^16-1>;` read with a floor of 0, so an empty one gets its own alert. */
const _KEY_EXCHANGE_ANY = vectorBounds('key_exchange', 0, 0xffff);

/**
 * `struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry;` (RFC 8446 4.2.8).
 * An empty key_exchange is illegal_parameter, not decode_error: it is well framed but no valid
 * public value for any group (RFC 8446 4.2.8.1, 4.2.8.2: peers validate each other's share), the
 * alert tlsfuzzer expects for every group (and OpenSSL, NSS and GnuTLS send).
 */
function _readKeyShareEntry(r: Reader): KeyShareEntry {
  const group = r.u16('group');
  const keyExchange = r.opaque(_KEY_EXCHANGE_ANY);
  if (keyExchange.length === 0) {
    throw new TlsDecodeError('illegal_parameter', `key_share: empty key_exchange for group 0x${group.toString(16).padStart(4, '0')}`);
  }
  return { group, keyExchange };
}

function _writeKeyShareEntry(w: Writer, e: KeyShareEntry): void {
  w.u16(e.group).opaque(KEY_EXCHANGE, e.keyExchange);
}

/** `struct { KeyShareEntry client_shares<0..2^16-1>; } KeyShareClientHello;` (RFC 8446 4.2.8) */
function _readClientShares(r: Reader): KeyShareEntry[] {
  const v = r.vector(CLIENT_SHARES);
  const out: KeyShareEntry[] = [];
  const groups = new Set<number>();
  while (!v.isEmpty) {
    const entry = _readKeyShareEntry(v);
    // RFC 8446 4.2.8: "Clients MUST NOT offer multiple KeyShareEntry values for the same group.
    // ... Servers MAY check for violations of these rules and abort the handshake with an
    // "illegal_parameter" alert if one is violated."
    if (groups.has(entry.group)) throw new TlsDecodeError('illegal_parameter', `key_share: two entries for group 0x${entry.group.toString(16).padStart(4, '0')}`);
    groups.add(entry.group);
    out.push(entry);
  }
  return out;
}

/**
 * ```
 * struct {
 *     opaque identity<1..2^16-1>;
 *     uint32 obfuscated_ticket_age;
 * } PskIdentity;
 *
 * opaque PskBinderEntry<32..255>;
 *
 * struct {
 *     PskIdentity identities<7..2^16-1>;
 *     PskBinderEntry binders<33..2^16-1>;
 * } OfferedPsks;
 * ```
 * (RFC 8446 4.2.11)
 */
function _readOfferedPsks(r: Reader): OfferedPsksExtension {
  const ids = r.vector(PSK_IDENTITIES);
  const identities: PskIdentity[] = [];
  while (!ids.isEmpty) {
    const identity = ids.opaque(PSK_IDENTITY);
    identities.push({ identity, obfuscatedTicketAge: ids.u32('obfuscated_ticket_age') });
  }
  const bs = r.vector(PSK_BINDERS);
  const binders: Uint8Array[] = [];
  while (!bs.isEmpty) {
    binders.push(bs.opaque(PSK_BINDER_ENTRY));
  }
  // RFC 8446 4.2.11: binders are "one for each value in the identities list and in the same
  // order"; a mismatch cannot be verified (rustls and BoringSSL: illegal_parameter).
  if (binders.length !== identities.length) {
    throw new TlsDecodeError('illegal_parameter', `pre_shared_key: ${identities.length} identities but ${binders.length} binders`);
  }
  return { type: 'pre_shared_key', identities, binders };
}

function _writeOfferedPsks(w: Writer, ext: OfferedPsksExtension): void {
  w.lengthPrefixed(PSK_IDENTITIES, (w) => {
    for (const id of ext.identities) w.opaque(PSK_IDENTITY, id.identity).u32(id.obfuscatedTicketAge);
  });
  _writeBinders(w, ext.binders);
}

function _writeBinders(w: Writer, binders: readonly Uint8Array[]): void {
  w.lengthPrefixed(PSK_BINDERS, (w) => {
    for (const b of binders) w.opaque(PSK_BINDER_ENTRY, b);
  });
}

/**
 * Size in bytes of the `binders` vector (length prefix included) that ends a ClientHello
 * offering these binders: what RFC 8446 4.2.11.2 cuts off to form the partial ClientHello.
 * @example
 * pskBindersLength([new Uint8Array(32)]); // 2 + 1 + 32 = 35
 */
export function pskBindersLength(binders: readonly Uint8Array[]): number {
  let n = 2;
  for (const b of binders) n += 1 + b.length;
  return n;
}

/**
 * ```
 * opaque ProtocolName<1..2^8-1>;
 *
 * struct {
 *     ProtocolName protocol_name_list<2..2^16-1>
 * } ProtocolNameList;
 * ```
 * (RFC 7301 3.1)
 */
function _readProtocolNameList(r: Reader): Uint8Array[] {
  return _readOpaqueList(r, PROTOCOL_NAME_LIST, PROTOCOL_NAME);
}

function _writeProtocolNameList(w: Writer, names: readonly Uint8Array[]): void {
  _writeOpaqueList(w, PROTOCOL_NAME_LIST, PROTOCOL_NAME, names);
}

/**
 * ```
 * opaque DistinguishedName<1..2^16-1>;
 *
 * struct {
 *     DistinguishedName authorities<3..2^16-1>;
 * } CertificateAuthoritiesExtension;
 * ```
 * (RFC 8446 4.2.4)
 */
function _readAuthorities(r: Reader): Uint8Array[] {
  return _readOpaqueList(r, AUTHORITIES, DISTINGUISHED_NAME);
}

function _writeAuthorities(w: Writer, names: readonly Uint8Array[]): void {
  _writeOpaqueList(w, AUTHORITIES, DISTINGUISHED_NAME, names);
}

/** A vector of opaque items (bounded by its bytes: each item costs at least its length prefix). */
function _readOpaqueList(r: Reader, outer: VectorBounds, item: VectorBounds): Uint8Array[] {
  const v = r.vector(outer);
  const out: Uint8Array[] = [];
  while (!v.isEmpty) out.push(v.opaque(item));
  return out;
}

function _writeOpaqueList(w: Writer, outer: VectorBounds, item: VectorBounds, items: readonly Uint8Array[]): void {
  w.lengthPrefixed(outer, (w) => {
    for (const n of items) w.opaque(item, n);
  });
}

/** `uint16 RecordSizeLimit;` (RFC 8449 4) */
function _readRecordSizeLimit(r: Reader): RecordSizeLimitExtension {
  const recordSizeLimit = r.u16('RecordSizeLimit');
  // RFC 8449 4: "An endpoint MUST treat receipt of a smaller value as a fatal error and generate
  // an "illegal_parameter" alert."
  if (recordSizeLimit < MIN_RECORD_SIZE_LIMIT) {
    throw new TlsDecodeError('illegal_parameter', `record_size_limit ${recordSizeLimit} is below ${MIN_RECORD_SIZE_LIMIT}`);
  }
  return { type: 'record_size_limit', recordSizeLimit };
}

/**
 * ```
 * enum { zlib(1), brotli(2), zstd(3), (65535) } CertificateCompressionAlgorithm;
 *
 * struct {
 *     CertificateCompressionAlgorithm algorithms<2..2^8-2>;
 * } CertificateCompressionAlgorithms;
 * ```
 * (RFC 8879 3.) A repeated algorithm is illegal_parameter (BoringSSL refuses it too; the RFC is
 * silent, but a list with a repeat says nothing a list without it does not).
 */
function _readCompressCertificate(r: Reader): CompressCertificateExtension {
  const algorithms = _readCodePoints(r, COMPRESSION_ALGORITHMS, 2);
  const seen = new Set<number>();
  for (const a of algorithms) {
    if (seen.has(a)) throw new TlsDecodeError('illegal_parameter', `compress_certificate: algorithm ${a} listed twice`);
    seen.add(a);
  }
  return { type: 'compress_certificate', algorithms };
}

/**
 * `uint8 flags<1..255>` (draft-ietf-tls-tlsflags), which forbids trailing zero bytes: an empty
 * vector is a decode_error, a trailing zero byte (a non-minimal encoding) illegal_parameter, the
 * alerts BoGo's ticket flag tests expect.
 */
function _readTlsFlags(r: Reader): TlsFlagsExtension {
  const flags = r.opaque(TLS_FLAGS);
  if (flags[flags.length - 1] === 0) throw new TlsDecodeError('illegal_parameter', 'tls_flags: trailing zero byte (not minimally encoded)');
  return { type: 'tls_flags', flags };
}

/** `TrustAnchorIdentifier trust_anchors<0..2^16-1>;` (draft-ietf-tls-trust-anchor-ids); an empty identifier is a decode_error. */
function _readTrustAnchors(r: Reader): Uint8Array[] {
  return _readOpaqueList(r, TRUST_ANCHORS, TRUST_ANCHOR_IDENTIFIER);
}

/** padding: zero bytes (RFC 7685 3). */
function _readPadding(r: Reader): PaddingExtension {
  const data = r.rest();
  // RFC 7685 3: "The client MUST fill the padding extension completely with zero bytes".
  if (data.some((b) => b !== 0)) throw new TlsDecodeError('illegal_parameter', 'padding extension is not all zero bytes');
  return { type: 'padding', paddingLength: data.length };
}

// ---------------------------------------------------------------------------------------------
// Extension blocks
// ---------------------------------------------------------------------------------------------

/**
 * Reads an extension block `Extension extensions<min..max>` in `context`, parsing each body
 * with `parse` (which returns `undefined` for extensions it keeps opaque and must consume the
 * whole body otherwise).
 */
function _readExtensions<E>(
  r: Reader,
  bounds: VectorBounds,
  context: ExtensionContext,
  parse: (code: number, body: Reader) => E | undefined,
): (E | OpaqueExtension)[] {
  const block = r.vector(bounds);
  const out: (E | OpaqueExtension)[] = [];
  // A set, not pairwise comparison: the duplicate check stays linear in the block's size.
  const seen = new Set<number>();
  while (!block.isEmpty) {
    const code = block.u16('extension_type');
    const body = block.vector(EXTENSION_DATA);
    const name = extensionTypeName(code) ?? `extension 0x${code.toString(16).padStart(4, '0')}`;
    // RFC 8446 4.2: "There MUST NOT be more than one extension of the same type in a given
    // extension block." (No alert named: see duplicateExtensionAlert.)
    if (seen.has(code)) throw new TlsDecodeError(duplicateExtensionAlert(context), `${context}: duplicate ${name}`);
    seen.add(code);
    // RFC 8446 4.2: "If an implementation receives an extension which it recognizes and which
    // is not specified for the message in which it appears, it MUST abort the handshake with an
    // "illegal_parameter" alert."
    if (!extensionAllowedIn(code, context)) throw new TlsDecodeError('illegal_parameter', `${name} is not allowed in ${context}`);
    const { bytes: data, reader } = body.detach(`${context} ${name}`);
    const parsed = parse(code, reader);
    if (parsed === undefined) {
      out.push({ type: code, data });
    } else {
      // RFC 8446 4.2 / 6.2: extension_data must hold exactly the extension's structure.
      reader.expectEnd();
      out.push(parsed);
    }
  }
  return out;
}

/**
 * Writes an extension block. Typed extensions are written by `write`; opaque ones as they are.
 * Duplicate types, and recognized types the RFC 8446 4.2 table does not allow in `context`, are
 * refused: we never send what we would reject.
 */
function _writeExtensions<E extends { readonly type: ExtensionTypeName | number }>(
  w: Writer,
  bounds: VectorBounds,
  context: ExtensionContext,
  extensions: readonly E[],
  write: (w: Writer, ext: Exclude<E, OpaqueExtension>) => void,
): void {
  const seen = new Set<number>();
  w.lengthPrefixed(bounds, (w) => {
    for (const ext of extensions) {
      const code = extensionCode(ext);
      if (seen.has(code)) throw new TlsEncodeError(`${context}: duplicate extension ${code} (RFC 8446 4.2)`);
      seen.add(code);
      if (!extensionAllowedIn(code, context)) throw new TlsEncodeError(`${context}: extension ${code} is not allowed here (RFC 8446 4.2)`);
      w.u16(code);
      w.lengthPrefixed(EXTENSION_DATA, (w) => {
        if (typeof ext.type === 'number') w.bytes((ext as unknown as OpaqueExtension).data);
        else write(w, ext as Exclude<E, OpaqueExtension>);
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Per-context codecs
// ---------------------------------------------------------------------------------------------

/** The extension type each context's list holds. */
export interface ExtensionsByContext {
  client_hello: ClientHelloExtension;
  server_hello: ServerHelloExtension;
  hello_retry_request: HelloRetryRequestExtension;
  encrypted_extensions: EncryptedExtensionsExtension;
  certificate: CertificateEntryExtension;
  certificate_request: CertificateRequestExtension;
  new_session_ticket: NewSessionTicketExtension;
}

interface _BlockCodec<E> {
  /** The block's `Extension extensions<min..max>` bounds in this message. */
  readonly bounds: VectorBounds;
  parse(code: number, r: Reader): Exclude<E, OpaqueExtension> | undefined;
  write(w: Writer, ext: Exclude<E, OpaqueExtension>): void;
  /** Checks on the whole block (ordering rules). Returns a problem or undefined. */
  check?(list: readonly E[]): { alert: 'illegal_parameter'; problem: string } | undefined;
}

const T = EXTENSION_TYPE;

const _CLIENT_HELLO: _BlockCodec<ClientHelloExtension> = Object.freeze<_BlockCodec<ClientHelloExtension>>({
  /** `Extension extensions<8..2^16-1>;` (RFC 8446 4.1.2) */
  bounds: vectorBounds('extensions', 8, 0xffff),
  parse(code, r) {
    switch (code) {
      case T.server_name:
        return { type: 'server_name', serverNameList: _readServerNameList(r) };
      case T.supported_groups:
        return { type: 'supported_groups', namedGroupList: _readCodePoints(r, NAMED_GROUP_LIST, 2) };
      case T.signature_algorithms:
        return { type: 'signature_algorithms', supportedSignatureAlgorithms: _readCodePoints(r, SIGNATURE_ALGORITHMS, 2) };
      case T.signature_algorithms_cert:
        return { type: 'signature_algorithms_cert', supportedSignatureAlgorithms: _readCodePoints(r, SIGNATURE_ALGORITHMS, 2) };
      case T.key_share:
        return { type: 'key_share', clientShares: _readClientShares(r) };
      case T.supported_versions:
        return { type: 'supported_versions', versions: _readCodePoints(r, VERSIONS, 2) };
      case T.psk_key_exchange_modes:
        return { type: 'psk_key_exchange_modes', keModes: _readCodePoints(r, KE_MODES, 1) };
      case T.pre_shared_key:
        return _readOfferedPsks(r);
      case T.early_data:
        return { type: 'early_data' };
      case T.cookie:
        return { type: 'cookie', cookie: r.opaque(COOKIE) };
      case T.application_layer_protocol_negotiation:
        return { type: 'application_layer_protocol_negotiation', protocolNameList: _readProtocolNameList(r) };
      case T.certificate_authorities:
        return { type: 'certificate_authorities', authorities: _readAuthorities(r) };
      case T.post_handshake_auth:
        return { type: 'post_handshake_auth' };
      case T.padding:
        return _readPadding(r);
      case T.record_size_limit:
        return _readRecordSizeLimit(r);
      // RFC 8879 3, read strictly (BoGo DuplicateCertCompressionExt, tlsfuzzer).
      case T.compress_certificate:
        return _readCompressCertificate(r);
      case T.trust_anchors:
        return { type: 'trust_anchors', trustAnchors: _readTrustAnchors(r) };
      // tls_flags stays opaque here: a server that defines no flag has nothing to read in it.
      default:
        return undefined;
    }
  },
  write(w, ext) {
    switch (ext.type) {
      case 'server_name':
        return _writeServerNameList(w, ext.serverNameList);
      case 'supported_groups':
        return _writeCodePoints(w, NAMED_GROUP_LIST, 2, ext.namedGroupList);
      case 'signature_algorithms':
      case 'signature_algorithms_cert':
        return _writeCodePoints(w, SIGNATURE_ALGORITHMS, 2, ext.supportedSignatureAlgorithms);
      case 'key_share':
        w.lengthPrefixed(CLIENT_SHARES, (w) => {
          for (const e of ext.clientShares) _writeKeyShareEntry(w, e);
        });
        return;
      case 'supported_versions':
        return _writeCodePoints(w, VERSIONS, 2, ext.versions);
      case 'psk_key_exchange_modes':
        return _writeCodePoints(w, KE_MODES, 1, ext.keModes);
      case 'pre_shared_key':
        return _writeOfferedPsks(w, ext);
      case 'early_data':
      case 'post_handshake_auth':
        return;
      case 'cookie':
        w.opaque(COOKIE, ext.cookie);
        return;
      case 'application_layer_protocol_negotiation':
        return _writeProtocolNameList(w, ext.protocolNameList);
      case 'certificate_authorities':
        return _writeAuthorities(w, ext.authorities);
      case 'padding':
        w.bytes(new Uint8Array(ext.paddingLength));
        return;
      case 'record_size_limit':
        w.u16(ext.recordSizeLimit);
        return;
      case 'compress_certificate':
        return _writeCodePoints(w, COMPRESSION_ALGORITHMS, 2, ext.algorithms);
      case 'trust_anchors':
        return _writeOpaqueList(w, TRUST_ANCHORS, TRUST_ANCHOR_IDENTIFIER, ext.trustAnchors);
    }
  },
  check(list) {
    // RFC 8446 4.2.11: "The "pre_shared_key" extension MUST be the last extension in the
    // ClientHello ... Servers MUST check that it is the last extension and otherwise fail the
    // handshake with an "illegal_parameter" alert."
    const at = list.findIndex((e) => e.type === 'pre_shared_key');
    if (at !== -1 && at !== list.length - 1) return { alert: 'illegal_parameter', problem: 'pre_shared_key is not the last extension' };
    return undefined;
  },
});

const _SERVER_HELLO: _BlockCodec<ServerHelloExtension> = Object.freeze<_BlockCodec<ServerHelloExtension>>({
  /** `Extension extensions<6..2^16-1>;` (RFC 8446 4.1.3) */
  bounds: vectorBounds('extensions', 6, 0xffff),
  parse(code, r) {
    switch (code) {
      case T.key_share:
        return { type: 'key_share', serverShare: _readKeyShareEntry(r) };
      case T.supported_versions:
        return { type: 'supported_versions', selectedVersion: r.u16('selected_version') };
      case T.pre_shared_key:
        return { type: 'pre_shared_key', selectedIdentity: r.u16('selected_identity') };
      default:
        return undefined;
    }
  },
  write(w, ext) {
    switch (ext.type) {
      case 'key_share':
        return _writeKeyShareEntry(w, ext.serverShare);
      case 'supported_versions':
        w.u16(ext.selectedVersion);
        return;
      case 'pre_shared_key':
        w.u16(ext.selectedIdentity);
        return;
    }
  },
});

const _HELLO_RETRY_REQUEST: _BlockCodec<HelloRetryRequestExtension> = Object.freeze<_BlockCodec<HelloRetryRequestExtension>>({
  /** Same structure as ServerHello: `Extension extensions<6..2^16-1>;` (RFC 8446 4.1.3, 4.1.4) */
  bounds: vectorBounds('extensions', 6, 0xffff),
  parse(code, r) {
    switch (code) {
      case T.key_share:
        return { type: 'key_share', selectedGroup: r.u16('selected_group') };
      case T.supported_versions:
        return { type: 'supported_versions', selectedVersion: r.u16('selected_version') };
      case T.cookie:
        return { type: 'cookie', cookie: r.opaque(COOKIE) };
      default:
        return undefined;
    }
  },
  write(w, ext) {
    switch (ext.type) {
      case 'key_share':
        w.u16(ext.selectedGroup);
        return;
      case 'supported_versions':
        w.u16(ext.selectedVersion);
        return;
      case 'cookie':
        w.opaque(COOKIE, ext.cookie);
        return;
    }
  },
});

const _ENCRYPTED_EXTENSIONS: _BlockCodec<EncryptedExtensionsExtension> = Object.freeze<_BlockCodec<EncryptedExtensionsExtension>>({
  /** `Extension extensions<0..2^16-1>;` (RFC 8446 4.3.1) */
  bounds: vectorBounds('extensions', 0, 0xffff),
  parse(code, r) {
    switch (code) {
      case T.server_name:
        // RFC 6066 3: "the "extension_data" field of this extension SHALL be empty" (the
        // caller's expectEnd turns any content into a decode_error).
        return { type: 'server_name' };
      case T.supported_groups:
        return { type: 'supported_groups', namedGroupList: _readCodePoints(r, NAMED_GROUP_LIST, 2) };
      case T.early_data:
        return { type: 'early_data' };
      case T.application_layer_protocol_negotiation: {
        const names = _readProtocolNameList(r);
        // RFC 7301 3.1: the server's "ProtocolNameList" MUST contain exactly one "ProtocolName".
        if (names.length !== 1) throw new TlsDecodeError('illegal_parameter', `ALPN: server selected ${names.length} protocols`);
        return { type: 'application_layer_protocol_negotiation', protocolName: names[0]! };
      }
      case T.record_size_limit:
        return _readRecordSizeLimit(r);
      default:
        return undefined;
    }
  },
  write(w, ext) {
    switch (ext.type) {
      case 'server_name':
      case 'early_data':
        return;
      case 'supported_groups':
        return _writeCodePoints(w, NAMED_GROUP_LIST, 2, ext.namedGroupList);
      case 'application_layer_protocol_negotiation':
        return _writeProtocolNameList(w, [ext.protocolName]);
      case 'record_size_limit':
        w.u16(ext.recordSizeLimit);
        return;
    }
  },
});

const _CERTIFICATE_REQUEST: _BlockCodec<CertificateRequestExtension> = Object.freeze<_BlockCodec<CertificateRequestExtension>>({
  /** `Extension extensions<2..2^16-1>;` (RFC 8446 4.3.2) */
  bounds: vectorBounds('extensions', 2, 0xffff),
  parse(code, r) {
    switch (code) {
      case T.signature_algorithms:
        return { type: 'signature_algorithms', supportedSignatureAlgorithms: _readCodePoints(r, SIGNATURE_ALGORITHMS, 2) };
      case T.signature_algorithms_cert:
        return { type: 'signature_algorithms_cert', supportedSignatureAlgorithms: _readCodePoints(r, SIGNATURE_ALGORITHMS, 2) };
      case T.certificate_authorities:
        return { type: 'certificate_authorities', authorities: _readAuthorities(r) };
      case T.compress_certificate:
        return _readCompressCertificate(r);
      // draft-ietf-tls-tlsflags: a request message; unknown flags are ignored, bad encodings not.
      case T.tls_flags:
        return _readTlsFlags(r);
      default:
        return undefined;
    }
  },
  write(w, ext) {
    switch (ext.type) {
      case 'signature_algorithms':
      case 'signature_algorithms_cert':
        return _writeCodePoints(w, SIGNATURE_ALGORITHMS, 2, ext.supportedSignatureAlgorithms);
      case 'certificate_authorities':
        return _writeAuthorities(w, ext.authorities);
      case 'compress_certificate':
        return _writeCodePoints(w, COMPRESSION_ALGORITHMS, 2, ext.algorithms);
      case 'tls_flags':
        w.opaque(TLS_FLAGS, ext.flags);
        return;
    }
  },
});

const _CERTIFICATE_ENTRY: _BlockCodec<CertificateEntryExtension> = Object.freeze<_BlockCodec<CertificateEntryExtension>>({
  /** `Extension extensions<0..2^16-1>;` of a CertificateEntry (RFC 8446 4.4.2) */
  bounds: vectorBounds('extensions', 0, 0xffff),
  parse: () => undefined,
  write: () => undefined,
});

const _NEW_SESSION_TICKET: _BlockCodec<NewSessionTicketExtension> = Object.freeze<_BlockCodec<NewSessionTicketExtension>>({
  /** `Extension extensions<0..2^16-2>;` (RFC 8446 4.6.1) */
  bounds: vectorBounds('extensions', 0, 0xfffe),
  parse(code, r) {
    // RFC 8446 4.2.10: in a NewSessionTicket, early_data carries `uint32 max_early_data_size;`.
    if (code === T.early_data) return { type: 'early_data', maxEarlyDataSize: r.u32('max_early_data_size') };
    // draft-ietf-tls-tlsflags: ticket flags (unknown ones allowed and ignored), read strictly
    // as BoGo's ticket flag tests expect.
    if (code === T.tls_flags) return _readTlsFlags(r);
    return undefined;
  },
  write(w, ext) {
    if (ext.type === 'tls_flags') w.opaque(TLS_FLAGS, ext.flags);
    else w.u32(ext.maxEarlyDataSize);
  },
});

const _BLOCKS: { readonly [C in ExtensionContext]: _BlockCodec<ExtensionsByContext[C]> } = Object.freeze({
  client_hello: _CLIENT_HELLO,
  server_hello: _SERVER_HELLO,
  hello_retry_request: _HELLO_RETRY_REQUEST,
  encrypted_extensions: _ENCRYPTED_EXTENSIONS,
  certificate: _CERTIFICATE_ENTRY,
  certificate_request: _CERTIFICATE_REQUEST,
  new_session_ticket: _NEW_SESSION_TICKET,
});

/**
 * Reads the extension block of a message of type `context` from `r`. Not exported from the
 * package; the message decoders call it.
 */
export function _readExtensionBlock<C extends ExtensionContext>(r: Reader, context: C): ExtensionsByContext[C][] {
  const codec = _BLOCKS[context] as _BlockCodec<ExtensionsByContext[C]>;
  const list = _readExtensions(r, codec.bounds, context, (code, body) => codec.parse(code, body));
  const problem = codec.check?.(list);
  if (problem !== undefined) throw new TlsDecodeError(problem.alert, `${context}: ${problem.problem}`);
  return list;
}

/** Writes the extension block of a message of type `context`. Not exported from the package. */
export function _writeExtensionBlock<C extends ExtensionContext>(w: Writer, context: C, extensions: readonly ExtensionsByContext[C][]): void {
  const codec = _BLOCKS[context] as _BlockCodec<ExtensionsByContext[C]>;
  const problem = codec.check?.(extensions);
  if (problem !== undefined) throw new TlsEncodeError(`${context}: ${problem.problem}`);
  _writeExtensions(w, codec.bounds, context, extensions, (w, ext) => codec.write(w, ext));
}

/**
 * Encodes an extension block (`Extension extensions<..>` with its 2-byte length) for a message
 * of type `context`: for tests, diagnostics and hand-built messages.
 * @example
 * encodeExtensions('encrypted_extensions', [{ type: 'server_name' }]); // 00 04 00 00 00 00
 */
export function encodeExtensions<C extends ExtensionContext>(context: C, extensions: readonly ExtensionsByContext[C][]): Uint8Array {
  const w = new Writer();
  _writeExtensionBlock(w, context, extensions);
  return w.finish();
}

/**
 * Decodes an extension block (with its 2-byte length, nothing after it) as found in a message of
 * type `context`, with every check the message decoders make.
 * @example
 * decodeExtensions('encrypted_extensions', bytes);
 */
export function decodeExtensions<C extends ExtensionContext>(
  context: C,
  block: Uint8Array,
  // Extension blocks have no limit of their own: the handshake message holding one does.
  _options: DecodeOptions = {},
): ExtensionsByContext[C][] {
  const r = new Reader(block, `${context} extensions`);
  const list = _readExtensionBlock(r, context);
  r.expectEnd();
  return list;
}
