/**
 * The sans-IO TLS 1.3 connection: bytes in (`receive`), bytes out (`takeOutgoing`), application
 * data through `send`/`read`. It owns what both sides share: the deframer, the record
 * protection of each direction, handshake-message reassembly, alerts, KeyUpdate, exporters and
 * close_notify. The handshake itself is a typestate machine in `client.ts` or `server.ts`,
 * driven through the {@link HandshakeContext} this class gives it.
 *
 * Nothing here does I/O, schedules work or returns a promise; `receive()` never throws.
 * @module
 */
import { concatBytes, plainBytes } from '../crypto/bytes.js';
import type { NamedGroup } from '../crypto/kx.js';
import type { SignatureScheme } from '../crypto/sig.js';
import type { Engine } from '../engine.js';
import type { ResolvedClientConfig, ResolvedServerConfig } from './config.js';
import { ALERT, ALERT_LEVEL, CONTENT_TYPE, HANDSHAKE_TYPE, signatureSchemeName, type SignatureSchemeName } from './enums.js';
import { TlsAlertError, TlsStateError, _localAlert, _peerAlert, _toLocalAlert } from './errors.js';
import { exporter, keyLogLine, type KeyLogLabel } from './key-schedule.js';
import { andThen, ready, type PendingOperation, type Step, type WaitingStep } from './pending.js';
import { decodeHandshake, encodeKeyUpdate, type Decoded, type NewSessionTicket, type WireHandshakeMessage } from './messages.js';
import { findExtension } from './msgs/extensions.js';
import { HANDSHAKE_HEADER_LENGTH, maxHandshakeBodyLength } from './msgs/handshake.js';
import {
  ClientPostHandshakeAuth,
  ServerPostHandshakeAuth,
  type ClientCertificateRequestOptions,
  type PostHandshakeAuthBase,
} from './post-handshake-auth.js';
import {
  MAX_PLAINTEXT_LENGTH,
  RecordProtection,
  RecordError,
  RecordReader,
  encodePlaintextRecord,
  type OpenedRecord,
  type RecordContentType,
  type TlsRecord,
} from './record.js';
import type { CipherSuite, CipherSuiteName } from './suites.js';
import { resolveTrace, Tracer, type TraceOption } from './trace.js';

/** Where a connection is in its life. */
export type ConnectionState = 'handshaking' | 'connected' | 'closed' | 'failed';

/** What the handshake negotiated; available once `state` is `'connected'`. */
export interface ConnectionInfo {
  readonly protocol: 'TLSv1.3';
  readonly cipherSuite: CipherSuiteName;
  /** The key exchange group (undefined only for a PSK-only resumption). */
  readonly group: NamedGroup | undefined;
  /**
   * The scheme of the server's CertificateVerify in this handshake, on both sides (undefined when
   * resumed: the server did not sign). For the peer's scheme see `peerSignatureScheme`.
   */
  readonly signatureScheme: SignatureScheme | undefined;
  /**
   * The scheme of the peer's CertificateVerify: on a client the server's, on a server the
   * client's (undefined when the client sent no certificate). A resumed connection reports the
   * scheme of the full handshake its session descends from, as it reports `peerCertificates`
   * (BoringSSL's SSL_get_peer_signature_algorithm does the same).
   */
  readonly peerSignatureScheme: SignatureScheme | undefined;
  /** The ALPN protocol both sides agreed on, if any. */
  readonly alpn: string | undefined;
  /** The server name the client asked for (SNI), if any. */
  readonly serverName: string | undefined;
  /**
   * The peer's certificate chain as DER, leaf first (empty when the peer sent none). A resumed
   * client reports the chain of the handshake its session came from.
   */
  readonly peerCertificates: readonly Uint8Array[];
  readonly resumed: boolean;
  readonly earlyDataAccepted: boolean;
  /**
   * Whether post-handshake client authentication is possible (RFC 8446 4.6.2): the client offered
   * post_handshake_auth. A server may then call `requestClientCertificate()`.
   */
  readonly postHandshakeAuth: boolean;
}

/**
 * The verify_data of the handshake's two Finished messages (RFC 8446 4.4.4): MACs over the
 * transcript, what node:tls's `getFinished()` and `getPeerFinished()` return. Not secret: they
 * prove knowledge of the handshake secrets without revealing them (TLS 1.2 sent them as the
 * tls-unique channel binding; RFC 9266 prefers the exporter for TLS 1.3).
 */
export interface FinishedMessages {
  /** This side's Finished.verify_data. */
  readonly local: Uint8Array;
  /** The peer's Finished.verify_data. */
  readonly peer: Uint8Array;
}

/** What a finished handshake leaves to the connection. */
export interface HandshakeResult {
  readonly info: ConnectionInfo;
  readonly suite: CipherSuite;
  /** exporter_master_secret (RFC 8446 7.5); the connection owns and wipes it. */
  readonly exporterMasterSecret: Uint8Array;
  /** resumption_master_secret (RFC 8446 7.1), for session tickets. */
  readonly resumptionMasterSecret: Uint8Array;
  /** A client's handler of NewSessionTicket messages (undefined: tickets are checked and dropped). */
  readonly onTicket?: ((ticket: NewSessionTicket, resumptionMasterSecret: Uint8Array) => void) | undefined;
  /** A client's early data the server rejected, to send now as ordinary application data. */
  readonly resend?: Uint8Array | undefined;
  /** When post_handshake_auth was offered: the transcript and secret post-handshake authentication needs. */
  readonly postHandshakeAuth?: PostHandshakeAuthBase | undefined;
  /** A server's configuration when `onClientHello` chose another than the connection's. */
  readonly config?: ResolvedServerConfig | undefined;
}

/**
 * What the handshake state machines may do to the connection. They never touch records or
 * buffers directly: they hand over messages and keys.
 */
