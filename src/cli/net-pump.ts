/**
 * Drives one sans-IO connection over one `net.Socket` for the `sandtls` commands: socket bytes
 * go to `conn.receive()`, whatever `conn.takeOutgoing()` holds is written back after every call,
 * and application data, the peer's close_notify and the end of the connection come out as
 * callbacks and promises. A hook that answers with a Promise parks the connection
 * (`conn.pending`): the socket is paused until it settles, then `conn.resume()` goes on. The library adapter is `sandtls/node`; this pump is the few lines
 * the command line needs, with a hook around every call into the connection so the demo can
 * attribute each Platform call to the step that made it.
 * @module
 */
import type { Socket } from 'node:net';
import type { Connection, ConnectionInfo, PendingOperation } from '../index.js';

/** The calls the pump makes into the connection. */
export type PumpOp = 'receive' | 'resume' | 'send' | 'close' | 'updateKeys' | 'read' | 'takeOutgoing';

export interface NetPumpOptions {
  /** Application data, in order. */
  readonly onData?: (data: Uint8Array) => void;
  /** The peer sent close_notify (default: answer with ours, ending the connection). */
  readonly onPeerClose?: (pump: NetPump) => void;
  /** Runs every call into the connection; must call `call` exactly once. */
  readonly around?: (op: PumpOp, call: () => void) => void;
}

/** How a connection ended. */
export interface PumpEnd {
  /** Why it failed: the connection's `TlsAlertError`, a socket error, or an early end. */
  readonly error: Error | undefined;
  /** The TCP stream ended after the handshake without the peer's close_notify (RFC 8446 6.1). */
  readonly truncated: boolean;
}

/**
 * @example
 * const pump = new NetPump(engine.client({ serverName, trustAnchors }), net.connect(443, host), {
 *   onData: (data) => process.stdout.write(data),
 * });
 * const info = await pump.handshake;
 * pump.send(new TextEncoder().encode('hello\n'));
 * pump.close();
 * const { error } = await pump.ended;
 */
export class NetPump {
  readonly conn: Connection;
  readonly socket: Socket;
  /** Resolves with what was negotiated; rejects with the reason the handshake failed. */
  readonly handshake: Promise<ConnectionInfo>;
  /** Resolves once the socket closed (never rejects). */
  readonly ended: Promise<PumpEnd>;
  readonly #options: NetPumpOptions;
  #resolveHandshake!: (info: ConnectionInfo) => void;
  #rejectHandshake!: (error: Error) => void;
  #resolveEnded!: (end: PumpEnd) => void;
  #handshakeSettled = false;
  #peerCloseSeen = false;
  #error: Error | undefined;
  #truncated = false;
  #bytesIn = 0;
  #bytesOut = 0;
  /** The parked hook (`conn.pending`) the pump waits on, with the socket paused. */
  #parked: PendingOperation | undefined;
  /** `pause()` was asked for (backpressure): resuming a parked connection does not undo it. */
  #pausedByCaller = false;
  /** The socket's 'end' and 'close', in order, that came while the connection was parked with input it had not handled yet. */
  #heldEvents: ('end' | 'close')[] = [];

