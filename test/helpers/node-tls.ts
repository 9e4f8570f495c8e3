/**
 * node:tls as an interop peer: a one-connection server and a client, each wrapped in a
 * `NodeTlsPeer` that collects application data and notices the peer's close. Sockets and
 * servers are tracked (see `track` in pump.ts), so `closeNetResources()` releases them; every
 * wait has a deadline.
 */
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { DEFAULT_TIMEOUT_MS, track, withTimeout } from './pump.js';

/** One node:tls socket, with its received data and end/close seen as awaitable conditions. */
export class NodeTlsPeer {
  readonly socket: tls.TLSSocket;
  private chunks: Buffer[] = [];
  private length = 0;
  /** 'end' was emitted: the peer's close_notify (or FIN) arrived. */
  ended = false;
  closed = false;
  error: Error | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(socket: tls.TLSSocket) {
    this.socket = socket;
    const notify = () => this.listeners.forEach((listener) => listener());
    socket.on('data', (chunk: Buffer) => ((this.chunks.push(chunk), (this.length += chunk.length)), notify()));
    socket.on('end', () => ((this.ended = true), notify()));
    socket.on('close', () => ((this.closed = true), notify()));
    socket.on('error', (error) => ((this.error = error), notify()));
  }

  /** Resolves with exactly the next `n` bytes received. */
  async readBytes(n: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    await this.until(`${n} bytes from node:tls`, () => this.length >= n, timeoutMs);
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.length = all.length - n;
    return all.subarray(0, n);
  }

  /** Resolves once node:tls emitted 'end'. */
  async waitEnd(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.until("node:tls 'end'", () => this.ended, timeoutMs, true);
  }

  /** Resolves once the socket closed. */
  async waitClose(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.until("node:tls 'close'", () => this.closed, timeoutMs, true);
  }

  private until(what: string, ready: () => boolean, timeoutMs: number, endIsFine = false): Promise<void> {
    let listener!: () => void;
    const done = new Promise<void>((resolve, reject) => {
      listener = () => {
        if (ready()) resolve();
        else if (this.error) reject(new Error(`node:tls error while waiting for ${what}: ${this.error.message}`, { cause: this.error }));
        else if (this.closed || (this.ended && !endIsFine)) reject(new Error(`node:tls socket ended while waiting for ${what}`));
      };
      this.listeners.add(listener);
      listener();
    });
    return withTimeout(done, timeoutMs, what).finally(() => this.listeners.delete(listener));
  }
}

/**
 * A node:tls server on 127.0.0.1 and an ephemeral port. `peer` resolves with the first
 * connection once its handshake completed, and rejects if a handshake fails (tlsClientError).
 */
export async function startNodeTlsServer(
  options: tls.TlsOptions,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<{ port: number; peer: Promise<NodeTlsPeer> }> {
  let settle!: { resolve: (peer: NodeTlsPeer) => void; reject: (error: Error) => void };
  const first = new Promise<NodeTlsPeer>((resolve, reject) => (settle = { resolve, reject }));
  const server = track(
    tls.createServer(options, (socket) => {
      track(socket);
      settle.resolve(new NodeTlsPeer(socket));
    }),
  );
  server.on('tlsClientError', (error, socket) => {
    track(socket);
    settle.reject(new Error(`node:tls server handshake failed: ${error.message}`, { cause: error }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return { port, peer: withTimeout(first, timeoutMs, `a node:tls connection on port ${port}`) };
}

/** A node:tls client connection; resolves on 'secureConnect', rejects on 'error'. */
export function connectNodeTls(options: tls.ConnectionOptions, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<NodeTlsPeer> {
  const socket = track(tls.connect(options));
  const peer = new NodeTlsPeer(socket);
  const connected = new Promise<NodeTlsPeer>((resolve, reject) => {
    socket.once('secureConnect', () => resolve(peer));
    socket.once('error', (error) => reject(new Error(`node:tls client: ${error.message}`, { cause: error })));
    socket.once('close', () => reject(new Error('node:tls client closed before the handshake completed')));
  });
  return withTimeout(connected, timeoutMs, 'node:tls secureConnect');
}

/**
 * A node:tls server on 127.0.0.1 and an ephemeral port that takes any number of connections:
 * `next()` resolves with the next connection whose handshake completed (in order), and rejects if
 * a handshake failed (tlsClientError) or after the deadline. For resumption tests, where one
 * server sees a full handshake and then a resumed one.
 */
export async function startNodeTlsServerForMany(
  options: tls.TlsOptions,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<{ port: number; server: tls.Server; next(): Promise<NodeTlsPeer> }> {
  const ready: NodeTlsPeer[] = [];
  let failure: Error | undefined;
  const waiting = new Set<() => void>();
  const notify = () => waiting.forEach((listener) => listener());
  const server = track(
    tls.createServer(options, (socket) => {
      track(socket);
      ready.push(new NodeTlsPeer(socket));
      notify();
    }),
  );
  server.on('tlsClientError', (error, socket) => {
    track(socket);
    failure = new Error(`node:tls server handshake failed: ${error.message}`, { cause: error });
    notify();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const next = () => {
    let listener!: () => void;
    const found = new Promise<NodeTlsPeer>((resolve, reject) => {
      listener = () => {
        // Taken off at once: a settled wait must not take a later connection.
        if (ready.length > 0) {
          waiting.delete(listener);
          resolve(ready.shift()!);
        } else if (failure) {
          waiting.delete(listener);
          reject(failure);
        }
      };
      waiting.add(listener);
      listener();
    });
    return withTimeout(found, timeoutMs, `a node:tls connection on port ${port}`).finally(() => waiting.delete(listener));
  };
  return { port, server, next };
}
