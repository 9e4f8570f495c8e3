/**
 * Client and server configuration: what a caller passes to `engine.client()` and
 * `engine.server()`, and its resolution into checked, parsed form. Every mistake a
 * configuration can hold is found here, once, with a `TlsConfigError`, never mid-handshake.
 * @module
 */
import { NAMED_GROUPS, type NamedGroup } from '../crypto/kx.js';
import type { HandshakeSignatures } from '../crypto/provider.js';
import { SIGNATURE_SCHEMES, type PrivateKey, type PublicKey, type SignatureScheme, type Signatures } from '../crypto/sig.js';
import { parseCertificate } from '../x509/cert.js';
import { parsePrivateKey, publicKeysEqual } from '../x509/keys.js';
import { InvalidKeyError } from '../crypto/errors.js';
import { RSA_DEFAULT_MIN_BITS } from '../crypto/rsa.js';
import { toDerList } from '../x509/pem.js';
import type { Certificate } from '../x509/types.js';
import { NAMED_GROUP, SIGNATURE_SCHEME } from './enums.js';
import { TlsConfigError, type TlsAlertError } from './errors.js';
import type { MaybePromise } from './pending.js';
import { DEFAULT_CODEC_LIMITS, type CodecLimits } from './msgs/handshake.js';
import { CIPHER_SUITES, type CipherSuite, type CipherSuiteName } from './suites.js';
import {
  MAX_TICKET_LIFETIME,
  memoryReplayStore,
  rotatingTicketKeys,
  type ReplayStore,
  type SessionDefaults,
  type SessionStore,
  type TicketKeySource,
  type TlsSession,
} from './session.js';
import type { RandomSource } from '../crypto/random.js';
import {
  CERTIFICATE_COMPRESSION_ALGORITHM,
  CERTIFICATE_COMPRESSION_ALGORITHMS,
  CompressedCertificateCache,
  type CertificateCompressionAlgorithm,
} from './cert-compression.js';
import type { Platform } from '../os/platform.js';
import { resolveTrace, type ResolvedTrace, type TraceOption } from './trace.js';

/**
 * Certificates as PEM text (one or many blocks), DER, or already parsed (`parseCertificate()`), one
 * or many. Parsed certificates let a large root store be parsed once instead of once per config.
 */
export type CertificateInput = string | Uint8Array | Certificate | readonly (string | Uint8Array | Certificate)[];

/**
 * A private key held elsewhere (an HSM, a KMS, a non-extractable WebCrypto key, a test vector):
 * sandtls hands it the exact bytes to sign (the CertificateVerify content of RFC 8446 4.4.3, not
 * a digest) and takes the signature in its TLS encoding (DER for ECDSA). `schemes` are the TLS
 * 1.3 schemes it can produce, most preferred first. `sign` may return a Promise: the handshake
 * then parks until it settles (`conn.pending`, `conn.resume()`; the adapters resume by
 * themselves). A rejection fails the handshake with internal_error (or the alert its error names
 * in an `alert` property) and a TlsAlertError whose `cause` is the error. Timeouts are the
 * signer's: reject when the KMS takes too long (e.g. with an `AbortSignal.timeout()`).
 * @example
 * const signer: TlsSigner = { publicKey, schemes: ['ecdsa_secp256r1_sha256'],
 *   sign: (scheme, message) => kms.sign({ message, signal: AbortSignal.timeout(2000) }) };
 */
export interface TlsSigner {
  readonly publicKey: PublicKey;
  readonly schemes: readonly SignatureScheme[];
  sign(scheme: SignatureScheme, message: Uint8Array): MaybePromise<Uint8Array>;
}

/**
 * What a `verifyPeer` hook is shown: the peer's certificate chain, parsed, and what sandtls's own
 * verification (RFC 5280 path validation against `trustAnchors`, RFC 9525 names) made of it.
 */
export interface PeerVerification {
  /** This side: `'client'` checks a server's chain, `'server'` a client's. */
  readonly side: 'client' | 'server';
  /** The chain as the peer sent it, leaf first. */
  readonly chain: readonly Certificate[];
  /** The name the client asked for: a client's `serverName`, the SNI a server received. */
  readonly serverName: string | undefined;
  /**
   * Whether the built-in verification accepted the chain. Without
   * `dangerouslyDisableCertificateVerification` the hook runs only after it did, so this is true;
   * with it, the hook alone decides and this says what the built-in verification found (false
   * also when there are no `trustAnchors` to verify against).
   */
  readonly verified: boolean;
  /** Why the built-in verification refused the chain (undefined when it accepted it or could not run). */
  readonly verificationError: TlsAlertError | undefined;
  /** A certificate sent after the handshake (RFC 8446 4.6.2 post-handshake authentication). */
  readonly postHandshake: boolean;
}

/**
 * The application's own check of the peer's certificate chain (pinning, OCSP or CT lookups, a
 * platform verifier), run once the peer proved it holds the leaf's key (its CertificateVerify
 * checked), after the built-in verification, or instead of it with
 * `dangerouslyDisableCertificateVerification`. Return (or resolve) to accept; throw (or reject)
 * to fail the handshake with bad_certificate, or with the alert the error names in an `alert`
 * property (`Object.assign(new Error('revoked'), { alert: 'certificate_revoked' })`). Not called
 * on resumed connections: the PSK proves the peer is the one the session's chain was checked for.
 */
export type VerifyPeerHook = (peer: PeerVerification) => MaybePromise<void>;

/**
 * What a server's `onClientHello` hook sees of a ClientHello, before anything is chosen.
 */
export interface ClientHelloInfo {
  /** The host name of server_name (RFC 6066 3), if any. */
  readonly serverName: string | undefined;
  /** The ALPN protocols offered, in the client's order (RFC 7301). */
  readonly alpn: readonly string[];
  /** The signature schemes of signature_algorithms that sandtls knows, in the client's order. */
  readonly signatureSchemes: readonly SignatureScheme[];
  /** The groups of supported_groups that sandtls knows, in the client's order. */
  readonly groups: readonly NamedGroup[];
  /** The cipher suites offered that sandtls knows, in the client's order. */
  readonly cipherSuites: readonly CipherSuiteName[];
  /** The whole ClientHello message (handshake header included). */
  readonly raw: Uint8Array;
}