export interface HandshakeContext {
  readonly engine: Engine;
  /**
   * Queues one whole handshake message under the current write protection (or in plaintext).
   * With `legacyRecordVersion` (the first ClientHello only, RFC 8446 5.1) it goes out at once in
   * a plaintext record carrying that version.
   */
  sendHandshake(message: Uint8Array, legacyRecordVersion?: number): void;
  /** Sends the dummy change_cipher_spec of RFC 8446 D.4 (once). */
  sendChangeCipherSpec(): void;
  /** Installs the key the peer's next records are protected with (RFC 8446 5.1: no message may span it). */
  setReadKey(suite: CipherSuite, trafficSecret: Uint8Array): void;
  /** Flushes pending handshake messages under the old key, then protects everything after with this one. */
  setWriteKey(suite: CipherSuite, trafficSecret: Uint8Array): void;
  /** Back to plaintext records (a client's early-data key after a HelloRetryRequest). */
  clearWriteKey(): void;
  /** Sends 0-RTT application data under the current (early traffic) write key (RFC 8446 2.3). */
  sendEarlyData(data: Uint8Array): void;
  /** The server accepted 0-RTT: application data may arrive before the handshake ends, up to `maxBytes` (RFC 8446 4.2.10). */
  acceptEarlyData(maxBytes: number): void;
  /** EndOfEarlyData arrived: no more application data until the handshake completes. */
  endEarlyData(): void;
  /** Hash.length of the negotiated suite, once known: the size of Finished.verify_data. */
  setFinishedLength(length: number): void;
  /** The largest plaintext the peer accepts per record (RFC 8449 record_size_limit). */
  setPeerRecordLimit(maxPlaintext: number): void;
  /** Writes an NSS key log line if the caller asked for them. */
  keyLog(label: KeyLogLabel, clientRandom: Uint8Array, secret: Uint8Array): void;
  /**
   * The client offered 0-RTT data this side declines: skip it, up to `budget` bytes of record
   * payload (RFC 8446 4.2.10). `undefined` stops skipping: after a HelloRetryRequest, once the
   * second ClientHello is in, nothing the client sends can be early data any more.
   */
  skipEarlyData(budget: number | undefined): void;
  /** Whether an unprotected change_cipher_spec may arrive now (RFC 8446 5). */
  allowChangeCipherSpec(allowed: boolean): void;
  /**
   * A HelloRetryRequest went out or came in: the peer may send one more change_cipher_spec (a
   * client that sent 0-RTT data sends one after each ClientHello, RFC 8446 D.4). Throws
   * unexpected_message if more handshake data came in the same flight.
   */
  helloRetried(): void;
  /** The handshake is over: application data may flow. */
  complete(result: HandshakeResult): void;
}

/** A handshake state machine: consumes a message, moves to its next state. */
export interface HandshakeMachine {
  /**
   * Sees a whole message's bytes before they are decoded, for checks that must win over decode
   * errors (a TLS 1.2 ServerHello is a protocol_version failure, not a malformed message).
   */
  beforeDecode?(bytes: Uint8Array): void;
  /**
   * Handles one handshake message; throws a TLS error (with its alert) to fail. Returns a waiting
   * step when a hook answered with a Promise: the connection parks until `resume()`.
   */
  handle(message: Decoded<WireHandshakeMessage>): Step<void>;
  /**
   * Sends what goes first (a client's ClientHello), right after the machine is made; a waiting
   * step when the provider's key shares answer with a Promise (the connection parks at once).
   */
  begin?(): Step<void>;
  /** Whether the machine has finished (post-handshake messages go to the connection). */
  readonly done: boolean;
  /** Wipes every handshake secret (on completion or failure). */
  destroy(): void;
}

const _EMPTY = new Uint8Array(0);

/** Records in a row that carry nothing before the peer is cut off (see `#idle`). */
const _MAX_IDLE_RECORDS = 32;

/** Bytes of a fatal alert record: level fatal (2), the description. */
function _alertBody(description: number): Uint8Array {
  const level = description === ALERT.close_notify || description === ALERT.user_canceled ? ALERT_LEVEL.warning : ALERT_LEVEL.fatal;
  return Uint8Array.of(level, description);
}

/**
 * One TLS 1.3 connection, client or server. Create it with `engine.client(config)` or
 * `engine.server(config)`.
 * @example
 * const client = engine.client({ serverName: 'example.com', trustAnchors });
 * socket.write(client.takeOutgoing());             // the ClientHello
 * socket.on('data', (chunk) => {
 *   client.receive(chunk);
 *   const out = client.takeOutgoing(); if (out.length) socket.write(out);
 *   if (client.state === 'connected') client.send(request);
 * });
 */
export class Connection {
  readonly side: 'client' | 'server';
  readonly #engine: Engine;
  readonly #reader = new RecordReader();
  #read: RecordProtection | undefined;
  #write: RecordProtection | undefined;
  #suite: CipherSuite | undefined;
  /** A handshake message arriving across records: its buffer and how much of it has arrived. */
  #held: Uint8Array = _EMPTY;
  #heldLength = 0;
  /** Bytes left in the current record after the message being handled (RFC 8446 5.1 key-change rule). */
  #unprocessed = 0;
  /** Handshake messages waiting to be put into records under the current write key. */
  #handshakeOut: Uint8Array[] = [];
  #out: Uint8Array[] = [];
  #appIn: Uint8Array[] = [];
  #state: ConnectionState = 'handshaking';
  #error: TlsAlertError | undefined;
  #info: ConnectionInfo | undefined;
  #machine: HandshakeMachine | undefined;
  #finishedLength: number | undefined;
  #maxFragment = MAX_PLAINTEXT_LENGTH;
  #ccsAllowed = false;
  /** Bytes of declined 0-RTT data that may still be skipped (RFC 8446 4.2.10); undefined when not skipping. */
  #earlyDataBudget: number | undefined;
  /** Bytes of accepted 0-RTT data that may still arrive (RFC 8446 4.2.10); undefined outside early data. */
  #earlyDataAllowance: number | undefined;
  /** A server that accepted 0-RTT data may send before the client's Finished (see `canSend`). */
  #halfRtt = false;
  /** Records in a row that carried nothing: empty application data, user_canceled, KeyUpdate. */
  #idleRecords = 0;
  #ccsSent = false;
  /** change_cipher_spec records received, and how many the handshake allows (RFC 8446 D.4). */
  #ccsReceived = 0;
  #ccsLimit = 1;
  /** A protected record from the peer has been opened: from now on its alerts are protected too. */
  #protectedReceived = false;
  #peerClosed = false;
  #closeSent = false;
  #exporterSecret: Uint8Array | undefined;
  #resumptionSecret: Uint8Array | undefined;
  #onTicket: HandshakeResult['onTicket'];
  /** A KeyUpdate(update_requested) was answered; no further answer is owed until we send data. */
  #keyUpdateAnswered = false;
  /** We asked the peer to update its keys because our read key is worn (RFC 8446 5.5). */
  #askedPeerToUpdate = false;
  readonly #keyLog: ((line: string) => void) | undefined;
  readonly #limits: ResolvedClientConfig['limits'];
  #config: ResolvedClientConfig | ResolvedServerConfig;
  /** Post-handshake authentication (RFC 8446 4.6.2), when the client offered it. */
  #pha: ServerPostHandshakeAuth | ClientPostHandshakeAuth | undefined;
  /** The handshake trace; undefined when off, and then no trace code runs at all. */
  #trace: Tracer | undefined;
  /** The handshake's Finished verify_data, each side's once sent or received (see `finished`). */
  #localFinished: Uint8Array | undefined;
  #peerFinished: Uint8Array | undefined;
  /** The peer's signature_algorithms in the handshake (its ClientHello, or a server's CertificateRequest). */
  #peerSignatureAlgorithms: readonly number[] = [];
  /** The work parked on a hook's Promise (see `pending`), what it waits for, and its outcome once settled. */
  #waiting: WaitingStep<void> | undefined;
  #pending: PendingOperation | undefined;
  #outcome: { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown } | undefined;
  /** The rest of the record whose handshake message parked the connection, handled on `resume()`. */
  #parkedInput: Uint8Array | undefined;
  /** Bytes `receive()` took while parked (bounded by `limits.maxPendingInput`). */
  #pendingInput = 0;

