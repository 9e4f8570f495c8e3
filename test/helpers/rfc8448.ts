/**
 * Reads test/vectors/rfc8448/transcripts.vec (Botan's copy of the RFC 8448 traces; see test/vectors/NOTICE).
 *
 * Format: `[Scenario]` headers, then `Key = value` lines; `#` starts a comment line. Values are
 * hex (upper or lower case) except the few keys in {@link RFC8448_TEXT_KEYS}. Whitespace inside
 * hex is stripped: one value (Middlebox_Compatibility_Mode's Message_Server_CertificateVerify)
 * has a stray space in the middle, and some values have two spaces after `=`.
 */
import { readFileSync } from 'node:fs';
import { hexToBytes } from '../../src/crypto/bytes.js';
import { decodePem } from '../../src/x509/pem.js';
import { init, type Engine } from '../../src/engine.js';
import { scriptedPlatform } from '../../src/os/index.js';
import type { CryptoProviderFactory } from '../../src/crypto/provider.js';
import { VECTORS_DIR } from './wycheproof.js';

/** Keys whose values are text, not hex (a timestamp in ms, a PSK identity, a hash name). */
export const RFC8448_TEXT_KEYS: ReadonlySet<string> = new Set(['CurrentTimestamp', 'PskIdentity', 'PskPRF']);

export type Rfc8448Scenario = Map<string, Uint8Array | string>;

/** Parses the file: scenario name -> (key -> bytes, or text for {@link RFC8448_TEXT_KEYS}). */
export function loadRfc8448(): Map<string, Rfc8448Scenario> {
  const text = readFileSync(`${VECTORS_DIR}rfc8448/transcripts.vec`, 'utf8');
  const scenarios = new Map<string, Rfc8448Scenario>();
  let current: Rfc8448Scenario | undefined;
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const header = /^\[(.+)\]$/.exec(trimmed);
    if (header) {
      if (scenarios.has(header[1]!)) throw new Error(`transcripts.vec:${index + 1}: duplicate scenario ${header[1]}`);
      current = new Map();
      scenarios.set(header[1]!, current);
      return;
    }
    const eq = trimmed.indexOf('=');
    if (eq < 0 || current === undefined) throw new Error(`transcripts.vec:${index + 1}: unexpected line`);
    const key = trimmed.slice(0, eq).trim();
    const value = trimmed.slice(eq + 1).trim();
    if (current.has(key)) throw new Error(`transcripts.vec:${index + 1}: duplicate key ${key}`);
    if (RFC8448_TEXT_KEYS.has(key)) {
      current.set(key, value);
    } else {
      const hex = value.replace(/\s+/g, '');
      if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`transcripts.vec:${index + 1}: ${key} is not hex`);
      current.set(key, hexToBytes(hex));
    }
  });
  return scenarios;
}

/** The bytes of `key` in a scenario; throws if absent or text. */
export function rfc8448Bytes(scenario: Rfc8448Scenario, key: string): Uint8Array {
  const value = scenario.get(key);
  if (!(value instanceof Uint8Array)) throw new Error(`no hex field ${key}`);
  return value;
}

/** The vectors' directory (PEM files next to transcripts.vec). */
export const RFC8448_DIR = `${VECTORS_DIR}rfc8448/`;

/** One scenario with typed accessors: `hex(key)` for bytes, `text(key)` for the text keys. */
export function rfc8448Scenario(all: Map<string, Rfc8448Scenario>, name: string): { hex(key: string): Uint8Array; text(key: string): string } {
  const fields = all.get(name);
  if (!fields) throw new Error(`no scenario ${name}`);
  return {
    hex: (key) => rfc8448Bytes(fields, key),
    text: (key) => {
      const value = fields.get(key);
      if (typeof value !== 'string') throw new Error(`${name} has no text field ${key}`);
      return value;
    },
  };
}

/**
 * The one certificate of a vector PEM file, trimmed to its DER length (server_certificate.pem
 * carries two stray 00 bytes after the SEQUENCE).
 */
export function rfc8448Certificate(file: string): Uint8Array {
  const blocks = decodePem(readFileSync(`${RFC8448_DIR}${file}`, 'utf8'), 'CERTIFICATE');
  const der = blocks[0]?.der;
  // SEQUENCE with a two-byte long-form length: 30 82 hi lo.
  if (blocks.length !== 1 || !der || der[0] !== 0x30 || der[1] !== 0x82) throw new Error(`${file}: expected one certificate`);
  return der.slice(0, 4 + ((der[2]! << 8) | der[3]!));
}