/**
 * Picks the configuration of one server connection from its ClientHello: certificate, ALPN,
 * tickets, 0-RTT and client-authentication policy (what node:tls's SNICallback and BoringSSL's
 * certificate callback do, and ACME-on-demand needs). Returns (or resolves to) a ServerConfig,
 * or undefined to keep the one given to `engine.server()`. The returned config is resolved once
 * per engine and object (return the same objects; `limits`, `trace` and `keyLog` stay those of
 * `engine.server()`'s config, and its own `onClientHello` is not called). A rejection fails the
 * handshake with internal_error, or the alert its error names in an `alert` property.
 */
export type ClientHelloHook = (hello: ClientHelloInfo) => MaybePromise<ServerConfig | undefined>;

/** A private key: PEM text, DER, a parsed key, or a {@link TlsSigner}. */
export type PrivateKeyInput = string | Uint8Array | PrivateKey | TlsSigner;

/**
 * The hostile-peer limits of one connection (see `CodecLimits` for the per-message ones). Work is
 * bounded by bytes: no limit refuses a message for holding more entries than valid peers send.
 */
export interface ConnectionLimits extends CodecLimits {
  /** Longest certificate chain accepted from the peer (default 10). */
  readonly maxCertificateChainLength: number;
  /**
   * How many of a ClientHello's PSK identities a server tries to resume (default 16); later ones
   * are ignored, never refused (RFC 8446 4.2.11 lets the server pick any). Each costs a ticket
   * decryption, so this bounds the work one ClientHello can ask for.
   */
  readonly maxPskIdentities: number;
  /**
   * Most bytes `receive()` keeps while the handshake waits for a hook's Promise (`conn.pending`,
   * default 262,144): more fails the connection with internal_error. The adapters stop reading
   * while a hook is pending, so only an application that keeps feeding a parked connection meets it.
   */
  readonly maxPendingInput: number;
}

/** Options both sides share. */
export interface CommonConfig {
  /**
   * Cipher suites in preference order (default: AES-128-GCM, ChaCha20-Poly1305, AES-256-GCM). A
   * server follows the client's order among these unless `cipherSuiteSelection` is
   * `'server-preference'`. `TLS_AES_128_CCM_SHA256` and `TLS_AES_128_CCM_8_SHA256` (RFC 8446
   * B.4) are implemented but never on by default, as in OpenSSL: list them to enable them, e.g.
   * `[...DEFAULT_CIPHER_SUITES, 'TLS_AES_128_CCM_SHA256']`, for peers that have only AES-CCM
   * (constrained devices). CCM_8 has a 64-bit tag and IANA marks it not recommended (RFC 8447):
   * enable it only for such a peer that asks for it.
   */
  readonly cipherSuites?: readonly CipherSuiteName[];
  /**
   * Groups in preference order (default `DEFAULT_GROUPS`: X25519MLKEM768, x25519, secp256r1,
   * secp384r1). Implemented but never on by default: the hybrids SecP256r1MLKEM768 and
   * SecP384r1MLKEM1024 (draft-ietf-tls-ecdhe-mlkem) and brainpoolP256r1tls13,
   * brainpoolP384r1tls13 and brainpoolP512r1tls13 (RFC 8734). List them to enable them, e.g.
   * `[...DEFAULT_GROUPS, 'SecP256r1MLKEM768']`, for peers that need them (FIPS or BSI profiles).
   */
  readonly groups?: readonly NamedGroup[];
  /**
   * Signature schemes accepted from the peer's CertificateVerify, in preference order (default
   * `CERTIFICATE_VERIFY_SCHEMES`: every TLS 1.3 scheme sandtls implements but the brainpool
   * ones). rsa_pkcs1_* may be listed: they are advertised for certificates
   * (signature_algorithms_cert) only, never accepted in a CertificateVerify. The brainpool
   * schemes of RFC 8734 (ecdsa_brainpoolP256r1tls13_sha256, ecdsa_brainpoolP384r1tls13_sha384,
   * ecdsa_brainpoolP512r1tls13_sha512) are opt-in: list them to accept and offer them, e.g.
   * `[...CERTIFICATE_VERIFY_SCHEMES, 'ecdsa_brainpoolP256r1tls13_sha256']`. A peer signs with a
   * brainpool key only when offered its scheme: a server with a brainpool certificate needs
   * clients that list it. Certificates signed with brainpool keys are verified either way.
   */
  readonly signatureAlgorithms?: readonly SignatureScheme[];
  /**
   * Receives NSS key log lines (`CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>`, ...), for
   * Wireshark. These lines are secrets: never log them in production.
   */
  readonly keyLog?: (line: string) => void;
  /** Overrides of the hostile-peer limits. */
  readonly limits?: Partial<ConnectionLimits>;
  /**
   * Trace this connection on the engine's `platform.stderr` (off by default: then nothing is
   * written and nothing is formatted): `'messages'` (every record, handshake message, extension
   * and alert, sent and received, decoded and named with its RFC section), `'bytes'` (the same
   * with an annotated hex dump of each handshake message), `'json'` (the same events as JSON
   * lines), or `{ format, bytes, label }`. Never written: secrets, application data (its length
   * only), Finished verify_data, tickets, PSK identities and binders. See `conn.setTrace()`.
   */
  readonly trace?: TraceOption;
  /**
   * The smallest RSA key accepted from the peer (its certificates and CertificateVerify), in
   * bits: 2048 by default (the web PKI floor); may be lowered to 1024, never further (Go and
   * BoringSSL still accept 1024-bit peers; RFC 8448's certificates have 1024-bit keys).
   */
  readonly minRsaBits?: number;
}