  constructor(conn: Connection, socket: Socket, options: NetPumpOptions = {}) {
    this.conn = conn;
    this.socket = socket;
    this.#options = options;
    this.handshake = new Promise((resolve, reject) => {
      this.#resolveHandshake = resolve;
      this.#rejectHandshake = reject;
    });
    // The caller may only look at `ended`; a failed handshake must not become an unhandled rejection.
    this.handshake.catch(() => {});
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    socket.on('data', (chunk: Buffer) => {
      this.#call('receive', () => conn.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
      this.#flush();
      this.#check();
    });
    // A paused socket still reports its end: while parked, the end comes after the held input.
    socket.on('end', () => (this.#parked ? this.#heldEvents.push('end') : this.#onSocketEnd()));
    socket.on('error', (error) => {
      this.#error ??= error;
    });
    socket.on('close', () => (this.#parked ? this.#heldEvents.push('close') : this.#onSocketClose()));
    this.#flush();
    this.#check();
  }

  /** Application data bytes received and sent so far. */
  get bytes(): { readonly in: number; readonly out: number } {
    return { in: this.#bytesIn, out: this.#bytesOut };
  }

  /** Whether `send()` can be called: the handshake is done and close() was not. */
  get canSend(): boolean {
    return this.conn.state === 'connected' && !this.conn.closeSent;
  }

  /** Sends application data; false when the socket's buffer is full (wait for its 'drain'). */
  send(data: Uint8Array): boolean {
    try {
      this.#call('send', () => this.conn.send(data));
    } catch (error) {
      // A connection that just failed reports it through `handshake`/`ended`, not here.
      if (this.conn.state !== 'failed') throw error;
    }
    this.#bytesOut += data.length;
    const writable = this.#flush();
    this.#check();
    return writable;
  }

  /** Sends a KeyUpdate, asking the peer to update too when `requestPeer`. */
  updateKeys(requestPeer: boolean): void {
    try {
      this.#call('updateKeys', () => this.conn.updateKeys(requestPeer));
    } catch (error) {
      if (this.conn.state !== 'failed') throw error;
    }
    this.#flush();
    this.#check();
  }

  /** Sends close_notify; the socket ends once the peer's close_notify has arrived too. */
  close(): void {
    this.#call('close', () => this.conn.close());
    this.#flush();
    this.#check();
  }

  /** Stops reading from the socket (backpressure) until `resume()`. */
  pause(): void {
    this.#pausedByCaller = true;
    this.socket.pause();
  }

  resume(): void {
    this.#pausedByCaller = false;
    if (!this.#parked) this.socket.resume();
  }

  #call(op: PumpOp, call: () => void): void {
    if (this.#options.around) this.#options.around(op, call);
    else call();
  }

  #flush(): boolean {
    let out: Uint8Array = new Uint8Array(0);
    this.#call('takeOutgoing', () => (out = this.conn.takeOutgoing()));
    if (out.length === 0 || this.socket.destroyed || !this.socket.writable) return !this.socket.writableNeedDrain;
    return this.socket.write(out);
  }

  #check(): void {
    const { conn } = this;
    if (conn.state === 'failed') {
      this.#fail(conn.error ?? new Error('the connection failed'));
      return;
    }
    const pending = conn.pending;
    if (pending && pending !== this.#parked) this.#waitFor(pending);
    if (!this.#handshakeSettled && conn.info && (conn.state === 'connected' || conn.state === 'closed')) {
      this.#handshakeSettled = true;
      this.#resolveHandshake(conn.info);
    }
    let data: Uint8Array = new Uint8Array(0);
    this.#call('read', () => (data = conn.read()));
    if (data.length > 0) {
      this.#bytesIn += data.length;
      this.#options.onData?.(data);
    }
    if (conn.peerClosed && !this.#peerCloseSeen) {
      this.#peerCloseSeen = true;
      if (this.#options.onPeerClose) this.#options.onPeerClose(this);
      else if (!conn.closeSent) this.close();
    }
    // close_notify went both ways: nothing more can be said, so the TCP stream ends too.
    if (conn.state === 'closed') this.#endSocket();
  }

  /** Reads nothing more until the parked hook settled, then resumes the connection (which may park again). */
  #waitFor(pending: PendingOperation): void {
    this.#parked = pending;
    this.socket.pause();
    void pending.settled.then(() => {
      if (this.#parked !== pending) return;
      this.#parked = undefined;
      // Even on a closed socket: the input held meanwhile is still the peer's to be read.
      this.#call('resume', () => this.conn.resume());
      this.#flush();
      this.#check();
      if (this.#parked) return;
      if (!this.#pausedByCaller && !this.socket.destroyed) this.socket.resume();
      const held = this.#heldEvents;
      this.#heldEvents = [];
      for (const name of held) {
        if (name === 'end') this.#onSocketEnd();
        else this.#onSocketClose();
      }
    });
  }

  #fail(error: Error): void {
    this.#error = error;
    this.#settleHandshake();
    // The alert is written; after a fatal alert nothing more can be said (RFC 8446 6.2): FIN, and
    // the socket goes once the alert is out, without waiting for the peer's FIN.
    if (!this.socket.destroyed && this.socket.writable) this.socket.end(() => this.socket.destroy());
  }

  #settleHandshake(): void {
    if (this.#handshakeSettled) return;
    this.#handshakeSettled = true;
    this.#rejectHandshake(this.#error ?? new _EarlyEnd('the connection closed during the handshake'));
  }

  #onSocketEnd(): void {
    const { conn } = this;
    if (conn.state === 'handshaking') {
      this.#error ??= new _EarlyEnd('the peer closed the connection during the handshake');
      this.#settleHandshake();
    } else if (conn.state === 'connected' && !conn.peerClosed) {
      this.#truncated = true;
    }
    this.#endSocket();
  }

  #endSocket(): void {
    if (!this.socket.destroyed && this.socket.writable) this.socket.end();
  }

  #onSocketClose(): void {
    if (this.conn.state === 'failed' && this.conn.error) this.#error = this.conn.error;
    if (!this.#handshakeSettled) {
      this.#error ??= new _EarlyEnd('the connection closed during the handshake');
      this.#settleHandshake();
    }
    this.#resolveEnded({ error: this.#error, truncated: this.#truncated });
  }
}

/** The TCP connection ended where TLS did not allow it to. */
class _EarlyEnd extends Error {
  override readonly name = 'ConnectionClosed';
}
