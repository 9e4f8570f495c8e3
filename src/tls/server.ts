/**
 * The TLS 1.3 server handshake (RFC 8446 2, 4) as explicit states, named for the message each
 * waits for. The server answers a ClientHello with its whole first flight at once (ServerHello,
 * EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify, Finished), or with a
 * HelloRetryRequest when it needs a share the client did not send.
 *
 * ```
 *  ExpectClientHello ── HelloRetryRequest ──> ExpectSecondClientHello
 *         │ ServerHello ... Finished                 │ ServerHello ... Finished
 *         v                                          v
 *  [ExpectCertificate ── ExpectCertificateVerify] ──> ExpectFinished ──> Done
 * ```
 * With RFC 8879 compression the server's Certificate goes out as a CompressedCertificate when
 * the client offered one of our algorithms, and ExpectCertificate takes the client's
 * CompressedCertificate when our CertificateRequest offered its algorithm.
 * @module
 */
import { constantTimeEqual } from '../crypto/bytes.js';
import { InvalidKeyShareError } from '../crypto/errors.js';
import type { RunningHash } from '../crypto/hash.js';
import { handshakeCrypto, type CryptoProvider, type HandshakeKeyExchange, type TlsPrimitives } from '../crypto/provider.js';
import type { KeyShareResponse, NamedGroup } from '../crypto/kx.js';
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
import { asciiToBytes, bytesToAscii } from './codec.js';
import type { ClientHelloInfo, ResolvedServerConfig, ServerConfig } from './config.js';
import type { HandshakeContext, HandshakeMachine } from './connection.js';
import {
  EXTENSION_TYPE,
  extensionTypeName,
  GREASE_VALUES,
  LEGACY_VERSION,
  NAMED_GROUP,
  PROTOCOL_VERSION,
  PSK_KEY_EXCHANGE_MODE,
  SIGNATURE_SCHEME,
  supportedNamedGroup,
  supportedSignatureScheme,
} from './enums.js';
import { _localAlert } from './errors.js';
import { EarlySecret, finishedVerifyData, resumptionPsk, verifyFinished, type HandshakeSecret } from './key-schedule.js';
import { MAX_TICKET_LIFETIME, openSealedTicket, sealTicket, sessionClientChain, ticketKeyId, type ServerSession, type TicketKey } from './session.js';
import {
  checkSolicited,
  encodeCertificate,
  encodeCertificateRequest,
  encodeCertificateVerify,
  clientHelloRawExtensions,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeHelloRetryRequest,
  encodeMessageHash,
  encodeNewSessionTicket,
  encodeServerHello,
  truncatedClientHello,
  findExtension,
  MIN_RECORD_SIZE_LIMIT,
  type ClientHello,
  type Decoded,
  type EncryptedExtensionsExtension,
  type HelloRetryRequestExtension,
  type KeyShareEntry,
  type WireHandshakeMessage,
} from './messages.js';
import type { OfferedPsksExtension as PreSharedKeyOffer } from './msgs/extensions.js';
import { andThen, callHook, callProvider, enterState, onFailure, ready, withCleanup, type HookKind, type Step } from './pending.js';
import { MAX_PLAINTEXT_LENGTH } from './record.js';
import { CIPHER_SUITES, cipherSuiteByCode, type CipherSuite, type CipherSuiteName } from './suites.js';

const _TLS13 = PROTOCOL_VERSION.TLSv1_3;
/**
 * Declined early data skipped before giving up, in bytes of record payload, when this server
 * takes no early data itself: BoringSSL's bound (2^14, its SkipEarlyData-TooMuchData test sends
 * one byte more), which still admits a client sending the RFC's example max_early_data_size.
 */
const _EARLY_DATA_SKIP_LIMIT = 2 ** 14;

/**
 * What RFC 8446 4.1.2 lets a second ClientHello change: key_share (one share for the group asked
 * for), early_data (removed), cookie (added), pre_shared_key (new ages and binders, identities
 * maybe removed) and padding. Everything else must repeat the first ClientHello exactly.
 */
const _RETRY_MAY_CHANGE: ReadonlySet<number> = new Set([
  EXTENSION_TYPE.key_share,
  EXTENSION_TYPE.early_data,
  EXTENSION_TYPE.cookie,
  EXTENSION_TYPE.pre_shared_key,
  EXTENSION_TYPE.padding,
]);

/** What the server decided from the ClientHello. */
interface _Choice {
  readonly suite: CipherSuite;
  readonly group: NamedGroup;
  /** The client's share for `group`, or undefined when a HelloRetryRequest must ask for it. */
  readonly share: KeyShareEntry | undefined;
  readonly scheme: SignatureScheme;
}

/** A PSK the server resumes: which identity, the session its ticket held, whether 0-RTT data follows. */
interface _AcceptedPsk {
  readonly index: number;
  readonly ticket: ServerSession;
  readonly binder: Uint8Array;
  readonly obfuscatedAge: number;
  /** When the PSK was checked (Platform clock, ms). */
  readonly now: number;
}

/** The server's flight being built: what its ServerHello settled and the handshake secrets. */
interface _FlightDraft {
  readonly hello: Decoded<ClientHello>;
  readonly choice: _Choice;
  readonly psk: _AcceptedPsk | undefined;
  readonly transcript: RunningHash;
  readonly random: Uint8Array;
  readonly handshakeSecret: HandshakeSecret;
  readonly clientHandshakeSecret: Uint8Array;
  readonly serverHandshakeSecret: Uint8Array;
  /** Derived only when 0-RTT may be accepted. */
  readonly clientEarlySecret: Uint8Array | undefined;
}

/** How far a client's ticket age may stray from the server's for 0-RTT (RFC 8446 8.3). */
const _FRESHNESS_WINDOW_MS = 10_000;

/** The host_name the client asked for (RFC 6066 3), if any. */
function _serverName(hello: ClientHello): string | undefined {
  const name = findExtension(hello.extensions, 'server_name')?.serverNameList.find((n) => n.nameType === 'host_name');
  return name && 'hostName' in name ? name.hostName : undefined;
}

/** The handshake after the server's flight: what the client's flight is checked against. */
interface _Flight {
  readonly suite: CipherSuite;
  readonly transcript: RunningHash;
  readonly clientHandshakeSecret: Uint8Array;
  readonly clientApplicationSecret: Uint8Array;
  readonly exporterMasterSecret: Uint8Array;
  readonly masterSecret: { resumptionMasterSecret(h: Uint8Array): Uint8Array; destroy(): void };
  readonly clientRandom: Uint8Array;
  /** What a resumed session carried of the original authentication (undefined: a full handshake). */
  readonly resumedIdentity: Pick<ServerSession, 'authenticatedAt' | 'clientCertificates' | 'clientNotAfter' | 'clientSignatureScheme'> | undefined;
  readonly info: {
    readonly group: NamedGroup;
    /** undefined when resumed: the server did not sign. */
    readonly scheme: SignatureScheme | undefined;
    readonly alpn: string | undefined;
    readonly serverName: string | undefined;
    readonly resumed: boolean;
    readonly earlyDataAccepted: boolean;
    /** The client offered psk_dhe_ke, the one mode this server resumes with: tickets are of use to it. */
    readonly clientTakesTickets: boolean;
    /** The client offered post_handshake_auth (RFC 8446 4.2.6). */
    readonly postHandshakeAuth: boolean;
  };
}

