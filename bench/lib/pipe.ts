/**
 * The in-memory pipe of bench/tls.ts: a client and a server connection of one engine, each
 * side's `takeOutgoing()` handed to the other's `receive()` until neither has anything left to
 * say. No streams, no event loop, no copies beyond the engine's own: what is timed is the engine.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { ClientConfig, Connection, Engine, ServerConfig } from '../../src/index.js';

/** Milliseconds spent inside each side's calls, accumulated over handshakes. */
export interface SideClock {
  client: number;
  server: number;
}

/** One TLS record as it crossed the pipe (RFC 8446 5.1: type, legacy version, length). */
export interface WireRecord {
  readonly from: 'client' | 'server';
  /** ContentType: 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data. */
  readonly type: number;
  /** Length of the record's fragment (after the 5-byte header). */
  readonly length: number;
}

const _EMPTY: Uint8Array = new Uint8Array(0);

/** Splits a flight of bytes into its records (the pipe never cuts a record: flights are whole). */
export function recordsOf(from: 'client' | 'server', bytes: Uint8Array, into: WireRecord[]): void {
  let at = 0;
  while (at + 5 <= bytes.length) {
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    into.push({ from, type: bytes[at]!, length });
    at += 5 + length;
  }
}

/**
 * One full handshake between `engine.client(clientConfig)` and `engine.server(serverConfig)`.
 * With `clock`, adds the time spent in each side's calls (creation, `receive`, `takeOutgoing`)
 * to it; with `wire`, records every record that crossed. Throws unless both sides connected.
 */
export function handshake(
  engine: Engine,
  clientConfig: ClientConfig,
  serverConfig: ServerConfig,
  clock?: SideClock,
  wire?: WireRecord[],
): { client: Connection; server: Connection } {
  let t = performance.now();
  const client = engine.client(clientConfig);
  let toServer = client.takeOutgoing();
  let now = performance.now();
  let clientMs = now - t;
  t = now;
  const server = engine.server(serverConfig);
  now = performance.now();
  let serverMs = now - t;
  let toClient: Uint8Array = _EMPTY;
  while (toServer.length > 0 || toClient.length > 0) {
    if (toServer.length > 0) {
      if (wire) recordsOf('client', toServer, wire);
      t = performance.now();
      server.receive(toServer);
      toClient = server.takeOutgoing();
      now = performance.now();
      serverMs += now - t;
      toServer = _EMPTY;
    }
    if (toClient.length > 0) {
      if (wire) recordsOf('server', toClient, wire);
      t = performance.now();
      client.receive(toClient);
      toServer = client.takeOutgoing();
      now = performance.now();
      clientMs += now - t;
      toClient = _EMPTY;
    }
  }
  if (client.state !== 'connected' || server.state !== 'connected') {
    const why = client.error ?? server.error;
    throw new Error(`handshake did not complete: client ${client.state}, server ${server.state}${why ? `: ${why.message}` : ''}`);
  }
  if (clock) {
    clock.client += clientMs;
    clock.server += serverMs;
  }
  return { client, server };
}

/** Carries whatever each side has queued to the other until both are quiet (no timing). */
export function flush(a: Connection, b: Connection): void {
  for (;;) {
    const ab = a.takeOutgoing();
    if (ab.length > 0) b.receive(ab);
    const ba = b.takeOutgoing();
    if (ba.length > 0) a.receive(ba);
    if (ab.length === 0 && ba.length === 0) return;
  }
}
