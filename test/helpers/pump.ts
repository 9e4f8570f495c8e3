/**
 * Drives a sans-IO sandtls connection over a real `net.Socket`: socket bytes go to
 * `conn.receive()`, and whatever `conn.takeOutgoing()` holds is written back after every
 * receive, send and close. Application data is collected from `conn.read()`.
 *
 * Every wait has an explicit deadline and also fails fast: when the connection fails (with
 * `conn.error`), the socket errors, or the peer's FIN arrives before the awaited condition.
 * A misbehaving engine or peer makes a test fail with a reason instead of hanging.
 *
 * A connection that parks on a Promise (an asynchronous crypto provider such as WebCrypto, or an
 * asynchronous hook: `conn.pending`) is settled by the pump itself, as sandtls/node would: it
 * awaits `pending.settled`, calls `conn.resume()` and writes what follows, until nothing is pending.
 *
 * `listenOnce()` / `connectTcp()` hand out sockets and servers that `closeNetResources()`
 * (call it in `afterEach`) destroys, whatever state the test left them in.
 */
import net from 'node:net';

/** The part of a sandtls `Connection` the pump uses (structural, so the helper does not
 * depend on the engine's module layout). */
export interface SansIoConnection {
  receive(bytes: Uint8Array): void;
  takeOutgoing(): Uint8Array;
  send(data: Uint8Array): void;
  read(): Uint8Array;
  close(): void;
  readonly state: 'handshaking' | 'connected' | 'closed' | 'failed';
  readonly peerClosed: boolean;
  readonly error: Error | undefined;
  /** Set while the handshake is parked on a Promise (see `Connection.pending`). */
  readonly pending?: { readonly settled: Promise<void> } | undefined;
  /** Continues a parked handshake once `pending.settled` resolved. */
  resume?(): void;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Resources every test must release
// ---------------------------------------------------------------------------------------------

const openResources = new Set<net.Socket | net.Server>();

/** Remembers a socket or server so `closeNetResources()` destroys it. */
export function track<T extends net.Socket | net.Server>(resource: T): T {
  openResources.add(resource);
  if (resource instanceof net.Socket) resource.once('close', () => openResources.delete(resource));
  return resource;
}

/** Destroys every tracked socket and closes every tracked server (for `afterEach`). */
export async function closeNetResources(): Promise<void> {
  const closing: Promise<void>[] = [];
  for (const resource of openResources) {
    if (resource instanceof net.Socket) {
      resource.destroy();
    } else {
      closing.push(new Promise((resolve) => resource.close(() => resolve())));
    }
  }
  openResources.clear();
  await Promise.all(closing);
}

/** Resolves or rejects with `promise`, or rejects after `ms` naming `what`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * A TCP listener on 127.0.0.1 and an ephemeral port that hands out its first connection. The
 * server socket is opened with `allowHalfOpen`, so a peer's FIN never ends our side for us.
 * Node TLS servers are separate; this is the raw socket a sandtls server pumps over.
 */
export async function listenOnce(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<{ port: number; accepted: Promise<net.Socket> }> {
  let onSocket!: (socket: net.Socket) => void;
  const first = new Promise<net.Socket>((resolve) => (onSocket = resolve));
  const server = track(
    net.createServer({ allowHalfOpen: true }, (socket) => {
      track(socket);
      onSocket(socket);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return { port, accepted: withTimeout(first, timeoutMs, `a TCP connection on port ${port}`) };
}

/** A TCP connection to 127.0.0.1:`port` (half-open allowed); connection errors surface as the socket's 'error'. */
export function connectTcp(port: number): net.Socket {
  return track(net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
}

// ---------------------------------------------------------------------------------------------
// The pump
// ---------------------------------------------------------------------------------------------

interface Waiter {
  what: string;
  /** The peer's FIN does not make this wait hopeless. */
  allowPeerEnd: boolean;
  /** Returns true once the condition holds. */
  ready: () => boolean;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface PumpOptions {
  /** Deadline of each wait (default 10 s). */
  timeoutMs?: number;
  /** Names this side in error messages ('sandtls client', ...). */
  label?: string;
}

/**
 * Connects `conn` to `socket`. Writes whatever the connection already holds (a client's
 * ClientHello) at once.
 * @example
 * const pump = new Pump(engine.client({ serverName: 'localhost', trustAnchors }), connectTcp(port));
 * await pump.handshake();
 * pump.send('hello');
 * const reply = await pump.readUntil(5);
 * await pump.end();
 */
export class Pump<C extends SansIoConnection = SansIoConnection> {
  readonly conn: C;
  readonly socket: net.Socket;
  readonly label: string;
  private readonly timeoutMs: number;
  private readonly waiters = new Set<Waiter>();
  private received: Uint8Array[] = [];
  private receivedLength = 0;
  /** The peer's FIN arrived. */
  socketEnded = false;
  /** The socket is fully closed. */
  socketClosed = false;
  socketError: Error | undefined;
  /** Every chunk written to the socket, for debugging failures. */
  bytesWritten = 0;
  bytesRead = 0;
  /** A settling loop (`settleParked`) is running. */
  private settling = false;

  constructor(conn: C, socket: net.Socket, options: PumpOptions = {}) {
    this.conn = conn;
    this.socket = socket;
    this.label = options.label ?? 'sandtls';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    socket.on('data', (chunk: Buffer) => {
      this.bytesRead += chunk.length;
      // A view of node's buffer, possibly at a non-zero offset: the engine must cope.
      this.conn.receive(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.afterStep();
    });
    socket.on('end', () => {
      this.socketEnded = true;
      this.check();
    });
    socket.on('close', () => {
      this.socketClosed = true;
      this.check();
    });
    socket.on('error', (error) => {
      this.socketError = error;
      this.check();
    });
    this.flush();
    if (this.conn.pending) void this.settleParked(); // a client parked before its ClientHello
  }

  /**
   * After the connection took a step: writes what it queued, sends FIN after a fatal alert (as a
   * real adapter would: nothing more can be said), collects application data, settles waiters,
   * and, when the connection parked, starts settling it.
   */
  private afterStep(): void {
    this.flush();
    if (this.conn.state === 'failed') this.socket.end();
    this.collect();
    this.check();
    if (this.conn.pending && !this.settling) void this.settleParked();
  }

  /** While the connection is parked: awaits `pending.settled` (it never rejects), resumes, and steps on. */
  private async settleParked(): Promise<void> {
    this.settling = true;
    try {
      for (let pending = this.conn.pending; pending; pending = this.conn.pending) {
        await pending.settled;
        this.conn.resume?.();
        this.flush();
        if (this.conn.state === 'failed') this.socket.end();
        this.collect();
        this.check();
      }
    } finally {
      this.settling = false;
    }
  }

  /** Resolves when the handshake completed; rejects with `conn.error` if it failed. */
  async handshake(): Promise<void> {
    await this.waitFor('the handshake', () => this.conn.state === 'connected' || this.conn.state === 'closed');
  }

  /** Queues application data and writes the records. */
  send(data: Uint8Array | string): void {
    this.conn.send(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    this.flush();
  }

  /** Application data received and not yet taken by `readUntil`, as bytes. */
  get pending(): number {
    return this.receivedLength;
  }

  /** Resolves with exactly the next `n` bytes of application data. */
  async readUntil(n: number): Promise<Uint8Array> {
    await this.waitFor(`${n} bytes of application data`, () => this.receivedLength >= n);
    const all = concat(this.received);
    this.received = all.length > n ? [all.subarray(n)] : [];
    this.receivedLength = all.length - n;
    return all.subarray(0, n);
  }

  /** Resolves when the peer's close_notify arrived. */
  async waitPeerClosed(): Promise<void> {
    await this.waitFor("the peer's close_notify", () => this.conn.peerClosed);
  }

  /**
   * A clean close: queues our close_notify, waits until close_notify went both ways
   * (`conn.state === 'closed'`), and only then sends FIN and waits for the socket to close.
   * Waiting for the peer's close_notify before our FIN shows the peer answered our alert,
   * not the end of the TCP stream.
   */
  async end(): Promise<void> {
    if (this.conn.state !== 'closed') {
      this.conn.close();
      this.flush();
    }
    await this.waitFor('close_notify both ways', () => this.conn.state === 'closed');
    this.socket.end();
    await this.waitFor('the socket to close', () => this.socketClosed, { allowPeerEnd: true });
  }

  /** Writes whatever the connection has queued. */
  flush(): void {
    const out = this.conn.takeOutgoing();
    if (out.length > 0 && !this.socket.destroyed && this.socket.writable) {
      this.bytesWritten += out.length;
      this.socket.write(out);
    }
  }

  private collect(): void {
    const data = this.conn.read();
    if (data.length > 0) {
      this.received.push(data.slice());
      this.receivedLength += data.length;
    }
  }

  private waitFor(what: string, ready: () => boolean, options: { allowPeerEnd?: boolean } = {}): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        what,
        allowPeerEnd: options.allowPeerEnd === true,
        ready,
        resolve,
        reject,
        timer: setTimeout(() => this.settle(waiter, this.failure(`timed out after ${this.timeoutMs} ms`)), this.timeoutMs),
      };
      this.waiters.add(waiter);
      this.check();
    });
  }

  /** Settles every waiter whose condition holds, and fails the rest if nothing more can come. */
  private check(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.ready()) {
        this.settle(waiter);
        continue;
      }
      const { conn } = this;
      if (conn.state === 'failed') {
        // The engine's own TlsAlertError, untouched: tests assert on its alert and sender.
        this.settle(waiter, conn.error ?? this.failure('the connection failed without an error'), false);
      } else if (this.socketError) {
        this.settle(waiter, this.failure(`socket error ${this.socketError.message}`));
      } else if (this.socketClosed) {
        this.settle(waiter, this.failure('the socket closed'));
      } else if (this.socketEnded && !waiter.allowPeerEnd) {
        this.settle(waiter, this.failure('the peer ended the TCP stream'));
      }
    }
  }

  private failure(why: string): Error {
    const { conn } = this;
    return new Error(
      `${this.label}: ${why} (state ${conn.state}, peerClosed ${conn.peerClosed}, ` +
        `read ${this.bytesRead} B, wrote ${this.bytesWritten} B, app data pending ${this.receivedLength} B)`,
    );
  }

  private settle(waiter: Waiter, error?: Error, annotate = true): void {
    if (!this.waiters.delete(waiter)) return;
    clearTimeout(waiter.timer);
    if (error) {
      if (annotate) error.message += ` [while waiting for ${waiter.what}]`;
      waiter.reject(error);
    } else {
      waiter.resolve();
    }
  }
}

/** Concatenates byte arrays. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