type ServerState =
  | { readonly kind: 'ExpectClientHello' }
  | {
      readonly kind: 'ExpectSecondClientHello';
      readonly first: Decoded<ClientHello>;
      readonly choice: _Choice;
      readonly transcript: RunningHash;
      readonly cookie: Uint8Array | undefined;
      /** ClientHello1 offered a PSK this server could resume with the HelloRetryRequest's suite. */
      readonly resumableOffer: boolean;
    }
  | { readonly kind: 'ExpectEndOfEarlyData'; readonly flight: _Flight }
  | { readonly kind: 'ExpectCertificate'; readonly flight: _Flight }
  | {
      readonly kind: 'ExpectCertificateVerify';
      readonly flight: _Flight;
      readonly chain: readonly X509Certificate[];
      /** Decided, or (an asynchronous provider) its signatures still being verified. */
      readonly verification: ChainVerification;
    }
  | {
      readonly kind: 'ExpectFinished';
      readonly flight: _Flight;
      readonly peerChain: readonly X509Certificate[];
      /** The scheme of the client's CertificateVerify, when it sent a certificate. */
      readonly peerScheme?: SignatureScheme;
    }
  /** Parked on a hook's Promise (`conn.pending`); the step that resumes holds the handshake. */
  | { readonly kind: 'Waiting'; readonly hook: HookKind }
  | { readonly kind: 'Done' }
  | { readonly kind: 'Failed' };

/** Resolves a config an `onClientHello` hook returned (once per engine and config object). */
export type ServerConfigResolver = (config: ServerConfig) => ResolvedServerConfig;

/** Starts a server handshake: waits for a ClientHello. */
export function startServer(ctx: HandshakeContext, config: ResolvedServerConfig, resolve: ServerConfigResolver = _cannotResolve): HandshakeMachine {
  return new _ServerHandshake(ctx, config, resolve);
}

function _cannotResolve(): never {
  throw new Error('this server cannot take a configuration from onClientHello');
}

class _ServerHandshake implements HandshakeMachine {
  #state: ServerState = { kind: 'ExpectClientHello' };
  readonly #ctx: HandshakeContext;
  /** The connection's configuration: the one given, or the one `onClientHello` chose. */
  #config: ResolvedServerConfig;
  readonly #resolve: ServerConfigResolver;
  /** The engine's crypto provider: transcripts, the key schedule and Finished go through it. */
  readonly #provider: CryptoProvider;
  /** Its key exchange as the handshake runs it (an asynchronous provider's answer may park). */
  readonly #kx: HandshakeKeyExchange;

  constructor(ctx: HandshakeContext, config: ResolvedServerConfig, resolve: ServerConfigResolver) {
    this.#ctx = ctx;
    this.#provider = ctx.engine.crypto;
    this.#kx = handshakeCrypto(ctx.engine.crypto).kx;
    this.#config = config;
    this.#resolve = resolve;
  }

  get done(): boolean {
    return this.#state.kind === 'Done';
  }

  /** The configuration the handshake used (`onClientHello` may have chosen another). */
  get config(): ResolvedServerConfig {
    return this.#config;
  }

  handle(message: Decoded<WireHandshakeMessage>): Step<void> {
    const state = this.#state;
    this.#state = { kind: 'Failed' };
    // The state's secrets are wiped if the message fails it, at once or after a parked hook.
    return this.#enter(onFailure(() => this.#next(state, message), () => _destroyState(state)));
  }