/** `engine.client(config)`. */
export interface ClientConfig extends CommonConfig {
  /**
   * The server's name: sent as SNI (unless it is an IP literal) and checked against the
   * certificate (RFC 9525). Required unless verification is explicitly disabled.
   */
  readonly serverName?: string;
  /** The roots this client trusts (PEM text or DER). Required unless verification is disabled. */
  readonly trustAnchors?: CertificateInput;
  /** ALPN protocol names in preference order (RFC 7301), e.g. `['h2', 'http/1.1']`. */
  readonly alpn?: readonly string[];
  /**
   * Groups to send key shares for in the first ClientHello (default: X25519MLKEM768 and x25519,
   * those of them in `groups`). Others in `groups` are reachable through a HelloRetryRequest.
   */
  readonly keyShares?: readonly NamedGroup[];
  /** Client certificate chain, leaf first (sent when the server asks). */
  readonly certificateChain?: CertificateInput;
  /** The client certificate's private key. */
  readonly privateKey?: PrivateKeyInput;
  /**
   * Offer post-handshake client authentication (RFC 8446 4.6.2, the post_handshake_auth
   * extension): the server may then ask for the client certificate at any time after the
   * handshake, and the client answers at once, inside `receive()`, with `certificateChain` (or
   * an empty Certificate without one). Default: true when `certificateChain` is set, false
   * otherwise. HTTP/2 forbids post-handshake authentication (RFC 8740); it is harmless to offer.
   */
  readonly postHandshakeAuth?: boolean;
  /**
   * RFC 8879 certificate compression, in preference order (only `'zlib'` exists): offered in the
   * ClientHello (compress_certificate) so the server may send its chain compressed, and used to
   * compress the client certificate when a CertificateRequest offers it. Default `[]` (off): the
   * ClientHello stays as small as before, and a CompressedCertificate from the server is
   * unexpected_message. rustls and Chrome offer it by default; BoringSSL and sandtls leave it
   * to the application.
   */
  readonly certificateCompression?: readonly CertificateCompressionAlgorithm[];
  /** RFC 8446 D.4 middlebox compatibility mode (default true): session id echo and dummy change_cipher_spec. */
  readonly middleboxCompatibility?: boolean;
  /** RFC 8701 GREASE values in the ClientHello (default true). */
  readonly grease?: boolean;
  /**
   * A session from an earlier connection (`onSession`) to resume with (RFC 8446 2.2). Ignored
   * when expired or when no offered cipher suite shares its hash; the server may still decline it
   * (then a full handshake follows and `info.resumed` is false).
   */
  readonly session?: TlsSession;
  /** Called with each session the server offers (a NewSessionTicket); store it to resume later. */
  readonly onSession?: (session: TlsSession) => void;
  /**
   * PSK key exchange modes (RFC 8446 4.2.9), sent in every ClientHello: they say which sessions
   * this client can resume, and servers issue tickets only for a mode listed. Default
   * `['psk_dhe_ke']`: a fresh key exchange, so a stolen ticket key cannot decrypt the resumed
   * connection. Add `'psk_ke'` only if you accept that trade for speed.
   */
  readonly pskKeyExchangeModes?: readonly ('psk_dhe_ke' | 'psk_ke')[];
  /**
   * Application data to send first. When `session` allows early data (its ticket advertised at
   * least this many bytes, same cipher suite and ALPN) it goes out as 0-RTT data right after the
   * ClientHello (RFC 8446 2.3): it may be replayed by an attacker, so send only what is safe to
   * repeat. `info.earlyDataAccepted` says whether the server took it. If not (or if it could not
   * go out as 0-RTT), it is dropped (`earlyDataRejected: 'report'`, the default): the
   * application decides, knowing `info.alpn`, whether and what to send instead.
   */
  readonly earlyData?: Uint8Array;
  /**
   * What to do with `earlyData` the server did not accept: `'report'` (default: drop it, see
   * `info.earlyDataAccepted`) or `'resend'` (send it as ordinary data after the handshake, but
   * only when the negotiated ALPN protocol is the one of the session it was written for: RFC
   * 8446 4.2.10 forbids re-sending it under another; otherwise it is dropped as in `'report'`).
   */
  readonly earlyDataRejected?: 'resend' | 'report';
  /**
   * DANGER: accept any certificate from any server, for any name. The connection is encrypted
   * but not authenticated: anyone on the path can read and change it. The server must still
   * prove it holds the key of the certificate it sent. For tests against throwaway servers only.
   */
  readonly dangerouslyDisableCertificateVerification?: true;
  /**
   * Checks the server's chain after (or, with `dangerouslyDisableCertificateVerification`,
   * instead of) the built-in verification; may return a Promise. See {@link VerifyPeerHook}.
   */
  readonly verifyPeer?: VerifyPeerHook;
}

