/**
 * A browser WebSocket as a Web Streams byte pair, so `connectTls` can run over a
 * WebSocket-to-TCP bridge (websockify and the like): the bridge carries raw TCP bytes in binary
 * messages, and TLS runs end to end between the page and the server behind the bridge.
 * @module
 */

/** The parts of a WebSocket that {@link websocketStreams} uses (a browser's, Deno's, Bun's or Node's). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: WebSocketEventLike) => void): void;
}

/** The fields of a WebSocket's 'message' and 'close' events that {@link websocketStreams} reads. */
export interface WebSocketEventLike {
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
}

export interface WebSocketStreamsOptions {
  /**
   * Bytes the WebSocket may hold unsent (`bufferedAmount`) before a write waits for it to
   * drain (checked every few milliseconds: WebSocket has no drain event). Default 1 MiB.
   */
  readonly highWaterMark?: number;
}

/** The byte pair {@link websocketStreams} returns, plus the WebSocket's own lifecycle. */
export interface WebSocketStreams {
  /** Bytes of every binary message, in order; ends when the WebSocket closes cleanly. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Each chunk is sent as one binary message; writes made before 'open' wait for it. */
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves when the WebSocket is open; rejects if it closes first. */
  readonly opened: Promise<void>;
  /** Resolves when the WebSocket has closed (cleanly or not). */
  readonly closed: Promise<void>;
}

/** WebSocket readyState values (WHATWG WebSockets). */
const CONNECTING = 0;
const OPEN = 1;

/** How often a write re-checks `bufferedAmount` while the socket drains. */
const DRAIN_POLL_MS = 4;

/**
 * Wraps a WebSocket, connecting or open, into `{ readable, writable }` for `connectTls`.
 *
 * A WebSocket cannot half-close, so closing the writable does not close it: the socket is
 * closed (code 1000) once the writable is closed and the readable has ended or been cancelled,
 * which lets a TLS close_notify exchange finish in both directions first. Aborting the writable
 * closes the socket at once. Text messages are not bytes: one errors the readable. Incoming
 * messages cannot be paused (the WebSocket API has no receive backpressure); outgoing writes
 * wait while more than `highWaterMark` bytes are buffered.
 * @example
 * const ws = new WebSocket('wss://bridge.example/tcp/example.com:443');
 * const tls = connectTls(websocketStreams(ws), { serverName: 'example.com', ca });
 */
export function websocketStreams(ws: WebSocketLike, options: WebSocketStreamsOptions = {}): WebSocketStreams {
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  ws.binaryType = 'arraybuffer';

  let readableDone = false;
  let writableDone = false;
  let isClosed = ws.readyState > OPEN;
  const closeWhenBothDone = () => {
    if (readableDone && writableDone && !isClosed) ws.close(1000);
  };

  const closed = new Promise<void>((resolve) => {
    if (isClosed) resolve();
    ws.addEventListener('close', () => {
      isClosed = true;
      resolve();
    });
  });
  const opened = new Promise<void>((resolve, reject) => {
    if (ws.readyState === OPEN) resolve();
    else if (ws.readyState !== CONNECTING) reject(new Error('websocketStreams: the WebSocket is already closed'));
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('close', (event) => reject(new Error(`websocketStreams: the WebSocket closed before it opened (code ${event.code ?? 'none'})`)));
  });
  // Awaited by writes; a socket that never opens is reported through those writes and the readable.
  opened.catch(() => {});

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      ws.addEventListener('message', (event) => {
        if (readableDone) return;
        if (event.data instanceof ArrayBuffer) {
          controller.enqueue(new Uint8Array(event.data));
        } else {
          readableDone = true;
          controller.error(new TypeError('websocketStreams: a text message arrived on a byte stream'));
          ws.close(); // browsers let scripts send only 1000 and 3000-4999
        }
      });
      ws.addEventListener('close', (event) => {
        if (readableDone) return;
        readableDone = true;
        if (event.wasClean) controller.close();
        else controller.error(new Error(`websocketStreams: the WebSocket closed abnormally (code ${event.code ?? 'none'})`));
      });
    },
    cancel() {
      readableDone = true;
      closeWhenBothDone();
    },
  });

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      await opened;
      if (isClosed || ws.readyState !== OPEN) throw new Error('websocketStreams: the WebSocket is closed');
      ws.send(chunk);
      while (ws.bufferedAmount > highWaterMark && ws.readyState === OPEN) {
        await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
      }
    },
    close() {
      writableDone = true;
      closeWhenBothDone();
    },
    abort() {
      writableDone = true;
      if (!isClosed) ws.close();
    },
  });

  return { readable, writable, opened, closed };
}