  /** Moves to the next state, or parks (state `Waiting`) until the hook's answer comes. */
  #enter(step: Step<ServerState>): Step<void> {
    return enterState(step, (state) => (this.#state = state), (hook) => ({ kind: 'Waiting' as const, hook }));
  }


  destroy(): void {
    _destroyState(this.#state);
    this.#state = { kind: 'Failed' };
  }

  #next(state: ServerState, message: Decoded<WireHandshakeMessage>): Step<ServerState> {
    switch (state.kind) {
      case 'ExpectClientHello':
        if (message.type === 'client_hello') return this.#clientHello(message);
        break;
      case 'ExpectSecondClientHello':
        if (message.type === 'client_hello') return this.#secondClientHello(state, message);
        break;
      case 'ExpectEndOfEarlyData':
        if (message.type === 'end_of_early_data') return ready(this.#endOfEarlyData(state.flight, message.raw));
        break;
      case 'ExpectCertificate':
        if (message.type === 'certificate') return ready(this.#certificate(state.flight, message));
        if (message.type === 'compressed_certificate') {
          // RFC 8879 3: only with an algorithm our CertificateRequest listed; without any, the
          // message type was never negotiated.
          const offered = this.#config.certificateCompression;
          if (offered.length === 0) throw _localAlert('unexpected_message', 'CompressedCertificate, but the CertificateRequest offered no compression (RFC 8879 3)');
          return ready(this.#certificate(state.flight, decompressCertificate(message, offered, this.#config.limits)));
        }
        break;
      case 'ExpectCertificateVerify':
        if (message.type === 'certificate_verify') return this.#certificateVerify(state, message);
        // A chain still being verified fails with its own alert first, as if verified at once.
        if (!state.verification.decided) return afterChainVerdict(state.verification, () => _unexpected(state, message), () => ready(state));
        break;
      case 'ExpectFinished':
        if (message.type === 'finished') return this.#finished(state.flight, state.peerChain, state.peerScheme, message);
        break;
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

  #clientHello(hello: Decoded<ClientHello>): Step<ServerState> {
    this.#ctx.allowChangeCipherSpec(true);
    return andThen(this.#chooseConfig(hello), () => this.#configuredClientHello(hello));
  }

  /**
   * The application's `onClientHello` hook, if any, picks this connection's configuration (its
   * certificate, ALPN, tickets, client authentication) before anything is negotiated.
   */
  #chooseConfig(hello: Decoded<ClientHello>): Step<void> {
    const hook = this.#config.onClientHello;
    if (!hook) return ready(undefined);
    return callHook('client-hello', () => hook(_clientHelloInfo(hello)), (chosen) => {
      if (chosen === undefined) return ready(undefined);
      if (chosen === null || typeof chosen !== 'object') throw _localAlert('internal_error', 'onClientHello returned neither a ServerConfig nor undefined');
      try {
        this.#config = this.#resolve(chosen);
      } catch (error) {
        // A configuration that cannot work is the application's fault: internal_error, with why.
        throw _localAlert('internal_error', `the config onClientHello returned is invalid: ${error instanceof Error ? error.message : String(error)}`, error);
      }
      return ready(undefined);
    });
  }

  #configuredClientHello(hello: Decoded<ClientHello>): Step<ServerState> {
    const choice = this.#choose(hello);
    if (choice.share) {
      const share = choice.share;
      return andThen(this.#acceptPsk(hello, choice.suite, undefined), (psk) => {
        const transcript = this.#provider.hash(choice.suite.hash).create().update(hello.raw);
        return this.#respond(hello, choice, share, transcript, psk);
      });
    }
    // RFC 8446 4.2.10: a HelloRetryRequest rejects early data; what the client sent is skipped.
    this.#skipEarlyData(hello);
    // RFC 8446 4.1.4: ask for a share of the chosen group with a HelloRetryRequest.
    const cookie = this.#config.helloRetryRequestCookie?.(hello.raw);
    const extensions: HelloRetryRequestExtension[] = [{ type: 'key_share', selectedGroup: NAMED_GROUP[choice.group] }];
    if (cookie !== undefined) extensions.push({ type: 'cookie', cookie });
    extensions.push({ type: 'supported_versions', selectedVersion: _TLS13 });
    const retry = encodeHelloRetryRequest({
      type: 'hello_retry_request',
      legacyVersion: LEGACY_VERSION,
      legacySessionIdEcho: hello.legacySessionId,
      cipherSuite: choice.suite.code,
      extensions,
    });
    // RFC 8446 4.4.1: the transcript continues from message_hash(Hash(ClientHello1)).
    const h = this.#provider.hash(choice.suite.hash);
    const transcript = h.create().update(encodeMessageHash(h.digest(hello.raw))).update(retry);
    this.#ctx.helloRetried();
    this.#ctx.sendHandshake(retry);
    // RFC 8446 D.4: a compatibility-mode client gets the dummy change_cipher_spec right after
    // the server's first handshake message.
    if (hello.legacySessionId.length > 0) this.#ctx.sendChangeCipherSpec();
    return andThen(this.#resumableOffer(hello, choice.suite), (resumableOffer) => ready<ServerState>({ kind: 'ExpectSecondClientHello', first: hello, choice, transcript, cookie, resumableOffer }));
  }

  #secondClientHello(state: Extract<ServerState, { kind: 'ExpectSecondClientHello' }>, hello: Decoded<ClientHello>): Step<ServerState> {
    const { first, choice } = state;
    // RFC 8446 4.2.10: only records sent before this ClientHello can be the rejected 0-RTT data;
    // from here a record that does not open is bad_record_mac.
    this.#ctx.skipEarlyData(undefined);
    // RFC 8446 4.2.10: early data is never allowed after a HelloRetryRequest.
    if (findExtension(hello.extensions, 'early_data')) {
      throw _localAlert('illegal_parameter', 'early_data in the second ClientHello (RFC 8446 4.2.10)');
    }
    _checkRetriedHello(first, hello);
    // RFC 8446 4.1.2 lets the client update pre_shared_key and drop the PSKs that do not fit the
    // HelloRetryRequest's suite, not drop one that does: BoringSSL answers missing_extension.
    if (state.resumableOffer && !findExtension(hello.extensions, 'pre_shared_key')) {
      throw _localAlert('missing_extension', 'the second ClientHello dropped the PSK the first offered for this cipher suite (RFC 8446 4.1.2)');
    }
    const cookie = findExtension(hello.extensions, 'cookie');
    if (state.cookie !== undefined && (!cookie || !constantTimeEqual(cookie.cookie, state.cookie))) {
      throw _localAlert('illegal_parameter', 'the second ClientHello does not echo the cookie (RFC 8446 4.2.2)');
    }
    if (state.cookie === undefined && cookie) {
      throw _localAlert('illegal_parameter', 'the second ClientHello carries a cookie the server never sent (RFC 8446 4.2.2)');
    }
    const keyShare = findExtension(hello.extensions, 'key_share');
    const group = NAMED_GROUP[choice.group];
    // RFC 8446 4.2.8: after an HRR naming a group, the client sends one share, for that group.
    if (!keyShare || keyShare.clientShares.length !== 1 || keyShare.clientShares[0]!.group !== group) {
      throw _localAlert('illegal_parameter', `the second ClientHello must carry exactly one key share, for ${choice.group} (RFC 8446 4.2.8)`);
    }
    // The rest of the negotiation must land where it did the first time.
    const again = this.#choose(hello, choice.group);
    if (again.suite !== choice.suite) {
      throw _localAlert('illegal_parameter', 'the second ClientHello changed the negotiation (RFC 8446 4.1.2)');
    }
    this.#ctx.allowChangeCipherSpec(true);
    return andThen(this.#acceptPsk(hello, again.suite, state.transcript), (psk) =>
      this.#respond(hello, again, keyShare.clientShares[0]!, state.transcript.update(hello.raw), psk),
    );
  }

  /**
   * Whether a ClientHello offers a ticket of this server, still valid, for this server name, with
   * the hash of `suite` and psk_dhe_ke: one the second ClientHello may not drop. Looks only (a
   * stateful store's `get`); the binder is checked when the second ClientHello resumes it.
   */
  #resumableOffer(hello: Decoded<ClientHello>, suite: CipherSuite): Step<boolean> {
    const tickets = this.#config.tickets;
    const offer = findExtension(hello.extensions, 'pre_shared_key');
    const modes = findExtension(hello.extensions, 'psk_key_exchange_modes');
    if (!tickets || !offer || !modes?.keModes.includes(PSK_KEY_EXCHANGE_MODE.psk_dhe_ke)) return ready(false);
    const now = this.#ctx.engine.platform.clock.now();
    const tried = Math.min(offer.identities.length, this.#config.limits.maxPskIdentities);
    const attempt = (i: number): Step<boolean> => {
      if (i >= tried) return ready(false);
      return andThen(_lookUpTicket(this.#provider, tickets, offer.identities[i]!.identity, now), (ticket) => {
        if (!ticket || CIPHER_SUITES[ticket.cipherSuite].hash !== suite.hash || ticket.serverName !== _serverName(hello)) return attempt(i + 1);
        if (now + _FRESHNESS_WINDOW_MS >= ticket.issuedAt && now - ticket.issuedAt < ticket.lifetime * 1000) return ready(true);
        return attempt(i + 1);
      });
    };
    return attempt(0);
  }

  /**
   * RFC 8446 4.2.10: skip the early data of a ClientHello that offers it, when declining it: "up
   * to the configured max_early_data_size" (plus what protection adds to each record, at most 256
   * bytes, RFC 8446 5.2), and never less than BoringSSL's bound.
   */
  #skipEarlyData(hello: Decoded<ClientHello>): void {
    if (!findExtension(hello.extensions, 'early_data')) return;
    const maxSize = this.#config.earlyData?.maxSize ?? 0;
    const records = Math.ceil(maxSize / MAX_PLAINTEXT_LENGTH);
    this.#ctx.skipEarlyData(Math.max(_EARLY_DATA_SKIP_LIMIT, maxSize + 256 * records));
  }

  /**
   * Whether to accept the client's 0-RTT data (RFC 8446 4.2.10): this server takes early data,
   * the client resumed its first PSK, whose ticket allowed early data, with the same cipher suite
   * and ALPN protocol; its ticket age agrees with the server's within the freshness window, and
   * this ClientHello was not accepted before (RFC 8446 8.2, 8.3). Only a first ClientHello.
   */
  #acceptEarlyData(hello: Decoded<ClientHello>, psk: _AcceptedPsk | undefined, suite: CipherSuite, alpn: string | undefined): Step<boolean> {
    const early = this.#config.earlyData;
    if (!early || !psk || !findExtension(hello.extensions, 'early_data')) return ready(false);
    const { ticket, now } = psk;
    if (psk.index !== 0 || ticket.maxEarlyDataSize === 0 || CIPHER_SUITES[ticket.cipherSuite] !== suite || ticket.alpn !== alpn) return ready(false);
    const clientAge = (psk.obfuscatedAge - ticket.ticketAgeAdd) >>> 0;
    if (Math.abs(now - ticket.issuedAt - clientAge) > _FRESHNESS_WINDOW_MS) return ready(false);
    // Every ClientHello that could still pass the freshness check is remembered: a replay of
    // one is accepted at most once. Only a store's plain `true` accepts.
    return callHook('replay', () => early.antiReplay.firstUse(psk.binder, now, now + 2 * _FRESHNESS_WINDOW_MS), (first) => ready(first === true));
  }

  /** Negotiates version, suite, group and signature scheme from a ClientHello (RFC 8446 4.1.1). */
  #choose(hello: Decoded<ClientHello>, fixedGroup?: NamedGroup): _Choice {
    const config = this.#config;
    const versions = findExtension(hello.extensions, 'supported_versions');
    // RFC 8446 4.2.1: a client that does not offer 0x0304 cannot be served by a 1.3-only server:
    // protocol_version (RFC 8446 D.2, Go and rustls alike).
    if (!versions || !versions.versions.includes(_TLS13)) {
      throw _localAlert('protocol_version', 'the client does not offer TLS 1.3; sandtls speaks only TLS 1.3');
    }
    // RFC 8446 4.1.2: legacy_version is 0x0303 from TLS 1.3 clients.
    if (hello.legacyVersion < LEGACY_VERSION) throw _localAlert('protocol_version', 'ClientHello.legacy_version below TLS 1.2');

    // Cipher suite (RFC 8446 4.1.1: the server picks among the client's): by default the client's
    // preference among the suites this server enables, else the server's among the client's.
    const suite =
      config.cipherSuiteSelection === 'server-preference'
        ? config.cipherSuites.find((s) => hello.cipherSuites.includes(s.code))
        : _firstEnabledSuite(hello.cipherSuites, config.cipherSuites);
    if (!suite) throw _localAlert('handshake_failure', 'no cipher suite in common');

    const groupsExt = findExtension(hello.extensions, 'supported_groups');
    const sharesExt = findExtension(hello.extensions, 'key_share');
    // RFC 8446 9.2: supported_groups and key_share go together; without a PSK both are needed.
    if (!groupsExt || !sharesExt) {
      throw _localAlert('missing_extension', `ClientHello without ${groupsExt ? 'key_share' : 'supported_groups'} (RFC 8446 9.2)`);
    }
    _checkKeyShareGroups(sharesExt.clientShares, groupsExt.namedGroupList, versions.versions);
    // RFC 8446 4.2.9: "If clients offer "pre_shared_key" without a "psk_key_exchange_modes"
    // extension, servers MUST abort the handshake" (even one that would ignore the PSK).
    if (findExtension(hello.extensions, 'pre_shared_key') && !findExtension(hello.extensions, 'psk_key_exchange_modes')) {
      throw _localAlert('missing_extension', 'ClientHello offers pre_shared_key without psk_key_exchange_modes (RFC 8446 4.2.9)');
    }
    const sigAlgs = findExtension(hello.extensions, 'signature_algorithms');
    // RFC 8446 4.2.3: a client that wants a certificate-authenticated server sends signature_algorithms.
    if (!sigAlgs) throw _localAlert('missing_extension', 'ClientHello without signature_algorithms (RFC 8446 4.2.3)');
    const scheme = chooseSignatureScheme(config.identity.signer, sigAlgs.supportedSignatureAlgorithms);
    if (!scheme) throw _localAlert('handshake_failure', "no signature scheme the client accepts fits the server's key");

    const clientGroups = groupsExt.namedGroupList;
    const shares = sharesExt.clientShares;
    const shareFor = (group: NamedGroup) => shares.find((s) => s.group === NAMED_GROUP[group]);
    const mutual = config.groups.filter((g) => clientGroups.includes(NAMED_GROUP[g]));
    let group: NamedGroup | undefined = fixedGroup;
    if (group === undefined) {
      group =
        config.groupSelection === 'client-key-share'
          ? (mutual.find((g) => shareFor(g) !== undefined) ?? mutual[0])
          : mutual[0];
    }
    if (group === undefined) throw _localAlert('handshake_failure', 'no key exchange group in common');
    return { suite, group, share: shareFor(group), scheme };
  }