/** `engine.server(config)`. */
export interface ServerConfig extends CommonConfig {
  /** The server's certificate chain, leaf first. */
  readonly certificateChain: CertificateInput;
  /** The leaf certificate's private key. */
  readonly privateKey: PrivateKeyInput;
  /**
   * ALPN protocols this server speaks, in its preference order. When set and the client offers
   * ALPN with no overlap, the handshake fails with no_application_protocol (RFC 7301 3.2).
   */
  readonly alpn?: readonly string[];
  /** Ask for a client certificate: `'required'` (or true) fails without one (certificate_required), `'optional'` does not. */
  readonly requestClientCertificate?: boolean | 'required' | 'optional';
  /** Roots for client certificates (required when client certificates are requested). */
  readonly trustAnchors?: CertificateInput;
  /**
   * Group choice. `'client-key-share'` (default): the first group in `groups` the client sent a
   * share for, avoiding a HelloRetryRequest. `'server-preference'`: the first group in `groups`
   * the client supports at all, asking for its share with a HelloRetryRequest if needed.
   */
  readonly groupSelection?: 'client-key-share' | 'server-preference';
  /**
   * Cipher suite choice. `'client-preference'` (default): the first suite in the client's list
   * that `cipherSuites` enables, as BoringSSL, rustls and OpenSSL (without
   * SSL_OP_CIPHER_SERVER_PREFERENCE) choose in TLS 1.3: the client knows whether it has AES
   * hardware and lists ChaCha20-Poly1305 first when not. `'server-preference'`: the first of
   * `cipherSuites` the client offers (node:tls servers do this unless `honorCipherOrder: false`,
   * and so does sandtls/node).
   */
  readonly cipherSuiteSelection?: 'client-preference' | 'server-preference';
  /**
   * Sends supported_groups in EncryptedExtensions with this list (RFC 8446 4.2.7: the client may
   * use it for later connections). Code points may be given as numbers. Default: not sent.
   */
  readonly advertisedGroups?: readonly (NamedGroup | number)[];
  /**
   * Makes a HelloRetryRequest carry a cookie (RFC 8446 4.2.2), computed from ClientHello1; the
   * second ClientHello must echo it exactly. Default: no cookie.
   */
  readonly helloRetryRequestCookie?: (clientHello1: Uint8Array) => Uint8Array;
  /**
   * Session tickets (RFC 8446 4.6.1), on by default. `count` tickets (default 2) follow each
   * full handshake, valid `lifetime` seconds (default 7200, at most 604800); `keys` seals them
   * (default: in-process keys rotated every `lifetime` on the Platform clock, guarded by
   * `platform.locks`). Servers that share one `keys` source resume each other's sessions.
   * `false` issues none.
   */
  readonly tickets?:
    | false
    | {
        readonly count?: number;
        readonly lifetime?: number;
        readonly keys?: TicketKeySource;
        /**
         * Stateful mode: sessions stay in this store and the ticket is only their id; each ticket
         * then resumes at most once (RFC 8446 8.1). `memorySessionStore()` is an in-process one.
         */
        readonly store?: SessionStore;
      };
  /**
   * Accepts 0-RTT data (RFC 8446 2.3, 4.2.10) up to this many bytes from clients resuming a
   * ticket of this server; 0 (default) accepts none. Early data can be replayed by an attacker:
   * only enable it for requests that are safe to repeat. Each accepted ClientHello is recorded in
   * `antiReplay` and its ticket age must be within 10 seconds of the server's view (RFC 8446 8.2),
   * so a replay is accepted at most once; a rejected client learns it from EncryptedExtensions.
   */
  readonly maxEarlyDataSize?: number;
  /** Where accepted 0-RTT ClientHellos are recorded (default: one in-process `memoryReplayStore` per engine); share one across a fleet. */
  readonly antiReplay?: ReplayStore;
  /**
   * The signature_algorithms list of a CertificateRequest, sent exactly as given (default: the
   * `signatureAlgorithms` list, CertificateVerify schemes first). Code points may be numbers,
   * including ones sandtls cannot verify, to reproduce another implementation's messages (RFC
   * 8448's traces list SHA-1 and DSA schemes): a client whose CertificateVerify uses one of those
   * fails the handshake. A client's CertificateVerify is accepted only with a scheme of
   * `signatureAlgorithms` that this list also names (RFC 8446 4.4.3).
   */
  readonly advertisedSignatureAlgorithms?: readonly (SignatureScheme | number)[];
  /**
   * RFC 8701 GREASE from the server (default false): a reserved extension type in each
   * NewSessionTicket and CertificateRequest, and a reserved scheme first in a CertificateRequest's
   * signature_algorithms (RFC 8701 4), so that clients which choke on unknown values fail early.
   * BoringSSL always GREASEs its TLS 1.3 tickets; sandtls makes it opt-in so that a server sends
   * exactly the messages it was configured to (RFC 8448's traces are reproduced byte for byte).
   */
  readonly grease?: boolean;
  /**
   * RFC 8879 certificate compression, in preference order (only `'zlib'` exists). Default
   * `['zlib']`: the chain goes out as a CompressedCertificate to clients that offer zlib (only
   * when that is smaller; compressed once per config), and a CertificateRequest carries
   * compress_certificate so that clients may compress theirs. `[]` turns both off.
   */
  readonly certificateCompression?: readonly CertificateCompressionAlgorithm[];
  /**
   * Whether a CertificateRequest names the accepted roots (certificate_authorities, RFC 8446
   * 4.2.4: the subjects of `trustAnchors`), helping clients with several certificates pick one.
   * Default true; omitted anyway when the list would not fit in the message.
   */
  readonly certificateAuthorities?: boolean;
  /**
   * DANGER: accept any client certificate chain (the client must still prove it holds the leaf's
   * key). For callers that verify the chain themselves after the handshake, as sandtls/node does
   * for `requestCert` without `rejectUnauthorized`. `trustAnchors` is then not required.
   */
  readonly dangerouslyDisableCertificateVerification?: true;
  /**
   * Checks a client's chain after (or, with `dangerouslyDisableCertificateVerification`, instead
   * of) the built-in verification, in the handshake and after it; may return a Promise. See
   * {@link VerifyPeerHook}.
   */
  readonly verifyPeer?: VerifyPeerHook;
  /** Chooses this connection's configuration from its ClientHello; may return a Promise. See {@link ClientHelloHook}. */
  readonly onClientHello?: ClientHelloHook;
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/** The suites on when `cipherSuites` is not given; the CCM suites are opt-in. */
export const DEFAULT_CIPHER_SUITES: readonly CipherSuiteName[] = Object.freeze([
  'TLS_AES_128_GCM_SHA256',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_256_GCM_SHA384',
]);

/**
 * The groups on when `groups` is not given; the secp* ML-KEM hybrids and the brainpool groups
 * are opt-in (`NAMED_GROUPS` lists every implemented group).
 */
export const DEFAULT_GROUPS: readonly NamedGroup[] = Object.freeze(['X25519MLKEM768', 'x25519', 'secp256r1', 'secp384r1']);

export const DEFAULT_KEY_SHARES: readonly NamedGroup[] = Object.freeze(['X25519MLKEM768', 'x25519']);

/**
 * The TLS 1.3 CertificateVerify schemes on when `signatureAlgorithms` is not given, in preference
 * order: every one sandtls implements but the opt-in brainpool schemes (RFC 8734).
 */
export const CERTIFICATE_VERIFY_SCHEMES: readonly SignatureScheme[] = Object.freeze(
  SIGNATURE_SCHEMES.filter((scheme) => !scheme.startsWith('rsa_pkcs1_') && !scheme.startsWith('ecdsa_brainpool')),
);

/** RFC 8446 4.2.3: RSASSA-PKCS1-v1_5 signs certificates only, never a CertificateVerify. */
const _PKCS1: ReadonlySet<SignatureScheme> = new Set(SIGNATURE_SCHEMES.filter((scheme) => scheme.startsWith('rsa_pkcs1_')));

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  ...DEFAULT_CODEC_LIMITS,
  maxCertificateChainLength: 10,
  maxPskIdentities: 16,
  maxPendingInput: 262_144,
});

