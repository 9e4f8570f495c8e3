/**
 * The TLS 1.3 client handshake (RFC 8446 2, 4) as explicit states. Each state is named for the
 * message it waits for; handling a message consumes the state and returns the next one, so a
 * state can never be used twice. Handshake secrets live in the states and are wiped when the
 * handshake ends, however it ends.
 *
 * ```
 *  start ── ClientHello ──> ExpectServerHello ── HelloRetryRequest ──> ExpectServerHello (retried)
 *                                 │ ServerHello
 *                                 v
 *                     ExpectEncryptedExtensions
 *                                 v
 *              ExpectCertificateOrCertificateRequest ── CertificateRequest ──> ExpectCertificate
 *                                 │ Certificate                                    │
 *                                 v                                                v
 *                     ExpectCertificateVerify <────────────────────────────────────┘
 *                                 v
 *                          ExpectFinished ── [Certificate, CertificateVerify], Finished ──> Done
 * ```
 * A CompressedCertificate (RFC 8879) stands wherever a Certificate may, in both directions,
 * when compress_certificate offered its algorithm.
 * @module
 */
import { asciiToBytes, bytesToAscii } from './codec.js';
import { constantTimeEqual } from '../crypto/bytes.js';
import { HASH_LENGTHS, type HashName, type RunningHash } from '../crypto/hash.js';
import { handshakeCrypto, type CryptoProvider, type HandshakeKeyExchange, type HandshakeKeyShare, type Hashes } from '../crypto/provider.js';
import type { NamedGroup } from '../crypto/kx.js';
import { InvalidKeyShareError } from '../crypto/errors.js';
import type { SignatureScheme } from '../crypto/sig.js';
import type { Certificate as X509Certificate } from '../x509/types.js';
import { decompressCertificate } from './cert-compression.js';
import {
  afterChainVerdict,
  beginChainVerification,
  certificateVerifyContent,
  checkCertificateVerify,
  chooseSignatureScheme,
  parsePeerChain,
  runVerifyPeer,
  signCertificateVerify,
  type ChainVerification,
} from './auth.js';
import { andThen, callProvider, enterState, onFailure, ready, type HookKind, type Step } from './pending.js';
import { _isInsecure, type ResolvedClientConfig } from './config.js';
import type { HandshakeContext, HandshakeMachine } from './connection.js';
import {
  EXTENSION_TYPE,
  GREASE_VALUES,
  HANDSHAKE_TYPE,
  LEGACY_VERSION,
  PSK_KEY_EXCHANGE_MODE,
  NAMED_GROUP,
  PROTOCOL_VERSION,
  SIGNATURE_SCHEME,
  supportedNamedGroup,
} from './enums.js';
import { _localAlert } from './errors.js';
import { EarlySecret, finishedVerifyData, resumptionPsk, verifyFinished, type HandshakeSecret } from './key-schedule.js';
import { MAX_TICKET_LIFETIME, type TlsSession } from './session.js';
import {
  checkSolicited,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEndOfEarlyData,
  encodeFinished,
  encodeMessageHash,
  extensionCode,
  truncatedClientHello,
  findExtension,
  type Certificate,
  type CertificateRequest,
  type ClientHello,
  type CompressedCertificate,
  type ClientHelloExtension,
  type Decoded,
  type HelloRetryRequest,
  type NewSessionTicket,
  type ServerHello,
  type WireHandshakeMessage,
} from './messages.js';
import { CIPHER_SUITES, cipherSuiteByCode, type CipherSuite } from './suites.js';

/** What the first ClientHello fixed, reused by a second one after HelloRetryRequest. */
interface _Hello {
  readonly random: Uint8Array;
  readonly legacySessionId: Uint8Array;
  readonly message: ClientHello;
  /** The encoded ClientHello (the transcript starts with it, or with its message_hash). */
  readonly bytes: Uint8Array;
  /** Extension code points offered, for RFC 8446 4.2's unsolicited-extension rule. */
  readonly offered: ReadonlySet<number>;
  /** The session offered as a PSK, if any (RFC 8446 4.2.11). */
  readonly psk: _OfferedPsk | undefined;
  /** Early data sent after the first ClientHello (a HelloRetryRequest rejects it). */
  readonly early: _Early | undefined;
}

/** 0-RTT data sent with the first ClientHello (RFC 8446 2.3). */
interface _Early {
  /** The session's cipher suite: the one early data is protected with, and must be negotiated. */
  readonly suite: CipherSuite;
  readonly alpn: string | undefined;
  readonly data: Uint8Array;
}

/** A resumption PSK offered in the ClientHello. */
interface _OfferedPsk {
  readonly session: TlsSession;
  readonly hash: HashName;
  /** obfuscated_ticket_age (RFC 8446 4.2.11.1). */
  readonly obfuscatedAge: number;
}

/** Keys and transcript once the ServerHello is in. */
interface _Negotiated {
  readonly suite: CipherSuite;
  /** undefined for a psk_ke resumption (no key exchange). */
  readonly group: NamedGroup | undefined;
  readonly transcript: RunningHash;
  readonly handshakeSecret: HandshakeSecret;
  readonly clientHandshakeSecret: Uint8Array;
  readonly serverHandshakeSecret: Uint8Array;
  readonly hello: _Hello;
  /** The server accepted our PSK (RFC 8446 2.2): no certificate follows. */
  readonly resumed: boolean;
  alpn: string | undefined;
  /** The server accepted our early data (early_data in EncryptedExtensions). */
  earlyAccepted: boolean;
  /** Our records still go under client_early_traffic_secret. */
  earlyKeyActive: boolean;
  /** When the server's chain was verified (Platform clock, ms); undefined when not verified. */
  authenticatedAt: number | undefined;
}

type ClientState =
  /** Made, the ClientHello not yet sent (`begin()`). */
  | { readonly kind: 'Start' }
  | { readonly kind: 'ExpectServerHello'; readonly hello: _Hello; readonly shares: readonly HandshakeKeyShare[]; readonly retry: _Retry | undefined }
  | { readonly kind: 'ExpectEncryptedExtensions'; readonly hs: _Negotiated }
  | { readonly kind: 'ExpectCertificateOrCertificateRequest'; readonly hs: _Negotiated }
  | { readonly kind: 'ExpectCertificate'; readonly hs: _Negotiated; readonly request: CertificateRequest }
  | {
      readonly kind: 'ExpectCertificateVerify';
      readonly hs: _Negotiated;
      readonly request: CertificateRequest | undefined;
      readonly chain: readonly X509Certificate[];
      /** Decided, or (an asynchronous provider) its signatures still being verified. */
      readonly verification: ChainVerification;
    }
  | {
      readonly kind: 'ExpectFinished';
      readonly hs: _Negotiated;
      readonly request: CertificateRequest | undefined;
      readonly chain: readonly X509Certificate[];
      /** The server's CertificateVerify scheme; undefined when resuming (no certificate). */
      readonly scheme: SignatureScheme | undefined;
    }
  /** Parked on a hook's Promise (`conn.pending`); the step that resumes holds the handshake. */
  | { readonly kind: 'Waiting'; readonly hook: HookKind }
  | { readonly kind: 'Done' }
  | { readonly kind: 'Failed' };