  /**
   * The first offered PSK this server can resume (RFC 8446 4.2.11): a ticket it can open, for a
   * suite with the same hash, within its lifetime, for the same server name, with psk_dhe_ke,
   * less than 7 days after the full handshake it descends from (RFC 8446 4.6.1) and before the
   * client certificate it carries expires; a server requiring client certificates resumes only a
   * session that has one. Its binder is checked before anything else uses it (a wrong one is
   * decrypt_error), and only then is a stateful session taken from its store (RFC 8446 8.1).
   */
  #acceptPsk(hello: Decoded<ClientHello>, suite: CipherSuite, transcriptBefore: RunningHash | undefined): Step<_AcceptedPsk | undefined> {
    const tickets = this.#config.tickets;
    const offer = findExtension(hello.extensions, 'pre_shared_key');
    const modes = findExtension(hello.extensions, 'psk_key_exchange_modes');
    if (!tickets || !offer || !modes) return ready(undefined);
    // psk_dhe_ke only: a resumed connection still gets a fresh key exchange (RFC 8446 E.1.2).
    if (!modes.keModes.includes(PSK_KEY_EXCHANGE_MODE.psk_dhe_ke)) return ready(undefined);
    const now = this.#ctx.engine.platform.clock.now();
    // The first maxPskIdentities only: each costs a ticket decryption; the rest are ignored.
    const tried = Math.min(offer.identities.length, this.#config.limits.maxPskIdentities);
    const attempt = (i: number): Step<_AcceptedPsk | undefined> => {
      if (i >= tried) return ready(undefined);
      return andThen(_lookUpTicket(this.#provider, tickets, offer.identities[i]!.identity, now), (ticket) => {
        const accepted = ticket && this.#checkOfferedPsk(hello, suite, transcriptBefore, offer, i, ticket, now);
        if (!accepted) return attempt(i + 1);
        if (!tickets.store) return ready(accepted);
        // Stateful: consumed only now that the binder proved the ClientHello comes from the
        // session's holder; lost to a concurrent resumption, it is declined.
        const store = tickets.store;
        return callHook('session', () => store.take(offer.identities[i]!.identity, now), (taken) =>
          taken && constantTimeEqual(taken.psk, accepted.ticket.psk) ? ready(accepted) : attempt(i + 1),
        );
      });
    };
    return attempt(0);
  }

