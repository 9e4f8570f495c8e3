/**
 * A sans-IO `Connection` driven over a pair of Web Streams carrying TLS records, presented as a
 * pair carrying plaintext: the socket shape of Cloudflare's `connect()` (`readable`, `writable`,
 * `opened`, `closed`, `close()`), which Deno's `Deno.connect()`, Bun and browsers can all feed.
 *
 * How bytes move:
 * - Out: every call into the connection (`receive`, `send`, `close`) is followed at once, in the
 *   same turn, by `takeOutgoing()` into the transport's writer, so records reach the wire in the
 *   order the engine made them. Before each slice of application data is encrypted, the
 *   transport must be `ready` and have accepted all but a bounded amount of what it was given:
 *   a slow peer slows the writer instead of growing a buffer here or in the transport.
 * - In: the handshake reads the transport until it completes. After that the transport is read
 *   only when the application reads plaintext (a `highWaterMark` of 0 and a pull source): a slow
 *   reader leaves the bytes in the transport, where TCP flow control holds the peer back.
 * - Parked: when a hook answers with a Promise (a `TlsSigner`, `verifyPeer`, a ticket or session
 *   store), the engine parks (`conn.pending`). The transport is not read meanwhile; once the
 *   hook settled the engine is resumed and its flight written at once, whether or not the
 *   application is reading (a client signing for post-handshake authentication).
 * - Close: closing `writable` sends close_notify (RFC 8446 6.1) and keeps reading; the peer's
 *   close_notify ends `readable`. The transport itself (its writer, then its reader) is closed
 *   only when both directions are done, because some transports (Deno's) close the whole socket
 *   when their writable closes. A transport that ends without close_notify is a truncation: an
 *   error, never a clean end.
 * - Failure: the alert the engine queued is written; `opened` (if still pending), `readable` and
 *   `writable` fail with the `TlsAlertError` at once, and `closed` once the transport is closed
 *   (the alert flushed to it).
 * @module
 */
import type { Connection, ConnectionInfo } from '../tls/connection.js';
import { TlsStateError } from '../tls/errors.js';

/** A pair of byte streams: a TCP connection, a WebSocket bridge, or one end of an in-memory pipe. */
export interface WebByteStreams {
  /** Bytes from the peer (Uint8Array, any ArrayBufferView, or ArrayBuffer chunks). */
  readonly readable: ReadableStream<Uint8Array | ArrayBufferView | ArrayBuffer>;
  /** Bytes to the peer (Uint8Array chunks). */
  readonly writable: WritableStream<Uint8Array>;
}

/** What `opened` resolves with: what the handshake negotiated (the engine's `ConnectionInfo`). */
export type WebTlsInfo = ConnectionInfo;

/**
 * A TLS connection over Web Streams, in the shape of Cloudflare's `Socket`. It owns the transport
 * it was given: when both directions are done (or it fails) it closes the transport's writable
 * and cancels its readable.
 */
export interface WebTlsSocket {
  /** Plaintext from the peer. Ends with the peer's close_notify; errors on a TLS failure or truncation. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Plaintext to the peer (Uint8Array, ArrayBufferView or ArrayBuffer chunks). Closing it sends close_notify. */
  readonly writable: WritableStream<Uint8Array | ArrayBufferView | ArrayBuffer>;
  /** Resolves with the negotiated parameters once the handshake completes; rejects (a `TlsAlertError` for a TLS failure) if it does not. */
  readonly opened: Promise<WebTlsInfo>;
  /** Resolves once both directions closed cleanly and the transport is closed; rejects with the error that ended the connection otherwise. */
  readonly closed: Promise<void>;
  /** What the handshake negotiated (undefined until `opened` resolves). */
  readonly info: WebTlsInfo | undefined;
  /**
   * Closes both directions now: close_notify (or, during the handshake, user_canceled) to the
   * peer, `readable` ends, further writes fail, the transport is closed. Returns `closed`.
   */
  close(): Promise<void>;
  /** RFC 8446 7.5 exporter, once `opened` resolved (see `Connection.exportKeyingMaterial`). */
  exportKeyingMaterial(label: string, context: Uint8Array | undefined, length: number): Uint8Array;
}

/** Largest plaintext encrypted per wait for the transport (four full records). */
const _WRITE_SLICE = 4 * 16384;

/**
 * Most bytes handed to the transport and not yet accepted by it before application data waits.
 * `ready` alone is not enough: a transport may count its queue in chunks with a large
 * high-water mark (Node's `Duplex.toWeb()` allows 16,384 chunks), so its `ready` would let
 * gigabytes pile up in front of a peer that stopped reading.
 */
const _MAX_UNACCEPTED = 4 * _WRITE_SLICE;

/** Plaintext the `writable` side queues before its writers see backpressure. */
const _WRITABLE_HIGH_WATER_MARK = 64 * 1024;

interface _Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise with its settle functions; marked handled so that an unobserved rejection is not an unhandled one. */
function _deferred<T>(): _Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(_ignore);
  return { promise, resolve, reject };
}

function _ignore(): void {}

