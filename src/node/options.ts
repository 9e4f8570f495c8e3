/**
 * The options of sandtls/node, in node:tls's names, and their translation into the engine's
 * client and server configurations.
 * @module
 */
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import {
  constantTimeEqual,
  decodeSession,
  memoryReplayStore,
  rotatingTicketKeys,
  type CertificateInput,
  type CipherSuiteName,
  type ClientConfig,
  type Engine,
  type NamedGroup,
  type PrivateKeyInput,
  type ReplayStore,
  type ServerConfig,
  type TicketKey,
  type TicketKeySource,
  type TlsSession,
} from '../index.js';
import { pemOrDer, trustAnchorsOf, type CertificatesOption, type PeerCertificate } from './certificate.js';

/** ALPN protocols as node:tls takes them: names, or the wire format (length-prefixed names). */
export type ALPNProtocolsOption = readonly (string | Uint8Array)[] | Uint8Array;

/** Options sandtls/node adds to node:tls's. */
export interface SandtlsNodeOptions {
  /**
   * The engine (from `init()`) to run the connection on. Default: one engine on
   * `defaultPlatform()`, shared by sandtls/node and created on first use (see `defaultEngine()`).
   */
  engine?: Engine;
  /** IANA cipher suite names in preference order (the engine's `cipherSuites`). */
  cipherSuites?: readonly CipherSuiteName[];
  /** Key exchange groups in preference order (the engine's `groups`). */
  groups?: readonly NamedGroup[];
}

/** `connect(options)`: node:tls's `tls.connect` options that sandtls understands. */
export interface ConnectOptions extends SandtlsNodeOptions {
  /** Host to connect to (default 'localhost'); also the name checked when `servername` is not given. */
  host?: string;
  port?: number;
  /** The SNI name and the name the certificate must carry (default: `host`). */
  servername?: string;
  /**
   * Trusted roots, PEM or DER, one or many. Default: Node's bundled Mozilla roots
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
  /** Client certificate chain (PEM or DER) and its key, sent if the server asks. */
  cert?: CertificatesOption;
  key?: string | Uint8Array | PrivateKeyInput;
  /**
   * sandtls: offer post-handshake client authentication (RFC 8446 4.6.2): the server may ask for
   * `cert` after the handshake (a sandtls server's `socket.renegotiate({ requestCert: true })`),
   * and the socket answers by itself. Default: true when `cert` is given. node:tls never offers it.
   */
  postHandshakeAuth?: boolean;
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
  /** Local address and address family for the TCP connection. */
  localAddress?: string;
  family?: number;
  /** node:net's DNS lookup override for the TCP connection. */
  lookup?: net.LookupFunction;
}

/** `createSecureContext(options)`: a certificate, its key, and the roots for client certificates. */
export interface SecureContextOptions {
  /** The private key: PEM (string or Buffer), DER, or a sandtls `PrivateKey` / `TlsSigner`. */
  key?: string | Uint8Array | PrivateKeyInput;
  /** The certificate chain, leaf first: PEM (one or many blocks) or DER. */
  cert?: CertificatesOption;
  /** Roots for verifying client certificates (default: Node's bundled roots). */
  ca?: CertificatesOption;
}

/**
 * What `createSecureContext()` makes and `SNICallback` hands back: one certificate with its key
 * (sandtls's counterpart of node:tls's SecureContext, which holds OpenSSL state sandtls cannot use).
 */
export class SecureContext {
  readonly certificateChain: CertificateInput;
  readonly privateKey: PrivateKeyInput;
  /** Options of `ca`, kept for client-certificate verification. */
  readonly ca: CertificatesOption | undefined;
  constructor(options: SecureContextOptions) {
    if (options.cert === undefined || options.key === undefined) {
      throw new TypeError('sandtls/node: a secure context needs `cert` and `key`');
    }
    this.certificateChain = _certificates(options.cert);
    this.privateKey = _key(options.key);
    this.ca = options.ca;
  }
}

/**
 * Makes a {@link SecureContext}, as `tls.createSecureContext` does, for `SNICallback` and
 * `server.addContext()`.
 * @example
 * const contexts = { 'a.test': createSecureContext({ key: keyA, cert: certA }) };
 * createServer({ key, cert, SNICallback: (name, cb) => cb(null, contexts[name]) });
 */
