/**
 * Small helpers for tests that read, forge and shuttle TLS bytes by hand over the sans-IO API:
 * byte building (`concat`, `hex`, `u16`, `u24`, `handshake`, `record`), splitting wire bytes
 * into records and handshake messages, key-log secrets, sealing forged records, the alert in
 * the last record, and feeding connections one step at a time or until both are quiet.
 *
 * Connection loops build on loopback.ts's `pipe()`; `concat` is the engine's own `concatBytes`.
 */
import { NOBLE_TLS_PRIMITIVES } from '../../src/crypto/provider.js';
import { expect } from 'vitest';
import { concatBytes } from '../../src/crypto/bytes.js';
import type { Connection } from '../../src/tls/connection.js';
import { alertName, CONTENT_TYPE } from '../../src/tls/enums.js';
import { RecordProtection } from '../../src/tls/record.js';
import { CIPHER_SUITES, type CipherSuite } from '../../src/tls/suites.js';
import { pipe, type PipeEnd } from './loopback.js';

// ---------------------------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------------------------

/** Concatenates byte arrays into a fresh array (`concatBytes`, typed as the fresh buffer it is). */
export const concat = (...parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> => concatBytes(...parts) as Uint8Array<ArrayBuffer>;
/** Bytes from a hex string ('0a1b...'). */
export const hex = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
/** A big-endian 16-bit integer. */
export const u16 = (n: number): Uint8Array<ArrayBuffer> => Uint8Array.of(n >>> 8, n & 0xff);
/** A big-endian 24-bit integer. */
export const u24 = (n: number): Uint8Array<ArrayBuffer> => Uint8Array.of(n >>> 16, (n >>> 8) & 0xff, n & 0xff);
/** A whole handshake message: type, 24-bit length, body. */
export const handshake = (type: number, body: Uint8Array): Uint8Array<ArrayBuffer> => concat(Uint8Array.of(type), u24(body.length), body);
/** One TLSPlaintext record (no length check: hostile records are built with it too). */
export const record = (type: number, body: Uint8Array, version = 0x0303): Uint8Array<ArrayBuffer> => concat(Uint8Array.of(type), u16(version), u16(body.length), body);
/** The compatibility change_cipher_spec record (RFC 8446 D.4): `14 03 03 00 01 01`. */
export const CCS: Uint8Array<ArrayBuffer> = record(CONTENT_TYPE.change_cipher_spec, Uint8Array.of(1));

// ---------------------------------------------------------------------------------------------
// Records and messages
// ---------------------------------------------------------------------------------------------

/** A record from the wire: its content type, its fragment (still protected if encrypted) and all its bytes. */
export interface Rec {
  readonly type: number;
  readonly body: Uint8Array;
  readonly raw: Uint8Array;
}

/** Splits bytes from the wire into whole records (anything left over is a test failure). */
export function records(bytes: Uint8Array): Rec[] {
  const out: Rec[] = [];
  for (let at = 0; at < bytes.length; ) {
    expect(bytes.length - at, 'a truncated record on the wire').toBeGreaterThanOrEqual(5);
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    expect(bytes.length - at - 5, 'a truncated record on the wire').toBeGreaterThanOrEqual(length);
    out.push({ type: bytes[at]!, body: bytes.subarray(at + 5, at + 5 + length), raw: bytes.subarray(at, at + 5 + length) });
    at += 5 + length;
  }
  return out;
}

/** Splits concatenated handshake messages (each a copy, header included). */
export function messages(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const length = (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
    out.push(bytes.slice(at, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Keys from the key log, forged records, alerts
// ---------------------------------------------------------------------------------------------

function keyLogSecret(line: string | undefined, label: string): Uint8Array {
  expect(line, `${label} in the key log`).toBeDefined();
  return hex(line!.split(' ')[2]!);
}

/** The secret of the first `label` line in an NSS key log (fails the test if there is none). */
export function secretOf(logs: readonly string[], label: string): Uint8Array {
  return keyLogSecret(
    logs.find((l) => l.startsWith(`${label} `)),
    label,
  );
}

/** The secret of the last `label` line in an NSS key log: the newest connection's, when several share the log. */
export function latestSecretOf(logs: readonly string[], label: string): Uint8Array {
  return keyLogSecret(
    [...logs].reverse().find((l) => l.startsWith(`${label} `)),
    label,
  );
}

/** Protects each `[contentType, content]` as one record under `secret`, from sequence number `seq`. */
export function protect(suite: CipherSuite, secret: Uint8Array, contents: readonly (readonly [number, Uint8Array])[], seq = 0n): Uint8Array {
  const write = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret, { sequenceNumber: seq });
  return concat(...contents.map(([type, content]) => write.seal(type as 22, content)));
}

/**
 * The alert in the last record of `bytes`: in plaintext, or opened with a key-log secret at
 * sequence numbers 0..7.
 */
export function lastAlert(bytes: Uint8Array, logs: readonly string[]): { level: number; name: string } {
  const last = records(bytes).at(-1);
  if (!last) throw new Error('nothing on the wire');
  if (last.type === CONTENT_TYPE.alert) return { level: last.body[0]!, name: alertName(last.body[1]!) ?? `unknown(${last.body[1]})` };
  for (const line of logs) {
    const [, , secretHex] = line.split(' ');
    const secret = hex(secretHex!);
    for (const suite of Object.values(CIPHER_SUITES)) {
      if (suite.hashLength !== secret.length) continue;
      for (let seq = 0n; seq < 8n; seq++) {
        try {
          const opened = RecordProtection.fromSecret(NOBLE_TLS_PRIMITIVES, suite, secret, { sequenceNumber: seq }).open(last.raw);
          if (opened.contentType === CONTENT_TYPE.alert) return { level: opened.content[0]!, name: alertName(opened.content[1]!) ?? '?' };
        } catch {
          // not this key
        }
      }
    }
  }
  throw new Error('no alert in the last record');
}

// ---------------------------------------------------------------------------------------------
// Connections
// ---------------------------------------------------------------------------------------------

/** Feeds bytes; `receive()` must never throw. */
export function feed(conn: Connection, bytes: Uint8Array): void {
  expect(() => conn.receive(bytes)).not.toThrow();
}

/** Moves what `from` has queued to `to`; returns the bytes. */
export function step(from: Connection, to: Connection): Uint8Array {
  const bytes = from.takeOutgoing();
  feed(to, bytes);
  return bytes;
}

/** `conn` as a pipe end whose `receive()` is a `feed()`. */
const feeding = (conn: Connection): PipeEnd => ({ receive: (bytes) => feed(conn, bytes), takeOutgoing: () => conn.takeOutgoing() });

/** Shuttles bytes (through `feed()`) until both sides are quiet; fails after 20 round trips. */
export function run(a: Connection, b: Connection): void {
  pipe(feeding(a), feeding(b), { maxRounds: 20 });
}
