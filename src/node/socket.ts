/**
 * `TLSSocket`: a sans-IO sandtls Connection over a node stream (a `net.Socket` or any Duplex),
 * behaving like node:tls's TLSSocket.
 *
 * How bytes move:
 * - transport 'data' -> `conn.receive()` -> handshake flights and alerts back to the transport,
 *   application data `push()`ed to this stream's readable side. When `push()` returns false the
 *   transport is paused, so a slow reader stops TCP reads (and the peer) instead of growing a
 *   buffer; `_read()` resumes it.
 * - `_write()` -> `conn.send()` -> records to the transport. The write callback is called when the
 *   transport took the bytes without passing its high-water mark, or at its next 'drain': a
 *   writer facing a slow peer sees `write()` return false, as with a net.Socket.
 * - `end()` -> close_notify, then FIN (`transport.end()`), with the readable side still open for
 *   the peer's data (half-close). The peer's close_notify (or a bare FIN) ends the readable side;
 *   unless `allowHalfOpen`, that ends the writable side too, as node:tls does.
 * - A failure sends the engine's alert, then FIN, and surfaces as 'error' (a `TlsAlertError` whose
 *   `code` is node:tls's for the same failure: `CERT_HAS_EXPIRED`, `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`,
 *   `ERR_SSL_WRONG_VERSION_NUMBER`, ...); on a server before the handshake completed, as the
 *   server's 'tlsClientError' instead.
 *
 * - A hook that answers later (a `TlsSigner`, `verifyPeer`, an SNICallback, a ticket or session
 *   store returning a Promise) parks the engine (`conn.pending`): the transport is paused (the
 *   engine holds what already arrived), and once the hook settled the engine is resumed, its
 *   flight written and the transport read again. Writes made while a connected connection is
 *   parked go out at once.
 *
 * The only promise is a parked hook's `settled`, which never rejects, so nothing here can produce
 * an unhandled rejection; every listener put on the transport is taken off when the socket is
 * destroyed.
 * @module
 */
import type { NonSharedBuffer } from 'node:buffer';
import { X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { encodeSession, type Connection, type ConnectionInfo, type Engine, type PendingOperation, type TlsAlertError, type TlsSession } from '../index.js';
import {
  authorizationErrorOf,
  detailedCertificateChain,
  peerCertificateOf,
  type AuthorizationError,
  type DetailedPeerCertificate,
  type PeerCertificate,
} from './certificate.js';
import { configError, describeValue } from './node-options.js';
import { defaultEngine } from './engine.js';
import { keyLogFile } from './keylog-file.js';
import { ephemeralKeyInfo, issuerChain, leafCertificateDer, opensslSigalgs, secureContextOf, type ContextInput, type EphemeralKeyInfo } from './socket-details.js';
import {
  netConnectOptions,
  planClient,
  ServerRole,
  type ClientPlan,
  type ConnectOptions,
  type SecureContext,
  type ServerConnectionListener,
  type ServerOptions,
} from './options.js';

/** `getCipher()`: node:tls's shape. For TLS 1.3 OpenSSL's names are the IANA names. */
export interface CipherNameAndProtocol {
  name: string;
  standardName: string;
  version: 'TLSv1.3';
}

/** `new TLSSocket(socket, options)`: a client (default) or, with `isServer`, a server side. */
export interface TLSSocketOptions extends ConnectOptions, Omit<ServerOptions, keyof ConnectOptions> {
  /** Act as the server of this connection. */
  isServer?: boolean;
  /** The server the connection belongs to: it gets 'secureConnection', 'tlsClientError' and 'keylog'. */
  server?: net.Server;
  /** The certificate to serve (default: from `key`/`cert`). */
  secureContext?: SecureContext | undefined;
}

/** Internal: how a server hands its shared state to each connection. */
export const kServerRole: unique symbol = Symbol('sandtls.serverRole');

type _Callback = (error?: Error | null) => void;

/** A node-style error for a transport that closed during the handshake. */
function _disconnected(): Error {
  return Object.assign(new Error('socket disconnected before secure TLS connection was established'), { code: 'ECONNRESET' });
}

function _asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** A Buffer view of engine bytes, which never live in a SharedArrayBuffer. */
function _nonShared(bytes: Uint8Array): NonSharedBuffer {
  return Buffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length);
}

/** node's ERR_INVALID_ARG_TYPE for an argument that must be a string. */
function _checkString(value: unknown, name: string): asserts value is string {
  if (typeof value === 'string') return;
  const received = value === null ? 'null' : typeof value === 'object' ? `an instance of ${(value as object).constructor?.name ?? 'Object'}` : `type ${typeof value} (${String(value)})`;
  throw Object.assign(new TypeError(`The "${name}" argument must be of type string. Received ${received}`), { code: 'ERR_INVALID_ARG_TYPE' });
}

const _noop = () => {};

/** A post-handshake certificate request (`renegotiate()`): what to do with the client's answer, once it has come. */
interface _Renegotiation {
  readonly reject: boolean;
  readonly callback: ((error: Error | null) => void) | undefined;
  chain?: readonly Uint8Array[];
}

/**
 * A TLS 1.3 connection as a node Duplex stream. Made by `connect()` and by `createServer()`;
 * `new TLSSocket(socket, options)` wraps an existing stream (as a client, or a server with
 * `isServer: true`). Events besides a Duplex's: 'connect' (TCP is up), 'secureConnect' (client)
 * or 'secure' (server) once the handshake completed, 'keylog' (a Buffer line ending in '\n'),
 * 'timeout', and on a client 'session' (a Buffer to pass back as `connect({ session })`) for
 * each session ticket the server sends.
 * @example
 * const socket = new TLSSocket(plainSocket, { servername: 'mail.example.com' }); // STARTTLS
 * socket.once('secureConnect', () => socket.write('EHLO me\r\n'));
 */
