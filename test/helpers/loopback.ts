/**
 * In-memory loopback for sans-IO connections: `pipe()` carries each side's `takeOutgoing()`
 * bytes to the other until neither has anything left to say, optionally cut into chunks, and
 * records every byte that crossed. Also the certificate and key fixtures the TLS tests share,
 * and a deterministic entropy source for `scriptedPlatform`.
 *
 * No sockets, no timers: everything is synchronous, so a test fails with the engine's own error
 * instead of hanging.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { concatBytes } from '../../src/crypto/bytes.js';
import type { SignatureScheme } from '../../src/crypto/sig.js';
import type { Connection } from '../../src/tls/connection.js';

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

const FIXTURES = new URL('../fixtures/', import.meta.url);

/** A PEM file of test/fixtures/tls/ (made by scripts/make-tls-fixtures.sh) as text. */
export function tlsFixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`tls/${name}`, FIXTURES)), 'utf8');
}

/** A PEM file of test/fixtures/x509/ (made by scripts/make-x509-fixtures.sh) as text. */
export function x509Fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`x509/${name}`, FIXTURES)), 'utf8');
}

/** A certificate chain (leaf first) with its leaf's private key. */
export interface Identity {
  readonly certificateChain: string;
  readonly privateKey: string;
}

/** Key types of test/fixtures/tls/: each leaf is issued by `ca.pem` for localhost, example.test and 127.0.0.1. */
export type FixtureKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa2048';

/** The trust anchor of every test/fixtures/tls/ leaf. */
export const TLS_CA: string = tlsFixture('ca.pem');

/** The name every test/fixtures/tls/ leaf is valid for (besides example.test and 127.0.0.1). */
export const TLS_SERVER_NAME = 'localhost';

/** A test/fixtures/tls/ leaf and its key (usable for servers and for client authentication). */
export function tlsIdentity(keyType: FixtureKeyType): Identity {
  return { certificateChain: tlsFixture(`${keyType}.pem`), privateKey: tlsFixture(`${keyType}.key`) };
}

/** The TLS 1.3 CertificateVerify schemes sandtls signs and verifies. */
export type CertificateVerifyScheme = Extract<
  SignatureScheme,
  'ecdsa_secp256r1_sha256' | 'ecdsa_secp384r1_sha384' | 'ed25519' | 'rsa_pss_rsae_sha256' | 'rsa_pss_rsae_sha384' | 'rsa_pss_rsae_sha512'
>;

/** The fixture key able to sign with each TLS 1.3 CertificateVerify scheme. */
export const KEY_TYPE_FOR_SCHEME: Readonly<Record<CertificateVerifyScheme, FixtureKeyType>> = {
  ecdsa_secp256r1_sha256: 'ecdsa-p256',
  ecdsa_secp384r1_sha384: 'ecdsa-p384',
  ed25519: 'ed25519',
  rsa_pss_rsae_sha256: 'rsa2048',
  rsa_pss_rsae_sha384: 'rsa2048',
  rsa_pss_rsae_sha512: 'rsa2048',
};

/**
 * The x509 fixture chain for example.com: leaf-example (P-256; SAN example.com, www.example.com,
 * 127.0.0.1, ::1) under rsa-int, anchored at rsa-root.
 */
export function exampleComIdentity(): Identity & { readonly trustAnchor: string } {
  return {
    certificateChain: x509Fixture('leaf-example.pem') + x509Fixture('rsa-int.pem'),
    privateKey: x509Fixture('leaf-example.key'),
    trustAnchor: x509Fixture('rsa-root.pem'),
  };
}

// ---------------------------------------------------------------------------------------------
// Deterministic entropy
// ---------------------------------------------------------------------------------------------

/** An entropy function for `scriptedPlatform` and the means to replay it from the start. */
export interface ReplayableEntropy {
  /** `(n, purpose) => n bytes`: SHA-256(seed, draw number, purpose) blocks; every draw differs. */
  readonly entropy: (n: number, purpose: string) => Uint8Array;
  /** Every purpose drawn since the last `reset()`, in order. */
  readonly purposes: string[];
  /** Starts the stream over: the same sequence of draws returns the same bytes again. */
  reset(): void;
}