/** A resolved signing key: a TlsSigner over either a parsed key or the caller's signer. */
export interface ResolvedIdentity {
  readonly chain: readonly Uint8Array[];
  readonly leaf: Certificate;
  readonly signer: TlsSigner;
  /**
   * The signer is the configured private key signing through the engine's provider (not an
   * application `TlsSigner`): a Promise from it (an asynchronous provider) parks as `'crypto'`.
   */
  readonly ownKey: boolean;
}

interface _ResolvedCommon {
  readonly cipherSuites: readonly CipherSuite[];
  readonly groups: readonly NamedGroup[];
  /** What we accept in the peer's CertificateVerify. */
  readonly verifySchemes: readonly SignatureScheme[];
  /** What we advertise in signature_algorithms (CertificateVerify schemes, then pkcs1 for certificates). */
  readonly advertisedSchemes: readonly number[];
  readonly keyLog: ((line: string) => void) | undefined;
  readonly limits: ConnectionLimits;
  /** The handshake trace (undefined: off). */
  readonly trace: ResolvedTrace | undefined;
  readonly minRsaBits: number;
  /** RFC 8879 CertificateCompressionAlgorithm code points, preference order (empty: off). */
  readonly certificateCompression: readonly number[];
  /** The application's check of the peer's chain, if any. */
  readonly verifyPeer: VerifyPeerHook | undefined;
  /** This config's compressed Certificate messages, made once each. */
  readonly compressedCertificates: CompressedCertificateCache;
}

export interface ResolvedClientConfig extends _ResolvedCommon {
  readonly side: 'client';
  readonly serverName: string | undefined;
  readonly sniHostName: string | undefined;
  readonly trustAnchors: readonly Certificate[] | undefined;
  readonly alpn: readonly string[];
  readonly keyShares: readonly NamedGroup[];
  readonly identity: ResolvedIdentity | undefined;
  /** Whether the ClientHello offers post_handshake_auth. */
  readonly postHandshakeAuth: boolean;
  readonly middleboxCompatibility: boolean;
  readonly grease: boolean;
  readonly session: TlsSession | undefined;
  readonly onSession: ((session: TlsSession) => void) | undefined;
  /** PSK_KEY_EXCHANGE_MODE code points to offer. */
  readonly pskModes: readonly number[];
  readonly earlyData: Uint8Array | undefined;
  readonly resendRejectedEarlyData: boolean;
}

export interface ResolvedServerConfig extends _ResolvedCommon {
  readonly side: 'server';
  readonly identity: ResolvedIdentity;
  readonly alpn: readonly string[];
  readonly clientAuth: 'none' | 'required' | 'optional';
  readonly trustAnchors: readonly Certificate[] | undefined;
  readonly groupSelection: 'client-key-share' | 'server-preference';
  readonly cipherSuiteSelection: 'client-preference' | 'server-preference';
  readonly advertisedGroups: readonly number[] | undefined;
  readonly helloRetryRequestCookie: ((clientHello1: Uint8Array) => Uint8Array) | undefined;
  readonly tickets:
    | { readonly count: number; readonly lifetime: number; readonly keys: TicketKeySource; readonly store: SessionStore | undefined }
    | undefined;
  /** 0-RTT: the most early data accepted and where ClientHellos are recorded; undefined: none accepted. */
  readonly earlyData: { readonly maxSize: number; readonly antiReplay: ReplayStore } | undefined;
  /** DER subjects for certificate_authorities in a CertificateRequest (undefined: not sent). */
  readonly certificateAuthorities: readonly Uint8Array[] | undefined;
  /** RFC 8701 GREASE in NewSessionTicket and CertificateRequest. */
  readonly grease: boolean;
  /** Chooses the configuration per connection, if set. */
  readonly onClientHello: ClientHelloHook | undefined;
}

/** What resolving a server config needs from the engine (ticket keys draw entropy, take locks). */
export interface ServerConfigDeps {
  readonly signatures: Signatures;
  /**
   * What signs with a configured private key in the handshake: an asynchronous provider's
   * `handshake.signatures` (a Promise parks as `'crypto'`). Default: `signatures`.
   */
  readonly signing?: HandshakeSignatures;
  readonly random: RandomSource;
  readonly locks: Platform['locks'];
  /**
   * The engine's shared defaults: every server config of an engine records 0-RTT ClientHellos in
   * the same replay store, so a config object built per connection still refuses replays.
   * Without it each resolved config gets its own. (Ticket keys stay per config, as in rustls
   * and node:tls: pass one `tickets.keys` to share them.)
   */
  readonly sessions?: SessionDefaults;
}

function _certificateCompression(option: readonly CertificateCompressionAlgorithm[] | undefined, fallback: readonly CertificateCompressionAlgorithm[], what: string): readonly number[] {
  const list = option ?? fallback;
  if (!Array.isArray(list)) throw new TlsConfigError(`${what}: certificateCompression must be an array of algorithm names`);
  const codes = list.map((name: unknown) => {
    if (!CERTIFICATE_COMPRESSION_ALGORITHMS.includes(name as CertificateCompressionAlgorithm)) {
      throw new TlsConfigError(`${what}: certificateCompression: unknown or unsupported algorithm ${JSON.stringify(name)} (supported: ${CERTIFICATE_COMPRESSION_ALGORITHMS.join(', ')})`);
    }
    return CERTIFICATE_COMPRESSION_ALGORITHM[name as CertificateCompressionAlgorithm];
  });
  if (new Set(codes).size !== codes.length) throw new TlsConfigError(`${what}: certificateCompression lists an algorithm twice`);
  return Object.freeze(codes);
}