export function createSecureContext(options: SecureContextOptions): SecureContext {
  return new SecureContext(options);
}

function _certificates(input: CertificatesOption): CertificateInput {
  return typeof input === 'string' || input instanceof Uint8Array ? pemOrDer(input) : input.map(pemOrDer);
}

function _key(input: string | Uint8Array | PrivateKeyInput): PrivateKeyInput {
  return typeof input === 'string' || input instanceof Uint8Array ? pemOrDer(input) : input;
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
      if (length === 0 || at + 1 + length > option.length) throw new TypeError('ALPNProtocols: malformed wire-format list');
      names.push(Buffer.from(option.subarray(at + 1, at + 1 + length)).toString('latin1'));
      at += 1 + length;
    }
    return names;
  }
  if (!Array.isArray(option)) throw new TypeError('ALPNProtocols must be an array of names or a Buffer');
  return option.map((name: string | Uint8Array) => (typeof name === 'string' ? name : Buffer.from(name).toString('latin1')));
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
  const serverName = options.servername || options.host || 'localhost';
  const rejectUnauthorized = options.rejectUnauthorized !== false;
  if (options.checkServerIdentity !== undefined && typeof options.checkServerIdentity !== 'function') {
    throw new TypeError('checkServerIdentity must be a function');
  }
  const verifyInEngine = rejectUnauthorized && options.checkServerIdentity === undefined;
  const trustAnchors = trustAnchorsOf(options.ca);
  const alpn = alpnNames(options.ALPNProtocols);
  if ((options.cert === undefined) !== (options.key === undefined)) throw new TypeError('cert and key go together');
  const session = _session(options.session);
  const earlyData = typeof options.earlyData === 'string' ? Buffer.from(options.earlyData, 'utf8') : options.earlyData;
  _checkEnableTrace(options.enableTrace);
  if (earlyData !== undefined && !(earlyData instanceof Uint8Array)) throw new TypeError('earlyData must be a Buffer, Uint8Array or string');
  const config: ClientConfig = {
    serverName,
    trustAnchors: trustAnchors as CertificateInput,
    ...(alpn ? { alpn } : {}),
    ...(options.cipherSuites ? { cipherSuites: options.cipherSuites } : {}),
    ...(options.groups ? { groups: options.groups } : {}),
    ...(options.cert !== undefined && options.key !== undefined ? { certificateChain: _certificates(options.cert), privateKey: _key(options.key) } : {}),
    ...(verifyInEngine ? {} : { dangerouslyDisableCertificateVerification: true as const }),
    ...(options.postHandshakeAuth !== undefined ? { postHandshakeAuth: options.postHandshakeAuth } : {}),
    ...(session ? { session } : {}),
    ...(earlyData !== undefined ? { earlyData } : {}),
    ...(options.earlyDataRejected !== undefined ? { earlyDataRejected: options.earlyDataRejected } : {}),
    ...(options.enableTrace === true ? { trace: 'messages' as const } : {}),
  };
  return { engine, serverName, rejectUnauthorized, checkServerIdentity: options.checkServerIdentity, verifyInEngine, trustAnchors, config };
}

/** node:tls's `enableTrace`: a boolean. */
function _checkEnableTrace(option: unknown): void {
  if (option !== undefined && typeof option !== 'boolean') throw new TypeError('enableTrace must be a boolean');
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
    throw new TypeError('session must be a Buffer (from a \'session\' event or getSession()) or a sandtls TlsSession');
  }
  return option;
}

// ---------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------

/** `createServer(options)`: node:tls's `tls.createServer` options that sandtls understands. */
export interface ServerOptions extends SandtlsNodeOptions, SecureContextOptions {
  /** ALPN protocols this server speaks, in its preference order. */
  ALPNProtocols?: ALPNProtocolsOption;
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
  honorCipherOrder?: boolean;
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
}

/**
 * A fixed ticket key from node:tls's 48-byte `ticketKeys` (16 bytes of name, 16 of HMAC key, 16
 * of AES key there): the first 4 bytes name it, the last 32 are the AES-256-GCM key.
 * @example
 * createServer({ key, cert, ticketKeys: randomBytes(48) });
 */
