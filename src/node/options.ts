/**
 * The options of sandtls/node, in node:tls's names, and their translation into the engine's
 * client and server configurations.
 * @module
 */
import { KeyObject } from 'node:crypto';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  CIPHER_SUITE_NAMES,
  constantTimeEqual,
  decodeSession,
  keyMatchesCertificate,
  memoryReplayStore,
  NAMED_GROUPS,
  parseCertificate,
  parsePkcs12,
  parsePrivateKey,
  rotatingTicketKeys,
  TlsConfigError,
  type CertificateInput,
  type CipherSuiteName,
  type ClientConfig,
  type ClientHelloInfo,
  type Engine,
  type NamedGroup,
  type PrivateKey,
  type PrivateKeyInput,
  type PublicKey,
  type ReplayStore,
  type ServerConfig,
  type SignatureScheme,
  type TicketKey,
  type TicketKeySource,
  type TlsSession,
  type TlsSigner,
  type VerifyPeerHook,
} from '../index.js';
import { parseCertificates, pemOrDer, trustAnchorsOf, type CertificatesOption, type PeerCertificate } from './certificate.js';
import { defaultEngine } from './engine.js';
import { configError, describeValue, refuseUnsupported, secureOptionsOf } from './node-options.js';
import { checkProtocolVersions, ciphersToSuites, ecdhCurveToGroups, sigalgsToSchemes } from './openssl-names.js';

/** ALPN protocols as node:tls takes them: names, or the wire format (length-prefixed names). */
export type ALPNProtocolsOption = readonly (string | Uint8Array)[] | Uint8Array;

/** Options sandtls/node adds to node:tls's. */
export interface SandtlsNodeOptions {
  /**
   * The engine (from `init()`) to run the connection on. Default: one engine on
   * `defaultPlatform()`, shared by sandtls/node and created on first use (see `defaultEngine()`).
   */
  engine?: Engine;
  /** IANA cipher suite names in preference order (the engine's `cipherSuites`; node:tls's `ciphers` works too). */
  cipherSuites?: readonly CipherSuiteName[];
  /** Key exchange groups in preference order (the engine's `groups`; node:tls's `ecdhCurve` works too). */
  groups?: readonly NamedGroup[];
}

/** node:tls's CommonConnectionOptions, as sandtls/node takes them (see the README's option table). */
export interface CommonConnectionOptions {
  /** A context from sandtls/node's `createSecureContext()` (node:tls's own is refused: ERR_TLS_INVALID_CONTEXT). */
  secureContext?: SecureContext | undefined;
  /** Accepted; no trace is written yet. */
  enableTrace?: boolean | undefined;
  /** Refused (true): no OCSP stapling in sandtls. */
  requestOCSP?: boolean | undefined;
  /** Refused: no external PSKs in sandtls/node. */
  pskCallback?: ((...args: never[]) => unknown) | undefined;
  /** Set TCP_NODELAY / SO_KEEPALIVE on the connection(s) (as net). */
  noDelay?: boolean | undefined;
  keepAlive?: boolean | undefined;
  keepAliveInitialDelay?: number | undefined;
  /** The readable side's buffer size, as a stream's `highWaterMark`. */
  highWaterMark?: number | undefined;
}

/** `connect(options)`: node:tls's `tls.connect` options (see the README's option table). */
export interface ConnectOptions extends SandtlsNodeOptions, CommonConnectionOptions, Omit<SecureContextOptions, 'engine' | 'cipherSuites' | 'groups'> {
  /** Host to connect to (default 'localhost'); also the name checked when `servername` is not given. */
  host?: string;
  port?: number;
  /** A Unix socket (or Windows pipe) to connect to instead of host and port. */
  path?: string | undefined;
  /** The SNI name and the name the certificate must carry (default: `host`). */
  servername?: string;
  /** Accepted, meaningless in TLS 1.3 (named groups only); checked to be a positive number. */
  minDHSize?: number | undefined;
  /**
   * Trusted roots, PEM, DER or X509Certificate, one or many. Default: Node's bundled Mozilla roots
   * (`tls.rootCertificates`; no file is read).
   */
  ca?: CertificatesOption;
  /** ALPN protocol names in preference order, e.g. `['h2', 'http/1.1']`. */
  ALPNProtocols?: ALPNProtocolsOption;
  /**
   * Refuse a server whose certificate does not verify (default true): the handshake fails with
   * the alert and 'error' is emitted. With false the connection proceeds; `authorized` and
   * `authorizationError` say what was wrong.
   */
  rejectUnauthorized?: boolean;
  /**
   * Replaces the server-name check (the engine's RFC 9525 check by default). Called once the chain
   * verified, with the name and the `getPeerCertificate(true)` object; return an Error to refuse.
   * `tls.checkServerIdentity` from node:tls works here.
   */
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
  /**
   * A session to resume (RFC 8446 2.2): a Buffer from a 'session' event or `getSession()` (the
   * `encodeSession()` bytes), or a sandtls `TlsSession`. Bytes that are not a session are ignored,
   * as node:tls does; so is a session that expired or is for another server name. The server may
   * decline it: then a full handshake follows and `isSessionReused()` is false.
   */
  session?: Uint8Array | TlsSession;
  /**
   * sandtls: application data to send as 0-RTT data when `session` allows it (RFC 8446 2.3); it
   * may be replayed by an attacker, so only what is safe to repeat. Otherwise, or when the server
   * rejects it, it is dropped (unless `earlyDataRejected: 'resend'`): `socket.info.earlyDataAccepted`
   * says which happened, and the application writes what it still needs to.
   */
  earlyData?: Uint8Array | string;
  /**
   * sandtls: what to do with `earlyData` the server did not accept: `'report'` (default: drop it)
   * or `'resend'` (write it after the handshake, only if the same ALPN protocol was negotiated,
   * RFC 8446 4.2.10).
   */
  earlyDataRejected?: 'resend' | 'report';
  /** Run TLS over this already connected stream (STARTTLS-style upgrades) instead of opening a TCP connection. */
  socket?: Duplex;
  /**
   * Receives NSS key log lines (`CLIENT_HANDSHAKE_TRAFFIC_SECRET <random> <secret>\n`) as Buffers,
   * for Wireshark: a function or a writable stream. The 'keylog' event gets them too. Secrets!
   */
  keylog?: ((line: Buffer) => void) | { write(line: Buffer): unknown };
  /** Client certificate chain (PEM, DER, X509Certificate) and its key, sent if the server asks. */
  cert?: CertificatesOption;
  key?: KeyOption;
  /**
   * sandtls: offer post-handshake client authentication (RFC 8446 4.6.2): the server may ask for
   * `cert` after the handshake (a sandtls server's `socket.renegotiate({ requestCert: true })`),
   * and the socket answers by itself. Default: true when `cert` is given. node:tls never offers it.
   */
  postHandshakeAuth?: boolean;
  /**
   * sandtls: the application's own check of the server's chain (pinning, a revocation lookup), the
   * engine's `verifyPeer`: called once the server proved it holds the leaf's key, after the chain
   * and name checked out (with `rejectUnauthorized: false` or `checkServerIdentity`, whatever
   * they found: see `peer.verified`). It may return a Promise; the handshake waits for it. A
   * throw or rejection fails the handshake with bad_certificate, or the alert named in the
   * error's `alert` property (`Object.assign(new Error('revoked'), { alert: 'certificate_revoked' })`),
   * whatever `rejectUnauthorized` says. Not called for a resumed session.
   */
  verifyPeer?: VerifyPeerHook;
  /** Keep the writable side open after the peer's close_notify (default false, as in node:tls). */
  allowHalfOpen?: boolean;
  /**
   * Trace every TLS record, handshake message, extension and alert of the connection, as
   * `socket.enableTrace()` does: the engine's `trace: 'messages'`, written to the engine's
   * `platform.stderr` (process.stderr with the default engine). Never secrets or data.
   */
  enableTrace?: boolean;
  /** Idle timeout in milliseconds: 'timeout' is emitted (as `socket.setTimeout`). */
  timeout?: number;
  /** Local address, port and address family for the TCP connection (as net.connect). */
  localAddress?: string;
  localPort?: number | undefined;
  hints?: number | undefined;
  autoSelectFamily?: boolean | undefined;
  autoSelectFamilyAttemptTimeout?: number | undefined;
  family?: number;
  /** node:net's DNS lookup override for the TCP connection. */
  lookup?: net.LookupFunction;
}