/** A chunk from the transport or the application as a Uint8Array view (no copy). */
function _bytes(chunk: unknown, what: string): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  throw new TypeError(`${what} takes Uint8Array, ArrayBufferView or ArrayBuffer chunks, not ${chunk === null ? 'null' : typeof chunk}`);
}

/**
 * Drives `conn` over `transport` and returns the plaintext socket. The handshake starts at once.
 * Throws a TypeError if the transport's streams are locked.
 */
export function _openSocket(conn: Connection, transport: WebByteStreams, options: { allowHalfOpen: boolean }): WebTlsSocket {
  if (!transport || typeof transport !== 'object' || !transport.readable || !transport.writable) {
    throw new TypeError('expected { readable, writable } byte streams');
  }
  const reader = transport.readable.getReader();
  let writer: WritableStreamDefaultWriter<Uint8Array>;
  try {
    writer = transport.writable.getWriter();
  } catch (error) {
    reader.releaseLock();
    throw error;
  }
  const opened = _deferred<WebTlsInfo>();
  const closed = _deferred<void>();
  let readableController!: ReadableStreamDefaultController<Uint8Array>;
  let writableController!: WritableStreamDefaultController;

  /** The plaintext read side is over: the peer's close_notify was delivered, or reading was cancelled. */
  let readDone = false;
  /** This side sent close_notify (or gave up sending). */
  let writeDone = false;
  /** The transport's readable reached its end or was cancelled: it is not read again. */
  let transportEnded = false;
  /** The transport's writer was closed (or must not be written again). */
  let transportWriteClosed = false;
  /** `closed` is settled or settling: nothing starts any more. */
  let finished = false;
  let failure: unknown;

  // -------------------------------------------------------------------------------------------
  // The transport
  // -------------------------------------------------------------------------------------------

  /** The engine failed the connection (a function: a state read after a call TypeScript cannot see into). */
  const failed = (): boolean => conn.state === 'failed';

  /** Bytes written to the transport whose write() has not resolved yet, and the latest such write. */
  let unaccepted = 0;
  let lastWrite: Promise<void> = Promise.resolve();

  /** Writes what the engine queued, now, so records keep the engine's order. */
  const flush = (): void => {
    const out = conn.takeOutgoing();
    if (out.length === 0 || transportWriteClosed) return;
    unaccepted += out.length;
    lastWrite = writer.write(out).then(
      () => void (unaccepted -= out.length),
      (error: unknown) => fail(error),
    );
  };

  /** Waits until the transport can take more: its own `ready`, and no more than a bound unaccepted. */
  const transportReady = async (): Promise<void> => {
    await writer.ready;
    // Writes complete in order: once the latest has, every earlier one has too.
    if (unaccepted > _MAX_UNACCEPTED) await lastWrite;
  };

  /** The next chunk from the transport, or undefined at its end. */
  const readTransport = async (): Promise<Uint8Array | undefined> => {
    if (transportEnded) return undefined;
    const { value, done } = await reader.read();
    if (done) {
      transportEnded = true;
      return undefined;
    }
    return _bytes(value, 'the transport readable');
  };

  /** Closes the transport: its writer first (after every queued record), then its reader. */
  const closeTransport = async (reason?: unknown): Promise<void> => {
    if (!transportWriteClosed) {
      transportWriteClosed = true;
      await writer.close().catch(_ignore);
    }
    if (!transportEnded) {
      transportEnded = true;
      await reader.cancel(reason).catch(_ignore);
    }
  };

  // -------------------------------------------------------------------------------------------
  // Ending
  // -------------------------------------------------------------------------------------------

  /** Ends everything with `error`: the queued alert goes out, the transport closes, every promise and stream fails. */
  function fail(error: unknown): void {
    if (finished) return;
    finished = true;
    failure = error;
    readDone = true;
    writeDone = true;
    try {
      flush(); // the alert the engine queued for the peer
    } catch {
      // nothing more can be written
    }
    opened.reject(error);
    try {
      readableController.error(error);
    } catch {
      // already closed
    }
    try {
      writableController.error(error);
    } catch {
      // already closed
    }
    // `closed` waits for the transport: by then the alert went out (or could not).
    void closeTransport(error).then(() => closed.reject(error));
  }

  /** Both directions are done: close the transport, then `closed` resolves. */
  const finishIfDone = (): void => {
    if (finished || !readDone || !writeDone) return;
    finished = true;
    void closeTransport().then(() => closed.resolve());
  };

  /** Sends close_notify (once). The transport stays open for the peer's remaining data. */
  const closeWrite = (): void => {
    if (writeDone) return;
    writeDone = true;
    conn.close();
    flush();
    if (conn.state === 'failed') return fail(conn.error);
    finishIfDone();
  };

  /** The peer's close_notify reached the application: `readable` ends. */
  const endRead = (): void => {
    if (readDone) return;
    readDone = true;
    try {
      readableController.close();
    } catch {
      // cancelled meanwhile
    }
    if (!options.allowHalfOpen) closeWrite();
    finishIfDone();
  };

  // -------------------------------------------------------------------------------------------
  // A parked engine
  // -------------------------------------------------------------------------------------------

  /** The running resumption of a parked engine, if any. */
  let resuming: Promise<void> | undefined;

  /**
   * Resolves once the engine is no longer parked on a hook: each time the hook's Promise settled,
   * `resume()` and the flight it made go out (a failure ends everything). Never rejects. Nothing
   * reads the transport meanwhile: callers wait for this first.
   */
  const whenResumed = (): Promise<void> => {
    if (!conn.pending || finished) return Promise.resolve();
    // The loop awaits before it ends, so `resuming` is set before the `finally` clears it.
    resuming ??= (async () => {
      try {
        for (let parked = conn.pending; parked && !finished; parked = conn.pending) {
          await parked.settled;
          if (finished) return;
          conn.resume();
          flush();
          if (failed()) return fail(conn.error);
        }
      } finally {
        resuming = undefined;
      }
    })();
    return resuming;
  };

  // -------------------------------------------------------------------------------------------
  // The handshake
  // -------------------------------------------------------------------------------------------

  const handshake = async (): Promise<void> => {
    flush(); // a client's ClientHello
    while (conn.state === 'handshaking' && !finished) {
      if (conn.pending) {
        await whenResumed();
        continue;
      }
      const chunk = await readTransport();
      if (finished) return;
      if (chunk === undefined) throw new Error('the transport closed during the TLS handshake');
      conn.receive(chunk);
      flush();
    }
    if (finished) return;
    if (conn.state === 'failed') throw conn.error;
    opened.resolve(conn.info!);
  };
  handshake().catch(fail);

  // -------------------------------------------------------------------------------------------
  // Plaintext streams
  // -------------------------------------------------------------------------------------------

  const readable = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        readableController = controller;
      },
      // Called only while the application waits for data (highWaterMark 0).
      async pull(controller) {
        try {
          await opened.promise;
        } catch {
          return; // fail() errors this stream
        }
        while (!readDone) {
          const data = conn.read();
          if (data.length > 0) return controller.enqueue(data);
          if (conn.peerClosed) return endRead();
          if (conn.state === 'failed') return fail(conn.error);
          if (conn.pending) {
            await whenResumed();
            continue;
          }
          let chunk: Uint8Array | undefined;
          try {
            chunk = await readTransport();
          } catch (error) {
            return fail(error);
          }
          if (readDone) return;
          if (chunk === undefined) {
            // RFC 8446 6.1: the peer must send close_notify; a bare end may have cut data off.
            return fail(new Error('the transport ended without TLS close_notify: the data may be truncated (RFC 8446 6.1)'));
          }
          conn.receive(chunk);
          flush();
          // A post-handshake request answered by a signer that takes its time: resume it even if
          // the application stops reading.
          void whenResumed();
        }
      },
      cancel() {
        // The application reads no more; the peer may still be sent data (and closed normally).
        readDone = true;
        finishIfDone();
      },
    },
    { highWaterMark: 0 },
  );

  const writable = new WritableStream<Uint8Array | ArrayBufferView | ArrayBuffer>(
    {
      start(controller) {
        writableController = controller;
      },
      async write(chunk) {
        const data = _bytes(chunk, 'writable');
        await opened.promise;
        for (let at = 0; at < data.length; at += _WRITE_SLICE) {
          await transportReady();
          if (conn.state === 'failed') throw conn.error;
          if (finished || writeDone) throw failure ?? new TlsStateError('cannot write: the TLS socket is closed for sending');
          try {
            conn.send(data.subarray(at, at + _WRITE_SLICE));
          } catch (error) {
            flush(); // the alert, if sending failed the connection
            if (failed()) fail(conn.error);
            throw error;
          }
          flush();
        }
      },
      async close() {
        await opened.promise;
        closeWrite();
        if (failure !== undefined) throw failure;
      },
      abort(reason) {
        fail(reason ?? new Error('the TLS socket writable was aborted'));
      },
    },
    { highWaterMark: _WRITABLE_HIGH_WATER_MARK, size: (chunk) => (chunk as { byteLength?: number }).byteLength ?? 1 },
  );

  const close = (): Promise<void> => {
    if (finished) return closed.promise;
    if (conn.state === 'handshaking') {
      conn.close(); // RFC 8446 6.1: user_canceled, then close_notify
      flush();
      opened.reject(new TlsStateError('the TLS socket was closed before the handshake completed'));
      writeDone = true;
    } else {
      closeWrite();
      if (finished) return closed.promise;
    }
    readDone = true;
    try {
      readableController.close();
    } catch {
      // already closed or errored
    }
    try {
      writableController.error(new TlsStateError('the TLS socket is closed'));
    } catch {
      // already closed or errored
    }
    finishIfDone();
    return closed.promise;
  };

  return {
    readable,
    writable,
    opened: opened.promise,
    closed: closed.promise,
    get info() {
      return conn.info;
    },
    close,
    exportKeyingMaterial: (label, context, length) => conn.exportKeyingMaterial(label, context, length),
  };
}