  /**
   * One offered PSK against the ticket it names: usable for this connection, and its binder
   * right (a wrong one is decrypt_error). Undefined to try the next.
   */
  #checkOfferedPsk(
    hello: Decoded<ClientHello>,
    suite: CipherSuite,
    transcriptBefore: RunningHash | undefined,
    offer: PreSharedKeyOffer,
    i: number,
    ticket: ServerSession,
    now: number,
  ): _AcceptedPsk | undefined {
    if (CIPHER_SUITES[ticket.cipherSuite].hash !== suite.hash) return undefined;
    // A ticket from a server of the fleet whose clock runs a little ahead is still good.
    if (now + _FRESHNESS_WINDOW_MS < ticket.issuedAt || now - ticket.issuedAt >= ticket.lifetime * 1000) return undefined;
    // RFC 8446 4.6.1: resumption renews no authentication: 7 days after the full handshake
    // (or once the client certificate expired) the chain of resumptions ends.
    if (now - ticket.authenticatedAt >= MAX_TICKET_LIFETIME * 1000) return undefined;
    if (ticket.clientNotAfter !== undefined && now > ticket.clientNotAfter) return undefined;
    // RFC 8446 4.4.2.4: a server that requires a client certificate does not let a session
    // without one stand in for it.
    if (this.#config.clientAuth === 'required' && ticket.clientCertificates.length === 0) return undefined;
    if (ticket.serverName !== _serverName(hello)) return undefined;
    // RFC 8446 4.2.11.2: the binder covers the transcript up to the truncated ClientHello.
    const transcript = (transcriptBefore ? transcriptBefore.clone() : this.#provider.hash(suite.hash).create()).update(truncatedClientHello(hello.raw, hello));
    const early = EarlySecret.fromPsk(this.#provider, suite.hash, ticket.psk);
    const binderKey = early.binderKey('resumption');
    early.destroy();
    try {
      if (!verifyFinished(this.#provider, suite.hash, binderKey, transcript.digest(), offer.binders[i]!)) {
        throw _localAlert('decrypt_error', 'the PSK binder does not verify (RFC 8446 4.2.11.2)');
      }
    } finally {
      binderKey.fill(0);
    }
    return { index: i, ticket, binder: offer.binders[i]!, obfuscatedAge: offer.identities[i]!.obfuscatedTicketAge, now };
  }

  /**
   * NewSessionTicket messages after the client's Finished (RFC 8446 4.6.1). Each session carries
   * the client's certificates (`sessionClientChain`: none when they are too large to keep) and
   * the time of the full handshake, inherited by tickets of resumed connections.
   */
  #issueTickets(
    suite: CipherSuite,
    resumptionMasterSecret: Uint8Array,
    flight: _Flight,
    peerChain: readonly X509Certificate[],
    peerScheme: SignatureScheme | undefined,
  ): Step<void> {
    const tickets = this.#config.tickets;
    const info = flight.info;
    if (!tickets || tickets.count === 0) return ready(undefined);
    // RFC 8446 4.2.9: "Servers SHOULD NOT send NewSessionTicket with tickets that are not
    // compatible with the advertised modes": without psk_dhe_ke the client could never resume one.
    if (!flight.info.clientTakesTickets) return ready(undefined);
    const resumed = flight.resumedIdentity;
    const clientCertificates = resumed ? resumed.clientCertificates : sessionClientChain(peerChain.map((c) => c.raw));
    if (!clientCertificates) return ready(undefined);
    const clientNotAfter = resumed ? resumed.clientNotAfter : peerChain[0]?.notAfter;
    const clientSignatureScheme = resumed ? resumed.clientSignatureScheme : peerScheme;
    const provider = this.#provider;
    const now = this.#ctx.engine.platform.clock.now();
    const authenticatedAt = resumed ? resumed.authenticatedAt : now;
    const maxEarlyDataSize = this.#config.earlyData?.maxSize ?? 0;
    const store = tickets.store;
    const issue = (i: number, key: TicketKey | undefined): Step<void> => {
      if (i >= tickets.count) return ready(undefined);
      // RFC 8446 4.6.1: a nonce unique among this connection's tickets.
      const ticketNonce = Uint8Array.of(i);
      const age = provider.random(4, 'ticket_age_add');
      const ticketAgeAdd = ((age[0]! << 24) | (age[1]! << 16) | (age[2]! << 8) | age[3]!) >>> 0;
      const psk = resumptionPsk(provider, suite.hash, resumptionMasterSecret, ticketNonce);
      const session: ServerSession = {
        cipherSuite: suite.name,
        psk,
        ticketAgeAdd,
        issuedAt: now,
        lifetime: tickets.lifetime,
        serverName: info.serverName,
        alpn: info.alpn,
        maxEarlyDataSize,
        authenticatedAt,
        clientCertificates,
        clientNotAfter,
        clientSignatureScheme,
      };
      const send = (ticket: Uint8Array): Step<void> => {
        this.#ctx.sendHandshake(
          encodeNewSessionTicket({
            type: 'new_session_ticket',
            ticketLifetime: tickets.lifetime,
            ticketAgeAdd,
            ticketNonce,
            ticket,
            extensions: [
              ...(maxEarlyDataSize > 0 ? [{ type: 'early_data' as const, maxEarlyDataSize }] : []),
              // RFC 8701 4: a GREASE extension the client must ignore, picked by public random bytes.
              ...(this.#config.grease ? [{ type: GREASE_VALUES[age[3]! & 0x0f]!, data: new Uint8Array(0) }] : []),
            ],
          }),
        );
        return issue(i + 1, key);
      };
      if (key) {
        const ticket = sealTicket(provider, key, provider.random(12, 'ticket_iv'), session);
        psk.fill(0);
        return send(ticket);
      }
      // Stateful: the ticket is the store's key for the session (which keeps the PSK); it goes
      // out once the store has the session.
      const id = provider.random(32, 'ticket_id');
      return callHook('session', () => store!.put(id.slice(), session), () => send(id));
    };
    if (store) return issue(0, undefined);
    // Stateless: every ticket is sealed with the source's current key; a source that has none
    // (a shared store out of reach) means no tickets this time.
    return callHook('ticket-key', () => tickets.keys.current(now), (key) => (key ? issue(0, key) : ready(undefined)));
  }

  /**
   * Sends ServerHello and the server's encrypted flight (RFC 8446 2), once the provider answered
   * the client's share (at once, or after `resume()` for an asynchronous provider).
   */
  #respond(hello: Decoded<ClientHello>, choice: _Choice, clientShare: KeyShareEntry, transcript: RunningHash, psk: _AcceptedPsk | undefined): Step<ServerState> {
    const { group } = choice;
    // The server random is drawn before the key share, the order RFC 8448's traces record.
    const random = this.#provider.random(32, 'server_random');
    return callProvider(
      () => this.#kx.respond(group, clientShare.keyExchange),
      // RFC 8446 4.2.8.1/4.2.8.2: an invalid share is illegal_parameter.
      (error) => (error instanceof InvalidKeyShareError ? _localAlert('illegal_parameter', error.message, error) : error),
      (response) => this.#serverHello(hello, choice, transcript, psk, random, response),
      (late) => late.sharedSecret.fill(0),
    );
  }

  /** ServerHello with our key share, the handshake keys, then the encrypted flight. */
  #serverHello(
    hello: Decoded<ClientHello>,
    choice: _Choice,
    transcript: RunningHash,
    psk: _AcceptedPsk | undefined,
    random: Uint8Array,
    response: KeyShareResponse,
  ): Step<ServerState> {
    const ctx = this.#ctx;
    const config = this.#config;
    const { suite, group } = choice;
    const serverHello = encodeServerHello({
      type: 'server_hello',
      legacyVersion: LEGACY_VERSION,
      random,
      legacySessionIdEcho: hello.legacySessionId,
      cipherSuite: suite.code,
      extensions: [
        // pre_shared_key before key_share, the order of RFC 8448 4 (it carries no meaning;
        // following it makes that trace reproducible byte for byte).
        ...(psk ? [{ type: 'pre_shared_key' as const, selectedIdentity: psk.index }] : []),
        { type: 'key_share', serverShare: { group: NAMED_GROUP[group], keyExchange: response.publicShare } },
        { type: 'supported_versions', selectedVersion: _TLS13 },
      ],
    });
    ctx.sendHandshake(serverHello);
    if (hello.legacySessionId.length > 0) ctx.sendChangeCipherSpec();
    const early = psk ? EarlySecret.fromPsk(this.#provider, suite.hash, psk.ticket.psk) : EarlySecret.withoutPsk(this.#provider, suite.hash);
    // RFC 8446 7.1: client_early_traffic_secret hashes the ClientHello alone; derived only when
    // 0-RTT may be accepted below, before the Early Secret is consumed.
    const mayAcceptEarly = psk !== undefined && config.earlyData !== undefined && findExtension(hello.extensions, 'early_data') !== undefined;
    const clientEarlySecret = mayAcceptEarly ? early.clientEarlyTrafficSecret(transcript.digest()) : undefined;
    transcript.update(serverHello);

    const handshakeSecret = early.handshake(response.sharedSecret);
    // The (EC)DHE secret lives on only inside the Handshake Secret; this copy must not.
    response.sharedSecret.fill(0);
    const helloHash = transcript.digest();
    const clientHandshakeSecret = handshakeSecret.clientHandshakeTrafficSecret(helloHash);
    const serverHandshakeSecret = handshakeSecret.serverHandshakeTrafficSecret(helloHash);
    ctx.keyLog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', hello.random, clientHandshakeSecret);
    ctx.keyLog('SERVER_HANDSHAKE_TRAFFIC_SECRET', hello.random, serverHandshakeSecret);
    ctx.setFinishedLength(suite.hashLength);
    ctx.setWriteKey(suite, serverHandshakeSecret);

    const draft: _FlightDraft = { hello, choice, psk, transcript, random, handshakeSecret, clientHandshakeSecret, serverHandshakeSecret, clientEarlySecret };
    // These secrets are wiped however the flight ends, also after a hook parked it (the replay
    // store's answer, the signer's signature).
    return withCleanup(
      () => {
        const alpn = this.#chooseAlpn(hello);
        return andThen(this.#acceptEarlyData(hello, psk, suite, alpn), (acceptEarly) => this.#encryptedFlight(draft, alpn, acceptEarly));
      },
      () => {
        serverHandshakeSecret.fill(0);
        clientEarlySecret?.fill(0);
        handshakeSecret.destroy();
      },
    );
  }

  /**
   * The encrypted part of the server's flight: EncryptedExtensions, [CertificateRequest],
   * [Certificate, CertificateVerify] (the signer may answer later), then Finished.
   */
  #encryptedFlight(draft: _FlightDraft, alpn: string | undefined, acceptEarly: boolean): Step<ServerState> {
    const ctx = this.#ctx;
    const config = this.#config;
    const { hello, choice, psk, transcript, random, clientEarlySecret, clientHandshakeSecret } = draft;
    const { suite, scheme } = choice;
    if (acceptEarly && clientEarlySecret) {
      // RFC 8446 2.3: the client's 0-RTT records, then its EndOfEarlyData, come under
      // client_early_traffic_secret; its handshake key follows EndOfEarlyData.
      ctx.keyLog('CLIENT_EARLY_TRAFFIC_SECRET', hello.random, clientEarlySecret);
      ctx.setReadKey(suite, clientEarlySecret);
      ctx.acceptEarlyData(Math.min(psk!.ticket.maxEarlyDataSize, this.#config.earlyData!.maxSize));
    } else {
      ctx.setReadKey(suite, clientHandshakeSecret);
      this.#skipEarlyData(hello);
    }
    const serverName = this.#encryptedExtensions(hello, transcript, alpn, acceptEarly, psk !== undefined);
    // RFC 8446 2.2: a PSK handshake authenticates with the PSK: no certificate messages.
    if (config.clientAuth !== 'none' && !psk) {
      const request = encodeCertificateRequest({
        type: 'certificate_request',
        certificateRequestContext: new Uint8Array(0),
        extensions: [
          // RFC 8701 4: GREASE (a scheme and an extension type, from the public server random).
          { type: 'signature_algorithms', supportedSignatureAlgorithms: [...(config.grease ? [GREASE_VALUES[random[1]! & 0x0f]!] : []), ...config.advertisedSchemes] },
          // RFC 8446 4.2.4: the roots this server accepts, to help the client choose a certificate.
          ...(config.certificateAuthorities ? [{ type: 'certificate_authorities' as const, authorities: config.certificateAuthorities }] : []),
          // RFC 8879 3: the client may send its Certificate compressed with one of these.
          ...(config.certificateCompression.length > 0 ? [{ type: 'compress_certificate' as const, algorithms: config.certificateCompression }] : []),
          ...(config.grease ? [{ type: GREASE_VALUES[random[0]! & 0x0f]!, data: new Uint8Array(0) }] : []),
        ],
      });
      ctx.sendHandshake(request);
      transcript.update(request);
    }
    if (!psk) {
      const certificate = encodeCertificate({
        type: 'certificate',
        certificateRequestContext: new Uint8Array(0),
        certificateList: config.identity.chain.map((certData) => ({ certData, extensions: [] })),
      });
      // RFC 8879 3, 4: compressed with our most preferred algorithm the client offers, when
      // that is smaller (made once per config); the transcript takes the message as sent.
      const offered = findExtension(hello.extensions, 'compress_certificate')?.algorithms ?? [];
      const algorithm = config.certificateCompression.find((a) => offered.includes(a));
      const message = (algorithm !== undefined && config.compressedCertificates.get('server-chain', certificate, algorithm)) || certificate;
      ctx.sendHandshake(message);
      transcript.update(message);
    }
    const signed: Step<void> = psk
      ? ready(undefined)
      : andThen(signCertificateVerify(config.identity, scheme, certificateVerifyContent('server', transcript.digest())), (signature) => {
          const verify = encodeCertificateVerify({ type: 'certificate_verify', algorithm: SIGNATURE_SCHEME[scheme], signature });
          ctx.sendHandshake(verify);
          transcript.update(verify);
          return ready(undefined);
        });
    return andThen(signed, () => ready(this.#serverFinished(draft, alpn, acceptEarly, serverName)));
  }

  /** The server's Finished and application keys: the flight is complete, the client's is next. */
  #serverFinished(draft: _FlightDraft, alpn: string | undefined, acceptEarly: boolean, serverName: string | undefined): ServerState {
    const ctx = this.#ctx;
    const config = this.#config;
    const { hello, psk, transcript, handshakeSecret, clientHandshakeSecret, serverHandshakeSecret } = draft;
    const { suite, group, scheme } = draft.choice;
    const finished = encodeFinished({ type: 'finished', verifyData: finishedVerifyData(this.#provider, suite.hash, serverHandshakeSecret, transcript.digest()) });
    ctx.sendHandshake(finished);
    transcript.update(finished);

    const throughServerFinished = transcript.digest();
    const master = handshakeSecret.master();
    const serverApplicationSecret = master.serverApplicationTrafficSecret(throughServerFinished);
    const clientApplicationSecret = master.clientApplicationTrafficSecret(throughServerFinished);
    const exporterMasterSecret = master.exporterMasterSecret(throughServerFinished);
    ctx.keyLog('SERVER_TRAFFIC_SECRET_0', hello.random, serverApplicationSecret);
    ctx.keyLog('CLIENT_TRAFFIC_SECRET_0', hello.random, clientApplicationSecret);
    ctx.keyLog('EXPORTER_SECRET', hello.random, exporterMasterSecret);
    ctx.setWriteKey(suite, serverApplicationSecret);
    serverApplicationSecret.fill(0);
    const flight: _Flight = {
      suite,
      transcript,
      clientHandshakeSecret,
      clientApplicationSecret,
      exporterMasterSecret,
      masterSecret: master,
      clientRandom: hello.random,
      resumedIdentity: psk
        ? {
            authenticatedAt: psk.ticket.authenticatedAt,
            clientCertificates: psk.ticket.clientCertificates,
            clientNotAfter: psk.ticket.clientNotAfter,
            clientSignatureScheme: psk.ticket.clientSignatureScheme,
          }
        : undefined,
      info: {
        group,
        scheme: psk ? undefined : scheme,
        alpn,
        serverName,
        resumed: psk !== undefined,
        earlyDataAccepted: acceptEarly,
        clientTakesTickets: findExtension(hello.extensions, 'psk_key_exchange_modes')?.keModes.includes(PSK_KEY_EXCHANGE_MODE.psk_dhe_ke) ?? false,
        postHandshakeAuth: findExtension(hello.extensions, 'post_handshake_auth') !== undefined,
      },
    };
    if (acceptEarly) return { kind: 'ExpectEndOfEarlyData', flight };
    return config.clientAuth === 'none' || psk ? { kind: 'ExpectFinished', flight, peerChain: [] } : { kind: 'ExpectCertificate', flight };
  }

  /** The ALPN protocol to select (RFC 7301 3.2), if the client offers ALPN and this server speaks it. */
  #chooseAlpn(hello: Decoded<ClientHello>): string | undefined {
    const config = this.#config;
    const offered = findExtension(hello.extensions, 'application_layer_protocol_negotiation');
    if (!offered || config.alpn.length === 0) return undefined;
    const names = offered.protocolNameList.map((p) => bytesToAscii(p));
    const alpn = config.alpn.find((p) => names.includes(p));
    // RFC 7301 3.2: no protocol in common is a fatal no_application_protocol.
    if (alpn === undefined) throw _localAlert('no_application_protocol', 'no ALPN protocol in common (RFC 7301 3.2)');
    return alpn;
  }

  /** EncryptedExtensions: the answers to the ClientHello's extensions (RFC 8446 4.3.1); returns the SNI used. */
  #encryptedExtensions(hello: Decoded<ClientHello>, transcript: RunningHash, alpn: string | undefined, earlyData: boolean, resumed: boolean): string | undefined {
    const config = this.#config;
    const extensions: EncryptedExtensionsExtension[] = [];
    if (config.advertisedGroups) extensions.push({ type: 'supported_groups', namedGroupList: config.advertisedGroups });
    const sizeLimit = findExtension(hello.extensions, 'record_size_limit');
    if (sizeLimit) {
      // RFC 8449 4: our records towards the client carry at most its limit, content type included.
      this.#ctx.setPeerRecordLimit(sizeLimit.recordSizeLimit - 1);
      extensions.push({ type: 'record_size_limit', recordSizeLimit: Math.max(MIN_RECORD_SIZE_LIMIT, MAX_PLAINTEXT_LENGTH + 1) });
    }
    let serverName: string | undefined;
    const sni = findExtension(hello.extensions, 'server_name');
    if (sni) {
      const name = sni.serverNameList.find((n) => n.nameType === 'host_name');
      if (name && 'hostName' in name) {
        serverName = name.hostName;
        // RFC 6066 3: a server that used the name answers with an empty server_name, but "When
        // resuming a session, the server MUST NOT include a server_name extension".
        if (!resumed) extensions.push({ type: 'server_name' });
      }
    }
    if (alpn !== undefined) extensions.push({ type: 'application_layer_protocol_negotiation', protocolName: asciiToBytes(alpn) });
    // RFC 8446 4.2.10: an empty early_data extension accepts the client's 0-RTT data.
    if (earlyData) extensions.push({ type: 'early_data' });
    const message = encodeEncryptedExtensions({ type: 'encrypted_extensions', extensions });
    this.#ctx.sendHandshake(message);
    transcript.update(message);
    return serverName;
  }

  // -------------------------------------------------------------------------------------------
  // The client's flight
  // -------------------------------------------------------------------------------------------

  /** RFC 8446 4.5: EndOfEarlyData ends the 0-RTT data; the client's handshake key follows. */
  #endOfEarlyData(flight: _Flight, raw: Uint8Array): ServerState {
    flight.transcript.update(raw);
    this.#ctx.endEarlyData();
    this.#ctx.setReadKey(flight.suite, flight.clientHandshakeSecret);
    return { kind: 'ExpectFinished', flight, peerChain: [] };
  }

  #certificate(flight: _Flight, message: Decoded<WireHandshakeMessage & { type: 'certificate' }>): ServerState {
    // RFC 8446 4.4.2: the context echoes the CertificateRequest's (empty in the handshake).
    if (message.certificateRequestContext.length !== 0) {
      throw _localAlert('illegal_parameter', "the client's certificate_request_context does not match (RFC 8446 4.4.2)");
    }
    // RFC 8446 4.4.2: the client's extensions must answer ones in our CertificateRequest, which
    // asks for none that a certificate entry may carry; any is unsupported_extension (4.2).
    for (const entry of message.certificateList) checkSolicited(entry.extensions, [], 'certificate');
    flight.transcript.update(message.raw);
    if (message.certificateList.length === 0) {
      // RFC 8446 4.4.2.4: without a certificate the server may continue or abort with
      // certificate_required.
      if (this.#config.clientAuth === 'required') throw _localAlert('certificate_required', 'the client sent no certificate');
      return { kind: 'ExpectFinished', flight, peerChain: [] };
    }
    const chain = parsePeerChain(message, this.#config.limits);
    const verification = beginChainVerification(this.#ctx.engine, this.#config, chain, undefined);
    return { kind: 'ExpectCertificateVerify', flight, chain, verification };
  }

  #certificateVerify(state: Extract<ServerState, { kind: 'ExpectCertificateVerify' }>, message: Decoded<WireHandshakeMessage & { type: 'certificate_verify' }>): Step<ServerState> {
    const { flight } = state;
    // With an asynchronous provider the client's signature is verified alongside the chain's.
    const verify = () =>
      checkCertificateVerify(this.#ctx.engine, message, state.chain[0]!.publicKey!, this.#config.verifySchemes, 'client', flight.transcript.digest(), this.#config.minRsaBits);
    return afterChainVerdict(state.verification, verify, (verdict, peerScheme) => {
      flight.transcript.update(message.raw);
      // The application's check, once the client proved it holds the leaf's key.
      const next: ServerState = { kind: 'ExpectFinished', flight, peerChain: state.chain, peerScheme };
      return andThen(runVerifyPeer(this.#config, state.chain, flight.info.serverName, verdict, false), () => ready(next));
    });
  }

  #finished(
    flight: _Flight,
    peerChain: readonly X509Certificate[],
    peerScheme: SignatureScheme | undefined,
    message: Decoded<WireHandshakeMessage & { type: 'finished' }>,
  ): Step<ServerState> {
    const { suite, transcript } = flight;
    // RFC 8446 4.4.4: a wrong Finished is decrypt_error.
    if (!verifyFinished(this.#provider, suite.hash, flight.clientHandshakeSecret, transcript.digest(), message.verifyData)) {
      throw _localAlert('decrypt_error', "the client's Finished does not match the transcript (RFC 8446 4.4.4)");
    }
    transcript.update(message.raw);
    this.#ctx.allowChangeCipherSpec(false);
    this.#ctx.setReadKey(suite, flight.clientApplicationSecret);
    const resumptionMasterSecret = flight.masterSecret.resumptionMasterSecret(transcript.digest());
    // Ticket keys and session stores may answer later; the handshake completes once the tickets are out.
    return onFailure(
      () => andThen(this.#issueTickets(suite, resumptionMasterSecret, flight, peerChain, peerScheme), () => ready(this.#complete(flight, resumptionMasterSecret, peerChain, peerScheme))),
      () => resumptionMasterSecret.fill(0),
    );
  }

  /** The handshake is over: what the connection keeps of it. */
  #complete(flight: _Flight, resumptionMasterSecret: Uint8Array, peerChain: readonly X509Certificate[], peerScheme: SignatureScheme | undefined): ServerState {
    const { suite, transcript } = flight;
    const exporterMasterSecret = flight.exporterMasterSecret.slice();
    // RFC 8446 4.6.2: what a post-handshake CertificateRequest is checked against.
    const postHandshakeAuth = flight.info.postHandshakeAuth
      ? { suite, hashes: this.#provider, transcript: transcript.clone(), clientApplicationSecret: flight.clientApplicationSecret.slice() }
      : undefined;
    _destroyFlight(flight);
    this.#ctx.complete({
      suite,
      exporterMasterSecret,
      resumptionMasterSecret,
      info: {
        protocol: 'TLSv1.3',
        cipherSuite: suite.name,
        group: flight.info.group,
        signatureScheme: flight.info.scheme,
        // The client's, like peerCertificates: a resumed connection reports its session's.
        peerSignatureScheme: flight.resumedIdentity ? flight.resumedIdentity.clientSignatureScheme : peerScheme,
        alpn: flight.info.alpn,
        serverName: flight.info.serverName,
        // A resumed connection reports the client certificates its session was established with.
        peerCertificates: flight.resumedIdentity ? flight.resumedIdentity.clientCertificates : peerChain.map((c) => c.raw),
        resumed: flight.info.resumed,
        earlyDataAccepted: flight.info.earlyDataAccepted,
        postHandshakeAuth: flight.info.postHandshakeAuth,
      },
      postHandshakeAuth,
      config: this.#config,
    });
    return { kind: 'Done' };
  }
}

/**
 * RFC 8446 B.3.1.4: the obsolete_RESERVED NamedGroup ranges (TLS 1.2 and older curves:
 * sect163k1..secp256k1, the brainpool curves 26-28, the arbitrary explicit curves 0xFF01-0xFF02).
 */
function _isObsoleteGroup(code: number): boolean {
  return (code >= 0x0001 && code <= 0x0016) || (code >= 0x001a && code <= 0x001c) || code === 0xff01 || code === 0xff02;
}

/**
 * The ClientHello's key shares against its supported_groups. RFC 8446 4.2.8: "Clients MUST NOT
 * offer any KeyShareEntry values for groups not listed in the client's "supported_groups"
 * extension. Servers MAY check for violations of these rules and abort the handshake with an
 * "illegal_parameter" alert". RFC 8446 4.2.7: obsolete_RESERVED groups "MUST NOT be offered or
 * negotiated by TLS 1.3 implementations"; a key share for one offers it to TLS 1.3 itself, so it
 * is illegal_parameter too (what tlsfuzzer's test-tls13-obsolete-curves expects). One merely
 * listed in supported_groups is ignored when the client also offers TLS 1.2 or older (it may be
 * there for them); a client offering TLS 1.3 alone has no use for it, so it is illegal_parameter.
 */
function _checkKeyShareGroups(shares: readonly KeyShareEntry[], supportedGroups: readonly number[], versions: readonly number[]): void {
  if (!versions.some((v) => v >= 0x0300 && v <= 0x0303)) {
    const obsolete = supportedGroups.find(_isObsoleteGroup);
    if (obsolete !== undefined) {
      throw _localAlert('illegal_parameter', `supported_groups lists the obsolete group 0x${obsolete.toString(16).padStart(4, '0')}, and the client offers TLS 1.3 only (RFC 8446 4.2.7)`);
    }
  }
  for (const { group } of shares) {
    if (!supportedGroups.includes(group)) {
      throw _localAlert('illegal_parameter', `a key share for group 0x${group.toString(16).padStart(4, '0')}, which supported_groups does not list (RFC 8446 4.2.8)`);
    }
    if (_isObsoleteGroup(group)) {
      throw _localAlert('illegal_parameter', `a key share for the obsolete group 0x${group.toString(16).padStart(4, '0')} (RFC 8446 4.2.7)`);
    }
  }
}

/** The first of the client's cipher suites (its preference order) that is among `enabled`. */
function _firstEnabledSuite(offered: readonly number[], enabled: readonly CipherSuite[]): CipherSuite | undefined {
  for (const code of offered) {
    const suite = enabled.find((s) => s.code === code);
    if (suite) return suite;
  }
  return undefined;
}

/**
 * RFC 8446 4.1.2: "the client MUST send the same ClientHello without modification", except for
 * the extensions in `_RETRY_MAY_CHANGE`; the others must come back byte for byte and in the same
 * order (a cookie may be inserted anywhere, as tlsfuzzer's clients do). pre_shared_key may only
 * drop identities. Any other change is illegal_parameter, as in Go and BoringSSL.
 */
function _checkRetriedHello(first: Decoded<ClientHello>, second: Decoded<ClientHello>): void {
  const changed = (what: string) => _localAlert('illegal_parameter', `the second ClientHello changed ${what} (RFC 8446 4.1.2)`);
  if (!constantTimeEqual(second.random, first.random)) throw changed('random');
  if (!constantTimeEqual(second.legacySessionId, first.legacySessionId)) throw changed('legacy_session_id');
  if (second.cipherSuites.length !== first.cipherSuites.length || second.cipherSuites.some((s, i) => s !== first.cipherSuites[i])) {
    throw changed('cipher_suites');
  }
  // legacy_compression_methods is [0] in both (the decoder refuses anything else).
  if (second.legacyVersion !== first.legacyVersion) throw changed('legacy_version');
  const before = clientHelloRawExtensions(first).filter((e) => !_RETRY_MAY_CHANGE.has(e.type));
  const after = clientHelloRawExtensions(second).filter((e) => !_RETRY_MAY_CHANGE.has(e.type));
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    const x = before[i];
    const y = after[i];
    if (x && y && x.type === y.type && constantTimeEqual(x.data, y.data)) continue;
    const type = x?.type ?? y!.type;
    const how = !y ? 'removed or moved' : !x ? 'added or moved' : x.type !== y.type ? 'moved, added or removed' : 'altered';
    throw changed(`its extensions (${extensionTypeName(type) ?? `extension ${type}`} ${how})`);
  }
  const offered = findExtension(first.extensions, 'pre_shared_key');
  const retried = findExtension(second.extensions, 'pre_shared_key');
  if (retried) {
    if (!offered) throw changed('its extensions (pre_shared_key added)');
    // Identities may only be removed (those incompatible with the HelloRetryRequest's suite).
    let from = 0;
    for (const { identity } of retried.identities) {
      while (from < offered.identities.length && !constantTimeEqual(offered.identities[from]!.identity, identity)) from++;
      if (from++ >= offered.identities.length) throw changed('pre_shared_key (an identity that was not offered first)');
    }
  }
}


/** The ticket a PSK identity names: from the session store, or opened with the key its id names. */
function _lookUpTicket(primitives: Pick<TlsPrimitives, 'aeadKey'>, tickets: NonNullable<ResolvedServerConfig['tickets']>, identity: Uint8Array, now: number): Step<ServerSession | undefined> {
  const store = tickets.store;
  if (store) return callHook('session', () => store.get(identity, now), (session) => ready(session ?? undefined));
  const id = ticketKeyId(identity);
  if (id === undefined) return ready(undefined);
  return callHook('ticket-key', () => tickets.keys.find(id, now), (key) => ready(key ? openSealedTicket(primitives, key, identity) : undefined));
}

/** What `onClientHello` sees of a ClientHello: the names sandtls knows, in the client's order. */
function _clientHelloInfo(hello: Decoded<ClientHello>): ClientHelloInfo {
  const alpn = findExtension(hello.extensions, 'application_layer_protocol_negotiation')?.protocolNameList.map((p) => bytesToAscii(p)).filter((p): p is string => p !== undefined) ?? [];
  const schemes = findExtension(hello.extensions, 'signature_algorithms')?.supportedSignatureAlgorithms ?? [];
  const groups = findExtension(hello.extensions, 'supported_groups')?.namedGroupList ?? [];
  return Object.freeze({
    serverName: _serverName(hello),
    alpn: Object.freeze(alpn),
    signatureSchemes: Object.freeze(schemes.map(supportedSignatureScheme).filter((x): x is SignatureScheme => x !== undefined)),
    groups: Object.freeze(groups.map(supportedNamedGroup).filter((x): x is NamedGroup => x !== undefined)),
    cipherSuites: Object.freeze(hello.cipherSuites.map((code) => cipherSuiteByCode(code)?.name).filter((x): x is CipherSuiteName => x !== undefined)),
    raw: hello.raw,
  });
}

/** RFC 8446 6.2: a message that is valid but out of order. */
function _unexpected(state: ServerState, message: Decoded<WireHandshakeMessage>): never {
  throw _localAlert('unexpected_message', `${message.type} while in ${state.kind}`);
}

function _destroyFlight(flight: _Flight): void {
  flight.clientHandshakeSecret.fill(0);
  flight.clientApplicationSecret.fill(0);
  flight.exporterMasterSecret.fill(0);
  flight.masterSecret.destroy();
}

function _destroyState(state: ServerState): void {
  switch (state.kind) {
    case 'ExpectEndOfEarlyData':
    case 'ExpectCertificate':
    case 'ExpectCertificateVerify':
    case 'ExpectFinished':
      _destroyFlight(state.flight);
      return;
    default:
      return;
  }
}