/** After a HelloRetryRequest: what the ServerHello must agree with. */
interface _Retry {
  readonly suite: CipherSuite;
  readonly group: NamedGroup | undefined;
  readonly transcript: RunningHash;
}

const _TLS13 = PROTOCOL_VERSION.TLSv1_3;

/**
 * Starts a client handshake: sends the ClientHello and returns the machine that takes the
 * server's messages.
 */
export function startClient(ctx: HandshakeContext, config: ResolvedClientConfig): HandshakeMachine {
  return new _ClientHandshake(ctx, config);
}

class _ClientHandshake implements HandshakeMachine {
  #state: ClientState;
  readonly #ctx: HandshakeContext;
  readonly #config: ResolvedClientConfig;
  /** The engine's crypto provider: transcripts, the key schedule and Finished go through it. */
  readonly #provider: CryptoProvider;
  /** Its key exchange as the handshake runs it (an asynchronous provider's answers may park). */
  readonly #kx: HandshakeKeyExchange;

  constructor(ctx: HandshakeContext, config: ResolvedClientConfig) {
    this.#ctx = ctx;
    this.#config = config;
    this.#provider = ctx.engine.crypto;
    this.#kx = handshakeCrypto(ctx.engine.crypto).kx;
    this.#state = { kind: 'Start' };
  }

  /** The ClientHello (and 0-RTT data): at once, or once an asynchronous provider made the key shares. */
  begin(): Step<void> {
    const random = this.#provider.random;
    const clientRandom = random(32, 'client_random');
    // RFC 8446 D.4: in middlebox compatibility mode the client sends a fresh 32-byte session id.
    const legacySessionId = this.#config.middleboxCompatibility ? random(32, 'legacy_session_id') : new Uint8Array(0);
    const first = this.#generateShares(this.#config.keyShares, 0, [], (shares) => ready(this.#firstHello(clientRandom, legacySessionId, shares)));
    return this.#enter(first);
  }