/** The handshake messages in `bytes` (type, uint24 length, body), each with its header; throws on a partial one. */
export function splitHandshakeMessages(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new Error('truncated handshake header');
    const end = at + 4 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
    if (end > bytes.length) throw new Error('truncated handshake message');
    out.push(bytes.subarray(at, end));
    at = end;
  }
  return out;
}

/** The RSA certificate and key of the traces' server (section 3 of RFC 8448). */
export const RFC8448_RSA_CERT_DER = rfc8448Certificate('server_certificate.pem');
export const RFC8448_RSA_KEY_PEM = readFileSync(`${RFC8448_DIR}server_key.pem`, 'utf8');

/** supported_groups of the traces' EncryptedExtensions: x25519, secp256r1, secp384r1, secp521r1, ffdhe2048..8192. */
export const RFC8448_SERVER_GROUPS: readonly number[] = [0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104];

/** Answers an entropy draw (or leaves it to the filler with undefined). */
export type EntropyAnswer = (n: number, purpose: string) => Uint8Array | undefined;

/** An engine on a scriptedPlatform whose entropy and clock a test steers. */
export interface ScriptedRfc8448Engine {
  readonly engine: Engine;
  /** The Platform clock (ms since the epoch); set it to a trace's CurrentTimestamp. */
  now: number;
  /** The purposes drawn during the last `drawing` call, in order. */
  readonly draws: readonly string[];
  /** Runs `fn` with `answer` scripting the draws; draws nobody claims get deterministic filler. */
  drawing<T>(answer: EntropyAnswer, fn: () => T): T;
  /**
   * `drawing` for an asynchronous `fn`: `answer` scripts the draws until `fn`'s Promise settles,
   * so draws made in a parked connection's `resume()` (after an asynchronous provider's key share
   * or signature) are scripted too.
   */
  drawingUntil<T>(answer: EntropyAnswer, fn: () => Promise<T>): Promise<T>;
}

/**
 * A fresh engine for trace replays: entropy answered by the current script, else by filler bytes
 * (init, blinding: deterministic, never all zero); the clock reads `now`. `crypto`: the provider
 * (default: the noble one).
 */
export function scriptedRfc8448Engine(crypto?: CryptoProviderFactory): ScriptedRfc8448Engine {
  let script: EntropyAnswer | undefined;
  let filler = 0;
  let draws: string[] = [];
  const fillerBytes = (n: number) => new Uint8Array(n).map(() => (filler = (filler * 29 + 11) & 0xff) | 1);
  const state = {
    now: 0,
    get draws(): readonly string[] {
      return draws;
    },
    drawing<T>(answer: EntropyAnswer, fn: () => T): T {
      script = answer;
      draws = [];
      filler = 0;
      try {
        return fn();
      } finally {
        script = undefined;
      }
    },
    async drawingUntil<T>(answer: EntropyAnswer, fn: () => Promise<T>): Promise<T> {
      script = answer;
      draws = [];
      filler = 0;
      try {
        return await fn();
      } finally {
        script = undefined;
      }
    },
  };
  const engine = init({
    platform: scriptedPlatform({
      entropy: (n, purpose) => {
        draws.push(purpose);
        return script?.(n, purpose) ?? fillerBytes(n);
      },
      now: () => state.now,
    }),
    ...(crypto ? { crypto } : {}),
  });
  return Object.assign(state, { engine });
}

/** A trace's RNG pool as RFC 8448 lays it out for one side: the random (32 bytes), then the x25519 private key (32). */
export function rfc8448RngPool(pool: Uint8Array, side: 'client' | 'server'): EntropyAnswer {
  return (n, purpose) => {
    const at = purpose === `${side}_random` ? 0 : purpose === 'key_share:x25519' ? 32 : -1;
    if (at < 0) return undefined;
    if (n !== 32) throw new Error(`${purpose}: ${n} bytes asked, the pool has 32`);
    return pool.slice(at, at + 32);
  };
}

/** The records in `bytes`, each whole (header included); throws on a partial record. */
export function splitRecords(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (at + 5 > bytes.length) throw new Error('truncated record header');
    const end = at + 5 + ((bytes[at + 3]! << 8) | bytes[at + 4]!);
    if (end > bytes.length) throw new Error('truncated record');
    out.push(bytes.subarray(at, end));
    at = end;
  }
  return out;
}

/** A keyLog callback that keeps each NSS key log line's secret by label. */
export function keyLogInto(into: Map<string, Uint8Array>): (line: string) => void {
  return (line) => {
    const [label, , secret] = line.split(' ');
    into.set(label!, hexToBytes(secret!));
  };
}