export function ticketKeySource(ticketKeys: Uint8Array): TicketKeySource {
  if (!(ticketKeys instanceof Uint8Array) || ticketKeys.length !== 48) throw new TypeError('ticketKeys must be a 48-byte Buffer');
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
  #resumption: _Resumption;
  readonly #optionContexts = new WeakMap<object, SecureContext>();
  readonly #named: { readonly pattern: RegExp; readonly context: SecureContext }[] = [];

  constructor(engine: Engine, options: ServerOptions, server: net.Server | undefined) {
    this.engine = engine;
    this.server = server;
    this.#options = options;
    this.requestCert = options.requestCert === true;
    this.rejectUnauthorized = options.rejectUnauthorized !== false;
    this.handshakeTimeout = options.handshakeTimeout ?? 120_000;
    _checkEnableTrace(options.enableTrace);
    this.enableTrace = options.enableTrace === true;
    if (options.SNICallback !== undefined && typeof options.SNICallback !== 'function') throw new TypeError('SNICallback must be a function');
    alpnNames(options.ALPNProtocols); // throws for a malformed list, now rather than per connection
    this.#defaultContext = new SecureContext(options);
    this.#resumption = this.#resumptionOf(options);
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
    if (tickets !== undefined && (typeof tickets !== 'object' || tickets === null)) throw new TypeError('tickets must be false or an object');
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
    this.#defaultContext = new SecureContext(options);
    this.#options = { ...this.#options, ...options };
    // Keep the ticket keys (and so the sessions already handed out) unless resumption options changed.
    if (_RESUMPTION_OPTIONS.some((name) => name in options)) this.#resumption = this.#resumptionOf(this.#options);
    this.#configs = new WeakMap();
  }

  /** `server.addContext(hostname, context)`: `*.example.com` matches one label, as in node:tls. */
  addContext(hostname: string, context: SecureContext | SecureContextOptions): void {
    const source = hostname.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*');
    this.#named.unshift({ pattern: new RegExp(`^${source}$`, 'i'), context: this.contextOf(context) });
  }

  /** Whether the certificate depends on the server name (so the ClientHello must be peeked at). */
  get choosesByName(): boolean {
    return this.#options.SNICallback !== undefined || this.#named.length > 0;
  }

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
    if (typeof context !== 'object' || context === null || 'context' in context) {
      throw new TypeError('sandtls/node: SNICallback must return a sandtls createSecureContext() result or { key, cert } (a node:tls SecureContext holds OpenSSL state sandtls cannot use)');
    }
    let converted = this.#optionContexts.get(context);
    if (!converted) {
      converted = new SecureContext(context);
      this.#optionContexts.set(context, converted);
    }
    return converted;
  }

  /**
   * The engine configuration for a context: one object per context, so the engine resolves it
   * (parses the chain, checks the key) once; a fresh one when a key log sink is wanted.
   */
  configFor(context: SecureContext, keyLog?: (line: string) => void): ServerConfig {
    let config = this.#configs.get(context);
    if (!config) {
      const alpn = alpnNames(this.#options.ALPNProtocols);
      const clientAuth = this.requestCert ? (this.rejectUnauthorized ? 'required' : 'optional') : false;
      config = {
        certificateChain: context.certificateChain,
        privateKey: context.privateKey,
        ...(alpn ? { alpn } : {}),
        ...(this.#options.cipherSuites ? { cipherSuites: this.#options.cipherSuites } : {}),
        cipherSuiteSelection: this.#options.honorCipherOrder === false ? 'client-preference' : 'server-preference',
        ...(this.#options.groups ? { groups: this.#options.groups } : {}),
        tickets: this.#resumption.tickets,
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
    return keyLog ? { ...config, keyLog } : config;
  }

  /** Roots for client certificates: the context's `ca`, else the server's, else Node's bundled roots. */
  clientTrustAnchors(context: SecureContext): ReturnType<typeof trustAnchorsOf> {
    return trustAnchorsOf(context.ca ?? this.#options.ca);
  }
}