export class TLSSocket extends Duplex {
  /** Always true: this is a TLS socket (http checks it). */
  readonly encrypted = true as const;
  /** Whether the peer's certificate verified (a client: against `ca` and the server name). */
  authorized = false;
  /**
   * Why it did not, when the connection went ahead anyway (`rejectUnauthorized: false`); null
   * otherwise, as in node:tls. node:tls holds the code string here; sandtls an Error with that
   * `code` whose string form is the code (see AuthorizationError).
   */
  authorizationError: AuthorizationError | Error | null = null;
  /** The negotiated ALPN protocol, false when none was; null before the handshake. */
  alpnProtocol: string | false | null = null;
  /** The server name of the handshake (SNI), false when none was sent; null before (as node:tls). */
  servername: string | false | null = null;

  readonly #transport: Duplex;
  readonly #engine: Engine;
  /** Client: the checked options (replaced by `setServername()` / `setKeyCert()` before the ClientHello). */
  #client: ClientPlan | undefined;
  readonly #clientKeylog: ConnectOptions['keylog'];
  readonly #role: ServerRole | undefined;
  #conn: Connection | undefined;
  #secure = false;
  /** The readable side has been ended (push(null)). */
  #eof = false;
  /** The reader's buffer is full (push() returned false): the transport waits for `_read()`. */
  #readerFull = false;
  /** The engine's parked hook (`conn.pending`) this socket waits on: the transport waits for it too. */
  #parked: PendingOperation | undefined;
  /** This socket paused the transport (for either reason above). */
  #transportPaused = false;
  /**
   * The transport's 'end' and 'close', in order, that came while the engine was parked, holding
   * input it has not handled yet (a paused stream still reports its end): handled once it went on.
   */
  #heldEvents: ('end' | 'close')[] = [];
  /** A write that arrived before the handshake completed. */
  #pendingWrite: { data: Uint8Array; callback: _Callback } | undefined;
  /** end() before the handshake completed. */
  #pendingFinal: _Callback | undefined;
  /** The write waiting for the transport's 'drain'. */
  #drainCallback: _Callback | undefined;
  /** On destroy: let the transport flush (an alert) before closing it. */
  #flushOnDestroy = false;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #peerCertificate: PeerCertificate | undefined;
  /** Server: the certificate context serving this connection (SNICallback may choose another than the default). */
  #context: SecureContext | undefined;
  /** Server: SNICallback's error, reported as it is (not as the TlsAlertError it causes), as node:tls does. */
  #sniRefusal: Error | undefined;
  /** Server: what the engine says of this socket through the server's shared configuration (see `#engineCall`). */
  readonly #fromRole: ServerConnectionListener = {
    chose: (context) => {
      this.#context = context;
      this.#ownCertificate = undefined;
    },
    refused: (error) => {
      this.#sniRefusal = error;
    },
    keylog: (line) => this.#keylog(line),
  };
  /** Client: sessions from tickets that arrived and were not yet emitted as 'session'. */
  #newSessions: TlsSession[] = [];
  /** Client: the latest session, for `getSession()`, and its bytes once asked for. */
  #session: TlsSession | undefined;
  #sessionBytes: Buffer | undefined;
  /** Server: post-handshake certificate requests (`renegotiate()`) waiting for the client's answer. */
  #renegotiations: _Renegotiation[] = [];
  /** `enableTrace()` was called before the engine connection existed. */
  #traceRequested = false;
  /** Plaintext bytes pushed to the reader, and taken from the writer (node:tls's bytesRead / bytesWritten). */
  #bytesRead = 0;
  #bytesAccepted = 0;
  /** Bytes of the chunk `_write` holds until its callback (also in `writableLength`). */
  #inFlight = 0;
  /** `setMaxSendFragment()`: the largest application data record sent. */
  #maxSendFragment = 16384;
  /** This side's certificate in node:tls's shape (`getCertificate()`), made once. */
  #ownCertificate: PeerCertificate | undefined;

  constructor(socket?: Duplex, options: TLSSocketOptions & { [kServerRole]?: ServerRole } = {}) {
    super({ allowHalfOpen: options.allowHalfOpen === true, ...(options.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }) });
    this.#engine = options.engine ?? defaultEngine();
    const isServer = options.isServer === true || options[kServerRole] !== undefined;
    if (isServer) {
      this.#role = options[kServerRole] ?? new ServerRole(this.#engine, options, options.server);
      this.#client = undefined;
    } else {
      this.#client = planClient(options, this.#engine);
      this.#clientKeylog = options.keylog;
      if (options.keylog !== undefined && typeof options.keylog !== 'function' && typeof options.keylog?.write !== 'function') {
        throw configError(`The "options.keylog" property must be a function or a writable stream. Received ${describeValue(options.keylog)}`, 'ERR_INVALID_ARG_TYPE');
      }
    }
    this.#transport = socket ?? net.connect(netConnectOptions(options));
    const t = this.#transport;
    t.on('data', this.#onData);
    t.on('end', this.#onEnd);
    t.on('error', this.#onError);
    t.on('close', this.#onClose);
    t.on('drain', this.#onDrain);
    t.on('timeout', this.#onTimeout);
    if (options.timeout !== undefined) this.setTimeout(options.timeout);

    if (this.#role) {
      this.#startServer();
      if (this.#role.handshakeTimeout > 0) {
        this.#handshakeTimer = setTimeout(() => {
          const error = Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' });
          this.destroy(error);
        }, this.#role.handshakeTimeout);
        this.#handshakeTimer.unref();
      }
      t.resume();
    } else if ((t as net.Socket).connecting) {
      // Start when TCP is up, so a 'keylog' listener added after connect() returns is seen.
      t.once('connect', this.#onConnect);
    } else {
      process.nextTick(() => this.#startClient());
    }
  }

  // -------------------------------------------------------------------------------------------
  // Starting
  // -------------------------------------------------------------------------------------------

  #onConnect = (): void => {
    this.emit('connect');
    this.#startClient();
  };

  #startClient(): void {
    if (this.destroyed) return;
    const plan = this.#client!;
    const wantsKeylog = this.#clientKeylog !== undefined || this.listenerCount('keylog') > 0 || keyLogFile() !== undefined;
    // Tickets arrive mid-receive(): keep them, and emit 'session' once the engine returned.
    const onSession = (session: TlsSession) => this.#newSessions.push(session);
    try {
      this.#conn = this.#engine.client({
        ...plan.config,
        onSession,
        ...(wantsKeylog ? { keyLog: (line: string) => this.#keylog(line) } : {}),
        // The ClientHello is made here: a trace asked for since connect() must be in the config.
        ...(this.#traceRequested ? { trace: 'messages' as const } : {}),
      });
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    this.#transport.resume();
    this.#afterEngine();
  }

  /**
   * Server: creates the engine connection with the default context's configuration; when the
   * certificate depends on the server name, its `onClientHello` (SNICallback) chooses another.
   */
  #startServer(): void {
    const role = this.#role!;
    const server = role.server;
    const wantsKeylog = (server ? server.listenerCount('keylog') > 0 : this.listenerCount('keylog') > 0) || keyLogFile() !== undefined;
    this.#context = role.defaultContext;
    try {
      this.#conn = this.#engine.server(role.configFor(role.defaultContext, wantsKeylog));
    } catch (error) {
      this.destroy(error as Error);
      return;
    }
    // On the connection, not in the config: a server's config is resolved once and shared, and
    // nothing has been received yet.
    if (role.enableTrace || this.#traceRequested) this.#conn.setTrace('messages');
  }

  // -------------------------------------------------------------------------------------------
  // Transport events
  // -------------------------------------------------------------------------------------------

  #onData = (chunk: Buffer): void => {
    if (this.destroyed) return;
    const conn = this.#conn;
    if (!conn) return;
    this.#engineCall(() => conn.receive(chunk));
    this.#afterEngine();
  };

  #onEnd = (): void => {
    if (this.destroyed) return;
    if (this.#parked) {
      this.#heldEvents.push('end');
      return;
    }
    if (!this.#secure) {
      this.destroy(_disconnected());
      return;
    }
    // A FIN without close_notify ends the stream too (node:tls does not report truncation in TLS 1.3).
    this.#endReadable();
  };

  #onError = (error: Error): void => {
    this.destroy(error);
  };

  #onClose = (): void => {
    if (this.destroyed) return;
    if (this.#parked) {
      this.#heldEvents.push('close');
      return;
    }
    if (!this.#secure) {
      this.destroy(_disconnected());
      return;
    }
    this.#endReadable();
    // Nothing more can be written; close once the reader has what arrived.
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  };

  #onDrain = (): void => {
    const callback = this.#drainCallback;
    this.#drainCallback = undefined;
    callback?.();
  };

  #onTimeout = (): void => {
    this.emit('timeout');
  };

  // -------------------------------------------------------------------------------------------
  // The engine
  // -------------------------------------------------------------------------------------------

  /**
   * A `conn.receive()` or `conn.resume()`. On a server, its configuration is shared by all of the
   * server's connections, and the engine calls its `onClientHello` (SNICallback) and `keyLog`
   * inside these calls: the role tells them which socket they are about.
   */
  #engineCall(call: () => void): void {
    if (this.#role) this.#role.calling(this.#fromRole, call);
    else call();
  }

  /** After the engine consumed bytes: flights out, a parked hook, handshake completion, data in, close_notify. */
  #afterEngine(): void {
    const conn = this.#conn!;
    const out = conn.takeOutgoing();
    if (out.length > 0 && !this.#transport.destroyed) this.#transport.write(out);
    if (conn.state === 'failed') {
      this.#fail(conn.error!);
      return;
    }
    const pending = conn.pending;
    if (pending !== undefined && pending !== this.#parked) this.#waitFor(conn, pending);
    if (!this.#secure) {
      if (!conn.info) return;
      this.#handshakeDone(conn.info);
      if (this.destroyed) return;
    }
    const data = conn.read();
    if (!this.#eof) this.#bytesRead += data.length;
    if (data.length > 0 && !this.#eof && !this.push(_asBuffer(data))) {
      this.#readerFull = true;
      this.#holdTransport();
    }
    if (this.#newSessions.length > 0) this.#emitSessions();
    if (this.#renegotiations.some((r) => r.chain !== undefined)) this.#clientAuthenticated();
    if (conn.peerClosed && !this.destroyed) this.#endReadable();
  }

  /**
   * The engine parked on a hook's Promise: nothing is read from the transport until it settles
   * (the engine keeps what already arrived, up to `limits.maxPendingInput`), then the engine is
   * resumed and handled like after a receive() (it may park again). The handshake timeout still
   * runs meanwhile.
   */
  #waitFor(conn: Connection, pending: PendingOperation): void {
    this.#parked = pending;
    this.#holdTransport();
    // `settled` never rejects. The rest runs on a tick of its own, so an exception from a listener
    // ('secure', 'data') is an uncaught exception, as from any other event, not a rejection.
    void pending.settled.then(() => process.nextTick(() => this.#resumeEngine(conn, pending)));
  }

  #resumeEngine(conn: Connection, pending: PendingOperation): void {
    if (this.#parked !== pending) return;
    this.#parked = undefined;
    if (this.destroyed || this.#conn !== conn) return;
    this.#engineCall(() => conn.resume());
    this.#afterEngine();
    if (this.destroyed) return;
    this.#holdTransport();
    if (this.#parked) return;
    const held = this.#heldEvents;
    this.#heldEvents = [];
    for (const name of held) {
      if (name === 'end') this.#onEnd();
      else this.#onClose();
    }
  }

  /**
   * Client: 'session' for each new ticket, as node:tls does. Only from a server this client
   * accepted: a resumed handshake carries no certificate, so a session from an unverified server
   * would later pass for a verified one.
   */
  #emitSessions(): void {
    const sessions = this.#newSessions;
    this.#newSessions = [];
    if (!this.authorized) return;
    for (const session of sessions) {
      this.#session = session;
      this.#sessionBytes = undefined;
      if (this.listenerCount('session') > 0) this.emit('session', this.getSession());
      if (this.destroyed) return;
    }
  }

  #handshakeDone(info: ConnectionInfo): void {
    this.#secure = true;
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.alpnProtocol = info.alpn ?? false;
    this.servername = info.serverName ?? false;
    if (this.#client) {
      const refusal = this.#authorizeServer(info);
      if (refusal) {
        this.destroy(refusal);
        return;
      }
    } else {
      this.#authorizeClient(info);
    }
    const pending = this.#pendingWrite;
    this.#pendingWrite = undefined;
    if (pending) this.#send(pending.data, pending.callback);
    const final = this.#pendingFinal;
    this.#pendingFinal = undefined;
    if (final) this.#sendCloseNotify(final);
    if (this.#client) this.emit('secureConnect');
    else {
      this.emit('secure');
      this.#role!.server?.emit('secureConnection', this);
    }
  }

  /** Client: sets `authorized`; returns the error to fail with when the server must be refused. */
  #authorizeServer(info: ConnectionInfo): Error | undefined {
    const plan = this.#client!;
    if (info.resumed) {
      // RFC 8446 2.2: the PSK proves this is the server of the session's connection, and sessions
      // come only from servers this client authorized (see #emitSessions). No certificate is sent,
      // so, as node:tls does for a reused session, checkServerIdentity is not called again.
      this.authorized = true;
      return undefined;
    }
    if (plan.verifyInEngine) {
      // The engine verified the chain and the name; a failure would have ended the handshake.
      this.authorized = true;
      return undefined;
    }
    let error: Error | undefined = authorizationErrorOf(
      this.#engine,
      info.peerCertificates,
      plan.trustAnchors,
      'server',
      plan.checkServerIdentity ? undefined : plan.serverName,
    );
    if (!error && plan.checkServerIdentity) {
      const verdict = plan.checkServerIdentity(plan.serverName, this.getPeerCertificate(true) as DetailedPeerCertificate);
      if (verdict instanceof Error) error = verdict;
    }
    this.authorized = error === undefined;
    this.authorizationError = error ?? null;
    return error && plan.rejectUnauthorized ? error : undefined;
  }

  /** Server: a requested client certificate is verified by the engine ('required') or here ('optional'). */
  #authorizeClient(info: ConnectionInfo): void {
    const role = this.#role!;
    if (!role.requestCert) return;
    if (role.rejectUnauthorized) {
      this.authorized = info.peerCertificates.length > 0;
      return;
    }
    const error = authorizationErrorOf(this.#engine, info.peerCertificates, role.clientTrustAnchors(this.#context ?? role.defaultContext), 'client', undefined);
    this.authorized = error === undefined;
    this.authorizationError = error ?? null;
  }

  /**
   * Server: the client answered post-handshake requests. A chain the engine did not verify
   * (`requestCert` without `rejectUnauthorized`, or no `requestCert` at all) is verified here
   * against the client roots; `authorized`, `authorizationError` and `getPeerCertificate()`
   * follow the latest certificate.
   */
  #clientAuthenticated(): void {
    const role = this.#role!;
    const engineVerified = role.requestCert && role.rejectUnauthorized;
    while (this.#renegotiations[0]?.chain !== undefined && !this.destroyed) {
      const { reject, callback, chain } = this.#renegotiations.shift()!;
      let error: Error | undefined;
      if (chain!.length > 0) {
        error = engineVerified
          ? undefined
          : authorizationErrorOf(this.#engine, chain!, role.clientTrustAnchors(this.#context ?? role.defaultContext), 'client', undefined);
        this.#peerCertificate = undefined;
        this.authorized = error === undefined;
        this.authorizationError = error ?? null;
      }
      if (error && reject) {
        callback?.(error);
        this.destroy(error);
        return;
      }
      callback?.(null);
    }
  }

  #fail(error: TlsAlertError): void {
    // The alert is in the transport's buffer: let it go out before the transport closes.
    this.#flushOnDestroy = true;
    // SNICallback's own error, as node:tls reports it ('tlsClientError'); the alert sent says internal_error.
    const refusal = this.#sniRefusal;
    this.destroy(refusal !== undefined && error.cause === refusal ? refusal : error);
  }

  #keylog(line: string): void {
    const bytes = Buffer.from(`${line}\n`, 'latin1');
    keyLogFile()?.(bytes);
    const sink = this.#clientKeylog;
    if (typeof sink === 'function') sink(bytes);
    else if (sink) sink.write(bytes);
    if (this.#role?.server) this.#role.server.emit('keylog', bytes, this);
    else this.emit('keylog', bytes);
  }

  #endReadable(): void {
    if (this.#eof) return;
    this.#eof = true;
    this.push(null);
    // As net.Socket does at EOF: with nothing left to read, 'end' is emitted now, read or not.
    this.read(0);
  }

  /**
   * Pauses the transport while the reader is full or the engine is parked on a hook, and resumes
   * it once neither is the case: one reason ending does not resume what the other paused.
   */
  #holdTransport(): void {
    const hold = this.#readerFull || this.#parked !== undefined;
    if (hold === this.#transportPaused) return;
    this.#transportPaused = hold;
    if (hold) this.#transport.pause();
    else this.#transport.resume();
  }

  // -------------------------------------------------------------------------------------------
  // Duplex implementation
  // -------------------------------------------------------------------------------------------

  override _read(): void {
    // Only the pause for readable backpressure is lifted here; one waiting for a hook is not.
    this.#readerFull = false;
    this.#holdTransport();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: _Callback): void {
    this.#bytesAccepted += chunk.length;
    this.#inFlight = chunk.length;
    const callback: _Callback = (error) => {
      this.#inFlight = 0;
      done(error);
    };
    if (!this.#secure) {
      this.#pendingWrite = { data: chunk, callback };
      return;
    }
    this.#send(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: _Callback): void {
    const data = chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this._write(data, 'binary', callback);
  }

  #send(data: Uint8Array, callback: _Callback): void {
    const transport = this.#transport;
    if (transport.destroyed || !transport.writable) {
      callback(Object.assign(new Error('This socket has been ended by the other party'), { code: 'EPIPE' }));
      return;
    }
    try {
      // setMaxSendFragment(): records of at most that much application data.
      const step = this.#maxSendFragment;
      if (data.length <= step) this.#conn!.send(data);
      else for (let at = 0; at < data.length; at += step) this.#conn!.send(data.subarray(at, at + step));
    } catch (error) {
      // A failure while sealing queues an alert: send it before the stream is destroyed with the error.
      const alert = this.#conn!.takeOutgoing();
      if (alert.length > 0) transport.write(alert);
      const failure = this.#conn!.error;
      if (failure) {
        this.#fail(failure);
        callback(failure);
      } else {
        callback(error as Error);
      }
      return;
    }
    const out = this.#conn!.takeOutgoing();
    if (out.length === 0 || transport.write(out)) callback();
    else this.#drainCallback = callback;
  }

  override _final(callback: _Callback): void {
    if (!this.#secure) {
      this.#pendingFinal = callback;
      return;
    }
    this.#sendCloseNotify(callback);
  }

  /** close_notify, then FIN; `callback` once the transport has flushed both. */
  #sendCloseNotify(callback: _Callback): void {
    const transport = this.#transport;
    const conn = this.#conn!;
    conn.close();
    const out = conn.takeOutgoing();
    if (transport.destroyed || !transport.writable) {
      callback();
      return;
    }
    if (out.length > 0) transport.write(out);
    // Errors reach #onError; the callback only has to wait for the flush.
    transport.end(() => callback());
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    const t = this.#transport;
    t.off('data', this.#onData);
    t.off('end', this.#onEnd);
    t.off('error', this.#onError);
    t.off('close', this.#onClose);
    t.off('drain', this.#onDrain);
    t.off('timeout', this.#onTimeout);
    t.off('connect', this.#onConnect);
    // Late transport errors (a reset after we let go) must not become uncaught exceptions.
    t.on('error', _noop);
    if (!t.destroyed) {
      if (this.#flushOnDestroy && t.writable) {
        t.end();
        t.once('finish', () => t.destroy());
      } else {
        t.destroy();
      }
    }
    // A hook's late answer is not wanted any more: abandon the parked work (it wipes what it holds).
    this.#parked = undefined;
    if (this.#conn?.pending) this.#conn.close();
    const drain = this.#drainCallback;
    this.#drainCallback = undefined;
    drain?.(error ?? undefined);
    const renegotiations = this.#renegotiations;
    this.#renegotiations = [];
    for (const { callback } of renegotiations) callback?.(error ?? _disconnected());
    const server = this.#role?.server;
    if (error && server && !this.#secure) {
      // node:tls: a failure before the handshake completed goes to the server, not to 'error'.
      server.emit('tlsClientError', error, this);
      callback(null);
      return;
    }
    callback(error);
  }

  // -------------------------------------------------------------------------------------------
  // node:tls API
  // -------------------------------------------------------------------------------------------

  /**
   * The peer's certificate in node:tls's shape. As with node:tls (whose types do not say so
   * either), it is `{}` when the peer sent none, and null before the handshake. With `detailed`,
   * each certificate links to its issuer (`issuerCertificate`), as node:tls links them: the
   * certificates the peer sent, completed from the trust anchors (`ca`, or the default roots), the
   * last one linking to itself when it is self-issued (a root).
   */
  getPeerCertificate(detailed: true): DetailedPeerCertificate;
  getPeerCertificate(detailed?: false): PeerCertificate;
  getPeerCertificate(detailed?: boolean): PeerCertificate | DetailedPeerCertificate;
  getPeerCertificate(detailed = false): PeerCertificate | DetailedPeerCertificate {
    const info = this.#conn?.info;
    if (!info) return null as unknown as PeerCertificate;
    const leaf = info.peerCertificates[0];
    if (!leaf) return {} as PeerCertificate;
    if (detailed) return detailedCertificateChain(this.#engine, issuerChain(info.peerCertificates, this.#peerTrustAnchors())) ?? ({} as PeerCertificate);
    this.#peerCertificate ??= peerCertificateOf(this.#engine, leaf);
    return this.#peerCertificate;
  }

  /** The roots this side verifies the peer against: a client's `ca` (or the defaults), a server's client roots. */
  #peerTrustAnchors(): ReturnType<ServerRole['clientTrustAnchors']> {
    if (this.#client) return this.#client.trustAnchors;
    const role = this.#role!;
    return role.clientTrustAnchors(this.#context ?? role.defaultContext);
  }

  /**
   * The peer's certificate as a node:crypto `X509Certificate` (a new object each call); undefined
   * before the handshake or when the peer sent none.
   * @example
   * socket.getPeerX509Certificate()?.checkHost('example.com');
   */
  getPeerX509Certificate(): X509Certificate | undefined {
    const leaf = this.#conn?.info?.peerCertificates[0];
    return leaf ? new X509Certificate(leaf) : undefined;
  }

  /**
   * This side's certificate in node:tls's shape (as `getPeerCertificate()`, without
   * `issuerCertificate`): a server's (of the context serving the connection), a client's `cert`;
   * `{}` without one.
   */
  getCertificate(): PeerCertificate | Record<string, never> | null {
    const leaf = this.#ownLeaf();
    if (!leaf) return {};
    this.#ownCertificate ??= peerCertificateOf(this.#engine, leaf);
    return this.#ownCertificate;
  }

  /** This side's certificate as a node:crypto `X509Certificate`; undefined without one. */
  getX509Certificate(): X509Certificate | undefined {
    const leaf = this.#ownLeaf();
    return leaf ? new X509Certificate(leaf) : undefined;
  }

  #ownLeaf(): Uint8Array | undefined {
    if (this.#client) return leafCertificateDer(this.#client.config.certificateChain);
    const role = this.#role!;
    return leafCertificateDer((this.#context ?? role.defaultContext).certificateChain);
  }

  /**
   * The verify_data of this side's Finished message of the handshake (RFC 8446 4.4.4; 32 or 48
   * bytes by the suite's hash), as node:tls gives it; undefined before the handshake completed.
   */
  getFinished(): NonSharedBuffer | undefined {
    const finished = this.#conn?.finished;
    return finished ? _nonShared(finished.local) : undefined;
  }

  /** The verify_data of the peer's Finished message of the handshake; undefined before it completed. */
  getPeerFinished(): NonSharedBuffer | undefined {
    const finished = this.#conn?.finished;
    return finished ? _nonShared(finished.peer) : undefined;
  }

  /**
   * The signature algorithms both sides support, in OpenSSL's names (`ECDSA+SHA256`,
   * `RSA-PSS+SHA256`, `Ed25519+UNDEF`, ...), as node:tls lists them: on a server, those of the
   * client's signature_algorithms it supports too; on a client, those of the server's
   * CertificateRequest (empty when it asked for no certificate). Empty before the handshake.
   */
  getSharedSigalgs(): string[] {
    const conn = this.#conn;
    return conn?.info ? opensslSigalgs(conn.sharedSignatureSchemes) : [];
  }

  /**
   * Client: the server name to send (SNI) instead of `servername`/`host`, as node:tls's; also the
   * name the certificate is checked against (sandtls checks the name it sends). Only before the
   * ClientHello is sent: call it right after `connect()` / `new TLSSocket()`. A server socket
   * throws ERR_TLS_SNI_FROM_SERVER, as node:tls does.
   * @example
   * const socket = new TLSSocket(plain); socket.setServername('mail.example.com');
   */
  setServername(name: string): void {
    _checkString(name, 'name');
    if (!this.#client) throw Object.assign(new Error('Cannot issue SNI from a TLS server-side socket'), { code: 'ERR_TLS_SNI_FROM_SERVER' });
    if (this.#conn) throw Object.assign(new Error('sandtls: setServername() after the ClientHello was sent'), { code: 'ERR_TLS_INVALID_STATE' });
    const plan = this.#client;
    this.#client = { ...plan, serverName: name, config: { ...plan.config, serverName: name } };
  }

  /**
   * Client: the certificate and key to answer a certificate request with, replacing `cert`/`key`;
   * only before the ClientHello is sent. A server socket's certificate comes from its server's
   * contexts (`SNICallback`, `addContext()`), chosen before the socket exists: it throws.
   */
  setKeyCert(context: ContextInput): void {
    if (!this.#client) {
      throw Object.assign(new Error('sandtls: a server socket serves the certificate its server chose (use SNICallback or server.addContext())'), { code: 'ERR_TLS_INVALID_STATE' });
    }
    if (this.#conn) throw Object.assign(new Error('sandtls: setKeyCert() after the ClientHello was sent'), { code: 'ERR_TLS_INVALID_STATE' });
    const chosen = secureContextOf(context);
    if (chosen.certificateChain === undefined || chosen.privateKey === undefined) {
      throw configError('setKeyCert() needs a certificate and its key', 'ERR_INVALID_ARG_VALUE');
    }
    const plan = this.#client;
    this.#client = { ...plan, config: { ...plan.config, certificateChain: chosen.certificateChain, privateKey: chosen.privateKey } };
    this.#ownCertificate = undefined;
  }

  /**
   * Caps the application data per TLS record at `size` bytes (512 to 16384), as node:tls's: true
   * when set, false for a size out of that range. Handshake records are not affected.
   */
  setMaxSendFragment(size: number): boolean {
    if (typeof size !== 'number') throw Object.assign(new TypeError(`The "size" argument must be of type number. Received type ${typeof size}`), { code: 'ERR_INVALID_ARG_TYPE' });
    if (!Number.isInteger(size) || size < -(2 ** 31) || size >= 2 ** 31) {
      throw Object.assign(new RangeError(`The value of "size" is out of range. It must be an integer. Received ${size}`), { code: 'ERR_OUT_OF_RANGE' });
    }
    if (size < 512 || size > 16384) return false;
    this.#maxSendFragment = size;
    return true;
  }

  /** As node:tls's: TLS 1.3 has no renegotiation, so there is nothing to disable. */
  disableRenegotiation(): void {}

  /**
   * node:tls's `enableTrace()`: from now on every TLS record, handshake message, extension and
   * alert of this connection is traced on the engine's `platform.stderr` (process.stderr with the
   * default engine), as the engine's `trace: 'messages'`. Called right after `connect()`, the
   * ClientHello is traced too. Never secrets or application data.
   */
  enableTrace(): void {
    this.#traceRequested = true;
    this.#conn?.setTrace('messages');
  }

  /** `'TLSv1.3'` once the handshake completed, null before. */
  getProtocol(): 'TLSv1.3' | null {
    return this.#conn?.info?.protocol ?? null;
  }

  /**
   * The negotiated cipher suite, as node:tls reports it (`{ name, standardName, version }`; for
   * TLS 1.3 OpenSSL's name is the IANA name). Undefined before the handshake, as with node:tls,
   * whose types do not say so either.
   */
  getCipher(): CipherNameAndProtocol {
    const suite = this.#conn?.info?.cipherSuite;
    return (suite === undefined ? undefined : { name: suite, standardName: suite, version: 'TLSv1.3' }) as CipherNameAndProtocol;
  }

  /**
   * Client: the key exchange, as node:tls reports it: `{ type: 'ECDH', name: 'X25519', size: 253 }`
   * (OpenSSL's group names: `prime256v1`, `secp384r1`, ...; the ML-KEM hybrids, which OpenSSL 3.0
   * lacks, as `{ type: 'KEM', name: 'X25519MLKEM768', size: 768 }`); `{}` before the handshake
   * or for a PSK-only resumption. A server socket returns null, as node:tls's does.
   */
  getEphemeralKeyInfo(): EphemeralKeyInfo | Record<string, never> | null {
    if (!this.#client) return null;
    return ephemeralKeyInfo(this.#conn?.info?.group);
  }

  /**
   * RFC 8446 7.5 / RFC 5705 keying material bound to this connection, in node:tls's argument
   * order. Throws before the handshake completed.
   * @example
   * const binding = socket.exportKeyingMaterial(32, 'EXPORTER-my-protocol');
   */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): NonSharedBuffer {
    if (!this.#conn?.info) throw Object.assign(new Error('TLS socket connection must be securely established'), { code: 'ERR_TLS_INVALID_STATE' });
    return _nonShared(this.#conn.exportKeyingMaterial(label, context, length));
  }

  /** Whether the handshake resumed a session (a PSK from a ticket) instead of a full handshake. */
  isSessionReused(): boolean {
    return this.#conn?.info?.resumed ?? false;
  }

  /**
   * Client: the latest session the server sent (the `encodeSession()` bytes, as in the 'session'
   * event), to pass as `connect({ session })`; undefined before the first ticket (TLS 1.3 tickets
   * arrive after the handshake) and on a server. The bytes hold the resumption secret: keep them
   * like a password.
   */
  getSession(): NonSharedBuffer | undefined {
    if (!this.#session) return undefined;
    this.#sessionBytes ??= _asBuffer(encodeSession(this.#session));
    return Buffer.from(this.#sessionBytes);
  }

  /** Client: the ticket of the latest session (opaque, as the server sent it); undefined before one arrived. */
  getTLSTicket(): NonSharedBuffer | undefined {
    return this.#session ? Buffer.from(this.#session.ticket) : undefined;
  }

  /** The negotiated sandtls connection details (`conn.info`): suite, group, signature scheme, ALPN, SNI, chain. */
  get info(): ConnectionInfo | undefined {
    return this.#conn?.info;
  }

  /** Sends a KeyUpdate (RFC 8446 4.6.3); with `requestPeer` the peer updates its keys too. */
  updateKeys(requestPeer = false): void {
    if (!this.#conn?.info) throw Object.assign(new Error('TLS socket connection must be securely established'), { code: 'ERR_TLS_INVALID_STATE' });
    this.#conn.updateKeys(requestPeer);
    const out = this.#conn.takeOutgoing();
    if (out.length > 0) this.#transport.write(out);
  }

  /**
   * Server: asks the client for its certificate after the handshake, node:tls's way of doing so
   * (`renegotiate({ requestCert: true })`); in TLS 1.3 this is post-handshake authentication (RFC
   * 8446 4.6.2), so the client must have offered it (a sandtls client with `cert` does; node:tls
   * clients never do). `callback(null)` once the client answered: `authorized`,
   * `authorizationError` and `getPeerCertificate()` then describe its certificate. With
   * `rejectUnauthorized` (default true) a client that sends none, or one that does not verify
   * against `ca`, fails the connection ('error', and `callback(error)`). Returns false, with
   * `callback(error)` on the next tick, when no request can be sent: on a client (TLS 1.3 has no
   * renegotiation), without `requestCert: true`, before the handshake, or when the client did
   * not offer post_handshake_auth. The error's code is node:tls's for a TLS 1.3 renegotiation,
   * ERR_SSL_WRONG_SSL_VERSION (node:tls refuses every one; its message says why here).
   * @example
   * socket.renegotiate({ requestCert: true }, (err) => { if (!err) serveSecret(socket.getPeerCertificate()); });
   */
  renegotiate(options: { rejectUnauthorized?: boolean; requestCert?: boolean }, callback?: (error: Error | null) => void): boolean {
    const refuse = (why: string): boolean => {
      const error = Object.assign(new Error(`sandtls: cannot request a client certificate: ${why}`), { code: 'ERR_SSL_WRONG_SSL_VERSION' });
      if (callback && !this.destroyed) process.nextTick(callback, error);
      return false;
    };
    const conn = this.#conn;
    if (!this.#role) return refuse('TLS 1.3 has no renegotiation, and only a server asks for a certificate after the handshake');
    if (options?.requestCert !== true) return refuse('TLS 1.3 has no renegotiation; only requestCert: true (post-handshake authentication) is supported');
    if (this.destroyed || !conn?.info) return refuse('the handshake has not completed');
    if (!conn.info.postHandshakeAuth) return refuse('the client did not offer post-handshake authentication');
    const entry: _Renegotiation = { reject: options.rejectUnauthorized !== false, callback };
    try {
      conn.requestClientCertificate({ required: entry.reject, onCertificate: (chain) => (entry.chain = chain) });
    } catch (error) {
      return refuse(error instanceof Error ? error.message : String(error));
    }
    this.#renegotiations.push(entry);
    const out = conn.takeOutgoing();
    if (out.length > 0) this.#transport.write(out);
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // net.Socket conveniences (http and agents use them); delegated to the transport when it has them
  // -------------------------------------------------------------------------------------------

  /** The wrapped stream. */
  get transport(): Duplex {
    return this.#transport;
  }

  get connecting(): boolean {
    return (this.#transport as net.Socket).connecting === true;
  }

  get remoteAddress(): string | undefined {
    return (this.#transport as net.Socket).remoteAddress;
  }

  get remotePort(): number | undefined {
    return (this.#transport as net.Socket).remotePort;
  }

  get remoteFamily(): string | undefined {
    return (this.#transport as net.Socket).remoteFamily;
  }

  get localAddress(): string | undefined {
    return (this.#transport as net.Socket).localAddress;
  }

  get localPort(): number | undefined {
    return (this.#transport as net.Socket).localPort;
  }

  address(): net.AddressInfo | Record<string, never> {
    const t = this.#transport as Partial<net.Socket>;
    return typeof t.address === 'function' ? (t.address() as net.AddressInfo) : {};
  }

  /** As `net.Socket#setTimeout`: 'timeout' after `ms` of inactivity on the connection. */
  setTimeout(ms: number, callback?: () => void): this {
    const t = this.#transport as Partial<net.Socket>;
    if (typeof t.setTimeout === 'function') t.setTimeout(ms);
    if (callback) {
      if (ms === 0) this.off('timeout', callback);
      else this.once('timeout', callback);
    }
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    const t = this.#transport as Partial<net.Socket>;
    if (typeof t.setNoDelay === 'function') t.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    const t = this.#transport as Partial<net.Socket>;
    if (typeof t.setKeepAlive === 'function') t.setKeepAlive(enable, initialDelay);
    return this;
  }

  ref(): this {
    const t = this.#transport as Partial<net.Socket>;
    if (typeof t.ref === 'function') t.ref();
    return this;
  }

  unref(): this {
    const t = this.#transport as Partial<net.Socket>;
    if (typeof t.unref === 'function') t.unref();
    return this;
  }

  /** Plaintext bytes received (pushed to the readable side), as node:tls's TLSSocket counts them (not TCP's). */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Plaintext bytes written, sent or still buffered, as node:tls's TLSSocket counts them (not TCP's). */
  get bytesWritten(): number {
    return this.#bytesAccepted + this.writableLength - this.#inFlight;
  }

  /** Deprecated in net.Socket (`writableLength`), kept for code written for it. */
  get bufferSize(): number {
    return this.writableLength;
  }

  /** As net.Socket's: `'opening'` while TCP connects, then by which sides are still open. */
  get readyState(): net.SocketReadyState {
    if (this.connecting) return 'opening';
    if (this.readable) return this.writable ? 'open' : 'readOnly';
    return this.writable ? 'writeOnly' : 'closed';
  }

  /** As net.Socket's: true until the transport is connected. */
  get pending(): boolean {
    const t = this.#transport as Partial<net.Socket>;
    return typeof t.pending === 'boolean' ? t.pending : false;
  }

  /** The idle timeout set by `setTimeout()` (the transport's), undefined when none was. */
  get timeout(): number | undefined {
    return (this.#transport as Partial<net.Socket>).timeout;
  }

  get localFamily(): string | undefined {
    return (this.#transport as Partial<net.Socket>).localFamily;
  }

  get autoSelectFamilyAttemptedAddresses(): string[] {
    return (this.#transport as Partial<net.Socket>).autoSelectFamilyAttemptedAddresses ?? [];
  }

  /**
   * Connects the wrapped net.Socket (`new TLSSocket(new net.Socket())`), as net.Socket's
   * `connect()`; call it at once, before the ClientHello is written (the next tick). 'connect'
   * is emitted when TCP is up. Throws for a transport that is not a net.Socket.
   */
  connect(options: net.SocketConnectOpts, connectionListener?: () => void): this;
  connect(port: number, host: string, connectionListener?: () => void): this;
  connect(port: number, connectionListener?: () => void): this;
  connect(path: string, connectionListener?: () => void): this;
  connect(...args: unknown[]): this {
    const t = this.#transport;
    if (!(t instanceof net.Socket)) throw Object.assign(new Error('sandtls: connect() needs a TLSSocket over a net.Socket'), { code: 'ERR_INVALID_STATE' });
    const listener = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    if (listener) this.once('connect', listener);
    t.once('connect', () => this.emit('connect'));
    (t.connect as (...a: unknown[]) => net.Socket)(...args);
    return this;
  }

  /** As net.Socket's: closes the TCP connection with a RST (no close_notify), and destroys this socket. */
  resetAndDestroy(): this {
    const t = this.#transport as Partial<net.Socket>;
    if (typeof t.resetAndDestroy === 'function' && !t.destroyed) t.resetAndDestroy();
    this.destroy();
    return this;
  }

  /** Ends the stream (close_notify, FIN), then destroys it once the writable side finished. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }
}