function _common(config: CommonConfig, what: string): _ResolvedCommon {
  const suiteNames = config.cipherSuites ?? DEFAULT_CIPHER_SUITES;
  const cipherSuites = suiteNames.map((name) => {
    const suite = CIPHER_SUITES[name];
    if (!suite) throw new TlsConfigError(`${what}: unknown cipher suite ${JSON.stringify(name)}`);
    return suite;
  });
  if (cipherSuites.length === 0) throw new TlsConfigError(`${what}: cipherSuites is empty`);
  const groups = [...(config.groups ?? DEFAULT_GROUPS)];
  for (const group of groups) {
    if (!NAMED_GROUPS.includes(group)) throw new TlsConfigError(`${what}: unknown group ${JSON.stringify(group)}`);
  }
  if (groups.length === 0) throw new TlsConfigError(`${what}: groups is empty`);
  const schemes = config.signatureAlgorithms ?? CERTIFICATE_VERIFY_SCHEMES;
  for (const scheme of schemes) {
    if (SIGNATURE_SCHEME[scheme] === undefined) throw new TlsConfigError(`${what}: unknown signature scheme ${JSON.stringify(scheme)}`);
  }
  const verifySchemes = schemes.filter((s) => !_PKCS1.has(s));
  if (verifySchemes.length === 0) throw new TlsConfigError(`${what}: signatureAlgorithms has no TLS 1.3 CertificateVerify scheme`);
  const advertised = [...verifySchemes, ...schemes.filter((s) => _PKCS1.has(s))].map((s) => SIGNATURE_SCHEME[s]);
  if (config.keyLog !== undefined && typeof config.keyLog !== 'function') throw new TlsConfigError(`${what}: keyLog must be a function`);
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...(config.limits ?? {}) };
  for (const [name, value] of Object.entries(limits)) {
    // A name that is no limit (a typo, or a count limit older versions had) is refused, not ignored.
    if (!Object.hasOwn(DEFAULT_CONNECTION_LIMITS, name)) throw new TlsConfigError(`${what}: limits.${name} is not a limit`);
    if (!Number.isSafeInteger(value) || value < 1) throw new TlsConfigError(`${what}: limits.${name} must be a positive integer`);
  }
  const trace = resolveTrace(config.trace, what);
  const minRsaBits = config.minRsaBits ?? RSA_DEFAULT_MIN_BITS;
  if (!Number.isSafeInteger(minRsaBits) || minRsaBits < 1024 || minRsaBits > 8192) {
    throw new TlsConfigError(`${what}: minRsaBits must be an integer 1024..8192`);
  }
  return {
    cipherSuites,
    groups,
    verifySchemes,
    advertisedSchemes: advertised,
    keyLog: config.keyLog,
    limits,
    trace,
    minRsaBits,
    certificateCompression: [],
    compressedCertificates: new CompressedCertificateCache(),
    verifyPeer: _hook((config as { verifyPeer?: VerifyPeerHook }).verifyPeer, `${what}: verifyPeer`),
  };
}

function _hook<F>(hook: F | undefined, what: string): F | undefined {
  if (hook !== undefined && typeof hook !== 'function') throw new TlsConfigError(`${what} must be a function`);
  return hook;
}

/** Whether an input item is a certificate `parseCertificate()` already produced. */
function _isParsed(item: unknown): item is Certificate {
  return typeof item === 'object' && item !== null && !(item instanceof Uint8Array) && (item as Certificate).raw instanceof Uint8Array && (item as Certificate).tbs instanceof Uint8Array;
}

function _certificates(input: CertificateInput, what: string): Certificate[] {
  const items = typeof input === 'string' || input instanceof Uint8Array || _isParsed(input) ? [input] : input;
  const out: Certificate[] = [];
  for (const item of items) {
    if (_isParsed(item)) {
      out.push(item);
      continue;
    }
    let ders: Uint8Array[];
    try {
      ders = toDerList(item, 'CERTIFICATE');
    } catch (cause) {
      throw new TlsConfigError(`${what}: ${cause instanceof Error ? cause.message : 'unreadable'}`, { cause, code: 'ERR_OSSL_PEM_NO_START_LINE' });
    }
    for (const der of ders) {
      try {
        out.push(parseCertificate(der));
      } catch (cause) {
        throw new TlsConfigError(`${what}: certificate ${out.length}: ${cause instanceof Error ? cause.message : 'unparseable'}`, { cause, code: 'ERR_OSSL_PEM_NO_START_LINE' });
      }
    }
  }
  return out;
}

function _isSigner(key: PrivateKeyInput): key is TlsSigner {
  return typeof key === 'object' && !(key instanceof Uint8Array) && 'sign' in key && typeof key.sign === 'function';
}