/**
 * Deterministic, well-distributed entropy for `scriptedPlatform({ entropy })`: two runs that make
 * the same draws in the same order, with `reset()` between them, get identical bytes.
 * @example
 * const source = replayableEntropy('client');
 * const engine = init({ platform: scriptedPlatform({ entropy: source.entropy }) });
 * source.reset(); // now every connection on `engine` draws the same bytes as the last run did
 */
export function replayableEntropy(seed: string): ReplayableEntropy {
  let draw = 0;
  const purposes: string[] = [];
  return {
    purposes,
    entropy(n, purpose) {
      purposes.push(purpose);
      const out = new Uint8Array(n);
      const index = draw++;
      for (let block = 0, at = 0; at < n; block++, at += 32) {
        const digest = createHash('sha256').update(`${seed}\0${index}\0${block}\0${purpose}`).digest();
        out.set(digest.subarray(0, Math.min(32, n - at)), at);
      }
      return out;
    },
    reset() {
      draw = 0;
      purposes.length = 0;
    },
  };
}

/**
 * A seeded entropy function for `scriptedPlatform({ entropy })` (mulberry32, one byte per step):
 * every engine built on the same seed draws the same bytes, so connections repeat byte for byte.
 */
export function mulberry32Entropy(seed: number): (n: number) => Uint8Array {
  let state = seed >>> 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let t = (state = (state + 0x6d2b79f5) >>> 0);
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = (t ^ (t >>> 14)) & 0xff;
    }
    return out;
  };
}

/** A small seeded PRNG (xorshift32) for chunk sizes and test data; not for keys. */
export function seededRandom(seed: number): (maxExclusive: number) => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return (maxExclusive) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % maxExclusive;
  };
}

/** Deterministic binary test data (xorshift32), different per seed. */
export function binaryPayload(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The pipe
// ---------------------------------------------------------------------------------------------

/** The part of a `Connection` the pipe drives. */
export type PipeEnd = Pick<Connection, 'receive' | 'takeOutgoing'>;

export interface PipeOptions {
  /** Deliver at most this many bytes per `receive()` call (default: each flight whole). */
  chunk?: number;
  /** Per delivery, the size of the next piece (at least 1); overrides `chunk`. */
  chunker?: () => number;
  /**
   * Deliver every piece through one scratch buffer (at an odd offset) that is overwritten right
   * after each `receive()`, as a socket's pooled read buffer would be: the engine must copy what
   * it keeps. Default: each piece is a fresh array (or the flight itself when not chunked).
   */
  reuseBuffer?: boolean;
  /** Give up after this many round trips without quiescence (default 100). */
  maxRounds?: number;
}

/** Everything that crossed the pipe, per direction, one entry per flight taken from `takeOutgoing()`. */
export interface Wire {
  readonly aToB: Uint8Array[];
  readonly bToA: Uint8Array[];
}

/** All bytes of one direction of a {@link Wire}, in order. */
export function joined(flights: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...flights);
}

/**
 * Shuttles bytes between `a` and `b` until both are quiescent (`takeOutgoing()` empty on both),
 * and returns what crossed (appending to `wire` when given). Bytes a side queued before the call
 * (a client's ClientHello) go first. Failed connections still have their alert delivered: a
 * failing side's last words reach the other side, as on a real network.
 * @example
 * const client = engine.client(...), server = engine.server(...);
 * pipe(client, server);            // the whole handshake
 * client.send(data); pipe(client, server, { chunk: 1 }); server.read();
 */