  /** @internal Use `engine.client()` / `engine.server()`. */
  constructor(
    engine: Engine,
    config: ResolvedClientConfig | ResolvedServerConfig,
    start: (ctx: HandshakeContext) => HandshakeMachine,
  ) {
    this.side = config.side;
    this.#engine = engine;
    this.#keyLog = config.keyLog;
    this.#limits = config.limits;
    this.#config = config;
    if (config.trace) this.#trace = new Tracer({ trace: config.trace, side: config.side, sink: engine.platform.stderr, limits: config.limits });
    try {
      this.#machine = start(this.#context());
      // A client's first flight may wait for the provider's key shares (an asynchronous provider).
      const first = this.#machine.begin?.();
      if (first && !first.ready) this.#park(first, undefined);
      else this.#flushHandshake();
    } catch (error) {
      this.#fail(_toLocalAlert(error));
    }
  }

  /** `'handshaking'`, `'connected'`, `'closed'` (close_notify went both ways) or `'failed'`. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the connection failed: the alert and who sent it. */
  get error(): TlsAlertError | undefined {
    return this.#error;
  }

  /** What the handshake negotiated (undefined until it completes). */
  get info(): ConnectionInfo | undefined {
    return this.#info;
  }

  /** The peer sent close_notify: it will send no more data. */
  get peerClosed(): boolean {
    return this.#peerClosed;
  }

  /** This side sent close_notify: `send()` is no longer possible. */
  get closeSent(): boolean {
    return this.#closeSent;
  }

  /**
   * Whether `send()` may be called now: once connected (until `close()`), and on a server that
   * accepted 0-RTT data as soon as its Finished is out, before the client's (0.5-RTT data, RFC
   * 8446 2.3): the client is the session's holder (its binder proved it) but may be a replay.
   */
  get canSend(): boolean {
    return !this.#closeSent && (this.#state === 'connected' || (this.#state === 'handshaking' && this.#halfRtt && !this.#waiting));
  }

  /** Whether bytes are waiting in `takeOutgoing()`. */
  get wantsWrite(): boolean {
    return this.#out.length > 0;
  }