  /**
   * The key shares for `groups`, one after the other (each draws its private key when it is
   * asked for, so the Platform sees the same draws in the same order either way); the ones made
   * so far are dropped if a later one fails or the connection gives up while one is pending.
   */
  #generateShares<T>(groups: readonly NamedGroup[], i: number, made: HandshakeKeyShare[], next: (shares: HandshakeKeyShare[]) => Step<T>): Step<T> {
    if (i === groups.length) return next(made);
    return onFailure(
      () =>
        callProvider(
          () => this.#kx.generate(groups[i]!),
          (error) => error,
          (share) => this.#generateShares(groups, i + 1, [...made, share], next),
          (late) => late.destroy(),
        ),
      () => {
        for (const share of made) share.destroy();
      },
    );
  }

  /** Sends the first ClientHello (and 0-RTT data) with its key shares. */
  #firstHello(clientRandom: Uint8Array, legacySessionId: Uint8Array, shares: readonly HandshakeKeyShare[]): ClientState {
    const ctx = this.#ctx;
    const psk = this.#usableSession();
    const early = psk && this.#earlyData(psk);
    const message = this.#clientHello(clientRandom, legacySessionId, shares, undefined, false, psk, undefined, early !== undefined);
    const bytes = encodeClientHello(message);
    const hello: _Hello = { random: clientRandom, legacySessionId, message, bytes, offered: _offered(message), psk, early };
    // RFC 8446 5.1: the first ClientHello may carry legacy_record_version 0x0301 for old middleboxes.
    ctx.sendHandshake(bytes, PROTOCOL_VERSION.TLSv1_0);
    ctx.allowChangeCipherSpec(true);
    if (psk && early) this.#sendEarlyData(psk, early, bytes, clientRandom);
    return { kind: 'ExpectServerHello', hello, shares, retry: undefined };
  }

  /**
   * The configured early data, if this session allows sending it as 0-RTT (RFC 8446 4.2.10): the
   * ticket's max_early_data_size covers it, and the session's cipher suite and ALPN protocol are
   * ones this client still offers (early data uses them before the server has answered).
   */
  #earlyData(psk: _OfferedPsk): _Early | undefined {
    const data = this.#config.earlyData;
    const { session } = psk;
    if (!data || session.maxEarlyDataSize < data.length) return undefined;
    const suite = CIPHER_SUITES[session.cipherSuite];
    if (!this.#config.cipherSuites.includes(suite)) return undefined;
    if (session.alpn !== undefined ? !this.#config.alpn.includes(session.alpn) : this.#config.alpn.length > 0) return undefined;
    return { suite, alpn: session.alpn, data };
  }

  /** RFC 8446 2.3: early data right after the ClientHello, under client_early_traffic_secret. */
  #sendEarlyData(psk: _OfferedPsk, early: _Early, clientHello: Uint8Array, random: Uint8Array): void {
    const ctx = this.#ctx;
    const secret = EarlySecret.fromPsk(this.#provider, psk.hash, psk.session.psk);
    const trafficSecret = secret.clientEarlyTrafficSecret(this.#provider.hash(psk.hash).digest(clientHello));
    secret.destroy();
    ctx.keyLog('CLIENT_EARLY_TRAFFIC_SECRET', random, trafficSecret);
    // RFC 8446 D.4: with early data, the dummy change_cipher_spec follows the first ClientHello.
    if (this.#config.middleboxCompatibility) ctx.sendChangeCipherSpec();
    ctx.setWriteKey(early.suite, trafficSecret);
    trafficSecret.fill(0);
    ctx.sendEarlyData(early.data);
  }

  get done(): boolean {
    return this.#state.kind === 'Done';
  }

  beforeDecode(bytes: Uint8Array): void {
    // RFC 8446 4.1.3, D.1: a ServerHello without supported_versions negotiates TLS 1.2 or older.
    // Its extensions may not even parse as TLS 1.3 ones, so this is decided from the raw bytes.
    if (this.#state.kind === 'ExpectServerHello' && bytes[0] === HANDSHAKE_TYPE.server_hello && !_offersSupportedVersions(bytes)) {
      throw _localAlert('protocol_version', 'the server chose TLS 1.2 or older; sandtls speaks only TLS 1.3');
    }
  }

  handle(message: Decoded<WireHandshakeMessage>): Step<void> {
    const state = this.#state;
    this.#state = { kind: 'Failed' }; // a throw below leaves the machine unusable
    // The state's secrets are wiped if the message fails it, at once or after a parked hook.
    return this.#enter(onFailure(() => this.#next(state, message), () => _destroyState(state)));
  }

  /** Moves to the next state, or parks (state `Waiting`) until the hook's answer comes. */
  #enter(step: Step<ClientState>): Step<void> {
    return enterState(step, (state) => (this.#state = state), (hook) => ({ kind: 'Waiting' as const, hook }));
  }


  destroy(): void {
    _destroyState(this.#state);
    this.#state = { kind: 'Failed' };
  }

  #next(state: ClientState, message: Decoded<WireHandshakeMessage>): Step<ClientState> {
    switch (state.kind) {
      case 'ExpectServerHello':
        if (message.type === 'hello_retry_request') return this.#helloRetryRequest(state, message);
        if (message.type === 'server_hello') return this.#serverHello(state, message);
        break;
      case 'ExpectEncryptedExtensions':
        if (message.type === 'encrypted_extensions') return ready(this.#encryptedExtensions(state.hs, message.extensions, message.raw));
        break;
      case 'ExpectCertificateOrCertificateRequest':
        if (message.type === 'certificate_request') return ready(this.#certificateRequest(state.hs, message));
        if (message.type === 'certificate') return ready(this.#certificate(state.hs, undefined, message));
        if (message.type === 'compressed_certificate') return ready(this.#certificate(state.hs, undefined, this.#decompress(message)));
        break;
      case 'ExpectCertificate':
        if (message.type === 'certificate') return ready(this.#certificate(state.hs, state.request, message));
        if (message.type === 'compressed_certificate') return ready(this.#certificate(state.hs, state.request, this.#decompress(message)));
        break;
      case 'ExpectCertificateVerify':
        if (message.type === 'certificate_verify') return this.#certificateVerify(state, message);
        // A chain still being verified fails with its own alert first, as if verified at once.
        if (!state.verification.decided) return afterChainVerdict(state.verification, () => _unexpected(state, message), () => ready(state));
        break;
      case 'ExpectFinished':
        if (message.type === 'finished') return this.#finished(state, message);
        break;
      case 'Start':
      case 'Waiting':
      case 'Done':
      case 'Failed':
        break;
    }
    return _unexpected(state, message);
  }

  // -------------------------------------------------------------------------------------------
  // ClientHello
  // -------------------------------------------------------------------------------------------

  /**
   * The configured session, if it can be offered: not expired (RFC 8446 4.6.1), for this server
   * name, and with a hash some offered cipher suite shares (RFC 8446 4.2.11). Reads the clock.
   */
  #usableSession(): _OfferedPsk | undefined {
    const session = this.#config.session;
    if (!session) return undefined;
    // An unverified session would let this connection skip the certificate check it asks for.
    if (!session.verified && !_isInsecure(this.#config)) return undefined;
    const suite = CIPHER_SUITES[session.cipherSuite];
    if (!suite || !this.#config.cipherSuites.some((s) => s.hash === suite.hash)) return undefined;
    if ((session.serverName ?? undefined) !== (this.#config.sniHostName ?? this.#config.serverName)) return undefined;
    const now = this.#ctx.engine.platform.clock.now();
    const age = now - session.receivedAt;
    if (age < 0 || age >= Math.min(session.lifetime, MAX_TICKET_LIFETIME) * 1000) return undefined;
    // RFC 8446 4.6.1: a session (and every session resumed from it) lasts at most 7 days from the
    // full handshake that authenticated the server, and no longer than the server's certificate.
    if (now - session.authenticatedAt >= MAX_TICKET_LIFETIME * 1000) return undefined;
    if (session.verified && session.peerNotAfter !== undefined && now > session.peerNotAfter) return undefined;
    return { session, hash: suite.hash, obfuscatedAge: (Math.floor(age) + session.ticketAgeAdd) % 2 ** 32 };
  }

  #clientHello(
    random: Uint8Array,
    legacySessionId: Uint8Array,
    shares: readonly HandshakeKeyShare[],
    cookie: Uint8Array | undefined,
    retriedGroup: boolean,
    psk: _OfferedPsk | undefined,
    transcriptBefore: RunningHash | undefined,
    earlyData: boolean,
  ): ClientHello {
    const config = this.#config;
    // RFC 8701: GREASE values chosen from the (public, random) client random, so that the second
    // ClientHello repeats them exactly as RFC 8446 4.1.2 requires.
    const grease = (i: number) => GREASE_VALUES[random[i]! & 0x0f]!;
    const greaseExt1 = grease(0);
    const greaseExt2 = grease(1) === greaseExt1 ? GREASE_VALUES[((random[1]! & 0x0f) + 1) & 0x0f]! : grease(1);
    const g = config.grease;
    const extensions: ClientHelloExtension[] = [];
    if (g) extensions.push({ type: greaseExt1, data: new Uint8Array(0) });
    if (config.sniHostName !== undefined) {
      extensions.push({ type: 'server_name', serverNameList: [{ nameType: 'host_name', hostName: config.sniHostName }] });
    }
    extensions.push({ type: 'supported_versions', versions: g ? [grease(2), _TLS13] : [_TLS13] });
    extensions.push({ type: 'supported_groups', namedGroupList: [...(g ? [grease(3)] : []), ...config.groups.map((name) => NAMED_GROUP[name])] });
    extensions.push({ type: 'signature_algorithms', supportedSignatureAlgorithms: [...(g ? [grease(5)] : []), ...config.advertisedSchemes] });
    extensions.push({
      type: 'key_share',
      clientShares: [
        // RFC 8446 4.1.2: after an HRR naming a group, exactly one share, for that group.
        ...(g && !retriedGroup ? [{ group: grease(3), keyExchange: Uint8Array.of(0) }] : []),
        ...shares.map((share) => ({ group: NAMED_GROUP[share.group], keyExchange: share.publicShare })),
      ],
    });
    if (config.alpn.length > 0) {
      // Config checked the names are printable ASCII; the core has no TextEncoder.
      extensions.push({ type: 'application_layer_protocol_negotiation', protocolNameList: config.alpn.map((p) => asciiToBytes(p)) });
    }
    if (cookie) extensions.push({ type: 'cookie', cookie });
    // RFC 8446 4.2.10: early_data only in a first ClientHello that offers a PSK.
    if (earlyData) extensions.push({ type: 'early_data' });
    // RFC 8879 3: the server may send its Certificate compressed with one of these.
    if (config.certificateCompression.length > 0) extensions.push({ type: 'compress_certificate', algorithms: config.certificateCompression });
    // RFC 8446 4.2.6: the server may ask for a certificate after the handshake.
    if (config.postHandshakeAuth) extensions.push({ type: 'post_handshake_auth' });
    if (g) extensions.push({ type: greaseExt2, data: Uint8Array.of(0) });
    // RFC 8446 4.2.9: psk_key_exchange_modes also tells the server which tickets are of use: a
    // server (Go, BoringSSL, sandtls) issues none to a client that does not send it. Always sent,
    // as BoringSSL, Go and rustls clients do: whether tickets are kept (`onSession`) is no
    // business of the server's, and both ClientHellos of a HelloRetryRequest carry it alike.
    extensions.push({ type: 'psk_key_exchange_modes', keModes: config.pskModes });
    const hello: ClientHello = {
      type: 'client_hello',
      legacyVersion: LEGACY_VERSION,
      random,
      legacySessionId,
      cipherSuites: [...(g ? [grease(4)] : []), ...config.cipherSuites.map((s) => s.code)],
      extensions,
    };
    return psk ? _withBinder(this.#provider, hello, psk, transcriptBefore) : hello;
  }

  #checkServerHelloCommon(hello: _Hello, message: ServerHello | HelloRetryRequest, context: 'server_hello' | 'hello_retry_request'): CipherSuite {
    // RFC 8446 4.1.3: a TLS 1.3 ServerHello selects 0x0304 in supported_versions; without it the
    // server negotiated TLS 1.2 or older, which this client does not speak.
    const extensions: readonly (ServerHello['extensions'][number] | HelloRetryRequest['extensions'][number])[] = message.extensions;
    const versions = findExtension(extensions, 'supported_versions');
    if (!versions) throw _localAlert('protocol_version', 'the server chose TLS 1.2 or older; sandtls speaks only TLS 1.3');
    if (versions.selectedVersion !== _TLS13) {
      throw _localAlert('illegal_parameter', `the server selected version 0x${versions.selectedVersion.toString(16)}, which was not offered (RFC 8446 4.2.1)`);
    }
    if (message.legacyVersion !== LEGACY_VERSION) {
      throw _localAlert('protocol_version', `ServerHello.legacy_version 0x${message.legacyVersion.toString(16)} (RFC 8446 4.1.3)`);
    }
    // RFC 8446 4.1.3: "A client which receives a legacy_session_id_echo field that does not match
    // what it sent in the ClientHello MUST abort the handshake with an "illegal_parameter" alert."
    if (!constantTimeEqual(message.legacySessionIdEcho, hello.legacySessionId)) {
      throw _localAlert('illegal_parameter', 'legacy_session_id_echo differs from the session id sent (RFC 8446 4.1.3)');
    }
    // RFC 8446 4.1.3: a cipher suite that was not offered is illegal_parameter.
    const suite = cipherSuiteByCode(message.cipherSuite);
    if (!suite || !this.#config.cipherSuites.includes(suite)) {
      throw _localAlert('illegal_parameter', `the server chose cipher suite 0x${message.cipherSuite.toString(16)}, which was not offered`);
    }
    checkSolicited(extensions, hello.offered, context);
    return suite;
  }

  #helloRetryRequest(state: Extract<ClientState, { kind: 'ExpectServerHello' }>, message: Decoded<HelloRetryRequest>): Step<ClientState> {
    // RFC 8446 4.1.4: "If a client receives a second HelloRetryRequest in the same connection
    // ... it MUST abort the handshake with an "unexpected_message" alert."
    if (state.retry) throw _localAlert('unexpected_message', 'a second HelloRetryRequest (RFC 8446 4.1.4)');
    this.#ctx.helloRetried();
    const suite = this.#checkServerHelloCommon(state.hello, message, 'hello_retry_request');
    const keyShare = findExtension(message.extensions, 'key_share');
    const cookie = findExtension(message.extensions, 'cookie');
    let group: NamedGroup | undefined;
    if (keyShare) {
      // RFC 8446 4.2.8: the selected group must be in supported_groups and must not be one a
      // share was already sent for; otherwise illegal_parameter.
      group = supportedNamedGroup(keyShare.selectedGroup);
      if (!group || !this.#config.groups.includes(group)) {
        throw _localAlert('illegal_parameter', `HelloRetryRequest selected group 0x${keyShare.selectedGroup.toString(16)}, which was not offered`);
      }
      if (state.shares.some((share) => share.group === group)) {
        throw _localAlert('illegal_parameter', `HelloRetryRequest asked for ${group}, for which a share was already sent`);
      }
    }
    // RFC 8446 4.1.4: an HRR that would not change the ClientHello is illegal_parameter.
    if (!keyShare && !cookie) throw _localAlert('illegal_parameter', 'HelloRetryRequest changes nothing (RFC 8446 4.1.4)');

    // RFC 8446 4.4.1: the transcript restarts with message_hash(Hash(ClientHello1)).
    const h = this.#provider.hash(suite.hash);
    const transcript = h.create();
    transcript.update(encodeMessageHash(h.digest(state.hello.bytes)));
    transcript.update(message.raw);

    if (!group) return ready(this.#secondHello(state, state.shares, suite, undefined, cookie?.cookie, transcript));
    // The old shares go now: the handshake goes on with a new one for `group` (RFC 8446 4.1.4).
    for (const share of state.shares) share.destroy();
    return this.#generateShares([group], 0, [], (shares) => ready(this.#secondHello(state, shares, suite, group, cookie?.cookie, transcript)));
  }

  /** Sends the second ClientHello, after a HelloRetryRequest (RFC 8446 4.1.2). */
  #secondHello(
    state: Extract<ClientState, { kind: 'ExpectServerHello' }>,
    shares: readonly HandshakeKeyShare[],
    suite: CipherSuite,
    group: NamedGroup | undefined,
    cookie: Uint8Array | undefined,
    transcript: RunningHash,
  ): ClientState {
    // RFC 8446 4.1.4: a PSK stays on offer only if its hash matches the suite the HRR chose.
    const psk = state.hello.psk && state.hello.psk.hash === suite.hash ? state.hello.psk : undefined;
    const retried = this.#clientHello(state.hello.random, state.hello.legacySessionId, shares, cookie, group !== undefined, psk, transcript, false);
    const bytes = encodeClientHello(retried);
    transcript.update(bytes);
    // RFC 8446 D.4: the dummy change_cipher_spec goes before the second flight (here: ClientHello2).
    if (this.#config.middleboxCompatibility) this.#ctx.sendChangeCipherSpec();
    // RFC 8446 4.1.2: an HRR rejects early data; the second ClientHello goes out in plaintext.
    if (state.hello.early) this.#ctx.clearWriteKey();
    this.#ctx.sendHandshake(bytes);
    // early_data is no longer offered, so an acceptance in EncryptedExtensions is unsolicited;
    // the data itself stays in `early`, to be resent after the handshake.
    const hello: _Hello = { ...state.hello, message: retried, bytes, offered: _offered(retried), psk };
    return { kind: 'ExpectServerHello', hello, shares, retry: { suite, group, transcript } };
  }

  #serverHello(state: Extract<ClientState, { kind: 'ExpectServerHello' }>, message: Decoded<ServerHello>): Step<ClientState> {
    const suite = this.#checkServerHelloCommon(state.hello, message, 'server_hello');
    const retry = state.retry;
    // RFC 8446 4.1.4: the ServerHello after an HRR must keep the HRR's cipher suite.
    if (retry && retry.suite !== suite) {
      throw _localAlert('illegal_parameter', 'the ServerHello cipher suite differs from the HelloRetryRequest (RFC 8446 4.1.4)');
    }
    const selected = findExtension(message.extensions, 'pre_shared_key');
    const offeredPsk = state.hello.psk;
    if (selected) {
      // RFC 8446 4.2.11: the selected identity must be one offered, with the suite's hash.
      if (!offeredPsk || selected.selectedIdentity !== 0) {
        throw _localAlert('illegal_parameter', 'the server selected a PSK that was not offered (RFC 8446 4.2.11)');
      }
      if (offeredPsk.hash !== suite.hash) {
        throw _localAlert('illegal_parameter', "the server selected a PSK whose hash does not match the cipher suite's (RFC 8446 4.2.11)");
      }
    }
    const keyShare = findExtension(message.extensions, 'key_share');
    if (!keyShare) {
      // RFC 8446 9.2: without a PSK (or with psk_dhe_ke only), a ServerHello must carry key_share.
      if (!selected || !this.#config.pskModes.includes(PSK_KEY_EXCHANGE_MODE.psk_ke)) {
        throw _localAlert('missing_extension', 'ServerHello has no key_share (RFC 8446 9.2)');
      }
      return ready(this.#handshakeKeys(state, message, suite, undefined, undefined));
    }
    const share = state.shares.find((s) => NAMED_GROUP[s.group] === keyShare.serverShare.group);
    // RFC 8446 4.2.8: the server's share must be for a group the client sent a share for.
    if (!share || (retry?.group !== undefined && share.group !== retry.group)) {
      throw _localAlert('illegal_parameter', `the server's key share is for group 0x${keyShare.serverShare.group.toString(16)}, which had no client share`);
    }
    return callProvider(
      () => share.complete(keyShare.serverShare.keyExchange),
      // RFC 8446 4.2.8.1/4.2.8.2: an invalid point or all-zero x25519 output is illegal_parameter.
      (error) => (error instanceof InvalidKeyShareError ? _localAlert('illegal_parameter', error.message, error) : error),
      (sharedSecret) => ready(this.#handshakeKeys(state, message, suite, share, sharedSecret)),
      (late) => late.fill(0),
    );
  }

  /** The handshake keys from the ServerHello and the (EC)DHE secret (RFC 8446 7.1); the secret is wiped. */
  #handshakeKeys(
    state: Extract<ClientState, { kind: 'ExpectServerHello' }>,
    message: Decoded<ServerHello>,
    suite: CipherSuite,
    share: HandshakeKeyShare | undefined,
    sharedSecret: Uint8Array | undefined,
  ): ClientState {
    const retry = state.retry;
    const selected = findExtension(message.extensions, 'pre_shared_key');
    const offeredPsk = state.hello.psk;
    for (const other of state.shares) if (other !== share) other.destroy();

    const transcript = retry ? retry.transcript : this.#provider.hash(suite.hash).create().update(state.hello.bytes);
    transcript.update(message.raw);
    const early = selected && offeredPsk ? EarlySecret.fromPsk(this.#provider, suite.hash, offeredPsk.session.psk) : EarlySecret.withoutPsk(this.#provider, suite.hash);
    const handshakeSecret = early.handshake(sharedSecret);
    // The (EC)DHE secret lives on only inside the Handshake Secret; this copy must not.
    sharedSecret?.fill(0);
    const helloHash = transcript.digest();
    const clientHandshakeSecret = handshakeSecret.clientHandshakeTrafficSecret(helloHash);
    const serverHandshakeSecret = handshakeSecret.serverHandshakeTrafficSecret(helloHash);
    const random = state.hello.random;
    this.#ctx.keyLog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', random, clientHandshakeSecret);
    this.#ctx.keyLog('SERVER_HANDSHAKE_TRAFFIC_SECRET', random, serverHandshakeSecret);
    this.#ctx.setFinishedLength(suite.hashLength);
    this.#ctx.setReadKey(suite, serverHandshakeSecret);
    // RFC 8446 D.4: the dummy change_cipher_spec precedes the first protected record.
    if (this.#config.middleboxCompatibility) this.#ctx.sendChangeCipherSpec();
    // From here even an alert about the server's flight is protected (RFC 8446 6). While 0-RTT
    // data is in flight the early key stays until EndOfEarlyData or a rejection (RFC 8446 4.2.10).
    const earlyInFlight = state.hello.early !== undefined && !retry;
    if (!earlyInFlight) this.#ctx.setWriteKey(suite, clientHandshakeSecret);
    return {
      kind: 'ExpectEncryptedExtensions',
      hs: {
        suite,
        group: share?.group,
        resumed: selected !== undefined,
        transcript,
        handshakeSecret,
        clientHandshakeSecret,
        serverHandshakeSecret,
        hello: state.hello,
        alpn: undefined,
        earlyAccepted: false,
        earlyKeyActive: earlyInFlight,
        authenticatedAt: undefined,
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // The server's encrypted flight
  // -------------------------------------------------------------------------------------------

  #encryptedExtensions(hs: _Negotiated, extensions: Decoded<WireHandshakeMessage & { type: 'encrypted_extensions' }>['extensions'], raw: Uint8Array): ClientState {
    checkSolicited(extensions, hs.hello.offered, 'encrypted_extensions');
    const alpn = findExtension(extensions, 'application_layer_protocol_negotiation');
    if (alpn) {
      // RFC 7301 3.1: the server's choice must be one the client offered.
      const chosen = bytesToAscii(alpn.protocolName);
      if (chosen === undefined || !this.#config.alpn.includes(chosen)) {
        throw _localAlert('illegal_parameter', 'the server selected an ALPN protocol that was not offered (RFC 7301 3.1)');
      }
      hs.alpn = chosen;
    }
    const early = hs.hello.early;
    if (findExtension(extensions, 'early_data')) {
      // RFC 8446 4.2.10: the server accepts early data only by resuming our first PSK with the
      // session's cipher suite and ALPN protocol; anything else is a broken server.
      if (!early || !hs.resumed || hs.suite !== early.suite || hs.alpn !== early.alpn) {
        throw _localAlert('illegal_parameter', "the server accepted early data under other parameters than the session's (RFC 8446 4.2.10)");
      }
      hs.earlyAccepted = true;
    } else if (hs.earlyKeyActive) {
      // Rejected: the server skips our 0-RTT records; the handshake goes on under its keys.
      this.#ctx.setWriteKey(hs.suite, hs.clientHandshakeSecret);
      hs.earlyKeyActive = false;
    }
    hs.transcript.update(raw);
    // RFC 8446 2.2: a resumed handshake authenticates with the PSK: no certificate messages.
    if (hs.resumed) return { kind: 'ExpectFinished', hs, request: undefined, chain: [], scheme: undefined };
    return { kind: 'ExpectCertificateOrCertificateRequest', hs };
  }

  #certificateRequest(hs: _Negotiated, message: Decoded<CertificateRequest>): ClientState {
    // RFC 8446 4.3.2: during the handshake the context is empty.
    if (message.certificateRequestContext.length !== 0) {
      throw _localAlert('illegal_parameter', 'certificate_request_context is not empty in the handshake (RFC 8446 4.3.2)');
    }
    // RFC 8446 4.3.2: "The "signature_algorithms" extension MUST be specified".
    if (!findExtension(message.extensions, 'signature_algorithms')) {
      throw _localAlert('missing_extension', 'CertificateRequest without signature_algorithms (RFC 8446 4.3.2)');
    }
    hs.transcript.update(message.raw);
    return { kind: 'ExpectCertificate', hs, request: message };
  }

  /**
   * RFC 8879 4: the server's CompressedCertificate, as the Certificate it stands for (whose `raw`
   * is the CompressedCertificate, for the transcript). Without an offer the message type was
   * never negotiated: unexpected_message.
   */
  #decompress(message: Decoded<CompressedCertificate>): Decoded<Certificate> {
    const offered = this.#config.certificateCompression;
    if (offered.length === 0) throw _localAlert('unexpected_message', 'CompressedCertificate, but compress_certificate was not offered (RFC 8879 3)');
    return decompressCertificate(message, offered, this.#config.limits);
  }

  #certificate(hs: _Negotiated, request: CertificateRequest | undefined, message: Decoded<WireHandshakeMessage & { type: 'certificate' }>): ClientState {
    // RFC 8446 4.4.2: the server's certificate_request_context is empty.
    if (message.certificateRequestContext.length !== 0) {
      throw _localAlert('illegal_parameter', "the server's Certificate has a non-empty certificate_request_context");
    }
    // RFC 8446 4.4.2: "Extensions in the Certificate message from the server MUST correspond to
    // ones from the ClientHello message"; others are unsupported_extension (4.2).
    for (const entry of message.certificateList) checkSolicited(entry.extensions, hs.hello.offered, 'certificate');
    // RFC 8446 4.4.2.4: "If the server supplies an empty Certificate message, the client MUST
    // abort the handshake with a "decode_error" alert."
    if (message.certificateList.length === 0) throw _localAlert('decode_error', 'the server sent no certificate (RFC 8446 4.4.2.4)');
    const chain = parsePeerChain(message, this.#config.limits);
    // The one clock read of verification, kept: a session's authentication time (RFC 8446 4.6.1).
    if (!_isInsecure(this.#config)) hs.authenticatedAt = this.#ctx.engine.platform.clock.now();
    const verification = beginChainVerification(this.#ctx.engine, this.#config, chain, this.#config.serverName, hs.authenticatedAt);
    hs.transcript.update(message.raw);
    return { kind: 'ExpectCertificateVerify', hs, request, chain, verification };
  }

  #certificateVerify(state: Extract<ClientState, { kind: 'ExpectCertificateVerify' }>, message: Decoded<WireHandshakeMessage & { type: 'certificate_verify' }>): Step<ClientState> {
    const { hs } = state;
    // With an asynchronous provider the server's signature is verified alongside the chain's.
    const verify = () =>
      checkCertificateVerify(this.#ctx.engine, message, state.chain[0]!.publicKey!, this.#config.verifySchemes, 'server', hs.transcript.digest(), this.#config.minRsaBits);
    return afterChainVerdict(state.verification, verify, (verdict, scheme) => {
      hs.transcript.update(message.raw);
      // The application's check, once the server proved it holds the leaf's key.
      const next: ClientState = { kind: 'ExpectFinished', hs, request: state.request, chain: state.chain, scheme };
      return andThen(runVerifyPeer(this.#config, state.chain, this.#config.serverName, verdict, false), () => ready(next));
    });
  }

  #finished(state: Extract<ClientState, { kind: 'ExpectFinished' }>, message: Decoded<WireHandshakeMessage & { type: 'finished' }>): Step<ClientState> {
    const { hs } = state;
    const { suite, transcript } = hs;
    // RFC 8446 4.4.4: "Recipients of Finished messages MUST verify that the contents are correct
    // and if incorrect MUST terminate the connection with a "decrypt_error" alert."
    if (!verifyFinished(this.#provider, suite.hash, hs.serverHandshakeSecret, transcript.digest(), message.verifyData)) {
      throw _localAlert('decrypt_error', "the server's Finished does not match the transcript (RFC 8446 4.4.4)");
    }
    transcript.update(message.raw);
    const throughServerFinished = transcript.digest();
    const master = hs.handshakeSecret.master();
    const clientApplicationSecret = master.clientApplicationTrafficSecret(throughServerFinished);
    const serverApplicationSecret = master.serverApplicationTrafficSecret(throughServerFinished);
    const exporterMasterSecret = master.exporterMasterSecret(throughServerFinished);
    const random = hs.hello.random;
    this.#ctx.keyLog('CLIENT_TRAFFIC_SECRET_0', random, clientApplicationSecret);
    this.#ctx.keyLog('SERVER_TRAFFIC_SECRET_0', random, serverApplicationSecret);
    this.#ctx.keyLog('EXPORTER_SECRET', random, exporterMasterSecret);
    this.#ctx.setReadKey(suite, serverApplicationSecret);
    this.#ctx.allowChangeCipherSpec(false);

    if (hs.earlyKeyActive) {
      // RFC 8446 4.5: accepted early data ends with EndOfEarlyData, under the early key.
      const endOfEarlyData = encodeEndOfEarlyData({ type: 'end_of_early_data' });
      this.#ctx.sendHandshake(endOfEarlyData);
      transcript.update(endOfEarlyData);
      this.#ctx.setWriteKey(suite, hs.clientHandshakeSecret);
    }
    // The client's CertificateVerify may wait for its signer; these secrets wait with it.
    const wipe = () => {
      clientApplicationSecret.fill(0);
      serverApplicationSecret.fill(0);
      exporterMasterSecret.fill(0);
      master.destroy();
    };
    return onFailure(
      () => andThen(state.request ? this.#sendClientCertificate(hs, state.request) : ready(undefined), () => ready(this.#clientFinished(state, master, clientApplicationSecret, serverApplicationSecret, exporterMasterSecret))),
      wipe,
    );
  }

  /** The client's Finished, the application keys, and the end of the handshake. */
  #clientFinished(
    state: Extract<ClientState, { kind: 'ExpectFinished' }>,
    master: { resumptionMasterSecret(h: Uint8Array): Uint8Array; destroy(): void },
    clientApplicationSecret: Uint8Array,
    serverApplicationSecret: Uint8Array,
    exporterMasterSecret: Uint8Array,
  ): ClientState {
    const { hs } = state;
    const { suite, transcript } = hs;
    const finished = encodeFinished({ type: 'finished', verifyData: finishedVerifyData(this.#provider, suite.hash, hs.clientHandshakeSecret, transcript.digest()) });
    this.#ctx.sendHandshake(finished);
    transcript.update(finished);
    const resumptionMasterSecret = master.resumptionMasterSecret(transcript.digest());
    master.destroy();
    // RFC 8446 4.6.2: a post-handshake CertificateRequest is answered from this transcript, with
    // a Finished keyed from the client application traffic secret.
    const postHandshakeAuth = this.#config.postHandshakeAuth ? { suite, hashes: this.#provider, transcript: transcript.clone(), clientApplicationSecret: clientApplicationSecret.slice() } : undefined;
    this.#ctx.setWriteKey(suite, clientApplicationSecret);
    clientApplicationSecret.fill(0);
    serverApplicationSecret.fill(0);
    _destroyState(state);
    const keyShareGroup = hs.group;
    this.#ctx.complete({
      suite,
      exporterMasterSecret,
      resumptionMasterSecret,
      info: {
        protocol: 'TLSv1.3',
        cipherSuite: suite.name,
        group: keyShareGroup,
        signatureScheme: state.scheme,
        // A resumed connection reports the scheme of the handshake its session came from.
        peerSignatureScheme: hs.resumed ? hs.hello.psk!.session.peerSignatureScheme : state.scheme,
        alpn: hs.alpn,
        serverName: this.#config.serverName,
        // A resumed connection reports the chain its session was authenticated with (as Go and
        // OpenSSL do); the PSK proves it is the same server.
        peerCertificates: hs.resumed ? hs.hello.psk!.session.peerCertificates : state.chain.map((c) => c.raw),
        resumed: hs.resumed,
        earlyDataAccepted: hs.earlyAccepted,
        postHandshakeAuth: this.#config.postHandshakeAuth,
      },
      postHandshakeAuth,
      resend: this.#resend(hs),
      onTicket: this.#config.onSession
        ? (ticket, resumptionMasterSecret) => this.#session(suite, hs, state.chain, state.scheme, ticket, resumptionMasterSecret)
        : undefined,
    });
    return { kind: 'Done' };
  }

  /**
   * The early data to send now as ordinary application data, in `'resend'` mode only: data that
   * was not sent as 0-RTT, or that the server rejected. RFC 8446 4.2.10: "A client MUST NOT
   * re-send 0-RTT data unless the same ALPN was selected" (and SHOULD NOT automatically, hence
   * `'report'` by default): the data was written for the session's protocol, so it is dropped
   * whenever the negotiated ALPN differs from the one of the session it was meant for.
   */
  #resend(hs: _Negotiated): Uint8Array | undefined {
    const data = this.#config.earlyData;
    if (!data || hs.earlyAccepted || !this.#config.resendRejectedEarlyData) return undefined;
    const session = this.#config.session;
    const meantFor = hs.hello.early ? hs.hello.early.alpn : session ? session.alpn : hs.alpn;
    return meantFor === hs.alpn ? data : undefined;
  }

  /** A NewSessionTicket becomes a session for `onSession` (RFC 8446 4.6.1). Reads the clock. */
  #session(
    suite: CipherSuite,
    hs: _Negotiated,
    chain: readonly X509Certificate[],
    scheme: SignatureScheme | undefined,
    ticket: NewSessionTicket,
    resumptionMasterSecret: Uint8Array,
  ): void {
    // RFC 8446 4.6.1: a lifetime of zero means the ticket must not be used.
    if (ticket.ticketLifetime === 0) return;
    const earlyData = findExtension(ticket.extensions, 'early_data');
    const receivedAt = this.#ctx.engine.platform.clock.now();
    const resumedFrom = hs.resumed ? hs.hello.psk!.session : undefined;
    const session: TlsSession = {
      cipherSuite: suite.name,
      serverName: this.#config.sniHostName ?? this.#config.serverName,
      alpn: hs.alpn,
      ticket: ticket.ticket.slice(),
      psk: resumptionPsk(this.#provider, suite.hash, resumptionMasterSecret, ticket.ticketNonce),
      ticketAgeAdd: ticket.ticketAgeAdd,
      receivedAt,
      // RFC 8446 4.6.1: "Clients MUST NOT cache tickets for longer than 7 days".
      lifetime: Math.min(ticket.ticketLifetime, MAX_TICKET_LIFETIME),
      maxEarlyDataSize: earlyData && 'maxEarlyDataSize' in earlyData ? earlyData.maxEarlyDataSize : 0,
      // A session resumed from a verified one stays verified: the PSK authenticates the server.
      verified: hs.resumed ? hs.hello.psk!.session.verified : !_isInsecure(this.#config),
      peerCertificates: hs.resumed ? hs.hello.psk!.session.peerCertificates : chain.map((c) => c.raw),
      // Sessions of a resumed connection keep the original authentication (RFC 8446 4.6.1).
      authenticatedAt: resumedFrom ? resumedFrom.authenticatedAt : (hs.authenticatedAt ?? receivedAt),
      peerNotAfter: resumedFrom ? resumedFrom.peerNotAfter : chain[0]?.notAfter,
      peerSignatureScheme: resumedFrom ? resumedFrom.peerSignatureScheme : scheme,
    };
    this.#config.onSession!(Object.freeze(session));
  }

  /** RFC 8446 4.4.2, 4.4.3: the client's Certificate (empty when it has none) and CertificateVerify. */
  #sendClientCertificate(hs: _Negotiated, request: CertificateRequest): Step<void> {
    const identity = this.#config.identity;
    const accepted = findExtension(request.extensions, 'signature_algorithms')!.supportedSignatureAlgorithms;
    const scheme = identity ? chooseSignatureScheme(identity.signer, accepted) : undefined;
    // Without a certificate (or one the server cannot verify) an empty Certificate is sent and
    // the server decides (RFC 8446 4.4.2).
    const chain = identity && scheme ? identity.chain : [];
    const certificate = encodeCertificate({
      type: 'certificate',
      certificateRequestContext: request.certificateRequestContext,
      certificateList: chain.map((certData) => ({ certData, extensions: [] })),
    });
    // RFC 8879 3, 4: compressed with the first of our algorithms the CertificateRequest lists,
    // when that is smaller; the transcript takes the message as sent.
    const accepts = findExtension(request.extensions, 'compress_certificate')?.algorithms ?? [];
    const algorithm = this.#config.certificateCompression.find((a) => accepts.includes(a));
    // In the handshake the context is empty (RFC 8446 4.3.2), so the message is one of two.
    const key = chain.length > 0 ? 'client-chain' : 'client-empty';
    const message = (algorithm !== undefined && this.#config.compressedCertificates.get(key, certificate, algorithm)) || certificate;
    this.#ctx.sendHandshake(message);
    hs.transcript.update(message);
    if (!identity || !scheme) return ready(undefined);
    return andThen(signCertificateVerify(identity, scheme, certificateVerifyContent('client', hs.transcript.digest())), (signature) => {
      const verify = encodeCertificateVerify({ type: 'certificate_verify', algorithm: SIGNATURE_SCHEME[scheme], signature });
      this.#ctx.sendHandshake(verify);
      hs.transcript.update(verify);
      return ready(undefined);
    });
  }
}

/**
 * Adds pre_shared_key (last, RFC 8446 4.2.11) to a ClientHello, with the binder over the
 * transcript up to the truncated ClientHello (4.2.11.2).
 */
function _withBinder(hashes: Hashes, hello: ClientHello, psk: _OfferedPsk, transcriptBefore: RunningHash | undefined): ClientHello {
  const length = HASH_LENGTHS[psk.hash];
  const offer = (binder: Uint8Array): ClientHello => ({
    ...hello,
    extensions: [
      ...hello.extensions,
      { type: 'pre_shared_key', identities: [{ identity: psk.session.ticket, obfuscatedTicketAge: psk.obfuscatedAge }], binders: [binder] },
    ],
  });
  const draft = offer(new Uint8Array(length));
  const partial = truncatedClientHello(encodeClientHello(draft), draft);
  const transcript = transcriptBefore ? transcriptBefore.clone() : hashes.hash(psk.hash).create();
  const early = EarlySecret.fromPsk(hashes, psk.hash, psk.session.psk);
  const binderKey = early.binderKey('resumption');
  early.destroy();
  try {
    return offer(finishedVerifyData(hashes, psk.hash, binderKey, transcript.update(partial).digest()));
  } finally {
    binderKey.fill(0);
  }
}

/**
 * Whether a ServerHello's raw bytes (header included) carry supported_versions. Returns true
 * when the bytes are too malformed to tell: the decoder then reports what is wrong.
 */
function _offersSupportedVersions(bytes: Uint8Array): boolean {
  let at = 4 + 2 + 32;
  if (bytes.length < at + 1) return true;
  at += 1 + bytes[at]! + 2 + 1; // legacy_session_id_echo, cipher_suite, compression
  if (bytes.length < at + 2) return false; // no extension block at all: a pre-TLS 1.3 hello
  const end = Math.min(bytes.length, at + 2 + ((bytes[at]! << 8) | bytes[at + 1]!));
  for (at += 2; at + 4 <= end; ) {
    const type = (bytes[at]! << 8) | bytes[at + 1]!;
    if (type === EXTENSION_TYPE.supported_versions) return true;
    at += 4 + ((bytes[at + 2]! << 8) | bytes[at + 3]!);
  }
  return false;
}

function _offered(hello: ClientHello): ReadonlySet<number> {
  const offered = new Set(hello.extensions.map(extensionCode));
  // RFC 8446 4.2: server_name, supported_groups and record_size_limit responses are only
  // valid when offered; the set above is exactly that. cookie is exempt in an HRR.
  offered.delete(EXTENSION_TYPE.padding);
  // RFC 8701 3.1: a GREASE extension is never answered; one in a server message fails the handshake.
  for (const grease of GREASE_VALUES) offered.delete(grease);
  return offered;
}

/** Wipes the secrets a state holds. */
/** RFC 8446 6.2: a message that is valid but out of order. */
function _unexpected(state: ClientState, message: Decoded<WireHandshakeMessage>): never {
  throw _localAlert('unexpected_message', `${message.type} while in ${state.kind}`);
}

function _destroyState(state: ClientState): void {
  switch (state.kind) {
    case 'ExpectServerHello':
      for (const share of state.shares) share.destroy();
      return;
    case 'Start':
    case 'Waiting':
    case 'Done':
    case 'Failed':
      return;
    default:
      state.hs.handshakeSecret.destroy();
      state.hs.clientHandshakeSecret.fill(0);
      state.hs.serverHandshakeSecret.fill(0);
  }
}