/** A private key as node:tls options take it, plus node:crypto KeyObjects and sandtls keys and signers. */
export type KeyOption =
  | string
  | Uint8Array
  | KeyObject
  | PrivateKeyInput
  | readonly (string | Uint8Array | KeyObject | { readonly pem: string | Uint8Array; readonly passphrase?: string | undefined })[];

/** A PKCS #12 file as node:tls options take it: DER bytes (or a latin1 string of them), one or an array of one. */
export type PfxOption = string | Uint8Array | readonly (string | Uint8Array | { readonly buf: string | Uint8Array; readonly passphrase?: string | undefined })[];

/**
 * `createSecureContext(options)`: node:tls's SecureContextOptions (see the README's table for
 * what each does in sandtls) and sandtls's own `engine`, `cipherSuites` and `groups`.
 */
export interface SecureContextOptions {
  /**
   * The engine whose signatures check that `key` matches `cert` (default: `defaultEngine()`).
   * Connections sign with their own engine.
   */
  engine?: Engine;
  /**
   * The private key: PEM (string or Buffer; `ENCRYPTED PRIVATE KEY` with `passphrase`), DER, a
   * node:crypto private KeyObject, a sandtls `PrivateKey` or `TlsSigner`, or an array of one
   * (`{ pem, passphrase }` entries as node:tls takes them). One key per context: several
   * (node:tls's RSA and ECDSA side by side) are refused.
   */
  key?: KeyOption | undefined;
  /** The certificate chain, leaf first: PEM (one or many blocks), DER, X509Certificate, or an array of them. */
  cert?: CertificatesOption | undefined;
  /** Roots: for a client, of the server's chain (default: Node's bundled roots); for a server, of client certificates. */
  ca?: CertificatesOption | undefined;
  /** Decrypts an encrypted `key` (PBES2, as `openssl genpkey -aes-256-cbc` makes) or `pfx`. */
  passphrase?: string | undefined;
  /** A PKCS #12 file with the key and chain (PBES2 with AES, as OpenSSL 3 writes by default). */
  pfx?: PfxOption | undefined;
  /**
   * TLS 1.3 suite names (`TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256`), or an OpenSSL
   * cipher string mapped to the TLS 1.3 suites with the same AEAD (see `ciphersToSuites`).
   */
  ciphers?: string | undefined;
  /** Signature schemes, OpenSSL style: `ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256` or `ECDSA+SHA256:RSA-PSS+SHA256`. */
  sigalgs?: string | undefined;
  /** Key exchange groups, OpenSSL names: `X25519:P-256:secp384r1`, or `'auto'`. */
  ecdhCurve?: string | undefined;
  /** Any version up to TLSv1.3 is fine: sandtls speaks TLS 1.3 only. */
  minVersion?: 'TLSv1.3' | 'TLSv1.2' | 'TLSv1.1' | 'TLSv1' | undefined;
  /** Must be TLSv1.3 (anything lower leaves no protocol: ERR_SSL_NO_PROTOCOLS_AVAILABLE). */
  maxVersion?: 'TLSv1.3' | 'TLSv1.2' | 'TLSv1.1' | 'TLSv1' | undefined;
  /** `TLS_method` and friends; one-version methods (`TLSv1_2_method`) leave no protocol. */
  secureProtocol?: string | undefined;
  /** OpenSSL SSL_OP_* flags: SSL_OP_NO_TICKET and SSL_OP_CIPHER_SERVER_PREFERENCE are honoured, TLS 1.2 ones mean nothing. */
  secureOptions?: number | undefined;
  /** Server: choose the cipher suite by this side's order (default true, as node:tls servers do). */
  honorCipherOrder?: boolean | undefined;
  /** Accepted, meaningless in TLS 1.3 (named groups only). */
  dhparam?: string | Uint8Array | undefined;
  /** Accepted, meaningless here (sessions are bound to the server's ticket keys). */
  sessionIdContext?: string | undefined;
  /** sandtls accepts any CA certificate in `ca` as a trust anchor, as this option asks. */
  allowPartialTrustChain?: boolean | undefined;
  /** Refused: sandtls does not check CRLs. */
  crl?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** Refused: no OpenSSL engines (pass a TlsSigner as `key`). */
  privateKeyEngine?: string | undefined;
  /** Refused: no OpenSSL engines (pass a TlsSigner as `key`). */
  privateKeyIdentifier?: string | undefined;
  /** Refused: no OpenSSL engines. */
  clientCertEngine?: string | undefined;
  /** sandtls: IANA cipher suite names in preference order (instead of `ciphers`). */
  cipherSuites?: readonly CipherSuiteName[] | undefined;
  /** sandtls: key exchange groups in preference order (instead of `ecdhCurve`). */
  groups?: readonly NamedGroup[] | undefined;
}

/** The SecureContextOptions whose values a SecureContext holds (the rest concern connections and servers). */
const _CONTEXT_OPTION_NAMES = [
  'key', 'cert', 'ca', 'passphrase', 'pfx', 'ciphers', 'sigalgs', 'ecdhCurve', 'minVersion', 'maxVersion', 'secureProtocol',
  'secureOptions', 'honorCipherOrder', 'dhparam', 'sessionIdContext', 'allowPartialTrustChain', 'cipherSuites', 'groups',
] as const;

function _isSigner(key: unknown): key is TlsSigner {
  return typeof key === 'object' && key !== null && typeof (key as TlsSigner).sign === 'function' && Array.isArray((key as TlsSigner).schemes);
}

function _isParsedKey(key: unknown): key is PrivateKey {
  const kind = (key as { kind?: unknown } | null)?.kind;
  return typeof key === 'object' && key !== null && !(key instanceof Uint8Array) && (kind === 'ec' || kind === 'ed25519' || kind === 'rsa');
}

/** A string option given as a Buffer: node:tls takes both. */
function _text(value: string | Uint8Array): string | Uint8Array {
  return typeof value === 'string' ? value : pemOrDer(value);
}