export function pipe(a: PipeEnd, b: PipeEnd, options: PipeOptions = {}, wire: Wire = { aToB: [], bToA: [] }): Wire {
  const maxRounds = options.maxRounds ?? 100;
  const pieceSize = options.chunker ?? (options.chunk === undefined ? undefined : () => options.chunk!);
  let scratch = new Uint8Array(0);
  const receive = (to: PipeEnd, piece: Uint8Array) => {
    if (!options.reuseBuffer) {
      to.receive(piece);
      return;
    }
    if (scratch.length < piece.length + 3) scratch = new Uint8Array(piece.length + 3);
    const view = scratch.subarray(3, 3 + piece.length);
    view.set(piece);
    to.receive(view);
    scratch.fill(0xee);
  };
  const deliver = (to: PipeEnd, bytes: Uint8Array) => {
    if (!pieceSize) {
      receive(to, bytes);
      return;
    }
    for (let at = 0; at < bytes.length; ) {
      const n = Math.max(1, Math.floor(pieceSize()));
      receive(to, bytes.slice(at, at + n));
      at += n;
    }
  };
  for (let round = 0; round < maxRounds; round++) {
    const fromA = a.takeOutgoing();
    if (fromA.length > 0) {
      wire.aToB.push(fromA);
      deliver(b, fromA);
    }
    const fromB = b.takeOutgoing();
    if (fromB.length > 0) {
      wire.bToA.push(fromB);
      deliver(a, fromB);
    }
    if (fromA.length === 0 && fromB.length === 0) return wire;
  }
  throw new Error(`pipe: still talking after ${maxRounds} rounds`);
}

/** The part of a `Connection` {@link pipeSettling} drives: the pipe's, and a parked handshake's. */
export type SettlingEnd = PipeEnd & Pick<Connection, 'pending' | 'resume'>;

/**
 * {@link pipe} for connections that park (an asynchronous crypto provider or hook): pipes to
 * quiescence, then, while either side is parked, awaits its `pending.settled`, `resume()`s it and
 * pipes again, until both sides are quiescent and neither is parked. Same options and wire as
 * `pipe()`; `maxRounds` bounds each pipe() between two settlements.
 * @example
 * const client = engine.client(...), server = engine.server(...); // engine on webCryptoProvider()
 * await pipeSettling(client, server); // the whole handshake, through every parked key share and signature
 */
export async function pipeSettling(a: SettlingEnd, b: SettlingEnd, options: PipeOptions = {}, wire: Wire = { aToB: [], bToA: [] }): Promise<Wire> {
  for (;;) {
    pipe(a, b, options, wire);
    if (!a.pending && !b.pending) return wire;
    for (const end of [a, b]) {
      const pending = end.pending;
      if (!pending) continue;
      await pending.settled;
      end.resume();
    }
  }
}

/**
 * Settles one parked connection: while it waits (`pending`), awaits `settled` and `resume()`s it.
 * A no-op for a connection that never parks (a synchronous provider and hooks).
 * @example
 * const client = engine.client(config);
 * await settle(client); // an asynchronous provider's key shares are made: the ClientHello is out
 * server.receive(client.takeOutgoing());
 */
export async function settle(conn: Pick<Connection, 'pending' | 'resume'>): Promise<void> {
  while (conn.pending) {
    await conn.pending.settled;
    conn.resume();
  }
}

/** Whether `needle` occurs in `haystack`. */
export function containsBytes(haystack: Uint8Array, needle: readonly number[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The TLS records in `bytes` as `{ type, body }` (body: the fragment, still protected for
 * encrypted records). Throws on a truncated record: the pipe only ever carries whole ones.
 */
export function splitRecords(bytes: Uint8Array): { type: number; version: number; body: Uint8Array }[] {
  const records: { type: number; version: number; body: Uint8Array }[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 5 > bytes.length) throw new Error('splitRecords: truncated record header');
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (at + 5 + length > bytes.length) throw new Error('splitRecords: truncated record');
    records.push({ type: bytes[at]!, version: (bytes[at + 1]! << 8) | bytes[at + 2]!, body: bytes.subarray(at + 5, at + 5 + length) });
    at += 5 + length;
  }
  return records;
}