function _identity(
  signatures: Signatures,
  signing: HandshakeSignatures,
  chainInput: CertificateInput | undefined,
  keyInput: PrivateKeyInput | undefined,
  what: string,
): ResolvedIdentity {
  if (chainInput === undefined || keyInput === undefined) throw new TlsConfigError(`${what}: certificateChain and privateKey go together`);
  const chain = _certificates(chainInput, `${what}.certificateChain`);
  const leaf = chain[0];
  if (leaf === undefined) throw new TlsConfigError(`${what}.certificateChain is empty`);
  if (_isSigner(keyInput)) {
    return { chain: chain.map((c) => c.raw), leaf, signer: keyInput, ownKey: false };
  }
  let key: PrivateKey;
  try {
    key = typeof keyInput === 'string' || keyInput instanceof Uint8Array ? parsePrivateKey(keyInput) : keyInput;
  } catch (cause) {
    throw new TlsConfigError(`${what}.privateKey: ${cause instanceof Error ? cause.message : 'unreadable'}`, { cause });
  }
  // Derived once: for EC keys the derivation is a blinded scalar multiplication (an entropy draw).
  let publicKey: PublicKey;
  try {
    publicKey = signatures.publicKeyOf(key);
  } catch (cause) {
    if (cause instanceof InvalidKeyError) throw new TlsConfigError(`${what}.privateKey: ${cause.message}`, { cause });
    throw cause;
  }
  if (leaf.publicKey === undefined || !publicKeysEqual(publicKey, leaf.publicKey)) {
    throw new TlsConfigError(`${what}: privateKey does not match the leaf certificate's public key`, { code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' });
  }
  const schemes = signatures.schemesFor(key).filter((s) => !_PKCS1.has(s));
  if (schemes.length === 0) throw new TlsConfigError(`${what}: no TLS 1.3 signature scheme can use this key`);
  const signer: TlsSigner = Object.freeze({
    publicKey,
    schemes,
    sign: (scheme: SignatureScheme, message: Uint8Array) => signing.sign(scheme, key, message),
  });
  return { chain: chain.map((c) => c.raw), leaf, signer, ownKey: true };
}

function _alpn(list: readonly string[] | undefined, what: string): readonly string[] {
  const alpn = [...(list ?? [])];
  for (const name of alpn) {
    if (typeof name !== 'string' || name.length === 0 || name.length > 255 || !/^[\x20-\x7e]+$/.test(name)) {
      throw new TlsConfigError(`${what}: ALPN protocol names are 1..255 printable ASCII characters`);
    }
  }
  return alpn;
}

/**
 * Checks and parses a client configuration. `signing` signs with a configured private key in the
 * handshake (an asynchronous provider's `handshake.signatures`); default: `signatures`.
 */
export function resolveClientConfig(signatures: Signatures, config: ClientConfig, signing: HandshakeSignatures = signatures): ResolvedClientConfig {
  if (config === null || typeof config !== 'object') throw new TlsConfigError('engine.client(config): config must be an object');
  const common = _common(config, 'client');
  const insecure = config.dangerouslyDisableCertificateVerification === true;
  let trustAnchors: Certificate[] | undefined;
  if (config.trustAnchors !== undefined) {
    trustAnchors = _certificates(config.trustAnchors, 'client.trustAnchors');
  }
  if (!insecure) {
    if (!trustAnchors || trustAnchors.length === 0) {
      throw new TlsConfigError('client: trustAnchors is required (or set dangerouslyDisableCertificateVerification: true)');
    }
    if (config.serverName === undefined) {
      throw new TlsConfigError('client: serverName is required to verify the server (or set dangerouslyDisableCertificateVerification: true)');
    }
  }
  const serverName = config.serverName;
  let sniHostName: string | undefined;
  if (serverName !== undefined) {
    if (typeof serverName !== 'string' || serverName.length === 0 || serverName.length > 253 + 1) {
      throw new TlsConfigError('client: serverName must be a host name or IP address');
    }
    // RFC 6066 3: "Literal IPv4 and IPv6 addresses are not permitted in "HostName"." A trailing
    // dot is dropped (RFC 6066 3: the name has no trailing dot).
    const isIp = /^[0-9.]+$/.test(serverName) || serverName.includes(':');
    if (!isIp) sniHostName = serverName.replace(/\.$/, '').toLowerCase();
  }
  const keyShares = [...(config.keyShares ?? DEFAULT_KEY_SHARES.filter((g) => common.groups.includes(g)))];
  if (keyShares.length === 0) keyShares.push(common.groups[0]!);
  for (const group of keyShares) {
    if (!common.groups.includes(group)) throw new TlsConfigError(`client: key share group ${group} is not in groups`);
  }
  const identity =
    config.certificateChain === undefined && config.privateKey === undefined
      ? undefined
      : _identity(signatures, signing, config.certificateChain, config.privateKey, 'client');
  return Object.freeze({
    ...common,
    side: 'client',
    serverName,
    sniHostName,
    trustAnchors: insecure && !trustAnchors ? undefined : trustAnchors,
    alpn: _alpn(config.alpn, 'client.alpn'),
    keyShares,
    identity,
    postHandshakeAuth: _postHandshakeAuth(config.postHandshakeAuth, identity !== undefined),
    certificateCompression: _certificateCompression(config.certificateCompression, [], 'client'),
    middleboxCompatibility: config.middleboxCompatibility ?? true,
    grease: config.grease ?? true,
    session: config.session,
    onSession: config.onSession,
    pskModes: _pskModes(config.pskKeyExchangeModes),
    earlyData: _earlyData(config.earlyData),
    resendRejectedEarlyData: _resendRejected(config.earlyDataRejected),
    ...(insecure ? { insecure: true } : {}),
  }) as ResolvedClientConfig;
}

/** Whether certificate verification is disabled in a resolved config. */
export function _isInsecure(config: ResolvedClientConfig | ResolvedServerConfig): boolean {
  return (config as { insecure?: boolean }).insecure === true;
}

/** Checks and parses a server configuration. */
export function resolveServerConfig(deps: ServerConfigDeps, config: ServerConfig): ResolvedServerConfig {
  const signatures = deps.signatures;
  if (config === null || typeof config !== 'object') throw new TlsConfigError('engine.server(config): config must be an object');
  const common = _common(config, 'server');
  const identity = _identity(signatures, deps.signing ?? signatures, config.certificateChain, config.privateKey, 'server');
  const request = config.requestClientCertificate ?? false;
  const clientAuth = request === false ? 'none' : request === true ? 'required' : request;
  if (clientAuth !== 'none' && clientAuth !== 'required' && clientAuth !== 'optional') {
    throw new TlsConfigError('server: requestClientCertificate is true, false, "required" or "optional"');
  }
  const trustAnchors = config.trustAnchors === undefined ? undefined : _certificates(config.trustAnchors, 'server.trustAnchors');
  const insecure = config.dangerouslyDisableCertificateVerification === true;
  if (clientAuth !== 'none' && !insecure && (!trustAnchors || trustAnchors.length === 0)) {
    throw new TlsConfigError('server: trustAnchors is required to verify client certificates');
  }
  const advertisedSchemes = config.advertisedSignatureAlgorithms?.map((scheme) => {
    const code = typeof scheme === 'number' ? scheme : SIGNATURE_SCHEME[scheme];
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) {
      throw new TlsConfigError(`server: advertisedSignatureAlgorithms has an invalid scheme ${String(scheme)}`);
    }
    return code;
  });
  const verifySchemes = advertisedSchemes ? common.verifySchemes.filter((s) => advertisedSchemes.includes(SIGNATURE_SCHEME[s])) : common.verifySchemes;
  if (verifySchemes.length === 0) throw new TlsConfigError('server: advertisedSignatureAlgorithms names no scheme of signatureAlgorithms');
  const advertisedGroups = config.advertisedGroups?.map((g) => {
    const code = typeof g === 'number' ? g : NAMED_GROUP[g];
    if (!Number.isInteger(code) || code < 0 || code > 0xffff) throw new TlsConfigError(`server: advertisedGroups has an invalid group ${String(g)}`);
    return code;
  });
  return Object.freeze({
    ...common,
    ...(advertisedSchemes ? { advertisedSchemes } : {}),
    verifySchemes,
    side: 'server',
    identity,
    alpn: _alpn(config.alpn, 'server.alpn'),
    clientAuth,
    trustAnchors,
    groupSelection: config.groupSelection ?? 'client-key-share',
    cipherSuiteSelection: _cipherSuiteSelection(config.cipherSuiteSelection),
    advertisedGroups,
    helloRetryRequestCookie: config.helloRetryRequestCookie,
    tickets: _tickets(deps, config.tickets),
    earlyData: _serverEarlyData(deps, config),
    certificateAuthorities: _certificateAuthorities(config.certificateAuthorities, trustAnchors),
    grease: _serverGrease(config.grease),
    onClientHello: _hook(config.onClientHello, 'server: onClientHello'),
    certificateCompression: _certificateCompression(config.certificateCompression, CERTIFICATE_COMPRESSION_ALGORITHMS, 'server'),
    ...(insecure ? { insecure: true } : {}),
  }) as ResolvedServerConfig;
}

function _cipherSuiteSelection(option: ServerConfig['cipherSuiteSelection']): ResolvedServerConfig['cipherSuiteSelection'] {
  if (option === undefined) return 'client-preference';
  if (option !== 'client-preference' && option !== 'server-preference') {
    throw new TlsConfigError(`server: cipherSuiteSelection must be 'client-preference' or 'server-preference', not ${JSON.stringify(option)}`);
  }
  return option;
}

function _serverGrease(option: boolean | undefined): boolean {
  if (option === undefined) return false;
  if (typeof option !== 'boolean') throw new TlsConfigError('server: grease must be a boolean');
  return option;
}

function _pskModes(modes: readonly ('psk_dhe_ke' | 'psk_ke')[] | undefined): readonly number[] {
  const list = modes ?? ['psk_dhe_ke'];
  if (list.length === 0) throw new TlsConfigError('client: pskKeyExchangeModes is empty');
  return list.map((mode) => {
    if (mode !== 'psk_dhe_ke' && mode !== 'psk_ke') throw new TlsConfigError(`client: unknown PSK key exchange mode ${JSON.stringify(mode)}`);
    return mode === 'psk_dhe_ke' ? 1 : 0;
  });
}

function _tickets(deps: ServerConfigDeps, tickets: ServerConfig['tickets']): ResolvedServerConfig['tickets'] {
  if (tickets === false) return undefined;
  const count = tickets?.count ?? 2;
  const lifetime = tickets?.lifetime ?? 7200;
  if (!Number.isSafeInteger(count) || count < 0 || count > 16) throw new TlsConfigError('server: tickets.count must be 0..16');
  if (!Number.isSafeInteger(lifetime) || lifetime < 1 || lifetime > MAX_TICKET_LIFETIME) {
    throw new TlsConfigError(`server: tickets.lifetime must be 1..${MAX_TICKET_LIFETIME} seconds (RFC 8446 4.6.1)`);
  }
  const keys = tickets?.keys ?? rotatingTicketKeys({ random: deps.random, locks: deps.locks, rotateEvery: lifetime, lifetime });
  return Object.freeze({ count, lifetime, keys, store: tickets?.store });
}

function _postHandshakeAuth(option: boolean | undefined, hasIdentity: boolean): boolean {
  if (option === undefined) return hasIdentity;
  if (typeof option !== 'boolean') throw new TlsConfigError('client: postHandshakeAuth must be a boolean');
  return option;
}

function _earlyData(data: Uint8Array | undefined): Uint8Array | undefined {
  if (data === undefined) return undefined;
  if (!(data instanceof Uint8Array)) throw new TlsConfigError('client: earlyData must be a Uint8Array');
  return data.length === 0 ? undefined : data.slice();
}

function _resendRejected(mode: ClientConfig['earlyDataRejected']): boolean {
  if (mode === 'resend') return true;
  if (mode === undefined || mode === 'report') return false;
  throw new TlsConfigError(`client: earlyDataRejected must be 'resend' or 'report', not ${JSON.stringify(mode)}`);
}

function _serverEarlyData(deps: ServerConfigDeps, config: ServerConfig): ResolvedServerConfig['earlyData'] {
  const maxSize = config.maxEarlyDataSize ?? 0;
  if (!Number.isSafeInteger(maxSize) || maxSize < 0 || maxSize > 0xffff_ffff) {
    throw new TlsConfigError('server: maxEarlyDataSize must be an integer 0..2^32-1');
  }
  if (maxSize === 0) return undefined;
  if (config.tickets === false) throw new TlsConfigError('server: maxEarlyDataSize needs session tickets (tickets is false)');
  return Object.freeze({ maxSize, antiReplay: config.antiReplay ?? deps.sessions?.antiReplay ?? memoryReplayStore({ locks: deps.locks }) });
}

/** RFC 8446 4.2.4: `DistinguishedName authorities<3..2^16-1>`, each `opaque<1..2^16-1>`. */
function _certificateAuthorities(wanted: boolean | undefined, anchors: readonly Certificate[] | undefined): readonly Uint8Array[] | undefined {
  if (wanted === false || !anchors || anchors.length === 0) return undefined;
  const names = anchors.map((anchor) => anchor.subject.raw);
  const size = names.reduce((total, name) => total + 2 + name.length, 0);
  // Keep the CertificateRequest well inside one handshake message a peer will accept.
  return size > 0x8000 ? undefined : Object.freeze(names);
}