/**
 * A private key option, parsed (and decrypted). Errors are TlsConfigErrors carrying node:tls's
 * codes (`ERR_OSSL_BAD_DECRYPT` for a wrong passphrase, ...); messages never hold the key.
 */
function _parseKey(option: KeyOption, passphrase: string | undefined): PrivateKey | TlsSigner {
  const entries: readonly unknown[] = Array.isArray(option) ? option : [option];
  if (entries.length !== 1) {
    throw configError(
      entries.length === 0
        ? "The property 'options.key' is an empty array"
        : `The property 'options.key' holds ${entries.length} keys: sandtls serves one key and chain per context (node:tls's RSA and ECDSA pairs are not supported; choose one, or pick by name with SNICallback)`,
    );
  }
  let entry = entries[0];
  let pass = passphrase;
  if (typeof entry === 'object' && entry !== null && !(entry instanceof Uint8Array) && !(entry instanceof KeyObject) && 'pem' in entry) {
    const withPem = entry as { pem: unknown; passphrase?: unknown };
    if (withPem.passphrase !== undefined && typeof withPem.passphrase !== 'string') {
      throw configError(`The "options.key.passphrase" property must be of type string. Received ${describeValue(withPem.passphrase)}`, 'ERR_INVALID_ARG_TYPE');
    }
    pass = (withPem.passphrase as string | undefined) ?? passphrase;
    entry = withPem.pem;
  }
  if (_isSigner(entry) || _isParsedKey(entry)) return entry;
  if (entry instanceof KeyObject) {
    if (entry.type !== 'private') throw configError(`The property 'options.key' must be a private key; this KeyObject is a ${entry.type} key`);
    entry = new Uint8Array(entry.export({ format: 'der', type: 'pkcs8' }));
  }
  if (typeof entry !== 'string' && !(entry instanceof Uint8Array)) {
    throw configError(
      `The "options.key" property must be of type string or an instance of Buffer, TypedArray, KeyObject or a sandtls PrivateKey or TlsSigner. Received ${describeValue(entry)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  try {
    return parsePrivateKey(_text(entry), pass === undefined ? {} : { passphrase: pass });
  } catch (cause) {
    throw new TlsConfigError(`key: ${cause instanceof Error ? cause.message : 'unreadable'}`, { cause });
  }
}

/** A PKCS #12 option, read: its key and chain. */
function _parsePfx(option: PfxOption, passphrase: string | undefined): { privateKey: PrivateKey; chain: readonly Uint8Array[] } {
  const entries: readonly unknown[] = Array.isArray(option) ? option : [option];
  if (entries.length !== 1) throw configError(`The property 'options.pfx' holds ${entries.length} files: sandtls serves one key and chain per context`);
  let entry = entries[0];
  let pass = passphrase;
  if (typeof entry === 'object' && entry !== null && !(entry instanceof Uint8Array) && 'buf' in entry) {
    const withBuf = entry as { buf: unknown; passphrase?: unknown };
    if (withBuf.passphrase !== undefined && typeof withBuf.passphrase !== 'string') {
      throw configError(`The "options.pfx.passphrase" property must be of type string. Received ${describeValue(withBuf.passphrase)}`, 'ERR_INVALID_ARG_TYPE');
    }
    pass = (withBuf.passphrase as string | undefined) ?? passphrase;
    entry = withBuf.buf;
  }
  // node:tls reads a string pfx as binary (latin1) bytes.
  const der = typeof entry === 'string' ? new Uint8Array(Buffer.from(entry, 'latin1')) : entry;
  if (!(der instanceof Uint8Array)) {
    throw configError(`The "options.pfx" property must be of type string or an instance of Buffer or TypedArray. Received ${describeValue(entry)}`, 'ERR_INVALID_ARG_TYPE');
  }
  try {
    const contents = parsePkcs12(der, pass);
    return { privateKey: contents.privateKey, chain: contents.certificateChain };
  } catch (cause) {
    throw new TlsConfigError(`pfx: ${cause instanceof Error ? cause.message : 'unreadable'}`, { cause });
  }
}

function _checkNames<T extends string>(list: unknown, known: readonly T[], what: string): readonly T[] | undefined {
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list) || list.length === 0 || list.some((name) => !known.includes(name as T))) {
    throw configError(`The property 'options.${what}' must be a non-empty array of ${known.join(', ')}`);
  }
  return Object.freeze([...(list as T[])]);
}

/**
 * What `createSecureContext()` makes and `SNICallback` hands back: a certificate chain with its
 * key (for a server, or a client that authenticates), the roots to verify the peer with, and the
 * cipher suites, groups and signature schemes to offer. Everything is checked when it is made:
 * a key that does not match its certificate throws `ERR_OSSL_X509_KEY_VALUES_MISMATCH` at once,
 * as node:tls does. (sandtls's counterpart of node:tls's SecureContext, whose OpenSSL state
 * sandtls cannot use: pass one of these, not node:tls's, as `secureContext`.)
 */
export class SecureContext {
  /** The chain to send, DER, leaf first; undefined without `cert`/`pfx`. */
  readonly certificateChain: readonly Uint8Array[] | undefined;
  /** The key of `certificateChain[0]`. */
  readonly privateKey: PrivateKey | TlsSigner | undefined;
  /** The `ca` option as given (parsed when used, once per object). */
  readonly ca: CertificatesOption | undefined;
  /** From `ciphers` or `cipherSuites`; undefined for the engine's defaults. */
  readonly cipherSuites: readonly CipherSuiteName[] | undefined;
  /** From `ecdhCurve` or `groups`; undefined for the engine's defaults. */
  readonly groups: readonly NamedGroup[] | undefined;
  /** From `sigalgs`: accepted from the peer, advertised, and the ones this side signs with. */
  readonly signatureAlgorithms: readonly SignatureScheme[] | undefined;
  readonly honorCipherOrder: boolean | undefined;
  /** secureOptions SSL_OP_NO_TICKET: a server issues no tickets. */
  readonly noTickets: boolean;
  /** The schemes the key may sign with (its own, narrowed by `sigalgs`). */
  readonly #schemes: readonly SignatureScheme[] | undefined;
  readonly #signers = new WeakMap<Engine, TlsSigner>();

  constructor(options: SecureContextOptions = {}) {
    if (options === null || typeof options !== 'object') throw configError(`The "options" argument must be of type object. Received ${describeValue(options)}`, 'ERR_INVALID_ARG_TYPE');
    refuseUnsupported(options);
    checkProtocolVersions(options);
    const effects = secureOptionsOf(options.secureOptions);
    if (options.passphrase !== undefined && options.passphrase !== null && typeof options.passphrase !== 'string') {
      throw configError(`The "options.passphrase" property must be of type string. Received ${describeValue(options.passphrase)}`, 'ERR_INVALID_ARG_TYPE');
    }
    for (const name of ['honorCipherOrder', 'allowPartialTrustChain'] as const) {
      const value = options[name];
      if (value !== undefined && value !== null && typeof value !== 'boolean') {
        throw configError(`The "options.${name}" property must be of type boolean. Received ${describeValue(value)}`, 'ERR_INVALID_ARG_TYPE');
      }
    }
    if (options.sessionIdContext !== undefined && options.sessionIdContext !== null && typeof options.sessionIdContext !== 'string') {
      throw configError(`The "options.sessionIdContext" property must be of type string. Received ${describeValue(options.sessionIdContext)}`, 'ERR_INVALID_ARG_TYPE');
    }
    if (options.ciphers != null && options.cipherSuites != null) throw configError("Give 'options.ciphers' or sandtls's 'options.cipherSuites', not both");
    if (options.ecdhCurve != null && options.groups != null) throw configError("Give 'options.ecdhCurve' or sandtls's 'options.groups', not both");
    this.cipherSuites = options.ciphers != null ? Object.freeze(ciphersToSuites(options.ciphers)) : _checkNames(options.cipherSuites, CIPHER_SUITE_NAMES, 'cipherSuites');
    const groups = options.ecdhCurve != null ? ecdhCurveToGroups(options.ecdhCurve) : _checkNames(options.groups, NAMED_GROUPS, 'groups');
    this.groups = groups === undefined ? undefined : Object.freeze([...groups]);
    this.signatureAlgorithms = options.sigalgs != null ? Object.freeze(sigalgsToSchemes(options.sigalgs)) : undefined;
    this.honorCipherOrder = options.honorCipherOrder ?? (effects.serverPreference ? true : undefined);
    this.noTickets = effects.noTickets;
    this.ca = options.ca ?? undefined;
    if (this.ca !== undefined) trustAnchorsOf(this.ca); // unparsable roots fail here, not at the handshake

    const passphrase = options.passphrase ?? undefined;
    let chain: readonly Uint8Array[] | undefined;
    let key: PrivateKey | TlsSigner | undefined;
    if (options.pfx != null) {
      if (options.key != null || options.cert != null) throw configError("Give 'options.pfx' or 'options.key' and 'options.cert', not both");
      const pfx = _parsePfx(options.pfx, passphrase);
      chain = pfx.chain;
      key = pfx.privateKey;
    } else if (options.cert != null || options.key != null) {
      if (options.cert == null || options.key == null) throw configError(`'options.${options.cert == null ? 'key' : 'cert'}' needs 'options.${options.cert == null ? 'cert' : 'key'}' too`);
      chain = parseCertificates(options.cert, 'cert').map((c) => c.raw);
      if (chain.length === 0) throw configError("The property 'options.cert' holds no certificate", 'ERR_OSSL_PEM_NO_START_LINE');
      key = _parseKey(options.key, passphrase);
    }
    this.certificateChain = chain === undefined ? undefined : Object.freeze([...chain]);
    this.privateKey = key;
    this.#schemes = key === undefined ? undefined : this.#checkKey(key, chain!, options.engine ?? defaultEngine());
  }

  /** The key must be the leaf's (ERR_OSSL_X509_KEY_VALUES_MISMATCH), and able to sign with a scheme `sigalgs` allows. */
  #checkKey(key: PrivateKey | TlsSigner, chain: readonly Uint8Array[], engine: Engine): readonly SignatureScheme[] {
    const leaf = parseCertificate(chain[0]!);
    let schemes: readonly SignatureScheme[];
    if (_isSigner(key)) {
      schemes = key.schemes;
    } else {
      if (!keyMatchesCertificate(engine.crypto.signatures, key, leaf)) {
        throw configError("key values mismatch: the private key does not match the certificate's public key", 'ERR_OSSL_X509_KEY_VALUES_MISMATCH');
      }
      schemes = engine.crypto.signatures.schemesFor(key).filter((s) => !s.startsWith('rsa_pkcs1_'));
    }
    const allowed = this.signatureAlgorithms;
    const usable = allowed === undefined ? schemes : schemes.filter((s) => allowed.includes(s));
    if (usable.length === 0) {
      throw configError(`sigalgs allows none of the schemes this key signs with (${schemes.join(', ') || 'none'})`);
    }
    return Object.freeze([...usable]);
  }

  /**
   * The chain and a signer for connections on `engine` (signing draws that engine's randomness),
   * or undefined for a context without a certificate.
   * @example
   * const identity = context.identityFor(engine); // { certificateChain, privateKey: TlsSigner }
   */
  identityFor(engine: Engine): { certificateChain: readonly Uint8Array[]; privateKey: TlsSigner } | undefined {
    const key = this.privateKey;
    if (this.certificateChain === undefined || key === undefined) return undefined;
    let signer = this.#signers.get(engine);
    if (!signer) {
      const schemes = this.#schemes!;
      if (_isSigner(key)) {
        signer = schemes.length === key.schemes.length ? key : Object.freeze({ publicKey: key.publicKey, schemes, sign: (scheme: SignatureScheme, message: Uint8Array) => key.sign(scheme, message) });
      } else {
        const signatures = engine.crypto.signatures;
        const publicKey = parseCertificate(this.certificateChain[0]!).publicKey as PublicKey;
        signer = Object.freeze({ publicKey, schemes, sign: (scheme: SignatureScheme, message: Uint8Array) => signatures.sign(scheme, key, message) });
      }
      this.#signers.set(engine, signer);
    }
    return { certificateChain: this.certificateChain, privateKey: signer };
  }
}

/**
 * Makes a {@link SecureContext}, as `tls.createSecureContext` does, for `secureContext`,
 * `SNICallback` and `server.addContext()`. Throws a TlsConfigError for anything wrong with it.
 * @example
 * const contexts = { 'a.test': createSecureContext({ key: keyA, cert: certA }) };
 * createServer({ key, cert, SNICallback: (name, cb) => cb(null, contexts[name]) });
 */
export function createSecureContext(options: SecureContextOptions = {}): SecureContext {
  return new SecureContext(options);
}

/**
 * The `secureContext` option: a sandtls SecureContext. node:tls's own (it holds OpenSSL state)
 * and anything else are refused with node:tls's `ERR_TLS_INVALID_CONTEXT`.
 */
function _givenContext(context: unknown): SecureContext {
  if (context instanceof SecureContext) return context;
  if (typeof context === 'object' && context !== null && 'context' in context) {
    throw configError(
      "The property 'options.secureContext' is a node:tls SecureContext, whose OpenSSL state sandtls cannot use: make it with sandtls/node's createSecureContext()",
      'ERR_TLS_INVALID_CONTEXT',
    );
  }
  throw configError(`context must be a SecureContext (from sandtls/node's createSecureContext()). Received ${describeValue(context)}`, 'ERR_TLS_INVALID_CONTEXT');
}

/** The context of a connection or server: `secureContext` when given (as node:tls, the context options are then not read), else one made of the options. */
function _contextOf(options: SecureContextOptions & { secureContext?: unknown }, engine: Engine): SecureContext {
  if (options.secureContext !== undefined && options.secureContext !== null) {
    refuseUnsupported(options);
    return _givenContext(options.secureContext);
  }
  const own: SecureContextOptions = { engine };
  for (const name of _CONTEXT_OPTION_NAMES) if (options[name] !== undefined) (own as Record<string, unknown>)[name] = options[name];
  return new SecureContext(own);
}

/**
 * ALPN names from node:tls's forms: an array of names (strings or Buffers) or the wire format.
 * @example
 * alpnNames(Buffer.from('\x02h2\x08http/1.1')); // ['h2', 'http/1.1']
 */
export function alpnNames(option: ALPNProtocolsOption | undefined): string[] | undefined {
  if (option === undefined) return undefined;
  if (option instanceof Uint8Array) {
    const names: string[] = [];
    for (let at = 0; at < option.length; ) {
      const length = option[at]!;
      if (length === 0 || at + 1 + length > option.length) throw configError("The property 'options.ALPNProtocols' is a malformed wire-format list");
      names.push(Buffer.from(option.subarray(at + 1, at + 1 + length)).toString('latin1'));
      at += 1 + length;
    }
    return names;
  }
  if (!Array.isArray(option)) {
    throw configError(`The "options.ALPNProtocols" property must be an array of strings or Buffers, or a Buffer. Received ${describeValue(option)}`, 'ERR_INVALID_ARG_TYPE');
  }
  const names = option.map((name: unknown) => {
    if (typeof name === 'string') return name;
    if (name instanceof Uint8Array) return Buffer.from(name).toString('latin1');
    throw configError(`The "options.ALPNProtocols" entries must be strings or Buffers. Received ${describeValue(name)}`, 'ERR_INVALID_ARG_TYPE');
  });
  // RFC 7301 3.1: each name is 1..255 bytes (sandtls also keeps them printable ASCII).
  for (const name of names) {
    if (name.length === 0 || name.length > 255 || !/^[\x20-\x7e]+$/.test(name)) {
      throw configError("The property 'options.ALPNProtocols' has a name that is not 1..255 printable ASCII characters");
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Client
// ---------------------------------------------------------------------------------------------

/** A checked client configuration, minus what only the socket knows (the key log sink). */
export interface ClientPlan {
  readonly engine: Engine;
  /** The name sent as SNI and checked against the certificate. */
  readonly serverName: string;
  readonly rejectUnauthorized: boolean;
  readonly checkServerIdentity: ConnectOptions['checkServerIdentity'];
  /** The engine verifies the server (and fails the handshake with the alert) itself. */
  readonly verifyInEngine: boolean;
  readonly trustAnchors: ReturnType<typeof trustAnchorsOf>;
  /** The engine configuration; `keyLog` is added per connection when someone listens. */
  readonly config: ClientConfig;
}

/**
 * Checks `connect()` options synchronously (node:tls throws for bad options too) and builds the
 * engine configuration.
 * @example
 * const plan = planClient({ host: 'example.com', ALPNProtocols: ['h2'] }, engine);
 * engine.client(plan.config);
 */
export function planClient(options: ConnectOptions, engine: Engine): ClientPlan {
  refuseUnsupported(options);
  const servername: unknown = options.servername;
  if (servername !== undefined && servername !== null && typeof servername !== 'string') {
    throw configError(`The "name" argument must be of type string. Received ${describeValue(servername)}`, 'ERR_INVALID_ARG_TYPE');
  }
  const serverName = options.servername || options.host || 'localhost';
  if (typeof serverName !== 'string' || serverName.length > 254) {
    throw configError(`The "options.host" property must be a host name or IP address of at most 254 characters. Received ${describeValue(serverName)}`, 'ERR_INVALID_ARG_VALUE');
  }
  const rejectUnauthorized = options.rejectUnauthorized !== false;
  if (options.checkServerIdentity !== undefined && typeof options.checkServerIdentity !== 'function') {
    throw configError(`The "options.checkServerIdentity" property must be of type function. Received ${describeValue(options.checkServerIdentity)}`, 'ERR_INVALID_ARG_TYPE');
  }
  _checkInert(options);
  _checkVerifyPeer(options.verifyPeer);
  const context = _contextOf(options, engine);
  const verifyInEngine = rejectUnauthorized && options.checkServerIdentity === undefined;
  const trustAnchors = trustAnchorsOf(context.ca);
  const alpn = alpnNames(options.ALPNProtocols);
  const identity = context.identityFor(engine);
  const session = _session(options.session);
  const earlyData = typeof options.earlyData === 'string' ? Buffer.from(options.earlyData, 'utf8') : options.earlyData;
  _checkEnableTrace(options.enableTrace);
  if (earlyData !== undefined && !(earlyData instanceof Uint8Array)) {
    throw configError(`The "options.earlyData" property must be a Buffer, Uint8Array or string. Received ${describeValue(earlyData)}`, 'ERR_INVALID_ARG_TYPE');
  }
  const config: ClientConfig = {
    serverName,
    trustAnchors: trustAnchors as CertificateInput,
    ...(alpn ? { alpn } : {}),
    ...(context.cipherSuites ? { cipherSuites: context.cipherSuites } : {}),
    // As OpenSSL does with an explicit list, the first group gets the key share.
    ...(context.groups ? { groups: context.groups, keyShares: [context.groups[0]!] } : {}),
    ...(context.signatureAlgorithms ? { signatureAlgorithms: context.signatureAlgorithms } : {}),
    ...(identity ? { certificateChain: identity.certificateChain, privateKey: identity.privateKey } : {}),
    ...(verifyInEngine ? {} : { dangerouslyDisableCertificateVerification: true as const }),
    ...(options.postHandshakeAuth !== undefined ? { postHandshakeAuth: options.postHandshakeAuth } : {}),
    ...(options.verifyPeer !== undefined ? { verifyPeer: options.verifyPeer } : {}),
    ...(session ? { session } : {}),
    ...(earlyData !== undefined ? { earlyData } : {}),
    ...(options.earlyDataRejected !== undefined ? { earlyDataRejected: options.earlyDataRejected } : {}),
    ...(options.enableTrace === true ? { trace: 'messages' as const } : {}),
  };
  return { engine, serverName, rejectUnauthorized, checkServerIdentity: options.checkServerIdentity, verifyInEngine, trustAnchors, config };
}

/** node:tls's `enableTrace`: a boolean. */
function _checkEnableTrace(option: unknown): void {
  if (option !== undefined && typeof option !== 'boolean') {
    throw configError(`The "options.enableTrace" property must be of type boolean. Received ${describeValue(option)}`, 'ERR_INVALID_ARG_TYPE');
  }
}

/**
 * The net.connect() options of a client connection: host and port (or path), and the socket
 * options node:tls passes on to net.
 * @example
 * net.connect(netConnectOptions({ host: 'example.com', port: 443, noDelay: true }));
 */
export function netConnectOptions(options: ConnectOptions): net.NetConnectOpts {
  const pass = ['localAddress', 'localPort', 'family', 'hints', 'lookup', 'noDelay', 'keepAlive', 'keepAliveInitialDelay', 'autoSelectFamily', 'autoSelectFamilyAttemptTimeout'] as const;
  const out: Record<string, unknown> = options.path != null ? { path: options.path } : { host: options.host ?? 'localhost', port: options.port };
  // Half-open at the TCP level: the TLS socket decides when to end (close_notify first).
  out.allowHalfOpen = true;
  for (const name of pass) if (options[name] !== undefined) out[name] = options[name];
  return out as unknown as net.NetConnectOpts;
}

/** sandtls's `verifyPeer`: a function. */
function _checkVerifyPeer(option: unknown): void {
  if (option !== undefined && typeof option !== 'function') {
    throw configError(`The "options.verifyPeer" property must be of type function. Received ${describeValue(option)}`, 'ERR_INVALID_ARG_TYPE');
  }
}

/** Options sandtls accepts without effect are still checked as node:tls checks them. */
function _checkInert(options: { minDHSize?: unknown; dhparam?: unknown; pskIdentityHint?: unknown }): void {
  if (options.minDHSize !== undefined && (typeof options.minDHSize !== 'number' || !(options.minDHSize > 0))) {
    throw configError(`The "options.minDHSize" property must be a positive number. Received ${describeValue(options.minDHSize)}`, 'ERR_INVALID_ARG_TYPE');
  }
  if (options.pskIdentityHint !== undefined && typeof options.pskIdentityHint !== 'string') {
    throw configError(`The "options.pskIdentityHint" property must be of type string. Received ${describeValue(options.pskIdentityHint)}`, 'ERR_INVALID_ARG_TYPE');
  }
}

/**
 * The `session` option: a TlsSession, or its `encodeSession()` bytes. Bytes that do not decode
 * are ignored (a full handshake follows), as node:tls ignores a session OpenSSL cannot read.
 */
function _session(option: ConnectOptions['session']): TlsSession | undefined {
  if (option === undefined || option === null) return undefined;
  if (option instanceof Uint8Array) {
    try {
      return decodeSession(option);
    } catch {
      return undefined;
    }
  }
  if (typeof option !== 'object' || !(option.ticket instanceof Uint8Array) || !(option.psk instanceof Uint8Array)) {
    throw configError(`The "options.session" property must be a Buffer (from a 'session' event or getSession()) or a sandtls TlsSession. Received ${describeValue(option)}`, 'ERR_INVALID_ARG_TYPE');
  }
  return option;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/** `createServer(options)`: node:tls's `tls.createServer` options that sandtls understands. */
export interface ServerOptions extends SandtlsNodeOptions, SecureContextOptions, CommonConnectionOptions {
  /** ALPN protocols this server speaks, in its preference order. */
  ALPNProtocols?: ALPNProtocolsOption;
  /** Refused: give `ALPNProtocols` instead. */
  ALPNCallback?: ((...args: never[]) => unknown) | undefined;
  /** Accepted, meaningless in TLS 1.3 (no PSK identity hint). */
  pskIdentityHint?: string | undefined;
  /** Refused: a TLS server reads the ClientHello at once. */
  pauseOnConnect?: boolean | undefined;
  /**
   * Picks the certificate for a server name: `cb(null, context)` with a `createSecureContext()`
   * result (or plain `{ key, cert }` options), `cb(null)` for the default certificate, `cb(error)`
   * to refuse the connection. Called only when the client sends SNI.
   */
  SNICallback?: (servername: string, cb: (error: Error | null, context?: SecureContext | SecureContextOptions) => void) => void;
  /** Ask clients for a certificate (default false). */
  requestCert?: boolean;
  /**
   * With `requestCert`: refuse clients without a certificate that verifies against `ca` (default
   * true). With false, any certificate is accepted and `authorized`/`authorizationError` tell.
   */
  rejectUnauthorized?: boolean;
  /** Milliseconds a client has to finish the handshake (default 120000); then 'tlsClientError'. */
  handshakeTimeout?: number;
  /** Keep a connection's writable side open after the client's close_notify (default false). */
  allowHalfOpen?: boolean;
  /** Trace every connection of the server (see `ConnectOptions.enableTrace`, `socket.enableTrace()`). */
  enableTrace?: boolean;
  /**
   * Choose the cipher suite by this server's `cipherSuites` order instead of the client's. As in
   * node:tls, whose servers use their own order unless this is `false`, it is on by default (the
   * engine's `cipherSuiteSelection: 'server-preference'`); `false` follows the client's order, the
   * engine's default.
   */
  honorCipherOrder?: boolean | undefined;
  /**
   * sandtls: session tickets (RFC 8446 4.6.1), the engine's `tickets`: on by default (2 per full
   * handshake), `false` for none, or `{ count, lifetime, keys, store }`. Without `keys`, one
   * in-process rotating key source serves every connection and certificate of the server.
   */
  tickets?: ServerConfig['tickets'];
  /**
   * 48 bytes of ticket key, as node:tls takes it: servers given the same bytes resume each
   * other's sessions (sandtls's tickets, not OpenSSL's: the two cannot open each other's).
   * Bytes 0-3 name the key, bytes 16-47 are its AES-256-GCM key. Not rotated; `tickets.keys` is
   * the rotating alternative. Ignored when `tickets.keys` is given.
   */
  ticketKeys?: Uint8Array;
  /** Seconds a ticket is valid (node:tls's name for `tickets.lifetime`; default 7200, at most 604800). */
  sessionTimeout?: number;
  /**
   * sandtls: accept up to this many bytes of 0-RTT data from resuming clients (RFC 8446 2.3;
   * default 0, none). Early data can be replayed: enable it only for requests that are safe to
   * repeat. It reaches the socket's readable side after 'secure', like other data.
   */
  maxEarlyDataSize?: number;
  /** sandtls: where accepted 0-RTT ClientHellos are recorded (default: one in-process store per server). */
  antiReplay?: ReplayStore;
  /**
   * sandtls: the application's own check of a client's certificate chain, the engine's
   * `verifyPeer` (see `ConnectOptions.verifyPeer`): with `requestCert`, after the chain verified
   * against `ca` (without `rejectUnauthorized`, whatever it found: `peer.verified`); also for a
   * certificate asked for after the handshake (`renegotiate()`, `peer.postHandshake`). It may
   * return a Promise; a throw or rejection fails the connection with bad_certificate or the
   * error's `alert`.
   */
  verifyPeer?: VerifyPeerHook;
}

/**
 * A fixed ticket key from node:tls's 48-byte `ticketKeys` (16 bytes of name, 16 of HMAC key, 16
 * of AES key there): the first 4 bytes name it, the last 32 are the AES-256-GCM key.
 * @example
 * createServer({ key, cert, ticketKeys: randomBytes(48) });
 */
export function ticketKeySource(ticketKeys: Uint8Array): TicketKeySource {
  if (!(ticketKeys instanceof Uint8Array)) {
    throw configError(`The "options.ticketKeys" property must be an instance of Buffer or TypedArray. Received ${describeValue(ticketKeys)}`, 'ERR_INVALID_ARG_TYPE');
  }
  if (ticketKeys.length !== 48) throw configError(`The property 'options.ticketKeys' must be exactly 48 bytes. Received ${ticketKeys.length}`);
  const key: TicketKey = Object.freeze({ id: ticketKeys.slice(0, 4), key: ticketKeys.slice(16, 48) });
  return Object.freeze({
    current: () => key,
    find: (id: Uint8Array) => (constantTimeEqual(id, key.id) ? key : undefined),
  });
}

type _SniCallback = NonNullable<ServerOptions['SNICallback']>;

/** What a server shares across connections for resumption and 0-RTT (see `ServerRole`). */
interface _Resumption {
  readonly tickets: NonNullable<ServerConfig['tickets']>;
  readonly earlyData: Pick<ServerConfig, 'maxEarlyDataSize' | 'antiReplay'>;
}

const _RESUMPTION_OPTIONS: readonly (keyof ServerOptions)[] = ['tickets', 'ticketKeys', 'sessionTimeout', 'maxEarlyDataSize', 'antiReplay'];

/**
 * What a server socket hears from the engine through the configuration its server's connections
 * share (see `ServerRole.calling()`): the context its ClientHello chose, and its key log lines.
 */
export interface ServerConnectionListener {
  /** SNICallback (or `addContext()`) chose the context serving the connection. */
  chose(context: SecureContext): void;
  /** SNICallback refused the connection with `error`. */
  refused(error: Error): void;
  /** An NSS key log line of the connection's handshake. */
  keylog(line: string): void;
}

/**
 * What a server (or a server-side `TLSSocket`) shares across its connections: the engine, the
 * certificate contexts, and one engine configuration per context, so each is resolved once.
 */
export class ServerRole {
  readonly engine: Engine;
  readonly server: net.Server | undefined;
  readonly handshakeTimeout: number;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  /** `enableTrace`: every connection is traced (the engine's `trace: 'messages'`). */
  readonly enableTrace: boolean;
  #options: ServerOptions;
  #defaultContext: SecureContext;
  #configs = new WeakMap<SecureContext, ServerConfig>();
  /** The same with `keyLog`, for connections whose key log lines someone wants. */
  #loggingConfigs = new WeakMap<SecureContext, ServerConfig>();
  #resumption: _Resumption;
  readonly #optionContexts = new WeakMap<object, SecureContext>();
  readonly #named: { readonly pattern: RegExp; readonly context: SecureContext }[] = [];
  /** The socket inside `calling()`: the one the engine's calls into the shared configuration are about. */
  #calling: ServerConnectionListener | undefined;

  constructor(engine: Engine, options: ServerOptions, server: net.Server | undefined) {
    this.engine = engine;
    this.server = server;
    this.#options = options;
    this.requestCert = options.requestCert === true;
    this.rejectUnauthorized = options.rejectUnauthorized !== false;
    refuseUnsupported(options);
    if (options.handshakeTimeout !== undefined && (typeof options.handshakeTimeout !== 'number' || !(options.handshakeTimeout >= 0))) {
      throw configError(`The "options.handshakeTimeout" property must be of type number. Received ${describeValue(options.handshakeTimeout)}`, 'ERR_INVALID_ARG_TYPE');
    }
    this.handshakeTimeout = options.handshakeTimeout ?? 120_000;
    _checkEnableTrace(options.enableTrace);
    this.enableTrace = options.enableTrace === true;
    if (options.SNICallback !== undefined && typeof options.SNICallback !== 'function') {
      throw configError(`The "options.SNICallback" property must be of type function. Received ${describeValue(options.SNICallback)}`, 'ERR_INVALID_ARG_TYPE');
    }
    _checkVerifyPeer(options.verifyPeer);
    _checkInert(options);
    alpnNames(options.ALPNProtocols); // throws for a malformed list, now rather than per connection
    this.#defaultContext = this.#serverContext(options);
    this.#resumption = this.#resumptionOf(options);
  }

  /** The server's own context: `secureContext`, or one made of the options; it must have a certificate. */
  #serverContext(options: ServerOptions): SecureContext {
    const context = _contextOf(options, this.engine);
    if (context.certificateChain === undefined) {
      throw configError("A TLS server needs a certificate and its key: give 'options.key' and 'options.cert', 'options.pfx' or 'options.secureContext'");
    }
    return context;
  }

  /**
   * Ticket keys and the 0-RTT replay store, made once per server: every connection, every
   * certificate context and every per-connection config variant (a key log sink) must seal and
   * open tickets with the same keys and record 0-RTT ClientHellos in the same store (left to the
   * engine, each config object would get its own).
   */
  #resumptionOf(options: ServerOptions): _Resumption {
    const tickets = options.tickets;
    if (options.ticketKeys !== undefined) ticketKeySource(options.ticketKeys); // throws for a bad one, now
    if (tickets === false) return { tickets: false, earlyData: options.maxEarlyDataSize === undefined ? {} : { maxEarlyDataSize: options.maxEarlyDataSize } };
    if (tickets !== undefined && (typeof tickets !== 'object' || tickets === null)) {
      throw configError(`The property 'options.tickets' must be false or an object. Received ${describeValue(tickets)}`, 'ERR_INVALID_ARG_TYPE');
    }
    const lifetime = tickets?.lifetime ?? options.sessionTimeout ?? 7200;
    const keys =
      tickets?.keys ??
      (options.ticketKeys !== undefined
        ? ticketKeySource(options.ticketKeys)
        : rotatingTicketKeys({ random: this.engine.crypto.random, locks: this.engine.platform.locks, rotateEvery: lifetime, lifetime }));
    const maxEarlyDataSize = options.maxEarlyDataSize ?? 0;
    const antiReplay = options.antiReplay ?? (maxEarlyDataSize > 0 ? memoryReplayStore({ locks: this.engine.platform.locks }) : undefined);
    return {
      tickets: { ...tickets, lifetime, keys },
      earlyData: { ...(maxEarlyDataSize > 0 ? { maxEarlyDataSize } : {}), ...(antiReplay ? { antiReplay } : {}) },
    };
  }

  /** `server.setTicketKeys()`: a fixed 48-byte key for new tickets and resumptions from now on. */
  setTicketKeys(keys: Uint8Array): void {
    ticketKeySource(keys);
    const { tickets, ...rest } = this.#options;
    // An explicit key replaces `tickets.keys` too.
    const ticketsWithoutKeys = tickets ? (({ keys: _replaced, ...others }) => others)(tickets) : tickets;
    this.#options = { ...rest, ticketKeys: Uint8Array.from(keys), ...(ticketsWithoutKeys === undefined ? {} : { tickets: ticketsWithoutKeys }) };
    this.#resumption = this.#resumptionOf(this.#options);
    this.#configs = new WeakMap();
    this.#loggingConfigs = new WeakMap();
  }

  /** The 48 bytes given as `ticketKeys` or to `setTicketKeys()`; undefined with the default rotating keys (never exported). */
  get ticketKeys(): Buffer | undefined {
    const keys = this.#options.ticketKeys;
    return keys === undefined ? undefined : Buffer.from(keys);
  }

  get defaultContext(): SecureContext {
    return this.#defaultContext;
  }

  /** `server.setSecureContext()`: a new default certificate (and options) for new connections. */
  setDefault(options: ServerOptions): void {
    refuseUnsupported(options);
    _checkVerifyPeer(options.verifyPeer);
    this.#defaultContext = this.#serverContext(options);
    this.#options = { ...this.#options, ...options };
    // Keep the ticket keys (and so the sessions already handed out) unless resumption options changed.
    if (_RESUMPTION_OPTIONS.some((name) => name in options)) this.#resumption = this.#resumptionOf(this.#options);
    this.#configs = new WeakMap();
    this.#loggingConfigs = new WeakMap();
  }

  /** `server.addContext(hostname, context)`: `*.example.com` matches one label, as in node:tls. */
  addContext(hostname: string, context: SecureContext | SecureContextOptions): void {
    const source = hostname.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*');
    this.#named.unshift({ pattern: new RegExp(`^${source}$`, 'i'), context: this.contextOf(context) });
    // The default context's configuration now needs the onClientHello that looks the name up.
    this.#configs.delete(this.#defaultContext);
    this.#loggingConfigs.delete(this.#defaultContext);
  }

  /** Whether the certificate depends on the server name (so the engine must show us the ClientHello). */
  get #choosesByName(): boolean {
    return this.#options.SNICallback !== undefined || this.#named.length > 0;
  }

  /**
   * Runs `call` (a server socket's `conn.receive()` or `conn.resume()`) with `listener` as the
   * socket that `onClientHello` and `keyLog` are about. The configuration holding them is shared
   * by every connection of the server (one object, resolved once), and the engine calls them
   * synchronously, inside the receive() or resume() that handles the handshake.
   */
  calling(listener: ServerConnectionListener, call: () => void): void {
    const outer = this.#calling;
    this.#calling = listener;
    try {
      call();
    } finally {
      this.#calling = outer;
    }
  }

  /** The engine's `keyLog` of the shared configurations: the line goes to the socket inside `calling()`. */
  readonly #keyLog = (line: string): void => this.#calling?.keylog(line);

  /**
   * The engine's `onClientHello` of a server whose certificate depends on the name: SNICallback
   * (or the added contexts) picks the context, and the connection goes on with that context's
   * configuration (one per context, resolved once); a value when the callback answered at once, a
   * Promise when it answers later. The ClientHello's socket learns the context, or SNICallback's
   * error, which fails the handshake (internal_error, or the alert named in its `alert`).
   */
  readonly #onClientHello = (hello: ClientHelloInfo): ServerConfig | undefined | Promise<ServerConfig | undefined> => {
    const socket = this.#calling;
    const name = hello.serverName;
    // No SNI (an IP address, or none sent): the default context, and no SNICallback (as node:tls).
    if (name === undefined) return undefined;
    type Answer = { readonly error: Error | null; readonly context: SecureContext };
    let answer: Answer | undefined;
    let deliver: ((answer: Answer) => void) | undefined;
    this.resolveContext(name, (error, context) => {
      if (answer) return; // a callback called twice: the first answer counts
      answer = { error, context };
      deliver?.(answer);
    });
    const configOf = ({ error, context }: Answer): ServerConfig | undefined => {
      if (error) {
        socket?.refused(error);
        throw error;
      }
      socket?.chose(context);
      return context === this.#defaultContext ? undefined : this.configFor(context);
    };
    if (answer) return configOf(answer);
    return new Promise<Answer>((resolve) => (deliver = resolve)).then(configOf);
  };

  /** The context for a server name, through SNICallback or the added contexts. */
  resolveContext(servername: string, cb: (error: Error | null, context: SecureContext) => void): void {
    const sni: _SniCallback | undefined = this.#options.SNICallback;
    if (sni === undefined) {
      cb(null, this.#named.find((entry) => entry.pattern.test(servername))?.context ?? this.#defaultContext);
      return;
    }
    sni(servername, (error, context) => {
      if (error) return cb(error, this.#defaultContext);
      let chosen: SecureContext;
      try {
        chosen = context === undefined || context === null ? this.#defaultContext : this.contextOf(context);
      } catch (cause) {
        return cb(cause instanceof Error ? cause : new Error(String(cause)), this.#defaultContext);
      }
      cb(null, chosen);
    });
  }

  /** A SecureContext for what SNICallback returned: ours, or plain options (converted once per object). */
  contextOf(context: SecureContext | SecureContextOptions): SecureContext {
    if (context instanceof SecureContext) return context;
    if (typeof context !== 'object' || context === null || 'context' in context) _givenContext(context);
    let converted = this.#optionContexts.get(context);
    if (!converted) {
      converted = _contextOf({ ...context, engine: this.engine }, this.engine);
      if (converted.certificateChain === undefined) throw configError('a server context needs a certificate and its key (key and cert, or pfx)');
      this.#optionContexts.set(context, converted);
    }
    return converted;
  }

  /**
   * The engine configuration for a context: one object per context, so the engine resolves it
   * (parses the chain, checks the key) once, whether a connection starts with it (the default
   * context) or `onClientHello` chooses it. With `keyLog`, its twin whose key log lines go to
   * the socket inside `calling()`, made once too.
   */
  configFor(context: SecureContext, keyLog = false): ServerConfig {
    let config = this.#configs.get(context);
    if (!config) {
      const identity = context.identityFor(this.engine);
      if (identity === undefined) throw configError('a server context needs a certificate and its key (key and cert, or pfx)');
      const alpn = alpnNames(this.#options.ALPNProtocols);
      const clientAuth = this.requestCert ? (this.rejectUnauthorized ? 'required' : 'optional') : false;
      // A context from SNICallback or addContext() without its own choices takes the server's.
      const fallback = this.#defaultContext;
      const cipherSuites = context.cipherSuites ?? fallback.cipherSuites;
      const groups = context.groups ?? fallback.groups;
      const signatureAlgorithms = context.signatureAlgorithms ?? fallback.signatureAlgorithms;
      const honorCipherOrder = context.honorCipherOrder ?? fallback.honorCipherOrder ?? this.#options.honorCipherOrder;
      config = {
        certificateChain: identity.certificateChain,
        privateKey: identity.privateKey,
        ...(alpn ? { alpn } : {}),
        ...(cipherSuites ? { cipherSuites } : {}),
        cipherSuiteSelection: honorCipherOrder === false ? 'client-preference' : 'server-preference',
        ...(groups ? { groups } : {}),
        ...(signatureAlgorithms ? { signatureAlgorithms } : {}),
        ...(this.#options.verifyPeer !== undefined ? { verifyPeer: this.#options.verifyPeer } : {}),
        // The connections start with the default context's configuration; the name picks another.
        ...(context === this.#defaultContext && this.#choosesByName ? { onClientHello: this.#onClientHello } : {}),
        tickets: context.noTickets || fallback.noTickets ? false : this.#resumption.tickets,
        ...this.#resumption.earlyData,
        ...(clientAuth === false
          ? // A certificate asked for after the handshake (`socket.renegotiate()`) is verified by
            // the socket, against the same roots as a handshake one.
            { dangerouslyDisableCertificateVerification: true as const }
          : {
              requestClientCertificate: clientAuth,
              trustAnchors: this.clientTrustAnchors(context) as CertificateInput,
              // Without rejectUnauthorized any certificate is taken; the socket verifies it to set `authorized`.
              ...(clientAuth === 'optional' ? { dangerouslyDisableCertificateVerification: true as const } : {}),
            }),
      };
      this.#configs.set(context, config);
    }
    if (!keyLog) return config;
    let logging = this.#loggingConfigs.get(context);
    if (!logging) {
      logging = { ...config, keyLog: this.#keyLog };
      this.#loggingConfigs.set(context, logging);
    }
    return logging;
  }

  /** Roots for client certificates: the context's `ca`, else the server's, else Node's bundled roots. */
  clientTrustAnchors(context: SecureContext): ReturnType<typeof trustAnchorsOf> {
    return trustAnchorsOf(context.ca ?? this.#options.ca);
  }
}