  /**
   * The verify_data of both Finished messages of the handshake (copies), once it completed;
   * undefined before. Post-handshake authentication's Finished messages are not these.
   * @example
   * const { local, peer } = conn.finished!; // 32 or 48 bytes each, by the suite's hash
   */
  get finished(): FinishedMessages | undefined {
    if (!this.#info || !this.#localFinished || !this.#peerFinished) return undefined;
    return { local: this.#localFinished.slice(), peer: this.#peerFinished.slice() };
  }

  /**
   * The signature schemes both sides can use, in the peer's preference order: those the peer
   * listed in signature_algorithms during the handshake (a client's ClientHello; a server's
   * CertificateRequest, when it asked for a client certificate) that this side advertises too.
   * Empty when the peer sent no list (a client whose server asked for no certificate).
   * node:tls's `getSharedSigalgs()` reports the same (in OpenSSL's names).
   * @example
   * server.sharedSignatureSchemes; // ['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256', ...]
   */
  get sharedSignatureSchemes(): readonly SignatureSchemeName[] {
    const ours = this.#config.advertisedSchemes;
    const shared: SignatureSchemeName[] = [];
    for (const code of this.#peerSignatureAlgorithms) {
      const name = signatureSchemeName(code);
      if (name !== undefined && ours.includes(code) && !shared.includes(name)) shared.push(name);
    }
    return shared;
  }

  /**
   * Feeds bytes from the network. Never throws: if the peer misbehaves the connection becomes
   * `'failed'`, the alert to send is queued in `takeOutgoing()`, and `error` says why.
   * @example
   * conn.receive(chunk);
   */
  receive(bytes: Uint8Array): void {
    if (this.#state === 'failed' || this.#state === 'closed' || this.#peerClosed) return;
    try {
      if (!(bytes instanceof Uint8Array)) throw new TypeError('receive() takes a Uint8Array');
      if (this.#waiting) {
        // Parked on a hook: keep the bytes for `resume()`, within a bound (adapters stop reading).
        this.#pendingInput += bytes.length;
        if (this.#pendingInput > this.#limits.maxPendingInput) {
          throw _localAlert('internal_error', `more than ${this.#limits.maxPendingInput} bytes arrived while waiting for a ${this.#waiting.kind} hook (limits.maxPendingInput)`);
        }
        this.#reader.push(plainBytes(bytes));
        this.#reader.detach(); // kept past this call: not a view of the caller's buffer
        return;
      }
      this.#reader.push(plainBytes(bytes));
      this.#drain();
      // Parked with records of this chunk still queued: they outlive the call, so they get their own memory.
      if (this.#waiting) this.#reader.detach();
    } catch (error) {
      this.#fail(_toLocalAlert(error));
    }
  }

  /**
   * The extension point the handshake waits for, when one answered with a Promise (a `TlsSigner`,
   * `verifyPeer`, `onClientHello`, a `TicketKeySource`, `SessionStore` or `ReplayStore`, or an
   * asynchronous crypto provider's key share or signature, kind `'crypto'`, which may park a
   * client before its ClientHello is out):
   * `{ kind, settled }`; undefined otherwise. Meanwhile `receive()` keeps input for later (up to
   * `limits.maxPendingInput` bytes) and nothing more is sent; once `settled` resolves, call
   * `resume()`. sandtls/node and `connectTls` do this by themselves. A post-handshake answer (a
   * client signing for post-handshake authentication) parks a connected connection the same way;
   * `send()` still works then.
   * @example
   * conn.receive(chunk);
   * while (conn.pending) { await conn.pending.settled; conn.resume(); }
   * socket.write(conn.takeOutgoing());
   */
  get pending(): PendingOperation | undefined {
    return this.#pending;
  }

  /**
   * Continues the handshake where it parked, with the answer of the hook `pending` waited for,
   * then handles the input that arrived meanwhile. Does nothing when nothing is pending or the
   * hook's Promise has not settled yet. Never throws: a rejected hook fails the connection with
   * its alert (see `error`, whose `cause` is the hook's error).
   * @example
   * await conn.pending!.settled; conn.resume(); socket.write(conn.takeOutgoing());
   */
  resume(): void {
    const waiting = this.#waiting;
    const outcome = this.#outcome;
    if (!waiting || !outcome) return;
    this.#waiting = undefined;
    this.#pending = undefined;
    this.#outcome = undefined;
    this.#pendingInput = 0;
    const rest = this.#parkedInput;
    this.#parkedInput = undefined;
    try {
      if (!outcome.ok) {
        waiting.abandon();
        throw waiting.failure(outcome.error);
      }
      // The message that parked still has the rest of its record behind it (RFC 8446 5.1 checks).
      this.#unprocessed = rest?.length ?? 0;
      const next = waiting.resume(outcome.value);
      this.#unprocessed = 0;
      if (!next.ready) {
        this.#park(next, rest);
        return;
      }
      if (rest && rest.length > 0) this.#handshake(rest);
      if (!this.#waiting && this.#state !== 'failed') this.#drain();
    } catch (error) {
      this.#fail(_toLocalAlert(error));
    }
  }

  /** Handles every whole record received, until the connection parks, fails or the peer closed; then sends. */
  #drain(): void {
    for (let record = this.#reader.next(); record; record = this.#reader.next()) {
      this.#record(record);
      if ((this.#state as ConnectionState) === 'failed' || this.#peerClosed || this.#waiting) break;
    }
    // A parked flight goes out whole on resume: the records are the same as without parking.
    if (!this.#waiting) this.#flushHandshake();
  }

  /** Parks on a hook's Promise; `rest` is the unhandled rest of the current record. */
  #park(step: WaitingStep<void>, rest: Uint8Array | undefined): void {
    this.#waiting = step;
    this.#parkedInput = rest;
    this.#outcome = undefined;
    this.#pendingInput = 0;
    const settled = Promise.resolve(step.answer).then(
      (value) => {
        if (this.#waiting === step) this.#outcome = { ok: true, value };
      },
      (error: unknown) => {
        if (this.#waiting === step) this.#outcome = { ok: false, error };
      },
    );
    this.#pending = Object.freeze({ kind: step.kind, settled });
  }

  /**
   * Everything queued for the network since the last call (empty when nothing is).
   * @example
   * const out = conn.takeOutgoing(); if (out.length) socket.write(out);
   */
  takeOutgoing(): Uint8Array {
    const out = this.#out;
    if (out.length === 0) return new Uint8Array(0);
    this.#out = [];
    return out.length === 1 ? out[0]! : concatBytes(...out);
  }

  /**
   * Queues application data, split into records of at most 2^14 bytes. Throws `TlsStateError`
   * unless `canSend`: the handshake is complete (or, on a server that accepted 0-RTT data, its
   * Finished is out) and `close()` has not been called.
   * @example
   * conn.send(new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n'));
   */
  send(data: Uint8Array): void {
    if (!this.canSend) {
      throw new TlsStateError(`cannot send: the connection is ${this.#closeSent ? 'closed for sending' : this.#state}`);
    }
    if (!(data instanceof Uint8Array)) throw new TypeError('send() takes a Uint8Array');
    this.#keyUpdateAnswered = false;
    try {
      const plain = plainBytes(data);
      for (let at = 0; at < plain.length; at += this.#maxFragment) {
        this.#rekeyIfWorn();
        this.#pushRecord(CONTENT_TYPE.application_data, plain.subarray(at, at + this.#maxFragment), this.#write!);
      }
    } catch (error) {
      this.#fail(_toLocalAlert(error));
      throw this.#error!;
    }
  }

  /**
   * The application data received so far (empty when none), in order. On a server that accepted
   * 0-RTT (`maxEarlyDataSize`), early data is readable while `state` is still `'handshaking'`:
   * it may be a replay, so act on it only if that is safe (RFC 8446 8).
   * @example
   * const data = conn.read();
   */
  read(): Uint8Array {
    const chunks = this.#appIn;
    if (chunks.length === 0) return new Uint8Array(0);
    this.#appIn = [];
    return chunks.length === 1 ? chunks[0]! : concatBytes(...chunks);
  }

  /**
   * Queues close_notify (RFC 8446 6.1): no more data will be sent. The peer may still send
   * until its own close_notify arrives; `state` becomes `'closed'` once both have.
   * @example
   * conn.close(); socket.end(conn.takeOutgoing());
   */
  close(): void {
    if (this.#state === 'failed' || this.#closeSent) return;
    // Work parked on a hook will not go on: nothing may be sent after close_notify.
    this.#abandonWaiting();
    try {
      if (this.#state === 'handshaking') {
        // RFC 8446 6.1: user_canceled when abandoning a handshake, then close_notify.
        this.#sendAlert(ALERT.user_canceled);
        this.#machine?.destroy();
        this.#machine = undefined;
        this.#sendAlert(ALERT.close_notify);
        this.#closeSent = true;
        this.#state = 'closed';
        this.#wipe();
        return;
      }
      this.#sendAlert(ALERT.close_notify);
      this.#closeSent = true;
      if (this.#peerClosed) this.#finishClose();
    } catch (error) {
      this.#fail(_toLocalAlert(error));
    }
  }

  /**
   * Sends a KeyUpdate (RFC 8446 4.6.3) and moves to the next sending key; with `requestPeer`
   * the peer is asked to do the same for its direction.
   * @example
   * conn.updateKeys(true);
   */
  updateKeys(requestPeer = false): void {
    if (this.#state !== 'connected' || this.#closeSent) throw new TlsStateError(`cannot update keys: the connection is ${this.#state}`);
    try {
      this.#sendKeyUpdate(requestPeer);
    } catch (error) {
      this.#fail(_toLocalAlert(error));
      throw this.#error!;
    }
  }

  /**
   * Server: asks the client for its certificate after the handshake (RFC 8446 4.6.2), with a
   * CertificateRequest carrying a fresh certificate_request_context; send `takeOutgoing()`. The
   * answer arrives through `receive()`: its chain is verified against `trustAnchors` (client
   * usage) and its CertificateVerify and Finished checked; then `info.peerCertificates` becomes
   * the new chain and `info.peerSignatureScheme` its CertificateVerify's scheme (an empty answer
   * leaves both as they were) and `options.onCertificate` is called.
   * With `required` (the default) an answer without a certificate fails the connection with
   * certificate_required; a bad one fails it with its alert. Application data and KeyUpdates may
   * flow meanwhile. Throws `TlsStateError` unless this is a connected server whose client offered
   * post_handshake_auth (`info.postHandshakeAuth`), with `trustAnchors` (or verification
   * disabled) and fewer than 4 requests unanswered.
   * @example
   * if (conn.info?.postHandshakeAuth) conn.requestClientCertificate({ onCertificate: (chain) => grant(chain[0]) });
   */
  requestClientCertificate(options: ClientCertificateRequestOptions = {}): void {
    if (this.side !== 'server') throw new TlsStateError('only a server requests client certificates');
    if (this.#state !== 'connected' || this.#closeSent || this.#peerClosed) {
      throw new TlsStateError(`cannot request a client certificate: the connection is ${this.#closeSent || this.#peerClosed ? 'closing' : this.#state}`);
    }
    const pha = this.#pha;
    if (!(pha instanceof ServerPostHandshakeAuth)) {
      throw new TlsStateError('cannot request a client certificate: the client did not offer post_handshake_auth (RFC 8446 4.6.2)');
    }
    if (options === null || typeof options !== 'object') throw new TypeError('requestClientCertificate(options): options must be an object');
    try {
      this.#handshakeOut.push(pha.request(options));
      this.#flushHandshake();
    } catch (error) {
      // Misuse leaves the connection as it was; anything else (entropy refused) ends it.
      if (error instanceof TlsStateError) throw error;
      this.#fail(_toLocalAlert(error));
      throw this.#error!;
    }
  }

  /**
   * Turns the handshake trace on (or changes it) from the next record on, or off with `false`:
   * the config's `trace` option at any time (node's `TLSSocket#enableTrace`). Writes go to the
   * engine's `platform.stderr`; throws TlsConfigError for an invalid option.
   * @example
   * conn.setTrace('messages'); // ... conn.setTrace(false);
   */
  setTrace(trace: TraceOption | false): void {
    const resolved = resolveTrace(trace, 'setTrace()');
    this.#trace = resolved && new Tracer({ trace: resolved, side: this.side, sink: this.#engine.platform.stderr, limits: this.#limits });
  }

  /**
   * RFC 8446 7.5 exporter: `length` bytes bound to this connection, `label` and `context`
   * (absent and empty context are the same in TLS 1.3). Both ends get the same bytes.
   * @example
   * const binding = conn.exportKeyingMaterial('EXPORTER-my-protocol', new Uint8Array(0), 32);
   */
  exportKeyingMaterial(label: string, context: Uint8Array | undefined, length: number): Uint8Array {
    if (!this.#exporterSecret || !this.#suite) throw new TlsStateError(`cannot export keying material: the connection is ${this.#state}`);
    if (typeof label !== 'string' || label.length === 0) throw new TlsStateError('exporter label must be a non-empty string');
    if (!Number.isSafeInteger(length) || length < 0 || length > 255 * this.#suite.hashLength) {
      throw new TlsStateError(`exporter length must be 0..${255 * this.#suite.hashLength}`);
    }
    return exporter(this.#engine.crypto, this.#suite.hash, this.#exporterSecret, label, context ?? new Uint8Array(0), length);
  }

  // -------------------------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------------------------

  #record(record: TlsRecord): void {
    if (record.type === CONTENT_TYPE.change_cipher_spec) {
      this.#trace?.record('received', record.type, record.fragment.length, undefined);
      return this.#changeCipherSpec(record);
    }
    let type: RecordContentType;
    let content: Uint8Array;
    if (this.#earlyDataBudget !== undefined && record.type === CONTENT_TYPE.application_data) {
      const opened = this.#skipEarlyData(record);
      if (!opened) {
        this.#trace?.record('received', record.type, record.fragment.length, record.raw.length, 'skipped_early_data');
        return;
      }
      ({ contentType: type, content } = opened);
      this.#trace?.record('received', type, content.length, record.raw.length);
    } else if (this.#read && !this.#plaintextAlertAllowed(record)) {
      if (record.type === CONTENT_TYPE.alert) {
        throw _localAlert('unexpected_message', 'a plaintext alert once records are protected (RFC 8446 5)');
      }
      ({ contentType: type, content } = this.#read.open(record));
      this.#protectedReceived = true;
      // Application data before the handshake completes is the client's 0-RTT data (RFC 8446 2.3).
      const early = type === CONTENT_TYPE.application_data && this.#state === 'handshaking';
      this.#trace?.record('received', type, content.length, record.raw.length, early ? 'early_data' : undefined);
    } else {
      // Before keys: RFC 8446 5.1 plaintext (and the one plaintext alert #plaintextAlertAllowed admits).
      if (record.type === CONTENT_TYPE.application_data) {
        throw _localAlert('unexpected_message', 'application data before the handshake keys (RFC 8446 5)');
      }
      type = record.type;
      // A private copy: decoded hello fields outlive this call, the caller's buffer may not.
      content = record.fragment.slice();
      this.#trace?.record('received', type, content.length, undefined);
    }
    // RFC 8446 5.1: "Handshake messages MUST NOT be interleaved with other record types."
    if (type !== CONTENT_TYPE.handshake && this.#heldLength > 0) {
      throw _localAlert('unexpected_message', 'a record of another type arrived inside a fragmented handshake message (RFC 8446 5.1)');
    }
    switch (type) {
      case CONTENT_TYPE.alert:
        return this.#alert(content);
      case CONTENT_TYPE.handshake:
        return this.#handshake(content);
      case CONTENT_TYPE.application_data:
        return this.#applicationData(content);
      default:
        throw _localAlert('unexpected_message', `record of content type ${type}`);
    }
  }

  /**
   * Whether an unprotected alert may arrive although a read key is installed. Only on a server,
   * during the handshake, before any protected record from the client: a client that could not
   * process our ServerHello has no keys to protect its alert with (tlsfuzzer's
   * test-tls13-unencrypted-alert expects the server to take it). A client never needs the
   * exception: the server protects everything after its ServerHello, so a plaintext alert there
   * is unexpected_message (RFC 8446 5, as Go's crypto/tls answers it), and so is one after the
   * client's first protected record.
   */
  #plaintextAlertAllowed(record: TlsRecord): boolean {
    return record.type === CONTENT_TYPE.alert && this.side === 'server' && this.#state === 'handshaking' && !this.#protectedReceived;
  }

  /**
   * RFC 8446 4.2.10: a server that declines 0-RTT skips the client's early data: records it
   * cannot deprotect (or, before it has a key, every protected record), up to a budget of
   * record payload bytes (at least one per record, so empty records are paid for too); more is
   * unexpected_message. The first record that opens ends the skipping.
   */
  #skipEarlyData(record: TlsRecord): OpenedRecord | undefined {
    if (this.#read) {
      try {
        const opened = this.#read.open(record);
        this.#earlyDataBudget = undefined;
        this.#protectedReceived = true;
        return opened;
      } catch (error) {
        if (!(error instanceof RecordError) || error.alert !== 'bad_record_mac') throw error;
      }
    }
    this.#earlyDataBudget! -= Math.max(1, record.fragment.length);
    if (this.#earlyDataBudget! < 0) {
      throw _localAlert('unexpected_message', 'more skipped early data than the limit (RFC 8446 4.2.10)');
    }
    return undefined;
  }

  #changeCipherSpec(record: TlsRecord): void {
    // RFC 8446 5: a single-byte 0x01 change_cipher_spec between the first ClientHello and the
    // peer's Finished is dropped; any other is unexpected_message. One is all a peer needs (D.4),
    // and a second is refused as by OpenSSL (tlsfuzzer's test-tls13-multiple-ccs-messages);
    // after a HelloRetryRequest one more is taken: a client that sent 0-RTT data sent one after
    // its first ClientHello and may send another before its second (BoGo's client does).
    if (!this.#ccsAllowed || this.#ccsReceived >= this.#ccsLimit) {
      throw _localAlert('unexpected_message', 'change_cipher_spec where RFC 8446 5 does not allow one');
    }
    if (record.fragment.length !== 1 || record.fragment[0] !== 1) {
      throw _localAlert('unexpected_message', 'change_cipher_spec that is not the single byte 0x01 (RFC 8446 5)');
    }
    if (this.#heldLength > 0) {
      throw _localAlert('unexpected_message', 'change_cipher_spec inside a fragmented handshake message (RFC 8446 5.1)');
    }
    this.#ccsReceived++;
  }

  #alert(content: Uint8Array): void {
    // RFC 8446 6: an alert is exactly level + description; alerts are never fragmented.
    if (content.length !== 2) throw _localAlert('decode_error', `alert record of ${content.length} bytes`);
    const description = content[1]!;
    this.#trace?.alert('received', content[0]!, description);
    if (description === ALERT.close_notify) {
      if (this.#state === 'handshaking') {
        // The peer gave up mid-handshake: the connection did not happen.
        this.#fail(_peerAlert(description));
        return;
      }
      this.#peerClosed = true;
      if (this.#closeSent) this.#finishClose();
      return;
    }
    // RFC 8446 6.1: user_canceled is followed by close_notify; nothing to do until then.
    if (description === ALERT.user_canceled) return this.#idle('user_canceled alerts');
    // RFC 8446 6: every other alert is fatal, whatever its level says.
    this.#fail(_peerAlert(description));
  }

  #handshake(content: Uint8Array): void {
    let input = content;
    for (;;) {
      let message: Uint8Array;
      if (this.#heldLength > 0) {
        // Continue the message held from earlier records: its buffer is allocated once, at its
        // exact size, as soon as its header is known (no re-copying per fragment).
        if (this.#heldLength < HANDSHAKE_HEADER_LENGTH) {
          const take = Math.min(HANDSHAKE_HEADER_LENGTH - this.#heldLength, input.length);
          this.#held.set(input.subarray(0, take), this.#heldLength);
          this.#heldLength += take;
          input = input.subarray(take);
          if (this.#heldLength < HANDSHAKE_HEADER_LENGTH) return;
          const total = this.#messageLength(this.#held);
          if (total > this.#held.length) {
            const grown = new Uint8Array(total);
            grown.set(this.#held.subarray(0, this.#heldLength));
            this.#held = grown;
          }
        }
        const take = Math.min(this.#held.length - this.#heldLength, input.length);
        this.#held.set(input.subarray(0, take), this.#heldLength);
        this.#heldLength += take;
        input = input.subarray(take);
        if (this.#heldLength < this.#held.length) return;
        message = this.#held;
        this.#held = _EMPTY;
        this.#heldLength = 0;
      } else {
        if (input.length === 0) return;
        const total = input.length < HANDSHAKE_HEADER_LENGTH ? undefined : this.#messageLength(input);
        if (total === undefined || input.length < total) {
          // Hold a private copy: the record's plaintext buffer is not ours to keep a view of.
          this.#held = new Uint8Array(total ?? HANDSHAKE_HEADER_LENGTH);
          this.#held.set(input);
          this.#heldLength = input.length;
          return;
        }
        message = input.subarray(0, total);
        input = input.subarray(total);
      }
      this.#unprocessed = input.length;
      const step = this.#dispatchHandshake(message);
      this.#unprocessed = 0;
      if (!step.ready) {
        // The record's plaintext is not ours to keep a view of.
        this.#park(step, input.length > 0 ? input.slice() : undefined);
        return;
      }
      if (this.#state === 'failed') return;
    }
  }

  /** The whole length of the message whose header starts `bytes`; refuses one above the limits. */
  #messageLength(bytes: Uint8Array): number {
    const msgType = bytes[0]!;
    const length = (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!;
    // Refuse an oversized message the moment its header arrives, before buffering it.
    const max = maxHandshakeBodyLength(msgType, this.#limits);
    if (length > max) throw _localAlert('decode_error', `handshake message of ${length} bytes exceeds the limit of ${max}`);
    return HANDSHAKE_HEADER_LENGTH + length;
  }

  #dispatchHandshake(bytes: Uint8Array): Step<void> {
    const machine = this.#machine && !this.#machine.done ? this.#machine : undefined;
    machine?.beforeDecode?.(bytes);
    const message = decodeHandshake(bytes, {
      limits: this.#limits,
      ...(this.#finishedLength === undefined ? {} : { finishedLength: this.#finishedLength }),
    });
    this.#trace?.handshake('received', bytes, message);
    if (!machine) return this.#postHandshake(message);
    this.#noteHandshakeMessage(message);
    return andThen(machine.handle(message), () => {
      if (machine.done) {
        machine.destroy();
        if (this.#machine === machine) this.#machine = undefined;
      }
      return ready(undefined);
    });
  }

  /** Keeps what `finished` and `sharedSignatureSchemes` report from the peer's handshake messages. */
  #noteHandshakeMessage(message: Decoded<WireHandshakeMessage>): void {
    if (message.type === 'finished') {
      this.#peerFinished = message.verifyData.slice();
    } else if (message.type === 'client_hello') {
      // After a HelloRetryRequest the second ClientHello's list is the one that counts.
      this.#peerSignatureAlgorithms = findExtension(message.extensions, 'signature_algorithms')?.supportedSignatureAlgorithms ?? [];
    } else if (message.type === 'certificate_request') {
      this.#peerSignatureAlgorithms = findExtension(message.extensions, 'signature_algorithms')?.supportedSignatureAlgorithms ?? [];
    }
  }

  /**
   * Counts a record that moved nothing forward. A peer may send a few (BoringSSL allows 32 in a
   * row); an endless stream of them is a way to burn our CPU, and ends the connection.
   */
  #idle(what: string): void {
    if (++this.#idleRecords > _MAX_IDLE_RECORDS) {
      throw _localAlert('unexpected_message', `too many ${what} in a row without application data`);
    }
  }

  #postHandshake(message: Decoded<WireHandshakeMessage>): Step<void> {
    switch (message.type) {
      case 'key_update': {
        // RFC 8446 4.6.3: the peer's next records use its next key; a request is answered
        // before our next application data (once is enough, however many requests arrive).
        this.#idle('KeyUpdates');
        this.#setReadKeyChecked(() => this.#read!.updateKeys());
        // The client's direction moved on: so does a post-handshake Finished's base key.
        if (this.side === 'server') this.#pha?.clientKeyUpdated();
        if (message.requestUpdate === 'update_requested' && !this.#keyUpdateAnswered && !this.#closeSent) {
          this.#sendKeyUpdate(false);
          this.#keyUpdateAnswered = true;
        }
        return ready(undefined);
      }
      case 'new_session_ticket':
        // RFC 8446 4.6.1: only servers send tickets; a client without onSession drops them.
        if (this.side === 'client') {
          this.#onTicket?.(message, this.#resumptionSecret!);
          return ready(undefined);
        }
        break;
      case 'certificate_request':
        // RFC 8446 4.6.2: answered at once when post_handshake_auth was offered; otherwise
        // unexpected_message. Each answer costs a signature: a server that only asks is idle.
        if (this.#pha instanceof ClientPostHandshakeAuth) {
          this.#idle('CertificateRequests');
          // After our close_notify nothing more can be sent; the request goes unanswered.
          if (this.#closeSent) return ready(undefined);
          return andThen(this.#pha.respond(message), (answer) => {
            this.#handshakeOut.push(...answer);
            this.#flushHandshake();
            return ready(undefined);
          });
        }
        break;
      case 'certificate':
      case 'certificate_verify':
      case 'finished':
        // RFC 8446 4.6.2: a client's answer to a post-handshake CertificateRequest.
        if (this.#pha instanceof ServerPostHandshakeAuth) {
          return andThen(this.#pha.handle(message), (done) => {
            if (done) {
              if (done.peerCertificates.length > 0) {
                this.#info = Object.freeze({ ...this.#info!, peerCertificates: done.peerCertificates, peerSignatureScheme: done.peerSignatureScheme });
              }
              done.onCertificate?.(done.peerCertificates);
            }
            return ready(undefined);
          });
        }
        break;
      default:
        break;
    }
    // RFC 8446 4.6.2: a CertificateRequest to a client that did not offer post_handshake_auth is
    // unexpected_message; so is anything else out of place.
    throw _localAlert('unexpected_message', `${message.type} after the handshake`);
  }

  #applicationData(content: Uint8Array): void {
    if (this.#state !== 'connected') {
      if (this.#earlyDataAllowance === undefined) {
        throw _localAlert('unexpected_message', 'application data before the handshake completed (RFC 8446 2)');
      }
      // RFC 8446 4.2.10: more 0-RTT data than max_early_data_size is unexpected_message.
      this.#earlyDataAllowance -= content.length;
      if (this.#earlyDataAllowance < 0) throw _localAlert('unexpected_message', 'more early data than max_early_data_size (RFC 8446 4.2.10)');
      if (content.length > 0) this.#appIn.push(content);
      return;
    }
    if (content.length === 0) this.#idle('empty application data records');
    else {
      this.#idleRecords = 0;
      this.#appIn.push(content);
    }
    // RFC 8446 5.5: ask the peer for a fresh key before ours to read with wears out.
    if (this.#read!.needsKeyUpdate && !this.#askedPeerToUpdate && !this.#closeSent) {
      this.#askedPeerToUpdate = true;
      this.#sendKeyUpdate(true);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------------------------

  #flushHandshake(): void {
    if (this.#handshakeOut.length === 0) return;
    if (this.#trace) for (const message of this.#handshakeOut) this.#trace.handshake('sent', message);
    const bytes = this.#handshakeOut.length === 1 ? this.#handshakeOut[0]! : concatBytes(...this.#handshakeOut);
    this.#handshakeOut = [];
    if (!this.#write) {
      this.#pushRecord(CONTENT_TYPE.handshake, bytes, undefined);
      return;
    }
    for (let at = 0; at < bytes.length; at += this.#maxFragment) {
      this.#pushRecord(CONTENT_TYPE.handshake, bytes.subarray(at, at + this.#maxFragment), this.#write);
    }
  }

  /**
   * Queues one record: sealed under `protection`, or in plaintext without it. It is traced once
   * queued, so a trace the platform refuses cannot keep it (an alert above all) off the wire.
   */
  #pushRecord(type: RecordContentType, fragment: Uint8Array, protection: RecordProtection | undefined, legacyRecordVersion?: number, early?: boolean): void {
    const record = protection ? protection.seal(type, fragment) : encodePlaintextRecord(type, fragment, legacyRecordVersion);
    this.#out.push(record);
    this.#trace?.record('sent', type, fragment.length, protection ? record.length : undefined, early ? 'early_data' : undefined);
  }

  /** `reason`: why this side raised the alert, for the trace (an error message: never key material). */
  #sendAlert(description: number, reason?: string): void {
    this.#flushHandshake();
    const body = _alertBody(description);
    // A closure alert is traced before it goes: if the trace is refused, the connection fails and
    // the fatal alert that replaces it tells the peer. A fatal alert goes first: nothing may keep
    // it off the wire.
    const fatal = body[0] === ALERT_LEVEL.fatal;
    if (!fatal) this.#trace?.alert('sent', body[0]!, description, reason);
    const protection = this.#write;
    const record = protection ? protection.seal(CONTENT_TYPE.alert, body) : encodePlaintextRecord(CONTENT_TYPE.alert, body);
    this.#out.push(record);
    if (this.#trace) {
      if (fatal) this.#trace.alert('sent', body[0]!, description, reason);
      this.#trace.record('sent', CONTENT_TYPE.alert, body.length, protection ? record.length : undefined);
    }
  }

  #sendKeyUpdate(requestPeer: boolean): void {
    this.#flushHandshake();
    const message = encodeKeyUpdate({ type: 'key_update', requestUpdate: requestPeer ? 'update_requested' : 'update_not_requested' });
    this.#trace?.handshake('sent', message);
    this.#pushRecord(CONTENT_TYPE.handshake, message, this.#write!);
    this.#write = this.#write!.updateKeys();
    if (this.side === 'client') this.#pha?.clientKeyUpdated();
  }

  /** RFC 8446 5.5: move to a fresh sending key before this one reaches its usage limit. */
  #rekeyIfWorn(): void {
    if (this.#write!.needsKeyUpdate) this.#sendKeyUpdate(false);
  }

  #setReadKeyChecked(next: () => RecordProtection): void {
    // RFC 8446 5.1: "Handshake messages MUST NOT span key changes ... If they do, the receiver
    // MUST terminate the connection with an "unexpected_message" alert" (also data after the
    // message that changes keys, in the same record).
    if (this.#heldLength > 0 || this.#unprocessed > 0) {
      throw _localAlert('unexpected_message', 'handshake data continues past a key change (RFC 8446 5.1)');
    }
    this.#read = next();
  }

  // -------------------------------------------------------------------------------------------
  // Handshake plumbing
  // -------------------------------------------------------------------------------------------

  #context(): HandshakeContext {
    return {
      engine: this.#engine,
      sendHandshake: (message, legacyRecordVersion) => {
        // Only the handshake machine sends through here: this is the handshake's own Finished.
        if (message[0] === HANDSHAKE_TYPE.finished) this.#localFinished = message.slice(HANDSHAKE_HEADER_LENGTH);
        if (legacyRecordVersion !== undefined && !this.#write) {
          this.#flushHandshake();
          this.#trace?.handshake('sent', message);
          this.#pushRecord(CONTENT_TYPE.handshake, message, undefined, legacyRecordVersion);
          return;
        }
        this.#handshakeOut.push(message);
      },
      sendChangeCipherSpec: () => {
        if (this.#ccsSent) return;
        this.#ccsSent = true;
        this.#flushHandshake();
        // RFC 8446 D.4: always in plaintext, whatever key is installed.
        this.#pushRecord(CONTENT_TYPE.change_cipher_spec, Uint8Array.of(1), undefined);
      },
      setReadKey: (suite, secret) => {
        this.#setReadKeyChecked(() => {
          this.#read?.destroy();
          return RecordProtection.fromSecret(this.#engine.crypto, suite, secret);
        });
      },
      setWriteKey: (suite, secret) => {
        this.#flushHandshake();
        this.#write?.destroy();
        this.#write = RecordProtection.fromSecret(this.#engine.crypto, suite, secret);
      },
      clearWriteKey: () => {
        this.#flushHandshake();
        this.#write?.destroy();
        this.#write = undefined;
      },
      sendEarlyData: (data) => {
        this.#flushHandshake();
        const plain = plainBytes(data);
        for (let at = 0; at < plain.length; at += this.#maxFragment) {
          this.#pushRecord(CONTENT_TYPE.application_data, plain.subarray(at, at + this.#maxFragment), this.#write!, undefined, true);
        }
      },
      acceptEarlyData: (maxBytes) => {
        this.#earlyDataAllowance = maxBytes;
        // The server's flight, Finished included, goes out in this same step, after which its
        // write key is the application one: 0.5-RTT data may follow (RFC 8446 2.3, 4.4.4).
        this.#halfRtt = this.side === 'server';
      },
      endEarlyData: () => {
        this.#earlyDataAllowance = undefined;
      },
      setFinishedLength: (length) => {
        this.#finishedLength = length;
      },
      setPeerRecordLimit: (maxPlaintext) => {
        this.#maxFragment = Math.max(1, Math.min(MAX_PLAINTEXT_LENGTH, maxPlaintext));
      },
      keyLog: (label, clientRandom, secret) => {
        if (!this.#keyLog) return;
        this.#keyLog(keyLogLine(label, clientRandom, secret));
      },
      skipEarlyData: (budget) => {
        this.#earlyDataBudget = budget;
      },
      helloRetried: () => {
        // Nothing may follow a HelloRetryRequest, or the ClientHello that earned one, until the
        // other side has read it: handshake data already here was sent blind (BoringSSL's
        // EXCESS_HANDSHAKE_DATA).
        if (this.#unprocessed > 0 || this.#heldLength > 0) {
          throw _localAlert('unexpected_message', 'handshake data arrived after the first ClientHello or the HelloRetryRequest, before the peer could have read it');
        }
        this.#ccsLimit = 2;
      },
      allowChangeCipherSpec: (allowed) => {
        this.#ccsAllowed = allowed;
      },
      complete: (result) => {
        this.#info = Object.freeze(result.info);
        this.#suite = result.suite;
        this.#exporterSecret = result.exporterMasterSecret;
        this.#resumptionSecret = result.resumptionMasterSecret;
        this.#onTicket = result.onTicket;
        if (result.config) this.#config = result.config;
        if (result.postHandshakeAuth) {
          this.#pha =
            this.#config.side === 'server'
              ? new ServerPostHandshakeAuth(this.#engine, this.#config, result.postHandshakeAuth)
              : new ClientPostHandshakeAuth(this.#config, result.postHandshakeAuth);
        }
        this.#ccsAllowed = false;
        this.#earlyDataAllowance = undefined;
        this.#state = 'connected';
        if (result.resend) this.send(result.resend);
      },
    };
  }

  #finishClose(): void {
    this.#state = 'closed';
    this.#wipe();
  }

  /** Ends the connection: the alert goes out if this side raised it, every secret is wiped. */
  #fail(error: TlsAlertError): void {
    if (this.#state === 'failed') return;
    if (error.sender === 'local' && !this.#closeSent) {
      const code = ALERT[error.alert as keyof typeof ALERT];
      try {
        this.#handshakeOut = []; // a half-built flight is never sent after a failure
        // The trace gives the reason without the alert's name, which it prints already.
        this.#sendAlert(code ?? ALERT.internal_error, error.message.replace(/^[a-z_]+(\(\d+\))? \(sent\): /, ''));
      } catch {
        // The alert cannot be protected (keys gone, limit reached): the failure still stands.
      }
    }
    this.#state = 'failed';
    this.#error = error;
    this.#machine?.destroy();
    this.#machine = undefined;
    this.#wipe();
  }

  #abandonWaiting(): void {
    const waiting = this.#waiting;
    if (waiting) this.#handshakeOut = []; // a flight cut short by its hook never goes out
    this.#waiting = undefined;
    this.#pending = undefined;
    this.#outcome = undefined;
    this.#parkedInput = undefined;
    waiting?.abandon();
  }

  #wipe(): void {
    this.#abandonWaiting();
    this.#read?.destroy();
    this.#write?.destroy();
    this.#read = undefined;
    this.#write = undefined;
    this.#exporterSecret?.fill(0);
    this.#resumptionSecret?.fill(0);
    this.#exporterSecret = undefined;
    this.#resumptionSecret = undefined;
    this.#pha?.destroy();
    this.#pha = undefined;
    this.#held = _EMPTY;
    this.#heldLength = 0;
  }
}
