/**
 * The in-memory pipe of bench/tls.ts: a client and a server connection of one engine, each
 * side's `takeOutgoing()` handed to the other's `receive()` until neither has anything left to
 * say. No streams, no event loop, no copies beyond the engine's own: what is timed is the engine.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { ClientConfig, Connection, Engine, HookKind, ServerConfig } from '../../src/index.js';

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

/** Options of {@link handshakeAsync}. */
export interface AsyncPipeOptions {
  /** Adds each side's time (calls and the awaits of its parked operations) to it. */
  readonly clock?: SideClock;
  /** Records every record that crossed. */
  readonly wire?: WireRecord[];
  /** The time source (default `performance.now`); tests pass a scripted one. */
  readonly now?: () => number;
}

/** What a parked connection waited for, in order, over a handshake. */
export interface AsyncHandshake {
  readonly client: Connection;
  readonly server: Connection;
  /** Each park of either side: which side and what it waited for (`conn.pending.kind`). */
  readonly parked: readonly { side: 'client' | 'server'; kind: HookKind }[];
}

/** Awaits and resumes `conn` until it is no longer parked, noting each park. */
async function _settle(conn: Connection, side: 'client' | 'server', parked: { side: 'client' | 'server'; kind: HookKind }[]): Promise<void> {
  while (conn.pending) {
    parked.push({ side, kind: conn.pending.kind });
    await conn.pending.settled;
    conn.resume();
  }
}

/**
 * {@link handshake} for connections that may park: each side's call is followed by awaiting
 * and resuming it while `conn.pending` is set, and only then is its output handed over. Timing
 * per side as the module comment says. A provider or hook that never parks costs one Promise
 * per handshake here. Throws unless both sides connected.
 * @example
 * const { client, parked } = await handshakeAsync(engine, clientConfig, serverConfig, { clock });
 */
export async function handshakeAsync(
  engine: Engine,
  clientConfig: ClientConfig,
  serverConfig: ServerConfig,
  options: AsyncPipeOptions = {},
): Promise<AsyncHandshake> {
  const now = options.now ?? (() => performance.now());
  const { wire } = options;
  const parked: { side: 'client' | 'server'; kind: HookKind }[] = [];
  let t = now();
  const client = engine.client(clientConfig);
  if (client.pending) await _settle(client, 'client', parked); // a key share generated by an async provider
  let toServer = client.takeOutgoing();
  let end = now();
  let clientMs = end - t;
  t = end;
  const server = engine.server(serverConfig);
  end = now();
  let serverMs = end - t;
  let toClient: Uint8Array = _EMPTY;
  while (toServer.length > 0 || toClient.length > 0) {
    if (toServer.length > 0) {
      if (wire) recordsOf('client', toServer, wire);
      t = now();
      server.receive(toServer);
      if (server.pending) await _settle(server, 'server', parked);
      toClient = server.takeOutgoing();
      end = now();
      serverMs += end - t;
      toServer = _EMPTY;
    }
    if (toClient.length > 0) {
      if (wire) recordsOf('server', toClient, wire);
      t = now();
      client.receive(toClient);
      if (client.pending) await _settle(client, 'client', parked);
      toServer = client.takeOutgoing();
      end = now();
      clientMs += end - t;
      toClient = _EMPTY;
    }
  }
  if (client.state !== 'connected' || server.state !== 'connected') {
    const why = client.error ?? server.error;
    throw new Error(`handshake did not complete: client ${client.state}, server ${server.state}${why ? `: ${why.message}` : ''}`);
  }
  if (options.clock) {
    options.clock.client += clientMs;
    options.clock.server += serverMs;
  }
  return { client, server, parked };
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
