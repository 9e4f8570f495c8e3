/**
 * What the sandtls/node suites open over loopback (TLS sockets of either implementation, raw
 * sockets, servers), released after each test, and event waits with a deadline.
 */
import { once, type EventEmitter } from 'node:events';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { withTimeout } from './pump.js';

export interface NodeResources {
  /** Destroys `socket` at `release()` unless it closed by then. */
  keep<T extends Duplex>(socket: T): T;
  /**
   * Listens on 127.0.0.1 and an ephemeral port, closed at `release()`; the raw sockets of a
   * server that is not node:tls's are kept too (those beneath a node:tls socket are left to it:
   * destroying one while node:tls still writes crashes Node 20).
   */
  listen<T extends net.Server>(server: T): Promise<number>;
  /** Resolves with the event's arguments, or rejects on 'error' (unless the error is awaited) or the deadline. */
  event<T extends unknown[] = unknown[]>(emitter: EventEmitter, name: string, what?: string): Promise<T>;
  /** Polls `ready` (a few ms apart) until it holds, calling `sample` each time; fails at the deadline. */
  until(what: string, ready: () => boolean, sample?: () => void): Promise<void>;
  /** For `afterEach`: destroys the kept sockets, newest first (a TLS socket before the TCP one beneath it), and closes the servers. */
  release(): Promise<void>;
}

/**
 * @example
 * const { keep, listen, event, release } = nodeResources(15_000);
 * afterEach(release);
 */
export function nodeResources(waitMs: number): NodeResources {
  const sockets = new Set<Duplex>();
  const servers = new Set<net.Server>();
  const keep = <T extends Duplex>(socket: T): T => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return socket;
  };
  return {
    keep,
    async listen(server) {
      servers.add(server);
      if (!(server instanceof tls.Server)) server.on('connection', (socket: net.Socket) => keep(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      return (server.address() as AddressInfo).port;
    },
    event: <T extends unknown[] = unknown[]>(emitter: EventEmitter, name: string, what = name) => withTimeout(once(emitter, name) as Promise<T>, waitMs, what),
    async until(what, ready, sample = () => {}) {
      const deadline = performance.now() + waitMs;
      for (;;) {
        sample();
        if (ready()) return;
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
    async release() {
      for (const socket of [...sockets].reverse()) socket.destroy();
      sockets.clear();
      // A server that was closed already answers with an error: closed is closed.
      await Promise.all([...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      servers.clear();
    },
  };
}
